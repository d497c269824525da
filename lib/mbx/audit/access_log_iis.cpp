#include "mbx/audit/access_log_parser.hpp"
#include "mbx/audit/scan.hpp"

#include "mbx/core/text.hpp"

#include <array>

// IIS W3C extended logs: the `#Fields:` directive names the fields of the data lines, which are
// split at their spaces (IIS escapes spaces in values as '+').

namespace mbx::audit {
using detail::dash_empty;
using detail::number_at;
using detail::parse_status;
namespace {

enum Role : int {
    r_ignore,
    r_date,
    r_time,
    r_c_ip,
    r_method,
    r_stem,
    r_query,
    r_username,
    r_user_agent,
    r_status,
    r_proto_version,
    r_count
};

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

// IIS "2024-03-01" and "10:00:00" (UTC, W3C extended log format).
std::int64_t iis_time(std::string_view d, std::string_view t) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-' || t.size() < 8 || t[2] != ':' || t[5] != ':') return 0;
    return unix_time(number_at(d, 0, 4), number_at(d, 5, 2), number_at(d, 8, 2), number_at(t, 0, 2), number_at(t, 3, 2),
                     number_at(t, 6, 2));
}

// Notes the positions of the spaces of `line` (`note(position)` for each, in order): 16 bytes
// a step with SSE2, 32 with AVX2 (each_space_avx2, where the CPU has it): an IIS line with an
// Exchange Log= value is about 900 bytes.
template <typename Note> [[gnu::always_inline]] inline void each_space(std::string_view line, Note note) {
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(' ');
    for (; i + 16 <= line.size(); i += 16) {
        auto hits = static_cast<unsigned>(_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(line.data() + i)), space)));
        for (; hits != 0; hits &= hits - 1) note(i + static_cast<std::size_t>(__builtin_ctz(hits)));
    }
#endif
    for (; i < line.size(); ++i)
        if (line[i] == ' ') note(i);
}

#if defined(__x86_64__)
template <typename Note> __attribute__((target("avx2"))) void each_space_avx2(std::string_view line, Note note) {
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
                field_of_[static_cast<std::size_t>(roles_.back())] =
                    static_cast<int>(roles_.size() - 1); // the last one counts
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
        const std::size_t end =
            static_cast<std::size_t>(i) < spaces ? spaces_[static_cast<std::size_t>(i)] : line.size();
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

} // namespace mbx::audit
