#include "mbx/audit/access_log.hpp"
#include "mbx/audit/access_log_parser.hpp"
#include "mbx/audit/scan.hpp"

#include "mbx/audit/log_reader.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"

#include <array>
#include <cstring>
#include <fmt/format.h>

// What both formats share: a Request from a line's fields, the format and version names, the
// ActiveSync path and probe tests, times, and the line dispatch. The formats are
// access_log_iis.cpp and access_log_combined.cpp.

namespace mbx::audit {
using scan::after_last;
using scan::find_byte;

// The Request of an ActiveSync line, from its fields and its query (decoded into query_,
// whose buffers are reused): views, no copies.
void AccessLogParser::fill(const Raw& raw, Request& out) {
    out.time = raw.time;
    out.method = raw.method;
    out.uri_path = raw.path;
    out.client_ip = raw.ip;
    out.http_status = raw.status;
    out.user_agent = raw.user_agent;
    if (raw.plus_is_space && find_byte(raw.user_agent, '+') != std::string_view::npos) {
        user_agent_.assign(raw.user_agent); // IIS logs spaces in header values as '+'
        for (char& c : user_agent_)
            if (c == '+') c = ' ';
        out.user_agent = user_agent_;
    }
    const QueryView& q = query_.scan(raw.query);
    out.query_form = q.form;
    out.query_error = q.error;
    out.user = raw.user.empty() ? q.user : raw.user;
    out.device_id = q.device_id;
    out.device_type = q.device_type;
    out.command = q.command;
    out.exchange_log = q.log_value;
    if (!raw.header_version.empty()) {
        out.protocol_version = raw.header_version;
        out.version_source = VersionSource::header;
    } else if (q.form == QueryForm::base64 && !q.protocol_version.empty()) {
        out.protocol_version = q.protocol_version;
        out.version_source = VersionSource::base64;
    } else if (!q.log_version.empty()) {
        out.protocol_version = q.log_version;
        out.version_source = VersionSource::log_token;
    }
    out.probe = is_probe(out.user, out.device_type);
}

LogFormat parse_log_format(std::string_view text) {
    if (text == "auto") return LogFormat::auto_detect;
    if (text == "iis") return LogFormat::iis;
    if (text == "combined") return LogFormat::combined;
    throw Error(ErrorCategory::usage, "unknown log format '" + out::printable(text) + "'",
                "use one of: auto, iis, combined");
}

std::string_view log_format_name(LogFormat format) {
    switch (format) {
    case LogFormat::auto_detect: return "auto";
    case LogFormat::iis: return "iis";
    case LogFormat::combined: return "combined";
    }
    return "auto";
}

std::string_view version_source_name(VersionSource source) {
    switch (source) {
    case VersionSource::none: return "none";
    case VersionSource::header: return "header";
    case VersionSource::base64: return "base64";
    case VersionSource::log_token: return "log-token";
    }
    return "none";
}

namespace {

// iequals(kSegment, the 27 bytes at p), 8 bytes a compare: a letter of the name matches both
// of its cases (bit 0x20 masked), a dash only itself.
bool is_segment_name(const char* p) {
    constexpr std::string_view kLower = "microsoft-server-activesync";
    // Loaded as the line's bytes are (memcpy), so that any byte order works.
    const auto word = [](const char* bytes) {
        std::uint64_t v;
        std::memcpy(&v, bytes, sizeof v);
        return v;
    };
    const auto mask = [&](std::size_t at) {
        std::array<char, 8> m{};
        for (std::size_t i = 0; i < m.size(); ++i) m[i] = kLower[at + i] == '-' ? '\0' : '\x20';
        return word(m.data());
    };
    static const std::array<std::uint64_t, 4> kWords = {word(kLower.data()), word(kLower.data() + 8),
                                                        word(kLower.data() + 16), word(kLower.data() + 19)};
    static const std::array<std::uint64_t, 4> kMasks = {mask(0), mask(8), mask(16), mask(19)};
    constexpr std::array<std::size_t, 4> kAt = {0, 8, 16, 19}; // the last word overlaps: 27 bytes
    for (std::size_t i = 0; i < kAt.size(); ++i)
        if ((word(p + kAt[i]) | kMasks[i]) != kWords[i]) return false;
    return true;
}

} // namespace

bool is_activesync_path(std::string_view path) {
    // The segment's first '-' is its 10th byte: only the dashes of the path are looked at
    // (most paths of a web server's log have none or few), each for a whole segment there.
    constexpr std::string_view kSegment = "Microsoft-Server-ActiveSync";
    constexpr std::size_t kDash = 9;
    for (std::size_t dash = find_byte(path, '-'); dash != std::string_view::npos;
         dash = find_byte(path, '-', dash + 1)) {
        if (dash < kDash) continue;
        const std::size_t start = dash - kDash, end = start + kSegment.size();
        if (end > path.size()) return false; // later dashes leave even less room
        if ((start == 0 || path[start - 1] == '/') && (end == path.size() || path[end] == '/') &&
            is_segment_name(path.data() + start))
            return true;
    }
    return false;
}

bool is_probe(std::string_view user, std::string_view device_type) {
    if (iequals(device_type, "TestActiveSyncConnectivity") || iequals(device_type, kMbxkitProbeDeviceType)) return true;
    user.remove_prefix(after_last(user, '\\'));
    constexpr std::string_view kHealth = "HealthMailbox";
    return user.size() >= kHealth.size() && iequals(user.substr(0, kHealth.size()), kHealth);
}

std::int64_t unix_time(int year, int month, int day, int hour, int minute, int second) {
    if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59 || second < 0 || second > 60)
        return 0;
    // Days from civil (H. Hinnant's algorithm), proleptic Gregorian calendar.
    const int y = year - (month <= 2 ? 1 : 0);
    const int era = y / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + doe - 719468;
    return days * 86400 + hour * 3600 + minute * 60 + second;
}

std::string iso8601(std::int64_t t) {
    std::int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        --days;
    }
    // Civil from days (H. Hinnant).
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    if (y < 0 || y > 9999) // not a time any log holds (unix_time() stops at 9999)
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
    // The digits by hand: the inventory shows three times per device, in the output and the
    // journal, and fmt::format cost some 1,400 instructions each.
    char text[] = "0000-00-00T00:00:00Z";
    const auto two = [&](std::size_t at, std::int64_t v) {
        text[at] = static_cast<char>('0' + v / 10);
        text[at + 1] = static_cast<char>('0' + v % 10);
    };
    two(0, y / 100);
    two(2, y % 100);
    two(5, m);
    two(8, d);
    two(11, secs / 3600);
    two(14, secs / 60 % 60);
    two(17, secs % 60);
    return std::string(text, sizeof text - 1);
}

LineKind AccessLogParser::parse_line(std::string_view line, Request& out) {
    out = Request{};
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) return malformed("line too long");
    // Empty or white space only: a line that starts with anything else has something to trim to.
    if (line.empty() || (is_ascii_space(line[0]) && trim(line).empty())) return LineKind::directive;
    if (format_ == LogFormat::auto_detect) format_ = line[0] == '#' ? LogFormat::iis : LogFormat::combined;
    return format_ == LogFormat::iis ? parse_iis(line, out) : parse_combined(line, out);
}

} // namespace mbx::audit
