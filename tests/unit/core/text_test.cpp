#include "mbx/core/text.hpp"

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
