#pragma once
// Access-log lines to ActiveSync requests: Exchange's IIS W3C extended logs (driven by the
// `#Fields:` directive) and nginx/Apache "combined" logs (with optional extra quoted fields,
// e.g. `"$http_ms_asprotocolversion"`), as put in front of SOGo, Z-Push and others.
//
// Lines are untrusted: parsing never throws (except std::bad_alloc), never reads past the line
// and reports a bad line as LineKind::malformed. Request fields keep the logged bytes after
// the format's own decoding (IIS `+` → space, nginx/Apache `\xHH`, URL escapes in the query),
// so they may hold control characters or invalid UTF-8: escaping is the output's job
// (mbx::out::printable for text and tables; the CSV/JSON sinks quote on top of that).

#include "mbx/audit/eas_query.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mbx::audit {

enum class LogFormat { auto_detect, iis, combined };

/// Parses a --log-format value: "auto", "iis", "combined". Throws Error(usage) otherwise.
LogFormat parse_log_format(std::string_view text);

/// "auto", "iis", "combined". Pure.
std::string_view log_format_name(LogFormat format);

/// Where a request's protocol version came from, most trusted first.
enum class VersionSource {
    none,
    header,    ///< the MS-ASProtocolVersion request header (IIS cs(...) field, extra log field)
    base64,    ///< the first byte of the base64 query
    log_token, ///< Exchange's Log= field (V141, Ver1:161, V2)
};

/// "none", "header", "base64", "log-token". Pure.
std::string_view version_source_name(VersionSource source);

/// One ActiveSync request, as much as its log line tells. The text fields are views into the
/// line given to AccessLogParser::parse_line() or into that parser's decoding buffers: they
/// stay valid until the parser's next parse_line() call (copy what must live longer). No
/// string is copied per line: a log of GiBs is mostly lines.
struct Request {
    std::int64_t time = 0;             ///< Unix seconds, UTC; 0 when the line has no usable time
    std::string_view user = {};        ///< authenticated user (cs-username, %u), else the query's User
    std::string_view device_id = {};   ///< normalise_device_id() form
    std::string_view device_type = {};
    std::string_view user_agent = {};
    std::string_view protocol_version = {};
    VersionSource version_source = VersionSource::none;
    std::string_view command = {};     ///< "Sync", "Ping", ...; empty for OPTIONS
    int http_status = 0;               ///< 0 when not logged
    std::string_view client_ip = {};
    std::string_view method = {};
    std::string_view uri_path = {};    ///< without the query
    bool probe = false;                ///< TestActiveSyncConnectivity / HealthMailbox monitoring traffic
    QueryForm query_form = QueryForm::none;
    QueryError query_error = QueryError::none; ///< the base64 query was damaged (fields partial)
    /// Exchange's Log= value as logged (parse_exchange_log() decodes its `Name:value` tokens:
    /// DevOS, Error, ...); empty when the query had none.
    std::string_view exchange_log = {};
};

/// What one line turned out to be.
enum class LineKind {
    request,   ///< an ActiveSync request; the Request is filled
    directive, ///< an IIS `#...` directive or an empty line
    skipped,   ///< a well-formed request that is not ActiveSync
    malformed, ///< not a line of the format (see AccessLogParser::reason())
};

/// The path of a request target is ActiveSync when one of its segments is
/// `Microsoft-Server-ActiveSync` (any case): `/Microsoft-Server-ActiveSync`, `.../default.eas`,
/// `.../Proxy/default.eas`, and SOGo's `/SOGo/Microsoft-Server-ActiveSync`. Pure.
bool is_activesync_path(std::string_view path);

/// The DeviceType `mbx audit probe` sends, so that its own requests are known as probes.
inline constexpr std::string_view kMbxkitProbeDeviceType = "MbxkitProbe";

/// True for monitoring traffic: device type TestActiveSyncConnectivity (Exchange's test) or
/// kMbxkitProbeDeviceType (`mbx audit probe`), or a user (after any `DOMAIN\`) starting with
/// HealthMailbox. Pure.
bool is_probe(std::string_view user, std::string_view device_type);

/// Unix seconds of a UTC civil time; 0 when a field is out of range. Pure.
std::int64_t unix_time(int year, int month, int day, int hour, int minute, int second);

/// "2024-03-01T10:00:00Z" for Unix seconds. Pure.
std::string iso8601(std::int64_t unix_seconds);

namespace detail {

/// The tokens of a combined line ("quoted" ones without their quotes, [time] without its
/// brackets): views into the line, or into CombinedBuffers where a quoted token had escapes.
struct CombinedFields {
    std::string_view ip = {}, ident = {}, user = {}, when = {}, request_line = {}, status = {}, bytes = {};
    std::string_view referer = {}, user_agent = {}; ///< empty in the common format
    /// The first extra field after the user agent that looks like a version ("14.1"): the
    /// logged MS-ASProtocolVersion header.
    std::string_view header_version = {};

    bool operator==(const CombinedFields&) const = default; ///< the same views' text
};

/// Where split_combined() decodes quoted tokens that have backslash escapes.
struct CombinedBuffers {
    std::string request_line, referer, user_agent, value, header_version;
};

/// Splits a combined line into its tokens: bare up to a space, "quoted" (nginx `\xHH`, Apache
/// `\"` and `\\` decoded into `buffers`) or [bracketed], any number of spaces between them,
/// at most 16 extra fields after the user agent looked at. Returns why the line is not
/// combined, else empty. Never reads past `line`; pure apart from `buffers`.
std::string_view split_combined(std::string_view line, CombinedFields& out, CombinedBuffers& buffers);

/// split_combined() for the lines nearly every log holds, in about half its instructions:
/// exactly one space between tokens and no backslash in a quoted one. Returns false for any
/// other line (split_combined() then decides); when it returns true, `out` is what
/// split_combined() gives (the access_log fuzz target and a unit test check it). Pure.
bool split_plain_combined(std::string_view line, CombinedFields& out);

} // namespace detail

/// Parses the lines of one log file, in order. Holds the IIS `#Fields:` (and `#Date:`) state,
/// so use one parser per file.
class AccessLogParser {
public:
    explicit AccessLogParser(LogFormat format = LogFormat::auto_detect) : format_(format) {}

    /// Parses `line` (without LF; a trailing CR is ignored) into `out` (reset first), whose
    /// views point into `line` and this parser until the next call. With
    /// LogFormat::auto_detect the first non-empty line decides: `#` starts IIS, anything else
    /// combined. Lines longer than kMaxLineBytes are malformed. Never throws but bad_alloc.
    LineKind parse_line(std::string_view line, Request& out);

    /// The format in use (auto_detect until the first non-empty line).
    LogFormat format() const { return format_; }

    /// Why the last malformed line was malformed ("field count differs from #Fields", ...).
    std::string_view reason() const { return reason_; }

    /// The IIS fields in effect (empty before the first `#Fields:`).
    const std::vector<std::string>& iis_fields() const { return fields_; }

private:
    LineKind parse_iis(std::string_view line, Request& out);
    LineKind parse_combined(std::string_view line, Request& out);
    LineKind malformed(std::string_view why);
    struct Raw;
    void fill(const Raw& raw, Request& out);

    LogFormat format_;
    std::vector<std::string> fields_;
    std::size_t find_spaces(std::string_view line);

    std::vector<int> roles_; ///< per field: which Request field it fills
    std::array<int, 11> field_of_{}; ///< per role: the field that fills it (the last one), -1: none
    std::array<std::uint32_t, 257> spaces_{}; ///< where the current line's spaces are (the first 257)
    std::string default_date_; ///< from `#Date:`, for field sets without `date`
    /// The previous line's time but for its seconds, and its Unix time at second 0: lines
    /// come in time order, so most lines only add their seconds to it (see line_time()).
    struct MinuteCache {
        std::string date, time; ///< as logged (combined: `date` empty, `time` the whole field)
        std::int64_t base = 0;  ///< 0: nothing cached
    };
    MinuteCache minute_;
    template <typename Convert>
    std::int64_t line_time(std::string_view date, std::string_view time, std::size_t seconds_at, Convert convert);
    std::string_view reason_;
    QueryScanner query_; ///< the query of the current line (its buffers reused from line to line)
    detail::CombinedBuffers combined_; ///< reused from line to line (no allocation per line)
    std::string user_agent_;          ///< an IIS user agent with its '+' turned into spaces
};

} // namespace mbx::audit
