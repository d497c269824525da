#include "mbx/ops/users.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/input_file.hpp"
#include "mbx/core/text.hpp"

#include <fmt/format.h>

namespace mbx::ops {
namespace {

// Calls `line(number, text)` for each line that is not blank or a `#` comment, trimmed.
template <typename F> void each_line(std::string_view text, F&& line) {
    int n = 0;
    for (std::string_view rest = text; !rest.empty();) {
        ++n;
        const auto nl = rest.find('\n');
        const std::string_view t = trim(rest.substr(0, nl));
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (!t.empty() && t.front() != '#') line(n, t);
    }
}

} // namespace

std::vector<std::string> read_users_file(const std::string& path) {
    const std::string text = read_input_file(path, {.what = "users file", .max_line = kMaxUserLine});
    std::vector<std::string> users;
    each_line(text, [&](int, std::string_view uid) { users.emplace_back(uid); });
    return users;
}

std::vector<NamePair> read_pairs_file(const std::string& path, std::string_view option, std::string_view example) {
    const std::string text =
        read_input_file(path, {.what = option, .unreadable = ErrorCategory::usage, .max_line = kMaxUserLine});
    std::vector<NamePair> pairs;
    each_line(text, [&](int n, std::string_view line) {
        const auto comma = line.find(',');
        const std::string_view a = trim(line.substr(0, comma));
        std::string_view b = comma == std::string_view::npos ? std::string_view() : line.substr(comma + 1);
        b = trim(b.substr(0, b.find(','))); // further columns (a note) are ignored
        if (a.empty() || b.empty())
            throw Error(ErrorCategory::data, fmt::format("{}:{}: expected two comma-separated names", path, n),
                        fmt::format("one pair per line, e.g. {}", example));
        pairs.push_back({std::string(a), std::string(b)});
    });
    if (pairs.empty())
        throw Error(ErrorCategory::data, fmt::format("{} '{}' has no pairs", option, path),
                    fmt::format("one pair per line, e.g. {}", example));
    return pairs;
}

} // namespace mbx::ops
