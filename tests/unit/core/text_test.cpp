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
    error = mbx::test::error_of(
        [&] { mbx::read_input_file("/dev/zero", {.what = "x", .too_large = mbx::ErrorCategory::config}); });
    CHECK(error.category() == mbx::ErrorCategory::config);
}
