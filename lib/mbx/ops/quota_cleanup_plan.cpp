// mbx quota cleanup's pure part: the command line's folder list, age and percentage, the
// search that finds old messages, and which of them go. Unit-tested in quota_cleanup_test.cpp.
#include "mbx/ops/quota_cleanup.hpp"

#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <fmt/format.h>
#include <tuple>

namespace mbx::ops {
using std::chrono::sys_seconds;

// ---- parsing -----------------------------------------------------------------------------

std::vector<FolderSpec> parse_folder_list(std::string_view text) {
    const auto usage = [&](std::string what) {
        return Error(ErrorCategory::usage, std::move(what),
                     "give --folder NAME[,NAME...], e.g. --folder Trash,Junk or --folder '\\Trash'");
    };
    std::vector<FolderSpec> out;
    for (std::size_t start = 0;;) {
        const std::size_t comma = text.find(',', start);
        const std::string_view item = trim(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
        if (item.empty()) throw usage(fmt::format("invalid --folder {}: an empty folder name", out::quoted(text)));
        FolderSpec spec;
        if (item.front() == '\\') {
            const std::string_view attr = item.substr(1);
            const bool letters = !attr.empty() && std::all_of(attr.begin(), attr.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
            });
            if (!letters) throw usage(fmt::format("invalid special-use {} in --folder", out::quoted(item)));
            spec.special_use = std::string(item);
        } else {
            spec.name = std::string(item);
        }
        for (const auto& seen : out)
            if (seen.text() == spec.text()) throw usage(fmt::format("folder {} is given twice", out::quoted(item)));
        out.push_back(std::move(spec));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

std::chrono::seconds parse_age(std::string_view text) {
    const auto bad = [&](std::string_view why) {
        return Error(ErrorCategory::usage, fmt::format("invalid --older-than {}: {}", out::quoted(text), why),
                     "write a whole number and a unit: 36h, 30d, 12w, 6m (30-day months) or 1y (365 days)");
    };
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) throw bad("no number");
    if (digits > 6) throw bad("too large");
    const std::int64_t value = std::stoll(std::string(text.substr(0, digits)));
    const std::string_view unit = text.substr(digits);
    std::int64_t seconds = 0;
    if (unit == "h") seconds = 3600;
    else if (unit == "d") seconds = 86400;
    else if (unit == "w") seconds = 7 * 86400;
    else if (unit == "m") seconds = 30 * 86400;
    else if (unit == "y") seconds = 365 * 86400;
    else throw bad(unit.empty() ? "no unit" : "unknown unit");
    if (value == 0) throw bad("an age of 0 would select every message");
    if (value * seconds > 100ll * 365 * 86400) throw bad("more than 100 years");
    return std::chrono::seconds(value * seconds);
}

double parse_percent(std::string_view text) {
    const auto bad = [&]() {
        return Error(ErrorCategory::usage, fmt::format("invalid --until-below {}", out::quoted(text)),
                     "give a percent of the limit above 0 and at most 100, e.g. 80% or 79.5");
    };
    std::string_view number = text;
    if (!number.empty() && number.back() == '%') number.remove_suffix(1);
    const bool ok_chars =
        !number.empty() && number.front() != '.' && number.back() != '.' &&
        std::count(number.begin(), number.end(), '.') <= 1 &&
        std::all_of(number.begin(), number.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (!ok_chars || number.size() > 12) throw bad();
    const double value = std::strtod(std::string(number).c_str(), nullptr);
    if (!(value > 0 && value <= 100)) throw bad();
    return value;
}

// ---- planning (pure) -----------------------------------------------------------------------

std::string cleanup_search_criteria(sys_seconds cutoff) {
    static constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::chrono::year_month_day d{std::chrono::floor<std::chrono::days>(cutoff) + std::chrono::days(2)};
    return fmt::format("UNDELETED BEFORE {}-{}-{}", static_cast<unsigned>(d.day()),
                       kMonths[static_cast<unsigned>(d.month()) - 1], static_cast<int>(d.year()));
}

std::vector<CleanupCandidate> select_for_cleanup(std::vector<CleanupCandidate> candidates, CleanupOrder order,
                                                 std::int64_t usage_bytes, std::optional<double> below_bytes) {
    const auto key = [](const CleanupCandidate& c) { return std::tuple(c.date, c.folder, c.uid); };
    std::sort(candidates.begin(), candidates.end(), [&](const CleanupCandidate& a, const CleanupCandidate& b) {
        if (order == CleanupOrder::largest_first && a.size != b.size) return a.size > b.size;
        return key(a) < key(b);
    });
    if (!below_bytes) return candidates;
    std::vector<CleanupCandidate> out;
    double left = static_cast<double>(usage_bytes);
    for (const auto& c : candidates) {
        if (left < *below_bytes) break;
        out.push_back(c);
        left -= static_cast<double>(c.size);
    }
    return out;
}

} // namespace mbx::ops
