#include "mbx/audit/clients.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"

#include <array>
#include <utility>

namespace mbx::audit {
namespace {

using F = MatchField;
using K = MatchKind;
using V = VersionRule;

bool matches(const ClientRule& rule, std::string_view value) {
    const std::string_view p = rule.pattern;
    if (p.empty() || value.size() < p.size()) return false;
    switch (rule.kind) {
    case K::prefix: return iequals(value.substr(0, p.size()), p);
    case K::equals: return iequals(value, p);
    case K::contains:
        for (std::size_t i = 0; i + p.size() <= value.size(); ++i)
            if (iequals(value.substr(i, p.size()), p)) return true;
        return false;
    }
    return false;
}

// `Name/1.2.3 (details)` → "1.2.3".
std::string_view after_slash(std::string_view ua) {
    const auto slash = ua.find('/');
    if (slash == std::string_view::npos) return {};
    auto v = ua.substr(slash + 1);
    return v.substr(0, v.find_first_of(" ("));
}

bool digits_only(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// `AABB.CCC` → "AA" + letter BB (01 = A) + "CCC": 1504.100 → 15D100.
std::string apple_build(std::string_view token) {
    const auto dot = token.find('.');
    if (dot != 4 || !digits_only(token.substr(0, 4)) || !digits_only(token.substr(5))) return {};
    const int letter = (token[2] - '0') * 10 + (token[3] - '0');
    if (letter < 1 || letter > 26) return {};
    return std::string(token.substr(0, 2)) + static_cast<char>('A' + letter - 1) + std::string(token.substr(5));
}

void read_apple(std::string_view ua, ClientInfo& info) {
    if (ua.size() < 6) return; // a rules file may use `apple` on any value
    const auto slash = ua.find('/');
    // `Apple-<hw>/<build>`: the hardware id writes `,` as `C` (iPhone8C4 = iPhone8,4).
    std::string hw(ua.substr(6, slash == std::string_view::npos ? std::string_view::npos : slash - 6));
    if (const auto c = hw.rfind('C'); c != std::string::npos && c > 0 && hw[c - 1] >= '0' && hw[c - 1] <= '9' &&
                                      c + 1 < hw.size() && digits_only(std::string_view(hw).substr(c + 1)))
        hw[c] = ',';
    info.model = hw;
    const std::string_view token = after_slash(ua);
    info.build = apple_build(token);
    if (!info.build.empty()) {
        info.version = ios_version_for_build(info.build);
    } else if (!token.empty()) {
        info.build = std::string(token);
        // `Apple-iPhone/5xx` and `/7xx` without a model: iPhone OS 2 and 3.
        if (token[0] == '5') info.version = "2.x";
        if (token[0] == '7') info.version = "3.x";
    }
}

void read_android_eas(std::string_view ua, ClientInfo& info) {
    const auto slash = ua.find('/');
    const auto eas = ua.find("-EAS-");
    if (slash == std::string_view::npos || eas == std::string_view::npos || eas < slash) return;
    const auto model = ua.substr(0, slash);
    if (!iequals(model, "Android")) info.model = std::string(model);
    info.version = std::string(ua.substr(slash + 1, eas - slash - 1));
    info.build = std::string(ua.substr(eas + 1));
}

void read_version(const ClientRule& rule, std::string_view value, ClientInfo& info) {
    switch (rule.version) {
    case V::none: break;
    case V::after_slash: info.version = std::string(after_slash(value)); break;
    case V::apple: read_apple(value, info); break;
    case V::android_eas: read_android_eas(value, info); break;
    case V::samsung: {
        if (value.size() < 8) break; // a rules file may use `samsung` on any value
        const auto slash = value.find('/');
        info.model = std::string(value.substr(8, slash == std::string_view::npos ? std::string_view::npos : slash - 8));
        info.version = std::string(after_slash(value));
        break;
    }
    case V::windows_mobile: {
        info.build = std::string(after_slash(value));
        if (info.build.substr(0, 3) == "5.1") info.version = "5";
        else if (info.build.substr(0, 3) == "5.2") info.version = "6.x";
        break;
    }
    case V::pocket_pc: {
        const auto v = after_slash(value);
        info.build = std::string(v);
        if (!v.empty() && v[0] == '2') info.version = "2002";
        if (!v.empty() && v[0] == '3') info.version = "2003";
        break;
    }
    }
}

template <typename Table> bool parse_name(std::string_view word, const Table& table, decltype(table[0].second)& out) {
    for (const auto& entry : table)
        if (entry.first == word) {
            out = entry.second;
            return true;
        }
    return false;
}

} // namespace

const std::vector<ClientRule>& default_client_rules() {
    static const std::vector<ClientRule> kRules = {
        // User agents, most specific first.
        {F::user_agent, K::prefix, "Apple-", "iOS", V::apple},
        {F::user_agent, K::prefix, "Android-Mail/", "Gmail (Android)", V::after_slash},
        {F::user_agent, K::prefix, "SAMSUNG-", "Samsung Email", V::samsung},
        {F::user_agent, K::prefix, "Outlook-iOS-Android", "Outlook mobile", V::after_slash},
        {F::user_agent, K::prefix, "TouchDown", "TouchDown", V::after_slash},
        {F::user_agent, K::prefix, "Nine", "Nine", V::after_slash},
        {F::user_agent, K::prefix, "MSFT-PPC/", "Windows Mobile (Pocket PC)", V::windows_mobile},
        {F::user_agent, K::prefix, "MSFT-SPhone/", "Windows Mobile (Smartphone)", V::windows_mobile},
        {F::user_agent, K::prefix, "Microsoft-PocketPC/", "Pocket PC", V::pocket_pc},
        {F::user_agent, K::prefix, "MSFT-WP/", "Windows Phone", V::after_slash},
        {F::user_agent, K::prefix, "WindowsMail/", "Windows Mail", V::after_slash},
        {F::user_agent, K::prefix, "MSFT-WIN-3/", "Windows Mail",
         V::after_slash}, // Windows 8-10: MSFT-WIN-3/10.0.17134
        {F::user_agent, K::prefix, "Outlook/", "Outlook (desktop)", V::after_slash},
        {F::user_agent, K::prefix, "Microsoft.Outlook", "Outlook (desktop)", V::none},
        {F::user_agent, K::prefix, "BlackBerry", "BlackBerry", V::after_slash},
        {F::user_agent, K::prefix, "RIM-Playbook", "BlackBerry PlayBook", V::after_slash},
        {F::user_agent, K::contains, "MailforExchange", "Nokia Mail for Exchange", V::after_slash},
        {F::user_agent, K::contains, "-EAS-", "Android (Exchange app)", V::android_eas},
        // Device types, when the user agent said nothing useful.
        {F::device_type, K::equals, "iPhone", "iOS", V::none},
        {F::device_type, K::equals, "iPad", "iOS", V::none},
        {F::device_type, K::equals, "iPod", "iOS", V::none},
        {F::device_type, K::prefix, "SAMSUNG", "Samsung Email", V::none},
        {F::device_type, K::prefix, "WindowsOutlook", "Outlook (desktop)", V::none},
        {F::device_type, K::equals, "WindowsMail", "Windows Mail", V::none},
        {F::device_type, K::prefix, "WP", "Windows Phone", V::none},
        {F::device_type, K::equals, "PocketPC", "Windows Mobile (Pocket PC)", V::none},
        {F::device_type, K::equals, "SmartPhone", "Windows Mobile (Smartphone)", V::none},
        {F::device_type, K::prefix, "BlackBerry", "BlackBerry", V::none},
        {F::device_type, K::prefix, "TouchDown", "TouchDown", V::none},
        {F::device_type, K::equals, "Android", "Android", V::none},
        // Device ids last.
        {F::device_id, K::prefix, "Nine", "Nine", V::none},
        {F::device_id, K::prefix, "androidc", "Android (Exchange app)", V::none},
        {F::device_id, K::prefix, "Appl", "iOS", V::none},
    };
    return kRules;
}

std::string ios_version_for_build(std::string_view build) {
    // Builds seen in the field (Apple's release notes); other builds give the major version.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kBuilds = {{
        {"13A344", "9.0"},
        {"13C71", "9.2"},
        {"13C75", "9.2"},
        {"14A403", "10.0.2"},
        {"15A372", "11.0"},
        {"15D100", "11.2.6"},
        {"16A366", "12.0"},
        {"17A577", "13.0"},
        {"18A373", "14.0"},
        {"19A346", "15.0"},
        {"20A362", "16.0"},
        {"21A329", "17.0"},
        {"22A3354", "18.0"},
        {"7A341", "3.0"},
    }};
    for (const auto& [b, v] : kBuilds)
        if (b == build) return std::string(v);
    std::size_t n = 0;
    while (n < build.size() && n < 3 && build[n] >= '0' && build[n] <= '9') ++n;
    if (n == 0 || n >= build.size() || build[n] < 'A' || build[n] > 'Z') return {};
    const int prefix = std::stoi(std::string(build.substr(0, n)));
    // iPhone OS 2 was 5x, 3 was 7x; from iOS 4 on the build number is the version + 4.
    if (prefix == 5) return "2";
    if (prefix == 7) return "3";
    if (prefix >= 8 && prefix <= 99) return std::to_string(prefix - 4);
    return {};
}

std::vector<ClientRule> parse_client_rules(std::string_view text, std::string_view source) {
    return parse_rules(text, source).clients;
}

Rules parse_rules(std::string_view text, std::string_view source) {
    static constexpr std::array<std::pair<std::string_view, MatchField>, 3> kFields = {
        {{"user-agent", F::user_agent}, {"device-type", F::device_type}, {"device-id", F::device_id}}};
    static constexpr std::array<std::pair<std::string_view, MatchKind>, 3> kKinds = {
        {{"prefix", K::prefix}, {"contains", K::contains}, {"equals", K::equals}}};
    static constexpr std::array<std::pair<std::string_view, VersionRule>, 7> kVersions = {
        {{"none", V::none},
         {"after_slash", V::after_slash},
         {"apple", V::apple},
         {"android_eas", V::android_eas},
         {"samsung", V::samsung},
         {"windows_mobile", V::windows_mobile},
         {"pocket_pc", V::pocket_pc}}};
    Rules rules;
    int number = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = trim(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++number;
        if (line.empty() || line[0] == '#') continue;
        if (constexpr std::string_view kCapability = "capability";
            line.starts_with(kCapability) && (line.size() == kCapability.size() || line[kCapability.size()] == ' ' ||
                                              line[kCapability.size()] == '\t')) {
            rules.capabilities.push_back(parse_capability(line.substr(kCapability.size()),
                                                          out::printable(source) + ":" + std::to_string(number)));
            continue;
        }
        std::string_view words[4];
        for (auto& w : words) w = take_word(line);
        ClientRule rule;
        rule.pattern = std::string(words[2]);
        rule.family = std::string(trim(line));
        if (!parse_name(words[0], kFields, rule.field) || !parse_name(words[1], kKinds, rule.kind) ||
            !parse_name(words[3], kVersions, rule.version) || rule.pattern.empty() || rule.family.empty())
            throw Error(ErrorCategory::data,
                        "bad client rule at " + out::printable(source) + ":" + std::to_string(number),
                        "write FIELD KIND PATTERN VERSION FAMILY, e.g. 'user-agent prefix Foo/ after_slash Foo' (or a "
                        "'capability' line)");
        rules.clients.push_back(std::move(rule));
    }
    return rules;
}

ClientClassifier::ClientClassifier(std::vector<ClientRule> rules) : rules_(std::move(rules)) {}

ClientInfo ClientClassifier::classify(std::string_view user_agent, std::string_view device_type,
                                      std::string_view device_id) const {
    for (const F field : {F::user_agent, F::device_type, F::device_id}) {
        const std::string_view value = field == F::user_agent    ? user_agent
                                       : field == F::device_type ? device_type
                                                                 : device_id;
        if (value.empty()) continue;
        for (const auto& rule : rules_) {
            if (rule.field != field || !matches(rule, value)) continue;
            ClientInfo info;
            info.family = rule.family;
            info.matched_on = field;
            read_version(rule, value, info);
            return info;
        }
    }
    return ClientInfo{"unknown"};
}

} // namespace mbx::audit
