#include "mbx/imap/mutf7.hpp"

#include "mbx/core/error.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using namespace mbx::imap;

TEST_CASE("modified UTF-7 round-trips the RFC 3501 examples", "[imap]") {
    struct Case {
        const char* utf8;
        const char* mutf7;
    };
    for (auto [utf8, mutf7] : {
             Case{"Entwürfe", "Entw&APw-rfe"}, Case{"&", "&-"}, Case{"A&B", "A&-B"},
             Case{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"}, Case{"INBOX", "INBOX"}, Case{"", ""},
             Case{"Gelöschte Elemente", "Gel&APY-schte Elemente"},
             Case{"😀", "&2D3eAA-"},             // outside the BMP: a surrogate pair
             Case{"tab\there", "tab&AAk-here"}, // a control character is not printable ASCII
         }) {
        INFO(utf8);
        CHECK(encode_mailbox_name(utf8) == mutf7);
        CHECK(decode_mailbox_name(mutf7) == utf8);
    }
}

TEST_CASE("modified UTF-7 rejects malformed input", "[imap]") {
    CHECK_THROWS_AS(encode_mailbox_name("\xff"), mbx::Error);
    CHECK_THROWS_AS(encode_mailbox_name("\xc3"), mbx::Error);         // truncated sequence
    CHECK_THROWS_AS(encode_mailbox_name("\xc0\xaf"), mbx::Error);     // overlong "/"
    CHECK_THROWS_AS(encode_mailbox_name("\xed\xa0\x80"), mbx::Error); // a UTF-8 surrogate
    for (const char* bad : {"&", "&AAk", "&-&", "Entw\xc3\xbcrfe", "&APw", "&AP-", "&2D0-", "&AGE-", "&U,B-", "&*-"}) {
        INFO(bad);
        CHECK(mbx::test::error_of([&] { decode_mailbox_name(bad); }).category() == mbx::ErrorCategory::data);
    }
}
