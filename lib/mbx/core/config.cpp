#include "mbx/core/config.hpp"

#include "mbx/core/input_file.hpp"
#include "mbx/core/text.hpp"

#include "mbx/core/output.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

extern char** environ;

namespace mbx::config {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;
const std::filesystem::path kSystemConfig = "/etc/mbxkit/mbxkit.conf";

std::string full_name(std::string_view section, std::string_view key) {
    return std::string(section) + "." + std::string(key);
}

// Sections that may also appear named, `[imap.old]`, with the keys of the plain section (a
// second IMAP server for `mbx merge --from alice@old`).
constexpr std::string_view kNamedSections[] = {"imap"};

bool is_section_name(std::string_view n) {
    if (n.empty() || n.size() > 64) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// "imap.old.uri" -> "imap.uri" when `imap` may be named and `old` is a valid name; else "".
std::string base_of_named(std::string_view name) {
    auto first = name.find('.');
    auto last = name.rfind('.');
    if (first == std::string_view::npos || first == last) return {};
    std::string_view section = name.substr(0, first);
    if (std::find(std::begin(kNamedSections), std::end(kNamedSections), section) == std::end(kNamedSections)) return {};
    if (!is_section_name(name.substr(first + 1, last - first - 1))) return {};
    return full_name(section, name.substr(last + 1));
}

const SettingDef* find_setting(std::string_view name) {
    for (const auto& s : all_settings())
        if (full_name(s.section, s.key) == name) return &s;
    if (std::string base = base_of_named(name); !base.empty()) return find_setting(base);
    return nullptr;
}

// The section part of "section.key" or "imap.old.key": "imap.old".
std::string_view section_of(std::string_view name) { return name.substr(0, name.rfind('.')); }

// Splits a number from its unit suffix: "1.5G" -> (1.5, "g").
std::pair<double, std::string> split_number(std::string_view text, std::string_view what) {
    std::string_view t = trim(text);
    std::size_t i = 0;
    while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
    double value = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + i, value);
    if (i == 0 || ec != std::errc() || ptr != t.data() + i || !std::isfinite(value))
        throw Error(ErrorCategory::usage, fmt::format("invalid {} '{}'", what, out::printable(text)),
                    "expected a number with an optional unit");
    return {value, ascii_lower(trim(t.substr(i)))};
}

} // namespace

std::string flag_name(std::string_view section, std::string_view key) { return fmt::format("--{}-{}", section, key); }

std::string env_name(std::string_view section, std::string_view key) {
    std::string r = "MBX_" + std::string(section) + "_" + std::string(key);
    for (char& c : r) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return r;
}

std::vector<IniEntry> parse_ini(std::string_view text, const std::string& source) {
    std::vector<IniEntry> entries;
    std::string section;
    int line_no = 0;
    auto fail = [&](std::string_view problem, std::string_view hint) {
        throw Error(ErrorCategory::config, fmt::format("{}:{}: {}", source, line_no, problem), std::string(hint));
    };
    while (!text.empty()) {
        ++line_no;
        auto nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (raw.size() > kMaxLine) fail("line too long", "keep lines under 64 KiB");
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']') fail("malformed section header", "write it as [section]");
            section = ascii_lower(trim(line.substr(1, line.size() - 2)));
            if (section.empty()) fail("empty section name", "write it as [section]");
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string_view::npos)
            fail(fmt::format("expected 'key = value', found '{}'", out::printable(line)), "see docs/configuration.md");
        std::string key = ascii_lower(trim(line.substr(0, eq)));
        std::string_view value = trim(line.substr(eq + 1));
        if (key.empty()) fail("missing key before '='", "see docs/configuration.md");
        if (section.empty())
            fail(fmt::format("key '{}' is outside any section", out::printable(key)),
                 "put it under a [section] header");
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        entries.push_back({section, key, std::string(value), line_no});
    }
    return entries;
}

Config::Config() {
    for (const auto& s : all_settings()) {
        auto name = full_name(s.section, s.key);
        values_[name] = std::string(s.default_value);
        origins_[name] = Origin{Origin::Kind::default_value, "default"};
    }
}

Config Config::load(const std::optional<std::filesystem::path>& file, const std::map<std::string, std::string>& flags) {
    Config cfg;
    std::optional<std::filesystem::path> path = file;
    if (!path) {
        if (const char* env = std::getenv("MBX_CONFIG"); env && *env) path = env;
        else if (std::filesystem::exists(kSystemConfig)) path = kSystemConfig;
    }
    if (path) {
        const std::string text = read_input_file(*path, {.what = "configuration file",
                                                         .unreadable = ErrorCategory::config,
                                                         .too_large = ErrorCategory::config,
                                                         .max_bytes = 1u << 20,
                                                         .max_line = 64u << 10});
        for (const auto& e : parse_ini(text, path->string())) {
            auto name = full_name(e.section, e.key);
            if (!find_setting(name))
                throw Error(ErrorCategory::config,
                            fmt::format("{}:{}: unknown key '{}' in section [{}]", path->string(), e.line,
                                        out::printable(e.key), out::printable(e.section)),
                            "see docs/configuration.md for the keys of each section");
            cfg.set(name, e.value, {Origin::Kind::file, fmt::format("{}:{}", path->string(), e.line)});
            if (!base_of_named(name).empty()) cfg.named_sections_.insert(e.section);
        }
        cfg.file_ = path;
    }
    // Environment: every MBX_* variable must be a setting or a reserved name, so a typo such
    // as MBX_LDAP_URL is reported instead of silently ignored.
    for (char** env = environ; env && *env; ++env) {
        std::string_view entry(*env);
        if (!entry.starts_with("MBX_")) continue;
        auto eq = entry.find('=');
        std::string_view var = entry.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view{} : entry.substr(eq + 1);
        if (std::find(reserved_environment().begin(), reserved_environment().end(), var) !=
            reserved_environment().end())
            continue;
        const SettingDef* hit = nullptr;
        for (const auto& s : all_settings())
            if (env_name(s.section, s.key) == var) hit = &s;
        if (!hit)
            throw Error(ErrorCategory::config, fmt::format("unknown environment variable '{}'", out::printable(var)),
                        "unset it, or see docs/configuration.md for the MBX_* names");
        cfg.set(full_name(hit->section, hit->key), std::string(value),
                {Origin::Kind::environment, "environment " + std::string(var)});
    }
    for (const auto& [name, value] : flags) {
        const SettingDef& d = cfg.def(name);
        cfg.set(name, value, {Origin::Kind::flag, "flag " + flag_name(d.section, d.key)});
    }
    return cfg;
}

const SettingDef& Config::def(std::string_view name) const {
    if (const SettingDef* d = find_setting(name)) return *d;
    throw Error(ErrorCategory::internal, fmt::format("unknown setting '{}'", name));
}

void Config::set(std::string_view name, std::string value, Origin origin) {
    const SettingDef& d = def(name);
    if ((d.key == "uri" || d.key == "url") && url_has_userinfo(value))
        // Not echoed: the value holds the secret.
        throw Error(ErrorCategory::config,
                    fmt::format("{}: [{}] {} holds a user name or password ('user:password@'): refused", origin.where,
                                section_of(name), d.key),
                    "put the user and the password in their own settings (the password in a *-password-file), "
                    "never in a URL");
    values_[std::string(name)] = std::move(value);
    origins_[std::string(name)] = std::move(origin);
}

bool Config::has(std::string_view name) const { return !get(name).empty(); }

std::string Config::get(std::string_view name) const {
    const SettingDef& d = def(name);
    auto it = values_.find(name);
    // A named section's key that its file section does not set has the plain default.
    return it != values_.end() ? it->second : std::string(d.default_value);
}

const Origin& Config::origin(std::string_view name) const {
    def(name);
    static const Origin kDefault{Origin::Kind::default_value, "default"};
    auto it = origins_.find(name);
    return it != origins_.end() ? it->second : kDefault;
}

bool Config::has_section(std::string_view section) const { return named_sections_.contains(section); }

std::string Config::require(std::string_view name) const {
    std::string v = get(name);
    if (v.empty()) {
        const SettingDef& d = def(name);
        if (section_of(name) != d.section)
            throw Error(ErrorCategory::config, fmt::format("missing [{}] {}", section_of(name), d.key),
                        fmt::format("set it in the [{}] section of the configuration file", section_of(name)));
        throw Error(ErrorCategory::config, fmt::format("missing [{}] {}", d.section, d.key),
                    fmt::format("set it in the configuration file, {} or {}", env_name(d.section, d.key),
                                flag_name(d.section, d.key)));
    }
    return v;
}

void Config::invalid(std::string_view name, std::string_view expected) const {
    const SettingDef& d = def(name);
    throw Error(ErrorCategory::config,
                fmt::format("invalid value '{}' for [{}] {} (from {})", out::printable(get(name)), section_of(name),
                            d.key, origin(name).where),
                fmt::format("expected {}", expected));
}

bool Config::get_bool(std::string_view name) const {
    std::string v = ascii_lower(get(name));
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0" || v.empty()) return false;
    invalid(name, "true or false");
}

std::int64_t Config::get_int(std::string_view name) const {
    std::string v = get(name);
    std::int64_t out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) invalid(name, "a whole number");
    return out;
}

double Config::get_number(std::string_view name) const {
    std::string v = get(name);
    double out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || !std::isfinite(out)) invalid(name, "a number");
    return out;
}

std::int64_t Config::get_size(std::string_view name) const {
    try {
        return parse_size(get(name), name);
    } catch (const Error&) {
        invalid(name, "a size such as 500M, 2G or 1073741824");
    }
}

std::chrono::seconds Config::get_duration(std::string_view name) const {
    try {
        return parse_duration(get(name), name);
    } catch (const Error&) {
        invalid(name, "a duration such as 30s, 15m, 12h, 30d or 2w");
    }
}

std::int64_t parse_size(std::string_view text, std::string_view what) {
    auto [value, unit] = split_number(text, what);
    static constexpr std::pair<std::string_view, int> kUnits[] = {
        {"", 0},    {"b", 0}, {"k", 1},  {"kb", 1},  {"kib", 1}, {"m", 2},  {"mb", 2},
        {"mib", 2}, {"g", 3}, {"gb", 3}, {"gib", 3}, {"t", 4},   {"tb", 4}, {"tib", 4}};
    for (auto [name, power] : kUnits) {
        if (unit != name) continue;
        double bytes = value * std::pow(1024.0, power);
        if (bytes >= 9.2e18)
            throw Error(ErrorCategory::usage, fmt::format("{} '{}' is too large", what, out::printable(text)));
        return static_cast<std::int64_t>(std::llround(bytes));
    }
    throw Error(ErrorCategory::usage,
                fmt::format("invalid {} '{}': unknown unit '{}'", what, out::printable(text), out::printable(unit)),
                "use B, K, M, G or T (binary multiples)");
}

std::chrono::seconds parse_duration(std::string_view text, std::string_view what) {
    auto [value, unit] = split_number(text, what);
    static constexpr std::pair<std::string_view, double> kUnits[] = {
        {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 604800}};
    // At most 100 years: a value past any use that still fits every conversion downstream
    // (milliseconds in 64 bits); `99999999999999999w` overflowed to a timeout of 0 ms.
    constexpr double kMaxSeconds = 100.0 * 365 * 86400;
    for (auto [name, seconds] : kUnits) {
        if (unit != name) continue;
        const double total = value * seconds;
        if (!(total <= kMaxSeconds))
            throw Error(ErrorCategory::usage, fmt::format("{} '{}' is too long", what, out::printable(text)),
                        "give at most 100 years, e.g. 30s, 15m, 12h, 30d or 2w");
        return std::chrono::seconds(std::llround(total));
    }
    throw Error(ErrorCategory::usage,
                fmt::format("invalid {} '{}': missing or unknown unit", what, out::printable(text)),
                "write it as 30s, 15m, 12h, 30d or 2w");
}

} // namespace mbx::config
