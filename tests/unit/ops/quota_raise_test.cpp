#include "mbx/ops/quota_raise.hpp"

#include "mbx/ops/quota.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using mbx::ErrorCategory;
using namespace mbx::ops; // decide_restore, format_quota_value, parse_ldap_quota, plan_new_limit
using mbx::test::error_of;

namespace {
constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
}

TEST_CASE("plan_new_limit: --to sets, --by adds", "[ops][quota-raise]") {
    CHECK(plan_new_limit(10 * MiB, 20 * MiB, std::nullopt) == 20 * MiB);
    CHECK(plan_new_limit(std::nullopt, 2 * GiB, std::nullopt) == 2 * GiB); // no limit yet: --to sets one
    CHECK(plan_new_limit(10 * MiB, std::nullopt, 5 * MiB) == 15 * MiB);
    CHECK(plan_new_limit(10 * MiB, 1 * MiB, std::nullopt) == 1 * MiB); // lowering is allowed with --to
}

TEST_CASE("plan_new_limit refuses bad requests", "[ops][quota-raise]") {
    CHECK(error_of([] { plan_new_limit(MiB, MiB, MiB); }).category() == ErrorCategory::usage);
    CHECK(error_of([] { plan_new_limit(MiB, std::nullopt, std::nullopt); }).category() == ErrorCategory::usage);
    CHECK(error_of([] { plan_new_limit(MiB, 0, std::nullopt); }).category() == ErrorCategory::usage);
    CHECK(error_of([] { plan_new_limit(MiB, -5, std::nullopt); }).category() == ErrorCategory::usage);
    CHECK(error_of([] { plan_new_limit(MiB, std::nullopt, 0); }).category() == ErrorCategory::usage);
    CHECK(error_of([] { plan_new_limit(MiB, std::nullopt, -1); }).category() == ErrorCategory::usage);
    const auto no_limit = error_of([] { plan_new_limit(std::nullopt, std::nullopt, GiB); });
    CHECK(no_limit.category() == ErrorCategory::data);
    CHECK_THAT(no_limit.hint(), Catch::Contains("--to"));
    const auto huge = error_of([] { plan_new_limit(std::numeric_limits<std::int64_t>::max() - 10, std::nullopt, 11); });
    CHECK(huge.category() == ErrorCategory::usage);
}

TEST_CASE("format_quota_value in bytes format writes the integer", "[ops][quota-raise]") {
    CHECK(format_quota_value(std::nullopt, 2 * GiB, "bytes") == "2147483648");
    CHECK(format_quota_value(std::string_view("1G"), 1500000, "bytes") == "1500000"); // units are not kept
    CHECK(parse_ldap_quota(format_quota_value(std::string_view("10M"), 123456789, "bytes"), "bytes") == 123456789);
}

TEST_CASE("format_quota_value in dovecot format keeps the rule and its unit style", "[ops][quota-raise]") {
    // A unit stays a unit (the largest that divides exactly); Dovecot takes integers only.
    CHECK(format_quota_value(std::string_view("*:storage=1G"), 2 * GiB, "dovecot") == "*:storage=2G");
    CHECK(format_quota_value(std::string_view("*:storage=1G"), 1536 * MiB, "dovecot") == "*:storage=1536M");
    CHECK(format_quota_value(std::string_view("*:storage=1G"), 1500000, "dovecot") == "*:storage=1500000B");
    CHECK(format_quota_value(std::string_view("*:storage=1G"), 4 * GiB * 1024, "dovecot") == "*:storage=4T");
    // Unitless storage is KiB and stays KiB when it can.
    CHECK(format_quota_value(std::string_view("*:storage=1048576"), 2 * GiB, "dovecot") == "*:storage=2097152");
    CHECK(format_quota_value(std::string_view("*:storage=1048576"), 1000, "dovecot") == "*:storage=1000B");
    // bytes= is always an integer in bytes.
    CHECK(format_quota_value(std::string_view("*:bytes=1048576"), 3 * MiB, "dovecot") == "*:bytes=3145728");
    // The mailbox pattern and the other keys are kept, in place.
    CHECK(format_quota_value(std::string_view("*:messages=1000:storage=2G"), 3 * GiB, "dovecot") ==
          "*:messages=1000:storage=3G");
    CHECK(format_quota_value(std::string_view("INBOX:storage=512M:messages=10"), GiB, "dovecot") ==
          "INBOX:storage=1G:messages=10");
    CHECK(format_quota_value(std::string_view("storage=512M"), GiB, "dovecot") == "storage=1G");
    // Nothing to keep: the form Dovecot's userdb examples use.
    CHECK(format_quota_value(std::nullopt, 5 * MiB, "dovecot") == "*:bytes=5242880");
}

TEST_CASE("format_quota_value reads back to the new bytes", "[ops][quota-raise]") {
    const char* rules[] = {"*:storage=1G", "*:storage=1048576",          "*:bytes=1048576",
                           "storage=512M", "*:messages=1000:storage=2G", "Trash:storage=100M:messages=5"};
    const std::int64_t sizes[] = {1, 1000, KiB, 1500000, 5 * MiB, 1536 * MiB, 2 * GiB, 3 * GiB + 1, 7 * GiB * 1024};
    for (const char* rule : rules)
        for (std::int64_t bytes : sizes) {
            INFO(rule << " -> " << bytes);
            CHECK(parse_ldap_quota(format_quota_value(std::string_view(rule), bytes, "dovecot"), "dovecot") == bytes);
        }
    for (std::int64_t bytes : sizes) {
        CHECK(parse_ldap_quota(format_quota_value(std::nullopt, bytes, "dovecot"), "dovecot") == bytes);
        CHECK(parse_ldap_quota(format_quota_value(std::nullopt, bytes, "bytes"), "bytes") == bytes);
    }
}

TEST_CASE("format_quota_value refuses what it cannot change", "[ops][quota-raise]") {
    CHECK(error_of([] { format_quota_value(std::string_view("*:messages=100"), GiB, "dovecot"); }).category() ==
          ErrorCategory::data);
    CHECK(error_of([] { format_quota_value(std::nullopt, GiB, "kib"); }).category() == ErrorCategory::config);
}

TEST_CASE("server_limit_matches allows the KiB rounding of RFC 9208 STORAGE", "[ops][quota-raise]") {
    CHECK(server_limit_matches(20 * MiB, 20 * MiB));
    CHECK(server_limit_matches(1464 * KiB, 1500000)); // 1500000 B = 1464.8 KiB, reported as 1464
    CHECK(server_limit_matches(1465 * KiB, 1500000));
    CHECK_FALSE(server_limit_matches(10 * MiB, 20 * MiB));
    CHECK_FALSE(server_limit_matches(20 * MiB - KiB, 20 * MiB));
    CHECK_FALSE(server_limit_matches(20 * MiB + KiB, 20 * MiB));
}

TEST_CASE("decide_restore compares the entry with the action's states", "[ops][quota-raise]") {
    using V = std::vector<std::string>;
    CHECK(decide_restore(V{"20971520"}, V{"10485760"}, V{"20971520"}) == RestoreDecision::restore);
    CHECK(decide_restore(V{"10485760"}, V{"10485760"}, V{"20971520"}) == RestoreDecision::already);
    CHECK(decide_restore(V{"999"}, V{"10485760"}, V{"20971520"}) == RestoreDecision::conflict);
    CHECK(decide_restore(V{}, V{"10485760"}, V{"20971520"}) == RestoreDecision::conflict); // removed since
    // The attribute was absent before: restoring means removing it.
    CHECK(decide_restore(V{"5242880"}, V{}, V{"5242880"}) == RestoreDecision::restore);
    CHECK(decide_restore(V{}, V{}, V{"5242880"}) == RestoreDecision::already);
    // Exact strings: the same bytes spelled otherwise is someone else's change.
    CHECK(decide_restore(V{"20M"}, V{"10485760"}, V{"20971520"}) == RestoreDecision::conflict);
    // Values are a set.
    CHECK(decide_restore(V{"b", "a"}, V{"x"}, V{"a", "b"}) == RestoreDecision::restore);
}
