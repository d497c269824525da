#include "mbx/imap/response.hpp"

#include "mbx/imap/command.hpp"

#include "mbx/core/error.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using namespace mbx::imap;

TEST_CASE("parse_completion splits tagged status lines", "[imap]") {
    auto ok = parse_completion("M1 OK [READ-WRITE] Select completed (0.001 secs).");
    REQUIRE(ok);
    CHECK(ok->tag == "M1");
    CHECK(ok->status == Status::ok);
    CHECK(ok->code == "READ-WRITE");
    CHECK(ok->text == "Select completed (0.001 secs).");

    auto no = parse_completion("M22 no [OVERQUOTA] Quota exceeded");
    REQUIRE(no);
    CHECK(no->status == Status::no);
    CHECK(no->code == "OVERQUOTA");

    auto bad = parse_completion("M3 BAD Error in IMAP command");
    REQUIRE(bad);
    CHECK(bad->status == Status::bad);
    CHECK(bad->code.empty());
    CHECK(bad->text == "Error in IMAP command");

    CHECK_FALSE(parse_completion("* OK still here"));
    CHECK_FALSE(parse_completion("+ go ahead"));
    CHECK_FALSE(parse_completion("M4 MAYBE"));
    CHECK_FALSE(parse_completion(""));
}

TEST_CASE("untagged_keyword finds the response name", "[imap]") {
    mbx::test::check_table(untagged_keyword, {{"* CAPABILITY IMAP4rev1", "CAPABILITY"},
                                              {"* 3 EXISTS", "EXISTS"},
                                              {"* 12 fetch (UID 1)", "FETCH"},
                                              {"* QUOTAROOT INBOX User quota", "QUOTAROOT"},
                                              {"M1 OK", ""}});
}

TEST_CASE("Command renders astrings, mailboxes and literals", "[imap]") {
    Command c("APPEND");
    c.mailbox("Entwürfe").raw("(\\Seen)").astring("two words").literal("Subject: x\r\n\r\nhi");
    REQUIRE(c.pieces().size() == 5);
    CHECK(c.pieces()[1].text == "Entw&APw-rfe");
    CHECK(c.pieces()[3].text == "\"two words\"");
    CHECK(c.pieces()[4].literal);
    CHECK(c.has_literals());
    CHECK(c.describe() == "APPEND Entw&APw-rfe (\\Seen) \"two words\" {16}");
    CHECK_THROWS_AS(Command("NOOP").raw("x\r\nM9 DELETE INBOX"), mbx::Error);
    CHECK_FALSE(Command("NOOP").has_literals());
}
