#include "mbx/ops/quota.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using mbx::ErrorCategory;
using namespace mbx::ops; // classify, parse_ldap_quota, Thresholds, Tier
using mbx::test::error_of;

TEST_CASE("classify puts a percent equal to a threshold in that threshold's tier", "[ops][quota]") {
    const Thresholds t{80, 90, 100};
    CHECK(classify(0, 1000, t) == Tier::ok);
    CHECK(classify(799, 1000, t) == Tier::ok);
    CHECK(classify(800, 1000, t) == Tier::warning);
    CHECK(classify(899, 1000, t) == Tier::warning);
    CHECK(classify(900, 1000, t) == Tier::prohibit_send);
    CHECK(classify(999, 1000, t) == Tier::prohibit_send);
    CHECK(classify(1000, 1000, t) == Tier::prohibit_send_receive);
    CHECK(classify(5000, 1000, t) == Tier::prohibit_send_receive);
}

TEST_CASE("classify without usage is unknown, without a limit no-limit", "[ops][quota]") {
    const Thresholds t{80, 90, 100};
    CHECK(classify(std::nullopt, 1000, t) == Tier::unknown);
    CHECK(classify(std::nullopt, std::nullopt, t) == Tier::unknown);
    CHECK(classify(500, std::nullopt, t) == Tier::no_limit);
    CHECK(classify(500, 0, t) == Tier::no_limit); // Dovecot: 0 means unlimited
}

TEST_CASE("equal thresholds skip the tiers between them", "[ops][quota]") {
    const Thresholds t{95, 95, 95};
    CHECK(classify(949, 1000, t) == Tier::ok);
    CHECK(classify(950, 1000, t) == Tier::prohibit_send_receive);
}

TEST_CASE("tier names and severities", "[ops][quota]") {
    CHECK(mbx::ops::tier_name(Tier::ok) == "ok");
    CHECK(mbx::ops::tier_name(Tier::warning) == "warning");
    CHECK(mbx::ops::tier_name(Tier::prohibit_send) == "prohibit-send");
    CHECK(mbx::ops::tier_name(Tier::prohibit_send_receive) == "prohibit-send-receive");
    CHECK(mbx::ops::tier_name(Tier::no_limit) == "no-limit");
    CHECK(mbx::ops::tier_name(Tier::unknown) == "unknown");
    CHECK(mbx::ops::tier_severity(Tier::ok) == mbx::ExitCode::ok);
    CHECK(mbx::ops::tier_severity(Tier::warning) == mbx::ExitCode::warning);
    CHECK(mbx::ops::tier_severity(Tier::prohibit_send) == mbx::ExitCode::critical);
    CHECK(mbx::ops::tier_severity(Tier::prohibit_send_receive) == mbx::ExitCode::critical);
    CHECK(mbx::ops::tier_severity(Tier::no_limit) == mbx::ExitCode::ok);
}

TEST_CASE("thresholds must satisfy 0 < warning <= prohibit-send <= prohibit-send-receive", "[ops][quota]") {
    CHECK_NOTHROW(mbx::ops::validate_thresholds({80, 90, 100}));
    CHECK_NOTHROW(mbx::ops::validate_thresholds({90, 90, 90}));
    CHECK_NOTHROW(mbx::ops::validate_thresholds({50, 90, 120}));
    for (Thresholds bad :
         {Thresholds{0, 90, 100}, Thresholds{-5, 90, 100}, Thresholds{95, 90, 100}, Thresholds{80, 100, 90}}) {
        auto e = error_of([&] { mbx::ops::validate_thresholds(bad); });
        CHECK(e.category() == ErrorCategory::config);
        CHECK(std::string(e.what()).find("[quota]") != std::string::npos);
    }
}

TEST_CASE("thresholds come from [quota]", "[ops][quota]") {
    mbx::config::Config cfg;
    auto t = mbx::ops::thresholds_from_config(cfg);
    CHECK(t.warning == 80);
    CHECK(t.prohibit_send == 90);
    CHECK(t.prohibit_send_receive == 100);
    cfg.set("quota.warning", "95", {});
    CHECK(error_of([&] { mbx::ops::thresholds_from_config(cfg); }).category() == ErrorCategory::config);
}

TEST_CASE("parse_ldap_quota reads bytes, with or without a unit", "[ops][quota]") {
    CHECK(parse_ldap_quota("52428800", "bytes") == 52428800);
    CHECK(parse_ldap_quota(" 1048576 ", "bytes") == 1048576);
    CHECK(parse_ldap_quota("10M", "bytes") == 10485760);
    CHECK(parse_ldap_quota("1GiB", "bytes") == 1073741824);
    CHECK(parse_ldap_quota("0", "bytes") == 0);
}

TEST_CASE("parse_ldap_quota reads Dovecot quota rules", "[ops][quota]") {
    CHECK(parse_ldap_quota("*:storage=1G", "dovecot") == 1073741824);
    CHECK(parse_ldap_quota("*:bytes=1048576", "dovecot") == 1048576);
    CHECK(parse_ldap_quota("storage=512M", "dovecot") == 536870912);
    CHECK(parse_ldap_quota("*:storage=1024", "dovecot") == 1048576); // unitless storage is KiB
    CHECK(parse_ldap_quota("*:messages=1000:storage=2M", "dovecot") == 2097152);
}

TEST_CASE("parse_ldap_quota names the value it cannot read", "[ops][quota]") {
    const std::vector<std::pair<std::string, std::string>> bad{{"lots", "bytes"},
                                                               {"", "bytes"},
                                                               {"-5", "bytes"},
                                                               {"12Q", "bytes"},
                                                               {"*:messages=100", "dovecot"},
                                                               {"*:storage=big", "dovecot"},
                                                               {"*", "dovecot"},
                                                               {"*:storage=+100M", "dovecot"},
                                                               {"*:storage=99999999999999999999", "dovecot"}};
    for (const auto& [value, format] : bad) {
        INFO(value << " as " << format);
        auto e = error_of([&] { parse_ldap_quota(value, format); });
        CHECK(e.category() == ErrorCategory::data);
        CHECK(std::string(e.what()).find("invalid quota value") != std::string::npos);
    }
    CHECK(error_of([] { parse_ldap_quota("1G", "kilobytes"); }).category() == ErrorCategory::config);
}

TEST_CASE("read_users_file skips blanks and comments", "[ops][quota]") {
    mbx::test::TempDir dir;
    auto p = dir.write("users", "alice\n# a comment\n\n  bob  \n#carol\ndave");
    CHECK(mbx::ops::read_users_file(p.string()) == std::vector<std::string>{"alice", "bob", "dave"});
    CHECK(error_of([&] { mbx::ops::read_users_file((dir / "missing").string()); }).category() == ErrorCategory::io);
}

TEST_CASE("read_pairs_file: two names a line, further columns ignored, FILE:LINE for a bad line", "[ops][quota]") {
    mbx::test::TempDir dir;
    const auto write = [&](const char* name, const char* text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    const auto good = write("good.csv", "# from,to\n alice , alice2 \n\nbob,bob2,a note\n");
    const auto pairs = mbx::ops::read_pairs_file(good, "--users-file", "a,b");
    REQUIRE(pairs.size() == 2);
    CHECK((pairs[0].first == "alice" && pairs[0].second == "alice2"));
    CHECK((pairs[1].first == "bob" && pairs[1].second == "bob2"));
    for (const char* bad : {"alice,alice2\nbob\n", "alice,alice2\n,bob\n", "alice,alice2\nbob, \n"}) {
        const auto path = write("bad.csv", bad);
        const auto e = error_of([&] { mbx::ops::read_pairs_file(path, "--users-file", "a,b"); });
        CHECK(e.category() == ErrorCategory::data);
        CHECK_THAT(e.what(), Catch::Contains(path + ":2: expected two comma-separated names"));
    }
    CHECK(error_of([&] {
              mbx::ops::read_pairs_file(write("empty.csv", "# none\n"), "--users-file", "a,b");
          }).category() == ErrorCategory::data);
    CHECK(error_of([&] { mbx::ops::read_pairs_file((dir / "missing").string(), "--users-file", "a,b"); }).category() ==
          ErrorCategory::usage);
}
