#include "mbx/journal/records.hpp"

#include "mbx/core/error.hpp"

#include <array>
#include <charconv>
#include <ctime>
#include <utility>

#include <fmt/format.h>

namespace mbx::journal {
namespace {

constexpr std::array<std::pair<RunStatus, std::string_view>, 6> kRunStatuses{{
    {RunStatus::running, "running"},
    {RunStatus::ok, "ok"},
    {RunStatus::warning, "warning"},
    {RunStatus::critical, "critical"},
    {RunStatus::failed, "failed"},
    {RunStatus::interrupted, "interrupted"},
}};

constexpr std::array<std::pair<ActionStatus, std::string_view>, 5> kActionStatuses{{
    {ActionStatus::planned, "planned"},
    {ActionStatus::done, "done"},
    {ActionStatus::failed, "failed"},
    {ActionStatus::skipped, "skipped"},
    {ActionStatus::undone, "undone"},
}};

template <class Table> std::string valid_values(const Table& table) {
    std::string out;
    for (const auto& [value, name] : table) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

// Reads exactly `width` decimal digits at `pos`; advances `pos`. Returns false otherwise.
bool read_digits(std::string_view text, std::size_t& pos, std::size_t width, int& out) {
    if (pos + width > text.size()) return false;
    for (std::size_t i = pos; i < pos + width; ++i)
        if (text[i] < '0' || text[i] > '9') return false;
    std::from_chars(text.data() + pos, text.data() + pos + width, out);
    pos += width;
    return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
}

struct Parsed {
    std::tm tm{};
    int millis = 0;
};

// A hand-written parser because std::chrono::parse is not in libstdc++ 12 and strptime
// accepts too much (it silently ignores trailing garbage in some forms).
std::optional<Parsed> parse_fields(std::string_view text) {
    Parsed p;
    std::size_t pos = 0;
    int year = 0, month = 0, day = 0;
    if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') || !read_digits(text, pos, 2, month) ||
        !expect(text, pos, '-') || !read_digits(text, pos, 2, day))
        return std::nullopt;
    int hour = 0, minute = 0, second = 0;
    if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
        ++pos;
        if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') || !read_digits(text, pos, 2, minute))
            return std::nullopt;
        if (pos < text.size() && text[pos] == ':') {
            ++pos;
            if (!read_digits(text, pos, 2, second)) return std::nullopt;
            if (pos < text.size() && text[pos] == '.') {
                ++pos;
                int scale = 100;
                std::size_t start = pos;
                for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
                    p.millis += (text[pos] - '0') * scale;
                    scale /= 10;
                }
                if (pos == start) return std::nullopt;
            }
        }
        if (pos < text.size() && text[pos] == 'Z') ++pos;
    }
    if (pos != text.size()) return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    p.tm.tm_year = year - 1900;
    p.tm.tm_mon = month - 1;
    p.tm.tm_mday = day;
    p.tm.tm_hour = hour;
    p.tm.tm_min = minute;
    p.tm.tm_sec = second;
    return p;
}

} // namespace

RunStatus run_status_of(int code) {
    switch (static_cast<ExitCode>(code)) {
    case ExitCode::ok: return RunStatus::ok;
    case ExitCode::warning: return RunStatus::warning;
    case ExitCode::critical: return RunStatus::critical;
    case ExitCode::interrupted: return RunStatus::interrupted;
    default: return RunStatus::failed;
    }
}

std::string_view to_string(RunStatus status) {
    for (const auto& [value, name] : kRunStatuses)
        if (value == status) return name;
    return "running"; // every enumerator is in the table (tested)
}

std::string_view to_string(ActionStatus status) {
    for (const auto& [value, name] : kActionStatuses)
        if (value == status) return name;
    return "planned";
}

RunStatus parse_run_status(std::string_view text) {
    for (const auto& [value, name] : kRunStatuses)
        if (name == text) return value;
    throw Error(ErrorCategory::usage, fmt::format("unknown run status '{}'", text),
                "use one of: " + valid_values(kRunStatuses));
}

ActionStatus parse_action_status(std::string_view text) {
    for (const auto& [value, name] : kActionStatuses)
        if (name == text) return value;
    throw Error(ErrorCategory::usage, fmt::format("unknown action status '{}'", text),
                "use one of: " + valid_values(kActionStatuses));
}

std::string format_timestamp(TimePoint t) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    auto secs = static_cast<std::time_t>(ms / 1000);
    auto frac = static_cast<int>(ms % 1000);
    if (frac < 0) { // before 1970: floor, not truncate
        frac += 1000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

TimePoint parse_timestamp(std::string_view text) {
    auto parsed = parse_fields(text);
    std::tm normalised{};
    if (parsed) {
        normalised = parsed->tm;
        timegm(&normalised); // rewrites the fields: 2026-02-31 becomes 2026-03-03
    }
    if (!parsed || normalised.tm_mday != parsed->tm.tm_mday)
        throw Error(ErrorCategory::usage, fmt::format("cannot parse time '{}'", text),
                    "use ISO 8601 UTC, e.g. 2026-11-24 or 2026-11-24T18:52:03Z");
    std::time_t secs = timegm(&parsed->tm); // UTC, unlike mktime
    return TimePoint(std::chrono::seconds(secs)) + std::chrono::milliseconds(parsed->millis);
}

} // namespace mbx::journal
