#pragma once
// ASCII text helpers every area shares: protocol keywords, header names, config keys and LDAP
// attribute names compare case-insensitively in ASCII only, never by locale.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx {

/// `s` with a-z turned into A-Z; other bytes (UTF-8 included) unchanged. Pure.
std::string ascii_upper(std::string_view s);

/// `s` with A-Z turned into a-z; other bytes unchanged. Pure.
std::string ascii_lower(std::string_view s);

/// ascii_lower() in place, 8 bytes a step (the client inventory folds a key per log line).
void ascii_lower_in_place(std::string& s);

/// ascii_lower_in_place() of the `size` bytes at `data`. Pure apart from them.
void ascii_lower_in_place(char* data, std::size_t size);

/// `value(c)` for every byte value c (0-255), as a table built at compile time: the parsers
/// look up hex digits and base64 characters per byte. `value` returns -128..127.
template <typename Value> constexpr std::array<signed char, 256> byte_table(Value value) {
    std::array<signed char, 256> table{};
    for (int c = 0; c < 256; ++c) table[static_cast<std::size_t>(c)] = static_cast<signed char>(value(c));
    return table;
}

/// ASCII white space as trim() removes it: space, \t, \n, \v, \f, \r. Pure.
inline bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

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

/// True when the URL's authority holds userinfo (`scheme://user:password@host`): a password
/// there ends up in shell history, logs, tables and the journal, so mbxkit refuses such URLs.
/// Pure.
bool url_has_userinfo(std::string_view url);

/// Standard base64 (RFC 4648 §4, with padding) of `bytes`: HTTP Basic and X-Dovecot-API
/// authorization headers, LDIF values. Pure.
std::string base64_encode(std::string_view bytes);

/// The bytes of standard base64 `text` (RFC 4648 §4 alphabet; the `=` padding may be left out,
/// as in ActiveSync's base64 query form). Nothing when `text` holds any other byte (white space
/// included), misplaced padding, an impossible length or non-zero trailing bits. Pure; never
/// reads past `text`.
std::optional<std::string> base64_decode(std::string_view text);

/// base64_decode() into `out` (replacing its contents, keeping its capacity: the log readers
/// decode a base64 query per line without allocating). False, with `out` unspecified, where
/// base64_decode() gives nothing. Pure apart from `out`.
bool base64_decode_into(std::string& out, std::string_view text);

/// The items of a comma-separated list (`cn, sn,givenName`), trimmed, empty items dropped. Pure.
std::vector<std::string> split_list(std::string_view list);

/// The next word of `text` (separated by spaces or tabs), removed from it with the blanks
/// before it; empty at the end. Pure apart from `text`.
std::string_view take_word(std::string_view& text);

} // namespace mbx
