#include "mbx/kb/catalogue.hpp"
#include "mbx/core/text.hpp"

#include "mbx/core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace mbx::kb {
namespace {

constexpr std::string_view kSymbolPrefix = "SYNC_STATUS_CODE_";
constexpr std::string_view kCodePrefix = "MIS_";
constexpr std::string_view kListHint = "run 'mbx explain --list' for the codes MIS_0 to MIS_9";
// Shorter fragments ("a", "co") would match nearly every name and suggest nothing useful.
constexpr std::size_t kMinSuggestLength = 3;

// Upper case, '-' as '_': the one canonical spelling every comparison below uses.
std::string canonical(std::string_view s) {
    std::string out(s);
    for (char& ch : out) {
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
        else if (ch == '-') ch = '_';
    }
    return out;
}

// "9" -> 9; anything but exactly one digit -> -1 ("09" and "10" are not codes).
int single_digit(std::string_view s) {
    if (s.size() != 1 || s[0] < '0' || s[0] > '9') return -1;
    return s[0] - '0';
}

const MisCode* match_exact(const std::string& key) {
    const auto codes = all_codes();
    int number = single_digit(key);
    if (number < 0 && key.starts_with(kCodePrefix))
        number = single_digit(std::string_view(key).substr(kCodePrefix.size()));
    if (number >= 0) {
        for (const MisCode& c : codes)
            if (c.number == number) return &c;
        return nullptr;
    }
    std::string_view name = key;
    if (name.starts_with(kSymbolPrefix)) name.remove_prefix(kSymbolPrefix.size());
    for (const MisCode& c : codes)
        if (canonical(c.name) == name) return &c;
    return nullptr;
}

// The codes whose short name contains `key` (prefixes stripped): a suggestion for the hint,
// never a match.
std::string suggestions(const std::string& key) {
    std::string_view fragment = key;
    if (fragment.starts_with(kSymbolPrefix)) fragment.remove_prefix(kSymbolPrefix.size());
    if (fragment.size() < kMinSuggestLength) return {};
    std::string out;
    for (const MisCode& c : all_codes()) {
        if (canonical(c.name).find(fragment) == std::string::npos) continue;
        out += out.empty() ? "" : ", ";
        out += c.code() + " (" + c.name + ")";
    }
    return out;
}

} // namespace

const MisCode& find_code(std::string_view query) {
    const std::string_view trimmed = trim(query);
    const std::string key = canonical(trimmed);
    if (const MisCode* found = match_exact(key)) return *found;

    std::string hint(kListHint);
    if (std::string similar = suggestions(key); !similar.empty())
        hint += "; '" + std::string(trimmed) + "' is part of " + similar;
    throw Error(ErrorCategory::usage, "unknown MIS code '" + std::string(trimmed) + "'", std::move(hint));
}

std::string_view to_string(ArticleCoverage coverage) {
    switch (coverage) {
    case ArticleCoverage::name_only: return "name_only";
    case ArticleCoverage::message_only: return "message_only";
    case ArticleCoverage::full: return "full";
    }
    return "name_only";
}

nlohmann::json to_json(const MisCode& code) {
    nlohmann::json commands = nlohmann::json::array();
    for (const RemediationCommand& c : code.commands)
        commands.push_back({{"command", c.command}, {"purpose", c.purpose}, {"available", c.available}});
    return nlohmann::json{
        {"code", code.code()},
        {"number", code.number},
        {"symbol", code.symbol},
        {"name", code.name},
        {"title", code.title},
        {"device_message", code.device_message},
        {"causes", code.causes},
        {"resolution", code.resolution},
        {"commands", std::move(commands)},
        {"article_coverage", std::string(to_string(code.coverage))},
    };
}

nlohmann::json to_json(std::span<const MisCode> codes) {
    nlohmann::json out = nlohmann::json::array();
    for (const MisCode& c : codes) out.push_back(to_json(c));
    return out;
}

} // namespace mbx::kb
