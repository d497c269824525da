#include "mbx/imap/mailbox_ops.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using mbx::imap::uid_set_of;

TEST_CASE("uid_set_of folds runs into ranges, sorted and without duplicates", "[imap]") {
    CHECK(uid_set_of({7}) == "7");
    CHECK(uid_set_of({5, 3, 4, 9, 4}) == "3:5,9");
    CHECK(uid_set_of({1, 2, 4, 5, 7, 10, 11, 12}) == "1:2,4:5,7,10:12");
    CHECK(uid_set_of({4294967295ULL, 4294967294ULL}) == "4294967294:4294967295");
}

TEST_CASE("uid_set_of refuses an empty set and UID 0", "[imap]") {
    CHECK(mbx::test::error_of([] { uid_set_of({}); }).category() == mbx::ErrorCategory::internal);
    CHECK(mbx::test::error_of([] { uid_set_of({0, 1}); }).category() == mbx::ErrorCategory::internal);
}

TEST_CASE("APPEND building: one command, or the pieces of a streamed MULTIAPPEND", "[imap]") {
    using namespace mbx::imap;
    using mbx::test::error_of;
    auto cmd = append_command("Sent", {"\\Seen", "\\Recent", "$Forwarded"}, "17-Jul-1996 02:44:25 -0700", "abc");
    CHECK(cmd.describe() == "APPEND Sent (\\Seen $Forwarded) \"17-Jul-1996 02:44:25 -0700\" {3}");
    std::string big(100000, 'x');
    auto moved = append_command("INBOX", {}, "", std::move(big));
    CHECK(moved.pieces().back().text.size() == 100000); // taken over, not copied
    CHECK(multiappend_start("R&D \"x\"") == std::optional<std::string>("APPEND \"R&-D \\\"x\\\"\""));
    CHECK(multiappend_start("Ärger") == std::optional<std::string>("APPEND &AMQ-rger"));
    CHECK(multiappend_item({"\\Seen", "\\Recent"}, " 7-Jul-1996 02:44:25 -0700", 42) ==
          " (\\Seen) \" 7-Jul-1996 02:44:25 -0700\" {42+}\r\n");
    CHECK(multiappend_item({}, "", 0) == " () {0+}\r\n");
    CHECK(error_of([] { multiappend_item({"bad flag"}, "", 1); }).category() == mbx::ErrorCategory::internal);
    CHECK(error_of([] { multiappend_item({}, "1996-07-17", 1); }).category() == mbx::ErrorCategory::internal);
    CHECK(error_of([] { append_command("INBOX", {"(x)"}, "", "m"); }).category() == mbx::ErrorCategory::internal);
}
