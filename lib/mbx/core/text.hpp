#pragma once
// ASCII text helpers every area shares: protocol keywords, header names, config keys and LDAP
// attribute names compare case-insensitively in ASCII only, never by locale.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx {

/// `s` with a-z turned into A-Z; other bytes (UTF-8 included) unchanged. Pure.
std::string ascii_upper(std::string_view s);

/// `s` with A-Z turned into a-z; other bytes unchanged. Pure.
std::string ascii_lower(std::string_view s);

/// True when `a` and `b` are equal ignoring ASCII case. Pure.
inline bool iequals(std::string_view a, std::string_view b) {
    // Inline, sizes first: the log parsers call it for every name and path segment they read.
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char x = a[i], y = b[i];
        if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z')) return false;
    }
    return true;
}

/// `s` without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r). Pure.
std::string_view trim(std::string_view s);

/// Standard base64 (RFC 4648 §4, with padding) of `bytes`: HTTP Basic and X-Dovecot-API
/// authorization headers, LDIF values. Pure.
std::string base64_encode(std::string_view bytes);

/// The bytes of standard base64 `text` (RFC 4648 §4 alphabet; the `=` padding may be left out,
/// as in ActiveSync's base64 query form). Nothing when `text` holds any other byte (white space
/// included), misplaced padding, an impossible length or non-zero trailing bits. Pure; never
/// reads past `text`.
std::optional<std::string> base64_decode(std::string_view text);

/// The items of a comma-separated list (`cn, sn,givenName`), trimmed, empty items dropped. Pure.
std::vector<std::string> split_list(std::string_view list);

} // namespace mbx
