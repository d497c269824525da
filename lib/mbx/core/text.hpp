#pragma once
// ASCII text helpers every area shares: protocol keywords, header names, config keys and LDAP
// attribute names compare case-insensitively in ASCII only, never by locale.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/// s.find(c, from), inline: the log parsers look for the next space, `&`, `=` or `_` some 30
/// times per line, mostly a few bytes away, where calling memchr costs more than the search.
/// 16 bytes at a time with SSE2 (never reading past `s`), else byte by byte. Pure.
inline std::size_t find_byte(std::string_view s, char c, std::size_t from = 0) {
    if (from >= s.size()) return std::string_view::npos;
    const char* const begin = s.data();
    const char* const end = begin + s.size();
    const char* p = begin + from;
#if defined(__SSE2__)
    const __m128i needle = _mm_set1_epi8(c);
    for (; end - p >= 16; p += 16) {
        const int hits = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), needle));
        if (hits != 0) return static_cast<std::size_t>(p - begin) + static_cast<std::size_t>(__builtin_ctz(hits));
    }
#endif
    for (; p < end; ++p)
        if (*p == c) return static_cast<std::size_t>(p - begin);
    return std::string_view::npos;
}

/// The first position at or after `from` of `a` or `b` (s.find_first_of of two bytes), inline
/// like find_byte: the query scanner looks for the end of an item and the next `V` token of
/// Exchange's Log= field in one pass. Pure.
inline std::size_t find_either(std::string_view s, char a, char b, std::size_t from = 0) {
    if (from >= s.size()) return std::string_view::npos;
    const char* const begin = s.data();
    const char* const end = begin + s.size();
    const char* p = begin + from;
#if defined(__SSE2__)
    const __m128i na = _mm_set1_epi8(a), nb = _mm_set1_epi8(b);
    for (; end - p >= 16; p += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const int hits = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, na), _mm_cmpeq_epi8(v, nb)));
        if (hits != 0) return static_cast<std::size_t>(p - begin) + static_cast<std::size_t>(__builtin_ctz(hits));
    }
#endif
    for (; p < end; ++p)
        if (*p == a || *p == b) return static_cast<std::size_t>(p - begin);
    return std::string_view::npos;
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
