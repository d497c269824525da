#include "mbx/audit/scan.hpp"

#include <cstdint>
#include <random>
#include <string>

#include <catch2/catch.hpp>

namespace scan = mbx::audit::scan;

TEST_CASE("find_byte, find_either and after_last agree with string_view on any bytes", "[audit][scan]") {
    // An alphabet of needles and their neighbours in the SWAR and SSE2 tricks: 0x00, 0x01 (a
    // borrow), 0x80 and 0xff (high bits), 0x7f.
    constexpr std::string_view kAlphabet("a&=V_\x00\x01\x7f\x80\xff", 10);
    std::uint32_t random = 12345;
    const auto next = [&] { return random = random * 1103515245u + 12345u; };
    for (int round = 0; round < 3000; ++round) {
        std::string s(next() % 72, 'a');
        for (char& c : s) c = kAlphabet[(next() >> 16) % kAlphabet.size()];
        const std::string_view v = s;
        const char a = kAlphabet[(next() >> 16) % kAlphabet.size()], b = kAlphabet[(next() >> 16) % kAlphabet.size()];
        const char pair[2] = {a, b};
        for (std::size_t from = 0; from <= s.size() + 1; ++from) {
            INFO("round " << round << " size " << s.size() << " from " << from);
            REQUIRE(scan::find_byte(v, a, from) == v.find(a, from));
            REQUIRE(scan::find_either(v, a, b, from) == v.find_first_of(std::string_view(pair, 2), from));
        }
        const auto last = v.rfind(a);
        REQUIRE(scan::after_last(v, a) == (last == std::string_view::npos ? 0 : last + 1));
    }
}

TEST_CASE("find_byte is string_view::find at every position, in and past the 16-byte blocks", "[audit][scan]") {
    for (std::size_t size = 0; size <= 40; ++size) {
        for (std::size_t at = 0; at <= size; ++at) { // at == size: not there
            std::string s(size, 'a');
            if (at < size) s[at] = '&';
            if (at + 3 < size) s[at + 3] = '&'; // a second one after it
            const std::string_view v = s;
            for (std::size_t from = 0; from <= size + 1; ++from) {
                INFO("size " << size << " at " << at << " from " << from);
                REQUIRE(scan::find_byte(v, '&', from) == v.find('&', from));
            }
        }
    }
    // Bytes with the high bit set compare as bytes.
    CHECK(scan::find_byte("abc\xff"
                          "def",
                          '\xff') == 3);
    CHECK(scan::find_byte({}, 'a') == std::string_view::npos);
}

TEST_CASE("find_either_long finds what find_either finds, with and without AVX2", "[audit][scan]") {
    // Strings around the 16- and 32-byte steps, needles anywhere (or nowhere), every start.
    std::mt19937 random(13);
    const std::string bytes = "aaaaaaaaVV&_ \x80";
    for (bool avx2 : {true, false}) {
        scan::set_avx2(avx2);
        for (int n = 0; n < 3000; ++n) {
            std::string s;
            const auto size = random() % 140;
            for (std::size_t i = 0; i < size; ++i) s += random() % 4 == 0 ? bytes[random() % bytes.size()] : 'a';
            for (std::size_t from = 0; from <= s.size() + 1; ++from) {
                INFO("avx2 " << avx2 << " \"" << s << "\" from " << from);
                REQUIRE(scan::find_either_long(s, 'V', '&', from) == scan::find_either(s, 'V', '&', from));
                REQUIRE(scan::find_either_long(s, ' ', ' ', from) == s.find(' ', from));
            }
        }
    }
    scan::set_avx2(true);
}
