#pragma once
// The access-log parser, internal to the audit library (the inventory drives it; the unit tests
// and the fuzz target include this header): AccessLogParser, whose per-format parts are
// access_log_iis.cpp and access_log_combined.cpp over the shared part in access_log.cpp, and
// the tokenizer of combined lines. What the rest of mbxkit sees of a line is access_log.hpp.

#include "mbx/audit/access_log.hpp"
#include "mbx/audit/query_scanner.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::audit {

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

// The small field decoders both formats share (inline: every line calls them).

/// Fixed-width decimal at s[pos..pos+n), or -1.
inline int number_at(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/// A logged "-" is an empty field.
inline std::string_view dash_empty(std::string_view v) { return v == "-" ? std::string_view{} : v; }

/// A three-digit HTTP status, else 0.
inline int parse_status(std::string_view v) {
    const int s = v.size() == 3 ? number_at(v, 0, 3) : -1;
    return s < 0 ? 0 : s;
}

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
    LineKind malformed(std::string_view why) {
        reason_ = why;
        return LineKind::malformed;
    }
    // The fields every format shares, after the format-specific part has been read.
    // Views into the line (or into the parser's decoding buffers).
    struct Raw {
        std::string_view method, path, query, user, ip, user_agent, header_version;
        bool plus_is_space = false; ///< user_agent is IIS-logged: '+' stands for a space
        int status = 0;
        std::int64_t time = 0;
    };
    void fill(const Raw& raw, Request& out);

    LogFormat format_;
    std::vector<std::string> fields_;
    std::size_t find_spaces(std::string_view line);

    std::vector<int> roles_;                  ///< per field: which Request field it fills
    std::array<int, 11> field_of_{};          ///< per role: the field that fills it (the last one), -1: none
    std::array<std::uint32_t, 257> spaces_{}; ///< where the current line's spaces are (the first 257)
    std::string default_date_;                ///< from `#Date:`, for field sets without `date`
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
    QueryScanner query_;               ///< the query of the current line (its buffers reused from line to line)
    detail::CombinedBuffers combined_; ///< reused from line to line (no allocation per line)
    std::string user_agent_;           ///< an IIS user agent with its '+' turned into spaces
};

// The Unix time of a line whose time has its seconds as the two digits at `seconds_at` of
// `time`: from the cache when everything but those digits is the previous line's (the
// conversions are linear in the seconds, 0 to 60), else convert() and cached. Exact.
template <typename Convert> std::int64_t AccessLogParser::line_time(std::string_view date, std::string_view time,
                                                                    std::size_t seconds_at, Convert convert) {
    const int seconds = detail::number_at(time, seconds_at, 2);
    const bool cacheable = seconds >= 0 && seconds <= 60;
    if (cacheable && minute_.base != 0 && date == minute_.date && time.size() == minute_.time.size() &&
        time.substr(0, seconds_at) == std::string_view(minute_.time).substr(0, seconds_at) &&
        time.substr(seconds_at + 2) == std::string_view(minute_.time).substr(seconds_at + 2))
        return minute_.base + seconds;
    const std::int64_t t = convert();
    if (cacheable && t != 0) {
        minute_.date.assign(date);
        minute_.time.assign(time);
        minute_.base = t - seconds;
    }
    return t;
}

} // namespace mbx::audit
