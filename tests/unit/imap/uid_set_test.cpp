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
