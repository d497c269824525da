#include "mbx/audit/access_log.hpp"
#include "mbx/audit/scan.hpp"

#include "mbx/audit/log_reader.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"

#include <array>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <fmt/format.h>

namespace mbx::audit {
using scan::find_byte;
using scan::find_either;
using scan::after_last;
namespace {

enum Role : int { r_ignore, r_date, r_time, r_c_ip, r_method, r_stem, r_query, r_username, r_user_agent, r_status, r_proto_version, r_count };

Role role_of(std::string_view field) {
    static constexpr std::array<std::pair<std::string_view, Role>, 10> kRoles = {{
        {"date", r_date},
        {"time", r_time},
        {"c-ip", r_c_ip},
        {"cs-method", r_method},
        {"cs-uri-stem", r_stem},
        {"cs-uri-query", r_query},
        {"cs-username", r_username},
        {"cs(User-Agent)", r_user_agent},
        {"sc-status", r_status},
        {"cs(MS-ASProtocolVersion)", r_proto_version},
    }};
    for (const auto& [name, role] : kRoles)
        if (iequals(name, field)) return role;
    return r_ignore;
}

static_assert(r_count == 11, "AccessLogParser::field_of_ has a slot per role");

// Fixed-width decimal at s[pos..pos+n), or -1.
int number_at(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

// IIS "2024-03-01" and "10:00:00" (UTC, W3C extended log format).
std::int64_t iis_time(std::string_view d, std::string_view t) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-' || t.size() < 8 || t[2] != ':' || t[5] != ':') return 0;
    return unix_time(number_at(d, 0, 4), number_at(d, 5, 2), number_at(d, 8, 2), number_at(t, 0, 2),
                     number_at(t, 3, 2), number_at(t, 6, 2));
}

// Combined "10/Oct/2000:13:55:36 -0700", converted to UTC.
std::int64_t combined_time(std::string_view s) {
    static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':') return 0;
    int month = 0;
    for (std::size_t i = 0; i < kMonths.size() && month == 0; ++i)
        if (s[3] == kMonths[i][0] && s[4] == kMonths[i][1] && s[5] == kMonths[i][2]) month = static_cast<int>(i) + 1;
    std::int64_t t = unix_time(number_at(s, 7, 4), month, number_at(s, 0, 2), number_at(s, 12, 2),
                               number_at(s, 15, 2), number_at(s, 18, 2));
    if (t == 0 || s.size() < 26 || s[20] != ' ' || (s[21] != '+' && s[21] != '-')) return t;
    const int hh = number_at(s, 22, 2), mm = number_at(s, 24, 2);
    if (hh < 0 || mm < 0) return t;
    const std::int64_t offset = hh * 3600 + mm * 60;
    return s[21] == '+' ? t - offset : t + offset;
}

std::string_view dash_empty(std::string_view v) { return v == "-" ? std::string_view{} : v; }

int parse_status(std::string_view v) {
    const int s = v.size() == 3 ? number_at(v, 0, 3) : -1;
    return s < 0 ? 0 : s;
}

// "14.1", "2.5": what an MS-ASProtocolVersion value looks like. Other values are kept as logged
// when they come from a named header field; extra combined fields must look like this.
bool looks_like_version(std::string_view v) {
    const auto dot = v.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot > 2 || v.size() - dot - 1 != 1) return false;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (i != dot && (v[i] < '0' || v[i] > '9')) return false;
    return true;
}

// One token of a combined line: bare up to a space, "quoted" (nginx `\xHH`, Apache `\"` `\\`
// decoded) or [bracketed].
class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}
    bool done() {
        skip_spaces();
        return s_.empty();
    }
    bool bare(std::string_view& out) {
        skip_spaces();
        if (s_.empty()) return false;
        const auto sp = find_byte(s_, ' ');
        out = s_.substr(0, sp);
        s_.remove_prefix(out.size());
        return true;
    }
    bool bracketed(std::string_view& out) {
        skip_spaces();
        if (s_.empty() || s_[0] != '[') return false;
        const auto close = find_byte(s_, ']');
        if (close == std::string_view::npos) return false;
        out = s_.substr(1, close - 1);
        s_.remove_prefix(close + 1);
        return true;
    }
    // A "quoted" value: a view into the line when it has no backslash (the common case: no
    // copy), else decoded into `buffer` and a view of that.
    bool quoted(std::string_view& out, std::string& buffer) {
        skip_spaces();
        if (s_.empty() || s_[0] != '"') return false;
        // The closing quote, unless a backslash comes first: one inline search.
        const std::string_view body = s_.substr(1);
        const std::size_t quote = find_either(body, '"', '\\');
        if (quote != std::string_view::npos && body[quote] == '"') {
            out = body.substr(0, quote);
            s_.remove_prefix(quote + 2);
            return true;
        }
        buffer.clear();
        for (std::size_t i = 1; i < s_.size(); ++i) {
            const char c = s_[i];
            if (c == '"') {
                s_.remove_prefix(i + 1);
                out = buffer;
                return true;
            }
            if (c != '\\' || i + 1 >= s_.size()) {
                buffer += c;
                continue;
            }
            const char e = s_[++i];
            if (e == 'x' && i + 2 < s_.size() && hex(s_[i + 1]) >= 0 && hex(s_[i + 2]) >= 0) {
                buffer += static_cast<char>(hex(s_[i + 1]) * 16 + hex(s_[i + 2]));
                i += 2;
            } else if (e == '"' || e == '\\') {
                buffer += e;
            } else {
                buffer += '\\';
                buffer += e;
            }
        }
        return false; // no closing quote
    }

private:
    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    void skip_spaces() {
        while (!s_.empty() && s_[0] == ' ') s_.remove_prefix(1);
    }
    std::string_view s_;
};

} // namespace

// The fields every format shares, after the format-specific part has been read.
// Views into the line (or into the parser's decoding buffers).
struct AccessLogParser::Raw {
    std::string_view method, path, query, user, ip, user_agent, header_version;
    bool plus_is_space = false; ///< user_agent is IIS-logged: '+' stands for a space
    int status = 0;
    std::int64_t time = 0;
};

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
    for (std::size_t dash = find_byte(path, '-'); dash != std::string_view::npos; dash = find_byte(path, '-', dash + 1)) {
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

LineKind AccessLogParser::malformed(std::string_view why) {
    reason_ = why;
    return LineKind::malformed;
}

LineKind AccessLogParser::parse_line(std::string_view line, Request& out) {
    out = Request{};
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) return malformed("line too long");
    // Empty or white space only: a line that starts with anything else has something to trim to.
    if (line.empty() || (is_ascii_space(line[0]) && trim(line).empty()))
        return LineKind::directive;
    if (format_ == LogFormat::auto_detect) format_ = line[0] == '#' ? LogFormat::iis : LogFormat::combined;
    return format_ == LogFormat::iis ? parse_iis(line, out) : parse_combined(line, out);
}

// The Unix time of a line whose time has its seconds as the two digits at `seconds_at` of
// `time`: from the cache when everything but those digits is the previous line's (the
// conversions are linear in the seconds, 0 to 60), else convert() and cached. Exact.
template <typename Convert>
std::int64_t AccessLogParser::line_time(std::string_view date, std::string_view time, std::size_t seconds_at,
                                        Convert convert) {
    const int seconds = number_at(time, seconds_at, 2);
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

LineKind AccessLogParser::parse_iis(std::string_view line, Request& out) {
    if (line[0] == '#') {
        constexpr std::string_view kFields = "#Fields:", kDate = "#Date:";
        if (line.substr(0, kFields.size()) == kFields) {
            fields_.clear();
            roles_.clear();
            field_of_.fill(-1);
            std::string_view rest = line.substr(kFields.size());
            while (!(rest = trim(rest)).empty() && fields_.size() < 256) {
                const auto sp = rest.find_first_of(" \t");
                fields_.emplace_back(rest.substr(0, sp));
                roles_.push_back(role_of(fields_.back()));
                field_of_[static_cast<std::size_t>(roles_.back())] = static_cast<int>(roles_.size() - 1); // the last one counts
                rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp);
            }
        } else if (line.substr(0, kDate.size()) == kDate) {
            default_date_ = std::string(trim(line.substr(kDate.size())).substr(0, 10));
        }
        return LineKind::directive;
    }
    if (fields_.empty()) return malformed("data line before any #Fields: directive");
    // One pass over the line finds its spaces (IIS escapes them in values: '+'), which give
    // every field's place; only the fields with a role are then looked at, the stem first.
    const std::size_t spaces = find_spaces(line);
    const std::size_t values = spaces + (line.back() == ' ' ? 0 : 1); // a trailing space ends the last value
    if (values > roles_.size()) return malformed("more values than #Fields: names");
    if (values < roles_.size()) return malformed("fewer values than #Fields: names");
    const auto value = [&](int role) -> std::string_view {
        const int i = field_of_[static_cast<std::size_t>(role)];
        if (i < 0) return {};
        const std::size_t start = i == 0 ? 0 : spaces_[static_cast<std::size_t>(i) - 1] + 1;
        const std::size_t end = static_cast<std::size_t>(i) < spaces ? spaces_[static_cast<std::size_t>(i)] : line.size();
        return dash_empty(line.substr(start, end - start));
    };
    const std::string_view stem = value(r_stem);
    if (!is_activesync_path(stem)) return LineKind::skipped;
    Raw raw;
    raw.ip = value(r_c_ip);
    raw.method = value(r_method);
    raw.user = value(r_username);
    raw.user_agent = value(r_user_agent);
    raw.status = parse_status(value(r_status));
    raw.header_version = value(r_proto_version);
    const std::string_view date = field_of_[r_date] < 0 ? std::string_view(default_date_) : value(r_date);
    const std::string_view time = value(r_time);
    raw.time = line_time(date, time, 6, [&] { return iis_time(date, time); }); // "10:00:00"
    raw.path = stem;
    raw.query = value(r_query);
    raw.plus_is_space = true;
    fill(raw, out);
    return LineKind::request;
}

namespace {

// Notes the positions of the spaces of `line` (`note(position)` for each, in order): 16 bytes
// a step with SSE2, 32 with AVX2 (each_space_avx2, where the CPU has it): an IIS line with an
// Exchange Log= value is about 900 bytes.
template <typename Note>
[[gnu::always_inline]] inline void each_space(std::string_view line, Note note) {
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(' ');
    for (; i + 16 <= line.size(); i += 16) {
        auto hits = static_cast<unsigned>(
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(line.data() + i)), space)));
        for (; hits != 0; hits &= hits - 1) note(i + static_cast<std::size_t>(__builtin_ctz(hits)));
    }
#endif
    for (; i < line.size(); ++i)
        if (line[i] == ' ') note(i);
}

#if defined(__x86_64__)
template <typename Note>
__attribute__((target("avx2"))) void each_space_avx2(std::string_view line, Note note) {
    std::size_t i = 0;
    const __m256i space = _mm256_set1_epi8(' ');
    for (; i + 32 <= line.size(); i += 32) {
        auto hits = static_cast<unsigned>(_mm256_movemask_epi8(
            _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(line.data() + i)), space)));
        for (; hits != 0; hits &= hits - 1) note(i + static_cast<std::size_t>(__builtin_ctz(hits)));
    }
    each_space(line.substr(i), [&](std::size_t at) { note(i + at); });
}
#endif

} // namespace

// The positions of the spaces of `line` into spaces_ (the first kMaxFields of them); returns
// how many there are.
std::size_t AccessLogParser::find_spaces(std::string_view line) {
    std::size_t n = 0;
    const auto note = [&](std::size_t at) {
        if (n < spaces_.size()) spaces_[n] = static_cast<std::uint32_t>(at);
        ++n;
    };
#if defined(__x86_64__)
    if (scan::has_avx2()) {
        each_space_avx2(line, note);
        return n;
    }
#endif
    each_space(line, note);
    return n;
}

namespace detail {

std::string_view split_combined(std::string_view line, CombinedFields& out, CombinedBuffers& buffers) {
    out = CombinedFields{};
    Cursor c(line);
    if (!c.bare(out.ip) || !c.bare(out.ident) || !c.bare(out.user)) return "fewer fields than combined";
    if (!c.bracketed(out.when)) return "no [time] field";
    if (!c.quoted(out.request_line, buffers.request_line)) return "no quoted request line";
    if (!c.bare(out.status) || !c.bare(out.bytes)) return "no status and size";
    if (!c.done() && (!c.quoted(out.referer, buffers.referer) || !c.quoted(out.user_agent, buffers.user_agent)))
        return "referer and user agent not quoted";
    // Extra fields after the user agent: the first that looks like a version is the logged
    // MS-ASProtocolVersion header ("$http_ms_asprotocolversion" / "%{MS-ASProtocolVersion}i").
    std::string_view value;
    for (int extra = 0; !c.done() && extra < 16; ++extra) {
        if (!c.quoted(value, buffers.value) && !c.bare(value)) return "unterminated quoted field";
        if (out.header_version.empty() && looks_like_version(value)) {
            buffers.header_version.assign(value); // "14.1": no allocation; buffers.value is reused
            out.header_version = buffers.header_version;
        }
    }
    return {};
}

namespace {

// Where a combined line's spaces are, and its quotes and backslashes: a bit per byte, found for
// the whole line at once (64 bytes a step). The steps of split_plain_combined() then find each
// token's end from the bits: a few instructions and a branch that nearly always goes the same
// way, where a search per token paid for its setup and for a loop exit the CPU mispredicts.
struct LineMasks {
    static constexpr std::size_t kMaxBytes = 1024; ///< longer lines take split_combined()
    std::array<std::uint64_t, kMaxBytes / 64> space, quote;
    std::size_t words = 0, size = 0;

    // The first position at or after `pos` with its bit set in `mask`, else size.
    [[gnu::always_inline]] std::size_t next(const std::array<std::uint64_t, kMaxBytes / 64>& mask, std::size_t pos) const {
        std::size_t w = pos >> 6;
        if (w >= words) return size;
        std::uint64_t bits = mask[w] & (~std::uint64_t{0} << (pos & 63));
        while (bits == 0) {
            if (++w == words) return size;
            bits = mask[w];
        }
        return (w << 6) + static_cast<std::size_t>(__builtin_ctzll(bits));
    }
};

// The bits of the 64 bytes at `p`: bit i of `space` for p[i] == ' ', of `quote` for '"' or '\'.
[[gnu::always_inline]] inline void block_masks(const char* p, std::uint64_t& space, std::uint64_t& quote) {
    std::uint64_t s = 0, q = 0;
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' '), dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (unsigned j = 0; j < 4; ++j) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * j));
        s |= static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, sp)))) << (16 * j);
        q |= static_cast<std::uint64_t>(static_cast<unsigned>(
                 _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)))))
             << (16 * j);
    }
#else
    for (unsigned i = 0; i < 64; ++i) {
        s |= static_cast<std::uint64_t>(p[i] == ' ') << i;
        q |= static_cast<std::uint64_t>(p[i] == '"' || p[i] == '\\') << i;
    }
#endif
    space = s;
    quote = q;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void block_masks_avx2(const char* p, std::uint64_t& space, std::uint64_t& quote) {
    const __m256i sp = _mm256_set1_epi8(' '), dq = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\');
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const auto bits = [](int low, int high) {
        return static_cast<std::uint64_t>(static_cast<std::uint32_t>(low)) |
               static_cast<std::uint64_t>(static_cast<std::uint32_t>(high)) << 32;
    };
    space = bits(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, sp)), _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, sp)));
    quote = bits(_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(lo, dq), _mm256_cmpeq_epi8(lo, bs))),
                 _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(hi, dq), _mm256_cmpeq_epi8(hi, bs))));
}
#endif

// The masks of `line` (at most LineMasks::kMaxBytes): whole 64-byte blocks, then the last
// partial block read as the line's last 64 bytes (or, for a shorter line, from a zero-padded
// copy) and shifted down: never a byte past the line.
template <typename Block>
[[gnu::always_inline]] inline void line_masks(std::string_view line, LineMasks& m, Block block) {
    const std::size_t n = line.size();
    m.size = n;
    m.words = (n + 63) / 64;
    std::size_t w = 0;
    for (; (w + 1) * 64 <= n; ++w) block(line.data() + w * 64, m.space[w], m.quote[w]);
    const std::size_t rest = n - w * 64;
    if (rest == 0) return;
    std::uint64_t space = 0, quote = 0;
    if (n >= 64) {
        block(line.data() + n - 64, space, quote);
        m.space[w] = space >> (64 - rest);
        m.quote[w] = quote >> (64 - rest);
    } else {
        char padded[64] = {};
        std::memcpy(padded, line.data(), n);
        block(padded, m.space[w], m.quote[w]);
    }
}

// The steps of split_plain_combined(): `pos` moves along `line`; each step is false where the
// line is not plain.

// A token up to the next space or the end (not empty); pos lands on that space or the end.
[[gnu::always_inline]] inline bool plain_bare(std::string_view line, const LineMasks& m, std::size_t& pos,
                                              std::string_view& out) {
    if (pos >= line.size() || line[pos] == ' ') return false;
    const std::size_t end = m.next(m.space, pos);
    out = std::string_view(line.data() + pos, end - pos);
    pos = end;
    return true;
}

// Exactly one space, with a token after it.
[[gnu::always_inline]] inline bool plain_space(std::string_view line, std::size_t& pos) {
    if (pos + 1 >= line.size() || line[pos] != ' ' || line[pos + 1] == ' ') return false;
    ++pos;
    return true;
}

// A "quoted" token without a backslash (split_combined() decodes those).
[[gnu::always_inline]] inline bool plain_quoted(std::string_view line, const LineMasks& m, std::size_t& pos,
                                                std::string_view& out) {
    if (pos >= line.size() || line[pos] != '"') return false;
    const std::size_t close = m.next(m.quote, pos + 1);
    if (close == line.size() || line[close] != '"') return false;
    out = std::string_view(line.data() + pos + 1, close - pos - 1);
    pos = close + 1;
    return true;
}

} // namespace

bool split_plain_combined(std::string_view line, CombinedFields& out) {
    out = CombinedFields{};
    if (line.size() > LineMasks::kMaxBytes) return false;
    LineMasks m;
#if defined(__x86_64__)
    if (scan::has_avx2())
        line_masks(line, m, block_masks_avx2);
    else
#endif
        line_masks(line, m, [](const char* p, std::uint64_t& space, std::uint64_t& quote) { block_masks(p, space, quote); });
    std::size_t pos = 0;
    if (!plain_bare(line, m, pos, out.ip) || !plain_space(line, pos) || !plain_bare(line, m, pos, out.ident) ||
        !plain_space(line, pos) || !plain_bare(line, m, pos, out.user) || !plain_space(line, pos) || line[pos] != '[')
        return false;
    const std::size_t close = find_byte(line, ']', pos);
    if (close == std::string_view::npos) return false;
    out.when = std::string_view(line.data() + pos + 1, close - pos - 1);
    pos = close + 1;
    if (!plain_space(line, pos) || !plain_quoted(line, m, pos, out.request_line) || !plain_space(line, pos) ||
        !plain_bare(line, m, pos, out.status) || !plain_space(line, pos) || !plain_bare(line, m, pos, out.bytes))
        return false;
    if (pos == line.size()) return true; // the common format
    if (!plain_space(line, pos) || !plain_quoted(line, m, pos, out.referer) || !plain_space(line, pos) ||
        !plain_quoted(line, m, pos, out.user_agent))
        return false;
    std::string_view value;
    for (int extra = 0; pos < line.size() && extra < 16; ++extra) {
        if (!plain_space(line, pos)) return false;
        if (line[pos] == '"' ? !plain_quoted(line, m, pos, value) : !plain_bare(line, m, pos, value)) return false;
        if (out.header_version.empty() && looks_like_version(value)) out.header_version = value;
    }
    return true;
}

} // namespace detail

LineKind AccessLogParser::parse_combined(std::string_view line, Request& out) {
    detail::CombinedFields f;
    if (!detail::split_plain_combined(line, f))
        if (const std::string_view why = detail::split_combined(line, f, combined_); !why.empty()) return malformed(why);
    Raw raw;
    raw.ip = f.ip;
    raw.status = parse_status(f.status);
    if (raw.status == 0 && f.status != "-") return malformed("status is not a number");
    raw.user = dash_empty(f.user);
    raw.time = line_time({}, f.when, 18, [&] { return combined_time(f.when); }); // "10/Oct/2000:13:55:36 -0700"
    raw.user_agent = f.user_agent == "-" ? std::string_view{} : f.user_agent;
    raw.header_version = f.header_version;
    // "METHOD target HTTP/x"; the target may be absolute ("https://host/path").
    std::string_view req = f.request_line, target;
    const auto sp1 = find_byte(req, ' ');
    if (sp1 == std::string_view::npos) return LineKind::skipped; // "-" or garbage sent to the server
    raw.method = req.substr(0, sp1);
    target = req.substr(sp1 + 1);
    target = target.substr(0, find_byte(target, ' '));
    if (!target.empty() && target[0] == '/') {
        // origin form, nearly every line: no scheme to look for
    } else if (const auto scheme = target.find("://"); scheme != std::string_view::npos && scheme < target.find('/')) {
        const auto path_start = target.find('/', scheme + 3);
        target = path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
    }
    const auto question = find_byte(target, '?');
    raw.path = target.substr(0, question);
    if (question != std::string_view::npos) raw.query = target.substr(question + 1);
    if (!is_activesync_path(raw.path)) return LineKind::skipped;
    fill(raw, out);
    return LineKind::request;
}

} // namespace mbx::audit
