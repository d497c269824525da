#pragma once
// Output sinks: a command declares its columns once (stable machine key + human title + kind)
// and emits typed rows; the sink decides how they look. A command never knows whether it
// prints a table, CSV, JSON, a Nagios line or a Prometheus textfile (STYLE.md, doveadm).

#include "mbx/core/error.hpp"

#include <cstdint>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mbx::out {

enum class Format { table, csv, json, nagios, prometheus };

/// "table", "csv", ... for a format.
std::string_view format_name(Format f);

/// Parses a --format value. Throws Error(usage) naming the value and the formats in `allowed`.
Format parse_format(std::string_view text, std::span<const Format> allowed);

/// How a cell is typed and shown. Numbers stay numbers in JSON; tables humanize them.
enum class Kind {
    text,
    integer,
    number,
    boolean,
    bytes,     ///< integer byte count; tables show "1.5 GiB", machines the integer
    percent,   ///< number 0..100+; tables show "85.2%"
    timestamp, ///< text, ISO 8601 UTC
    json,      ///< text holding a JSON document; the JSON sink embeds it as a value
};

/// What a column means to monitoring sinks.
enum class Role {
    label,  ///< identifies the row (Prometheus label, Nagios perfdata label)
    value,  ///< a measurement (Prometheus gauge, Nagios perfdata when numeric)
    status, ///< the row's state: "ok", "warning", "critical" or "unknown"
    detail, ///< for people and JSON/CSV only
};

struct Column {
    std::string key;   ///< stable machine key: snake_case, never renamed once released
    std::string title; ///< for people
    Kind kind = Kind::text;
    Role role = Role::value;
    std::string help = {}; ///< one line; Prometheus HELP text
};

using Cell = std::variant<std::monostate, std::string, std::int64_t, double, bool>;

struct ReportSpec {
    std::string name; ///< snake_case report name: "quota" -> metrics "mbx_quota_*"
    std::vector<Column> columns;
};

/// The end of a report: the overall outcome and a few totals.
struct Summary {
    ExitCode status = ExitCode::ok;
    std::string text; ///< one line for people and for Nagios ("2 of 40 mailboxes over 90%")
    std::vector<std::pair<std::string, Cell>> fields = {}; ///< totals with stable keys
};

/// Receives one report. Call begin() once, row() any number of times (each with exactly
/// one cell per column), finish() once. Sinks write to the stream they were made with and
/// keep memory flat (the table sink buffers at most `kTableBufferRows` rows to size columns;
/// the Prometheus sink keeps one line per sample because its format groups by metric).
class Sink {
public:
    virtual ~Sink() = default;
    virtual void begin(const ReportSpec& spec) = 0;
    virtual void row(std::span<const Cell> cells) = 0;
    virtual void finish(const Summary& summary) = 0;
};

inline constexpr std::size_t kTableBufferRows = 100;

/// A sink of `format` writing to `out`. Does not own `out`.
std::unique_ptr<Sink> make_sink(Format format, std::ostream& out);

/// Makes text safe for a terminal or a log: control characters (including ESC, so no
/// terminal escape sequence passes) become visible `\xNN` escapes; invalid UTF-8 bytes too.
std::string printable(std::string_view text);

/// printable(text) in single quotes: how messages name a user, folder, file or URL.
std::string quoted(std::string_view text);

/// "1.5 GiB", "980 B": binary units, one decimal.
std::string human_bytes(std::int64_t bytes);

/// The status word of an exit code for status columns and JSON: ok, warning, critical, unknown.
std::string_view status_word(ExitCode code);

} // namespace mbx::out
