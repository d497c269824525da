#include "mbx/journal/redaction.hpp"
#include "mbx/core/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <span>

namespace mbx::journal {
namespace {

bool contains_any(std::string_view haystack, std::span<const std::string_view> needles) {
    return std::any_of(needles.begin(), needles.end(),
                       [&](std::string_view n) { return haystack.find(n) != std::string_view::npos; });
}

// Option names keep their dashes, so both spellings of "api key" are listed.
constexpr std::array<std::string_view, 8> kSecretOptionWords{"password", "passwd", "secret",  "token",
                                                             "api-key",  "apikey", "api_key", "credential"};

// JSON keys are compared without '-' and '_' (userPassword, api_key, api-key, apiKey all match).
constexpr std::array<std::string_view, 6> kSecretKeyWords{"password", "passwd", "secret",
                                                          "token",    "apikey", "credential"};

bool is_secret_key(std::string_view key) {
    // Folded on the stack: the journal calls this for every key of every action it records.
    char buffer[128];
    if (key.size() > sizeof buffer) {
        std::string folded = ascii_lower(key);
        std::erase_if(folded, [](char c) { return c == '-' || c == '_'; });
        return contains_any(folded, kSecretKeyWords);
    }
    std::size_t n = 0;
    for (const char c : key)
        if (c != '-' && c != '_') buffer[n++] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    return contains_any(std::string_view(buffer, n), kSecretKeyWords);
}

} // namespace

bool is_secret_option(std::string_view name) {
    std::string folded = ascii_lower(name);
    // `--ldap-password-file /etc/x` names where the secret is, it is not the secret.
    if (folded.ends_with("-file") || folded.ends_with("_file")) return false;
    return contains_any(folded, kSecretOptionWords);
}

std::string redact_url_userinfo(std::string_view text) {
    std::string out;
    std::size_t copied = 0; // text[0, copied) is already in `out`
    std::size_t search = 0;
    for (;;) {
        std::size_t scheme_end = text.find("://", search);
        if (scheme_end == std::string_view::npos) break;
        std::size_t start = scheme_end + 3;
        // RFC 3986 3.2: the authority ends at the first '/', '?' or '#'; whitespace and quotes
        // also end it because URLs are often embedded in longer text (error messages, JSON).
        std::size_t end = text.find_first_of("/?# \t\r\n\"'<>", start);
        if (end == std::string_view::npos) end = text.size();
        search = end;
        // The last '@' because a raw '@' in a password is a common mistake; the host cannot
        // contain one, so this never hides the host.
        std::size_t at = text.substr(start, end - start).rfind('@');
        if (at == std::string_view::npos) continue;
        at += start;
        std::size_t colon = text.substr(start, at - start).find(':');
        if (colon == std::string_view::npos || start + colon + 1 == at) continue;
        out.append(text.substr(copied, start + colon + 1 - copied));
        out.append(kRedactedArgument);
        copied = at;
    }
    out.append(text.substr(copied));
    return out;
}

std::vector<std::string> redact_arguments(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    out.reserve(args.size());
    bool positional_only = false;
    bool value_is_secret = false;
    for (const std::string& arg : args) {
        if (value_is_secret) {
            value_is_secret = false;
            // `--password --verbose`: the next option is not the value. Anything else is, even
            // if it starts with a single '-' (a password may).
            if (!arg.starts_with("--")) {
                out.emplace_back(kRedactedArgument);
                continue;
            }
        }
        if (!positional_only && arg == "--") {
            positional_only = true;
            out.push_back(arg);
            continue;
        }
        if (!positional_only && arg.size() > 2 && arg.starts_with("--")) {
            std::size_t eq = arg.find('=');
            std::string_view name =
                std::string_view(arg).substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            if (is_secret_option(name)) {
                if (eq == std::string::npos) {
                    out.push_back(arg);
                    value_is_secret = true;
                } else {
                    out.push_back(arg.substr(0, eq + 1) + std::string(kRedactedArgument));
                }
                continue;
            }
        }
        out.push_back(redact_url_userinfo(arg));
    }
    return out;
}

bool needs_redaction(const nlohmann::json& value) {
    if (value.is_object()) {
        for (const auto& [key, member] : value.items())
            if (is_secret_key(key) || needs_redaction(member)) return true;
        return false;
    }
    if (value.is_array())
        return std::any_of(value.begin(), value.end(), [](const auto& e) { return needs_redaction(e); });
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    return text.find("://") != std::string::npos && redact_url_userinfo(text) != text;
}

nlohmann::json redact_json(const nlohmann::json& value) {
    if (!needs_redaction(value)) return value;
    if (value.is_object()) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [key, member] : value.items())
            out[key] = is_secret_key(key) ? nlohmann::json(kRedactedJsonValue) : redact_json(member);
        return out;
    }
    if (value.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& element : value) out.push_back(redact_json(element));
        return out;
    }
    if (value.is_string()) return redact_url_userinfo(value.get_ref<const std::string&>());
    return value;
}

} // namespace mbx::journal
