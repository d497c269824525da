// Server-side limits: where limits live, KiB rounding for SETQUOTA, undo's decision, and the
// admin backend's name.
#include "mbx/ops/quota_server.hpp"

#include "mbx/ops/actions.hpp"
#include "mbx/ops/quota_sweep.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using mbx::ErrorCategory;
using namespace mbx::ops;
using mbx::test::error_of;

TEST_CASE("parse_limits: auto, ldap, server", "[ops][quota-server]") {
    CHECK(parse_limits("auto") == LimitsSetting::automatic);
    CHECK(parse_limits("ldap") == LimitsSetting::ldap);
    CHECK(parse_limits("server") == LimitsSetting::server);
    const auto e = error_of([] { (void)parse_limits("cyrus"); });
    CHECK(e.category() == ErrorCategory::config);
    CHECK(std::string(e.what()) == "invalid [quota] limits 'cyrus'");
}

TEST_CASE("resolve_limits: auto is server on Cyrus, else ldap with a quota attribute", "[ops][quota-server]") {
    // setting, cyrus, attribute -> where
    struct Case {
        LimitsSetting setting;
        bool cyrus, attribute;
        LimitsLocation where;
    };
    const Case cases[] = {
        {LimitsSetting::automatic, true, true, LimitsLocation::server},
        {LimitsSetting::automatic, true, false, LimitsLocation::server},
        {LimitsSetting::automatic, false, true, LimitsLocation::ldap},
        {LimitsSetting::automatic, false, false, LimitsLocation::server},
        {LimitsSetting::ldap, true, true, LimitsLocation::ldap},
        {LimitsSetting::ldap, false, false, LimitsLocation::ldap},
        {LimitsSetting::server, false, true, LimitsLocation::server},
    };
    for (const auto& c : cases) {
        INFO(static_cast<int>(c.setting) << " cyrus=" << c.cyrus << " attribute=" << c.attribute);
        CHECK(resolve_limits(c.setting, c.cyrus, c.attribute) == c.where);
    }
    CHECK(limits_location_name(LimitsLocation::ldap) == "ldap");
    CHECK(limits_location_name(LimitsLocation::server) == "server");
}

TEST_CASE("storage_kib_of rounds up to whole KiB", "[ops][quota-server]") {
    CHECK(storage_kib_of(1024) == 1u);
    CHECK(storage_kib_of(1025) == 2u);
    CHECK(storage_kib_of(1500000) == 1465u);
    CHECK(storage_kib_of(std::int64_t{2} << 30) == 2097152u);
}

TEST_CASE("decide_server_restore: the LDAP path's rule on KiB limits", "[ops][quota-server]") {
    using O = std::optional<std::int64_t>;
    CHECK(decide_server_restore(O{20480}, O{10240}, O{20480}) == RestoreDecision::restore);
    CHECK(decide_server_restore(O{10240}, O{10240}, O{20480}) == RestoreDecision::already);
    CHECK(decide_server_restore(O{30000}, O{10240}, O{20480}) == RestoreDecision::conflict);
    // no limit before: restoring means removing it; no limit now is already restored
    CHECK(decide_server_restore(O{20480}, std::nullopt, O{20480}) == RestoreDecision::restore);
    CHECK(decide_server_restore(std::nullopt, std::nullopt, O{20480}) == RestoreDecision::already);
    CHECK(decide_server_restore(std::nullopt, O{10240}, O{20480}) == RestoreDecision::conflict);
}

TEST_CASE("the admin backend and the quota.raise-server kind", "[ops][quota-server]") {
    CHECK(parse_backend("admin") == Backend::admin);
    CHECK(backend_name(Backend::admin) == "admin");
    CHECK(backend_name(Backend::imap) == "imap");
    CHECK(backend_name(Backend::doveadm) == "doveadm");
    CHECK(error_of([] { (void)parse_backend("cyrus"); }).category() == ErrorCategory::usage);
    CHECK(is_undoable("quota.raise-server"));
    CHECK_FALSE(read_only_kind("quota.raise-server"));
}
