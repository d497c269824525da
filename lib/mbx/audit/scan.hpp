#pragma once
// The audit's fast byte scanning, internal to the audit library (the log parsers and the
// inventory): inline searches for one or two bytes, SSE2 16 bytes a step, and the one CPU
// dispatch of the code base (has_avx2: AVX2 chosen at run time, the build being baseline
// x86-64). Nothing outside lib/mbx/audit includes this; core keeps plain helpers. How fast
// each is, and why, is in docs/benchmarks.md.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h> // AVX2, behind the one CPU dispatch below
#endif

namespace mbx::audit::scan {

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
    constexpr std::uint64_t kByteOnes = 0x0101010101010101ull, kByteHighBits = 0x8080808080808080ull;
    const std::array<std::uint64_t, sizeof...(Bytes)> words{kByteOnes * static_cast<unsigned char>(bytes)...};
    for (; i + 8 <= n; i += 8) {
        std::uint64_t x;
        std::memcpy(&x, base + i, sizeof x);
        // Exact for the lowest set bit (a false positive only follows a true one).
        std::uint64_t zero = 0;
        for (const std::uint64_t w : words) zero |= ((x ^ w) - kByteOnes) & ~(x ^ w) & kByteHighBits;
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

/// s.find(c, from), inline: the log parsers look for the next space, `&`, `=` or `_` some 30
/// times per line, mostly a few bytes away, where calling memchr costs more than the search.
/// Never reads past `s`. Pure.
[[gnu::always_inline]] inline std::size_t find_byte(std::string_view s, char c, std::size_t from = 0) {
    return find_first_of2(s, c, c, from);
}

/// The first position at or after `from` of `a` or `b` (s.find_first_of of two bytes), inline
/// like find_byte: the query scanner looks for the end of an item and the next `V` token of
/// Exchange's Log= field in one pass. Pure.
[[gnu::always_inline]] inline std::size_t find_either(std::string_view s, char a, char b, std::size_t from = 0) {
    return find_first_of2(s, a, b, from);
}

/// True when this CPU runs AVX2 (x86-64 only; checked once). The searches over long spans use
/// it: the baseline build is SSE2, so the AVX2 code is chosen at run time.
bool has_avx2();
/// Turns the AVX2 code off (or back on where the CPU has it): the tests compare both paths.
void set_avx2(bool on);

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

} // namespace mbx::audit::scan
