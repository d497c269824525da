#include "mbx/directory/ad.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/text.hpp"

#include <charconv>
#include <cstdint>

namespace mbx::directory::ad {

std::optional<std::uint32_t> parse_account_control(std::string_view value) {
    const std::string_view text = trim(value);
    if (text.empty()) return std::nullopt;
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    if (n < INT32_MIN || n > UINT32_MAX) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

std::string account_control_text(std::uint32_t flags) { return std::to_string(static_cast<std::int32_t>(flags)); }

namespace {

// The code points of `s`, or nullopt when it is not valid UTF-8 (overlong forms, surrogates
// and values above U+10FFFF are not).
std::optional<std::u32string> code_points(std::string_view s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        char32_t cp = 0, min = 0;
        if (b < 0x80) len = 1, cp = b;
        else if ((b & 0xE0) == 0xC0) len = 2, cp = b & 0x1F, min = 0x80;
        else if ((b & 0xF0) == 0xE0) len = 3, cp = b & 0x0F, min = 0x800;
        else if ((b & 0xF8) == 0xF0) len = 4, cp = b & 0x07, min = 0x10000;
        else return std::nullopt;
        if (i + len > s.size()) return std::nullopt;
        for (std::size_t k = 1; k < len; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) return std::nullopt;
            cp = (cp << 6) | (c & 0x3F);
        }
        if (len > 1 && cp < min) return std::nullopt;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
        out.push_back(cp);
        i += len;
    }
    return out;
}

void put_unit(std::string& out, std::uint32_t unit) {
    out.push_back(static_cast<char>(unit & 0xFF));
    out.push_back(static_cast<char>((unit >> 8) & 0xFF));
}

} // namespace

std::string unicode_pwd_value(std::string_view password) {
    const auto cps = code_points(password);
    if (!cps)
        throw Error(ErrorCategory::config, "the new password is not valid UTF-8", "write the password file in UTF-8");
    std::string out;
    out.reserve((cps->size() + 2) * 2);
    put_unit(out, '"');
    for (const char32_t cp : *cps) {
        if (cp < 0x10000) {
            put_unit(out, cp);
        } else {
            const std::uint32_t v = cp - 0x10000;
            put_unit(out, 0xD800 + (v >> 10));
            put_unit(out, 0xDC00 + (v & 0x3FF));
        }
    }
    put_unit(out, '"');
    return out;
}

std::optional<std::string> sam_account_name_problem(std::string_view name) {
    if (name.empty()) return "it is empty";
    if (const auto cps = code_points(name); !cps || cps->size() > 20)
        return "it is longer than 20 characters (Active Directory's limit for sAMAccountName)";
    for (const char c : name) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return "it holds a control character";
        if (std::string_view("\"/\\[]:;|=,+*?<>@").find(c) != std::string_view::npos)
            return std::string("it holds '") + c + "', which a sAMAccountName may not";
    }
    if (name.find_first_not_of(". ") == std::string_view::npos) return "it is only dots and spaces";
    if (name.back() == '.') return "it ends in a dot";
    return std::nullopt;
}

std::optional<std::string> proxy_smtp_address(std::string_view value) {
    if (value.size() <= 5 || !iequals(value.substr(0, 5), "smtp:")) return std::nullopt;
    return std::string(value.substr(5));
}

std::optional<std::string> address_in(std::string_view attribute, std::string_view value) {
    if (iequals(attribute, "proxyAddresses")) return proxy_smtp_address(value);
    return std::string(value);
}

} // namespace mbx::directory::ad
