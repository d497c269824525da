#include "mbx/core/text.hpp"

#include <cstdint>
#include <random>
#include <string>

#include <catch2/catch.hpp>

TEST_CASE("ascii_upper and ascii_lower change ASCII letters only", "[core][text]") {
    CHECK(mbx::ascii_upper("Fetch uid 42") == "FETCH UID 42");
    CHECK(mbx::ascii_lower("X-Dovecot-API") == "x-dovecot-api");
    CHECK(mbx::ascii_upper("ünï") == "üNï"); // UTF-8 bytes untouched
    CHECK(mbx::ascii_lower("") == "");
}

TEST_CASE("iequals compares ignoring ASCII case only", "[core][text]") {
    CHECK(mbx::iequals("\\Deleted", "\\DELETED"));
    CHECK(mbx::iequals("", ""));
    CHECK_FALSE(mbx::iequals("Seen", "Seen "));
    CHECK_FALSE(mbx::iequals("Ü", "ü"));
}

TEST_CASE("trim strips ASCII white space at both ends", "[core][text]") {
    CHECK(mbx::trim("  a b \t\r\n") == "a b");
    CHECK(mbx::trim("\v\fx") == "x");
    CHECK(mbx::trim(" \t ") == "");
    CHECK(mbx::trim("\xc2\xa0x") == "\xc2\xa0x"); // no-break space is not ASCII white space
}

TEST_CASE("split_list trims items and drops empty ones", "[core][text]") {
    using V = std::vector<std::string>;
    CHECK(mbx::split_list("cn, sn,givenName") == V{"cn", "sn", "givenName"});
    CHECK(mbx::split_list(" a ,, b ,") == V{"a", "b"});
    CHECK(mbx::split_list("") == V{});
    CHECK(mbx::split_list(" , ") == V{});
    CHECK(mbx::split_list("one") == V{"one"});
}

TEST_CASE("find_byte, find_either and after_last agree with string_view on any bytes", "[core][text]") {
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
            REQUIRE(mbx::find_byte(v, a, from) == v.find(a, from));
            REQUIRE(mbx::find_either(v, a, b, from) == v.find_first_of(std::string_view(pair, 2), from));
        }
        const auto last = v.rfind(a);
        REQUIRE(mbx::after_last(v, a) == (last == std::string_view::npos ? 0 : last + 1));
    }
}

TEST_CASE("find_byte is string_view::find at every position, in and past the 16-byte blocks", "[core][text]") {
    for (std::size_t size = 0; size <= 40; ++size) {
        for (std::size_t at = 0; at <= size; ++at) { // at == size: not there
            std::string s(size, 'a');
            if (at < size) s[at] = '&';
            if (at + 3 < size) s[at + 3] = '&'; // a second one after it
            const std::string_view v = s;
            for (std::size_t from = 0; from <= size + 1; ++from) {
                INFO("size " << size << " at " << at << " from " << from);
                REQUIRE(mbx::find_byte(v, '&', from) == v.find('&', from));
            }
        }
    }
    // Bytes with the high bit set compare as bytes.
    CHECK(mbx::find_byte("abc\xff" "def", '\xff') == 3);
    CHECK(mbx::find_byte({}, 'a') == std::string_view::npos);
}

TEST_CASE("ascii_lower_in_place folds A-Z only, at every byte value and word position", "[core][text]") {
    // Every byte value at every place of an 8-byte word and of the tail: the word-at-a-time
    // test must fold 'A'..'Z' and leave '@', '[', 0x80-0xff (UTF-8) and all else as they are.
    for (std::size_t size : {1, 7, 8, 9, 15, 16, 17, 23}) {
        for (unsigned byte = 0; byte < 256; ++byte) {
            for (std::size_t at = 0; at < size; ++at) {
                std::string s(size, 'Q');
                s[at] = static_cast<char>(byte);
                std::string expected(size, 'q');
                expected[at] = byte >= 'A' && byte <= 'Z' ? static_cast<char>(byte + 0x20) : static_cast<char>(byte);
                mbx::ascii_lower_in_place(s);
                INFO("size " << size << " byte " << byte << " at " << at);
                REQUIRE(s == expected);
            }
        }
    }
}

TEST_CASE("find_either_long finds what find_either finds, with and without AVX2", "[core][text]") {
    // Strings around the 16- and 32-byte steps, needles anywhere (or nowhere), every start.
    std::mt19937 random(13);
    const std::string bytes = "aaaaaaaaVV&_ \x80";
    for (bool avx2 : {true, false}) {
        mbx::detail::set_avx2(avx2);
        for (int n = 0; n < 3000; ++n) {
            std::string s;
            const auto size = random() % 140;
            for (std::size_t i = 0; i < size; ++i) s += random() % 4 == 0 ? bytes[random() % bytes.size()] : 'a';
            for (std::size_t from = 0; from <= s.size() + 1; ++from) {
                INFO("avx2 " << avx2 << " \"" << s << "\" from " << from);
                REQUIRE(mbx::find_either_long(s, 'V', '&', from) == mbx::find_either(s, 'V', '&', from));
                REQUIRE(mbx::find_either_long(s, ' ', ' ', from) == s.find(' ', from));
            }
        }
    }
    mbx::detail::set_avx2(true);
}

TEST_CASE("url_has_userinfo: a user or password in the authority, nowhere else", "[core][text]") {
    CHECK(mbx::url_has_userinfo("imaps://alice:secret@mail.example.org:993"));
    CHECK(mbx::url_has_userinfo("ldap://cn=admin@127.0.0.1"));
    CHECK(mbx::url_has_userinfo("https://user@host/path"));
    CHECK_FALSE(mbx::url_has_userinfo("imaps://mail.example.org:993"));
    CHECK_FALSE(mbx::url_has_userinfo("https://host/Microsoft-Server-ActiveSync?User=a@b"));
    CHECK_FALSE(mbx::url_has_userinfo("ldapi://%2Frun%2Fslapd%2Fldapi"));
    CHECK_FALSE(mbx::url_has_userinfo("not a url"));
}

#include "mbx/core/input_file.hpp"
#include "../test_support.hpp"

TEST_CASE("input files: bounded in size and line length, never a directory", "[core][input]") {
    mbx::test::TempDir dir;
    const mbx::InputFile spec{.what = "users file", .max_bytes = 100, .max_line = 10};
    CHECK(mbx::read_input_file(dir.write("ok", "alice\nbob\n"), spec) == "alice\nbob\n");
    auto error = mbx::test::error_of([&] { mbx::read_input_file(dir.write("big", std::string(101, 'x')), spec); });
    CHECK(error.category() == mbx::ErrorCategory::data);
    CHECK(std::string(error.what()).find("is larger than 100 bytes") != std::string::npos);
    error = mbx::test::error_of([&] { mbx::read_input_file(dir.write("long", "a\nbbbbbbbbbbbb\n"), spec); });
    CHECK(std::string(error.what()).find("line 2 is longer than 10 bytes") != std::string::npos);
    error = mbx::test::error_of([&] { mbx::read_input_file(dir.path(), spec); });
    CHECK(error.category() == mbx::ErrorCategory::io);
    CHECK(std::string(error.what()).find("it is a directory") != std::string::npos);
    // /dev/zero never ends: the bound stops it.
    error = mbx::test::error_of([&] { mbx::read_input_file("/dev/zero", {.what = "x", .too_large = mbx::ErrorCategory::config}); });
    CHECK(error.category() == mbx::ErrorCategory::config);
}
