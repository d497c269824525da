#include "page.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <sstream>

namespace mbx::explain {
namespace {

constexpr std::size_t kWidth = 96;

// Word-wraps `text` to kWidth with `first` before the first line and `rest` before the others.
void wrap(std::ostream& os, std::string_view text, const std::string& first, const std::string& rest) {
    std::istringstream words{std::string(text)};
    std::string line = first, word;
    bool empty = true;
    while (words >> word) {
        if (!empty && line.size() + 1 + word.size() > kWidth) {
            os << line << '\n';
            line = rest;
            empty = true;
        }
        line += (empty ? "" : " ") + word;
        empty = false;
    }
    os << line << '\n';
}

} // namespace

out::ReportSpec summary_spec() {
    using out::Kind;
    using out::Role;
    return {"explain",
            {{"code", "CODE", Kind::text, Role::label},
             {"symbol", "SYMBOL", Kind::text, Role::detail},
             {"title", "TITLE", Kind::text, Role::detail},
             {"command", "COMMAND", Kind::text, Role::detail}}};
}

std::vector<out::Cell> summary_row(const ops::catalogue::MisCode& code) {
    return {code.code(), code.symbol, code.title,
            code.commands.empty() ? std::string("-") : code.commands.front().command};
}

void write_page(std::ostream& os, const ops::catalogue::MisCode& code) {
    if (!code.device_message.empty()) {
        os << "\nDevice showed:\n";
        wrap(os, code.device_message, "  ", "  ");
    }
    os << "\nCauses:\n";
    for (const auto& c : code.causes) wrap(os, c, "  - ", "    ");
    os << "\nResolution:\n";
    for (std::size_t i = 0; i < code.resolution.size(); ++i)
        wrap(os, code.resolution[i], fmt::format("  {}. ", i + 1), "     ");
    if (code.commands.empty()) return;
    std::size_t w = 0;
    for (const auto& c : code.commands) w = std::max(w, c.command.size());
    os << "\nCommands:\n";
    for (const auto& c : code.commands)
        os << fmt::format("  {:<{}}  {:<9}  {}\n", c.command, w,
                          ops::catalogue::is_shipped(c.command) ? "" : "(planned)", c.purpose);
}

} // namespace mbx::explain
