#include "mbx/ops/audit_devices.hpp"
#include "mbx/ops/diagnose.hpp"

#include <catch2/catch.hpp>

using namespace mbx::ops::diagnose;

TEST_CASE("diagnose: bytes to free to get under the warning tier", "[diagnose]") {
    // 80% of 1000 is 800; 800 itself is in the warning tier, so 799 is the most that stays below.
    CHECK(bytes_to_free(900, 1000, 80) == 101);
    CHECK(bytes_to_free(800, 1000, 80) == 1);
    CHECK(bytes_to_free(799, 1000, 80) == 0);
    CHECK(bytes_to_free(0, 1000, 80) == 0);
    CHECK(bytes_to_free(500, 0, 80) == 0);        // no limit
    CHECK(bytes_to_free(1000, 999, 85.5) == 146); // 854.145: 854 stays below
}

TEST_CASE("diagnose: a limit in whole MiB under which the usage is below the warning tier", "[diagnose]") {
    constexpr std::int64_t MiB = 1 << 20;
    CHECK(limit_for(95232, 80) == MiB);         // small usage: at least 1 MiB
    CHECK(limit_for(10 * MiB, 80) == 13 * MiB); // 12.5 MiB needed, rounded up
    CHECK(limit_for(8 * MiB, 80) == 11 * MiB);  // exactly 10 MiB would be 80%: in the tier
    for (std::int64_t used : {std::int64_t{1}, 5 * MiB + 7, 700 * MiB}) {
        const auto limit = limit_for(used, 80);
        CHECK(limit % MiB == 0);
        CHECK(static_cast<double>(used) * 100.0 / static_cast<double>(limit) < 80.0);
    }
}

TEST_CASE("diagnose: the exit code is the worst finding", "[diagnose]") {
    std::vector<Finding> f{{.area = "server", .check = "ldap", .status = Status::ok},
                           {.area = "devices", .check = "d", .status = Status::skipped}};
    CHECK(worst_status(f) == mbx::ExitCode::ok);
    f.push_back({.area = "quota", .check = "usage", .status = Status::warning, .mis = "MIS_9"});
    CHECK(worst_status(f) == mbx::ExitCode::warning);
    f.push_back({.area = "folders", .check = "Trash", .status = Status::failed, .mis = "MIS_8"});
    CHECK(worst_status(f) == mbx::ExitCode::critical);
    CHECK(status_name(Status::failed) == "failed");
    CHECK(status_name(Status::skipped) == "skipped");
}

TEST_CASE("audit devices: a log's user names the account as uid, DOMAIN\\uid, uid@domain or the mail",
          "[diagnose][audit]") {
    using mbx::ops::audit::same_user;
    CHECK(same_user("alice", "alice", "alice@example.org"));
    CHECK(same_user("ALICE", "alice", ""));
    CHECK(same_user("EXAMPLE\\alice", "alice", ""));
    CHECK(same_user("alice@corp.example", "alice", ""));
    CHECK(same_user("Alice.Smith@Example.org", "asmith", "alice.smith@example.org"));
    CHECK_FALSE(same_user("alicea", "alice", ""));
    CHECK_FALSE(same_user("EXAMPLE\\bob", "alice", ""));
    CHECK_FALSE(same_user("", "alice", ""));
    CHECK_FALSE(same_user("bob@example.org", "alice", ""));
}

TEST_CASE("audit devices: a device survives the journal round trip; junk members stay empty", "[diagnose][audit]") {
    using namespace mbx::ops::audit;
    DeviceRow d{.user = "alice",
                .device_id = "ApplX",
                .family = "iOS",
                .client_version = "17.1",
                .versions = {"14.1", "16.1"},
                .last_version = "16.1",
                .first_seen = 10,
                .last_seen = 20,
                .requests = 7};
    const DeviceRow back = from_json(to_json(d));
    CHECK(back.user == "alice");
    CHECK(back.versions == d.versions);
    CHECK(back.last_version == "16.1");
    CHECK(back.requests == 7);
    CHECK(client_name(back) == "iOS 17.1");
    const DeviceRow junk = from_json(nlohmann::json{{"user", 5}, {"versions", "x"}, {"requests", "many"}});
    CHECK(junk.user.empty());
    CHECK(junk.versions.empty());
    CHECK(junk.requests == 0);
}
