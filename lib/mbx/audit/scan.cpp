#include "mbx/audit/scan.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mbx::audit::scan {

#if defined(__x86_64__)
namespace {

// Bit i: byte at + i of `base` is `na` or `nb` (32 bytes).
__attribute__((target("avx2"))) unsigned hits_avx2(const char* base, std::size_t at, __m256i na, __m256i nb) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + at));
    return static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(v, na), _mm256_cmpeq_epi8(v, nb))));
}

// find_first_of2() 32 bytes a step: only called when has_avx2().
__attribute__((target("avx2"))) std::size_t find_first_of2_avx2(std::string_view s, char a, char b, std::size_t from) {
    const std::size_t n = s.size();
    if (from >= n || n - from < 32) return find_first_of2(s, a, b, from);
    const char* const base = s.data();
    const __m256i na = _mm256_set1_epi8(a), nb = _mm256_set1_epi8(b);
    std::size_t i = from;
    for (; i + 32 <= n; i += 32)
        if (const unsigned hits = hits_avx2(base, i, na, nb); hits != 0)
            return i + static_cast<std::size_t>(__builtin_ctz(hits));
    if (i == n) return std::string_view::npos;
    const unsigned hits = hits_avx2(base, n - 32, na, nb) >> (32 - (n - i)); // bit 0: byte i
    return hits != 0 ? i + static_cast<std::size_t>(__builtin_ctz(hits)) : std::string_view::npos;
}

bool cpu_has_avx2() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}

bool use_avx2 = cpu_has_avx2();

} // namespace

bool has_avx2() { return use_avx2; }

void set_avx2(bool on) { use_avx2 = on && cpu_has_avx2(); }

std::size_t find_either_long(std::string_view s, char a, char b, std::size_t from) {
    return has_avx2() ? find_first_of2_avx2(s, a, b, from) : find_first_of2(s, a, b, from);
}
#else
bool has_avx2() { return false; }

void set_avx2(bool) {}

std::size_t find_either_long(std::string_view s, char a, char b, std::size_t from) {
    return find_first_of2(s, a, b, from);
}
#endif

} // namespace mbx::audit::scan
