#pragma once
// ASCII text helpers every area shares: protocol keywords, header names, config keys and LDAP
// attribute names compare case-insensitively in ASCII only, never by locale.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

namespace detail {

/// The first byte at or after `from` that is one of `bytes` (repeats allowed), or npos. 16 bytes
/// a step with SSE2, the last step on the string's last 16 bytes (never past the string); a
/// string shorter than 16 bytes 8 bytes a step (a zero byte of x ^ needle is a match).
template <typename... Bytes>
[[gnu::always_inline]] inline std::size_t find_first_of_bytes(std::string_view s, std::size_t from, Bytes... bytes) {
    static_assert(sizeof...(Bytes) > 0 && (std::is_same_v<Bytes, char> && ...), "needles are chars");
    const std::size_t n = s.size();
    if (from >= n) return std::string_view::npos;
    const char* const base = s.data();
    std::size_t i = from;
#if defined(__SSE2__)
    if (n >= 16) {
        const __m128i needles[] = {_mm_set1_epi8(bytes)...};
        const auto hits_at = [&](std::size_t at) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + at));
            __m128i hit = _mm_cmpeq_epi8(v, needles[0]);
            for (std::size_t k = 1; k < sizeof...(Bytes); ++k) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, needles[k]));
            return static_cast<unsigned>(_mm_movemask_epi8(hit));
        };
        for (; i + 16 <= n; i += 16)
            if (const unsigned hits = hits_at(i); hits != 0) return i + static_cast<std::size_t>(__builtin_ctz(hits));
        if (i == n) return std::string_view::npos;
        const unsigned hits = hits_at(n - 16) >> (16 - (n - i)); // bit 0: byte i
        return hits != 0 ? i + static_cast<std::size_t>(__builtin_ctz(hits)) : std::string_view::npos;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    constexpr std::uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
    const std::array<std::uint64_t, sizeof...(Bytes)> words{k01 * static_cast<unsigned char>(bytes)...};
    for (; i + 8 <= n; i += 8) {
        std::uint64_t x;
        std::memcpy(&x, base + i, sizeof x);
        // Exact for the lowest set bit (a false positive only follows a true one).
        std::uint64_t zero = 0;
        for (const std::uint64_t w : words) zero |= ((x ^ w) - k01) & ~(x ^ w) & k80;
        if (zero != 0) return i + static_cast<std::size_t>(__builtin_ctzll(zero)) / 8;
    }
#endif
    for (; i < n; ++i)
        if (((base[i] == bytes) || ...)) return i;
    return std::string_view::npos;
}

/// find_first_of_bytes() for two bytes (a == b: one byte).
[[gnu::always_inline]] inline std::size_t find_first_of2(std::string_view s, char a, char b, std::size_t from) {
    return find_first_of_bytes(s, from, a, b);
}

} // namespace detail

/// s.find(c, from), inline: the log parsers look for the next space, `&`, `=` or `_` some 30
/// times per line, mostly a few bytes away, where calling memchr costs more than the search.
/// Never reads past `s`. Pure.
[[gnu::always_inline]] inline std::size_t find_byte(std::string_view s, char c, std::size_t from = 0) {
    return detail::find_first_of2(s, c, c, from);
}

/// The first position at or after `from` of `a` or `b` (s.find_first_of of two bytes), inline
/// like find_byte: the query scanner looks for the end of an item and the next `V` token of
/// Exchange's Log= field in one pass. Pure.
[[gnu::always_inline]] inline std::size_t find_either(std::string_view s, char a, char b, std::size_t from = 0) {
    return detail::find_first_of2(s, a, b, from);
}

namespace detail {
/// True when this CPU runs AVX2 (x86-64 only; checked once). The searches over long spans use
/// it: the baseline build is SSE2, so the AVX2 code is chosen at run time.
bool has_avx2();
/// Turns the AVX2 code off (or back on where the CPU has it): the tests compare both paths.
void set_avx2(bool on);
} // namespace detail

/// find_either() for spans that run long (Exchange's Log= value: hundreds of bytes): 32 bytes a
/// step with AVX2 where the CPU has it, else find_either(). The same result. Pure.
std::size_t find_either_long(std::string_view s, char a, char b, std::size_t from = 0);

/// Where what follows the last `c` of `s` starts: s.rfind(c) + 1, or 0 when `c` is not in `s`.
/// Forward find_byte steps: for a byte that is rare (`\\` in a user name), one search. Pure.
inline std::size_t after_last(std::string_view s, char c) {
    std::size_t start = 0;
    for (std::size_t p = find_byte(s, c); p != std::string_view::npos; p = find_byte(s, c, p + 1)) start = p + 1;
    return start;
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
