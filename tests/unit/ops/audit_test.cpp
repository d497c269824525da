#include "mbx/audit/wbxml.hpp"
#include "mbx/http/client.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/audit_compat.hpp"
#include "mbx/ops/audit_devices.hpp"
#include "mbx/ops/audit_probe.hpp"
#include "mbx/ops/audit_server.hpp"
#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace mbx::ops::audit;

namespace {
bool has(const std::vector<Finding>& f, std::string_view needle) {
    for (const auto& x : f)
        if (x.text.find(needle) != std::string::npos) return true;
    return false;
}
} // namespace

TEST_CASE("OPTIONS headers are found by name in any order and case", "[ops][audit]") {
    mbx::http::Response r;
    r.status = 200;
    r.headers = {{"ms-asprotocolcommands", "Sync,FolderSync"},
                 {"Server", "nginx"},
                 {"MS-Server-ActiveSync", " 14.1 "},
                 {"MS-ASProtocolVersions", "2.5, 12.0,14.1"},
                 {"WWW-Authenticate", "Basic realm=\"x\""}};
    const auto h = parse_options_headers(r);
    CHECK(h.versions == std::vector<std::string>{"2.5", "12.0", "14.1"});
    CHECK(h.commands == std::vector<std::string>{"Sync", "FolderSync"});
    CHECK(h.server_version == "14.1");
    CHECK(h.http_server == "nginx");
    CHECK(h.www_authenticate == "Basic");
    r.headers = {{"MS-ASProtocolVersions", std::string(10000, ',') + std::string(200, '1')}};
    const auto big = parse_options_headers(r);
    REQUIRE(big.versions.size() == 1);
    CHECK(big.versions[0].size() == 64);
}

TEST_CASE("version findings", "[ops][audit]") {
    auto sogo = version_findings({"2.5", "12.0", "12.1", "14.0", "14.1"});
    CHECK(has(sogo, "legacy versions below 12.1 announced: 2.5, 12.0"));
    CHECK(has(sogo, "16.1 not announced"));
    CHECK(worst_finding(sogo) == mbx::ExitCode::warning);
    auto old = version_findings({"1.0", "2.0", "2.1", "2.5", "16.1"});
    CHECK(has(old, "2.0/2.1"));
    CHECK_FALSE(has(old, "16.1 not announced"));
    CHECK(worst_finding(old) == mbx::ExitCode::critical);
    auto odd = version_findings({"14.1", "16.1", "17.0", "banana"});
    CHECK(has(odd, "unknown versions announced: 17.0"));
    CHECK(has(odd, "malformed version strings announced: banana"));
    CHECK(version_findings({}).at(0).level == mbx::ExitCode::critical);
    auto modern = version_findings({"14.0", "14.1", "16.0", "16.1"});
    CHECK(modern.empty());
}

TEST_CASE("the endpoint URL", "[ops][audit]") {
    CHECK(eas_endpoint("https://h") == "https://h/Microsoft-Server-ActiveSync");
    CHECK(eas_endpoint("https://h/") == "https://h/Microsoft-Server-ActiveSync");
    CHECK(eas_endpoint("https://h/microsoft-server-activesync") == "https://h/microsoft-server-activesync");
    CHECK(eas_endpoint("https://h/SOGo/Microsoft-Server-ActiveSync/") == "https://h/SOGo/Microsoft-Server-ActiveSync");
}

TEST_CASE("probe requests, queries and verdicts", "[ops][audit]") {
    CHECK(foldersync_request("0") == std::string("\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30\x00\x01\x01", 13));
    const auto p141 = mbx::audit::wbxml::decode(provision_request("14.1", ""));
    CHECK(p141.find({{18, 0x16}, {18, 0x08}, {18, 0x17}}) != nullptr);
    const auto p140 = mbx::audit::wbxml::decode(provision_request("14.0", ""));
    CHECK(p140.child(18, 0x16) == nullptr);
    const auto p25 = mbx::audit::wbxml::decode(provision_request("2.5", "123"));
    CHECK(p25.find({{14, 0x06}, {14, 0x07}, {14, 0x08}})->text == "MS-WAP-Provisioning-XML");
    CHECK(p25.find({{14, 0x06}, {14, 0x07}, {14, 0x09}})->text == "123");

    CHECK(probe_query("plain", "14.1", "FolderSync", "a b", "DEV1") ==
          "?Cmd=FolderSync&User=a%20b&DeviceId=DEV1&DeviceType=MbxkitProbe");
    CHECK(probe_query("base64", "12.1", "FolderSync", "alice", "DEV1").substr(0, 3) == "?eQ");
    CHECK_THROWS_AS(probe_query("base64", "12.0", "FolderSync", "alice", "DEV1"), mbx::Error);

    CHECK(verdict_of(200, 1) == "works");
    CHECK(verdict_of(200, 142) == "needs-provision");
    CHECK(verdict_of(449, std::nullopt) == "needs-provision");
    CHECK(verdict_of(400, std::nullopt) == "rejected");
    CHECK(verdict_of(401, std::nullopt) == "account-problem");
    CHECK(verdict_of(457, std::nullopt) == "account-problem");
    CHECK(verdict_of(503, std::nullopt) == "server-error");
    CHECK(verdict_of(200, 9) == "rejected");
    CHECK(verdict_of(200, std::nullopt, true) == "server-error"); // 200 with an empty body: not "works"

    const std::string answer("\x03\x01\x6a\x00\x00\x07\x56\x4c\x03\x31\x00\x01\x4e\x57\x03\x33\x00\x01\x01\x01", 20);
    const auto fs = parse_foldersync_response(answer);
    CHECK(fs.status == 1);
    CHECK(fs.folders == 3);
    CHECK_THROWS_AS(parse_foldersync_response(provision_request("14.1", "")), mbx::Error);
    CHECK(default_device_id("alice") == default_device_id("alice"));
    CHECK(default_device_id("alice").rfind("MBXPROBE", 0) == 0);
    CHECK(cleanup_hint("alice", "D1").find("sogo-tool manage-eas resetdevice alice D1") != std::string::npos);
}

TEST_CASE("eas_request: a bearer token replaces Basic auth; no auth without with_auth", "[ops][audit]") {
    mbx::ops::audit::EasAccess a;
    a.endpoint = "https://mail.example.org/Microsoft-Server-ActiveSync";
    a.user = "alice";
    a.password = mbx::Secret("pw");
    auto has = [](const mbx::http::Request& r, std::string_view prefix) {
        return std::any_of(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.rfind(prefix, 0) == 0; });
    };
    auto basic = mbx::ops::audit::eas_request(a, "OPTIONS", "", true, {});
    CHECK(has(basic, "Authorization: Basic YWxpY2U6cHc="));
    CHECK_FALSE(has(mbx::ops::audit::eas_request(a, "OPTIONS", "", false, {}), "Authorization:"));
    a.token = mbx::Secret("eyJ0eXAi.token");
    auto bearer = mbx::ops::audit::eas_request(a, "OPTIONS", "?Cmd=FolderSync", true, {});
    CHECK(has(bearer, "Authorization: Bearer eyJ0eXAi.token"));
    CHECK_FALSE(has(bearer, "Authorization: Basic"));
    CHECK(bearer.url == "https://mail.example.org/Microsoft-Server-ActiveSync?Cmd=FolderSync");
}

TEST_CASE("journaled devices come back whole, in order, across several audit.devices actions", "[ops][audit]") {
    mbx::test::TempDir dir;
    auto journal = mbx::journal::Journal::open(dir.path() / "journal.sqlite");
    Loaded loaded;
    const std::size_t n = 2 * kDevicesPerAction + 7; // three actions, the last one short
    for (std::size_t i = 0; i < n; ++i)
        loaded.devices.push_back({.user = fmt::format("user{:05}", i),
                                  .device_id = fmt::format("DEV{}", i),
                                  .device_type = "iPhone",
                                  .family = "iOS",
                                  .client_version = "17.0",
                                  .model = "iPhone14,2",
                                  .user_agent = "Apple-iPhone14C2/2101.329 \"quoted\" \xff",
                                  .versions = {"14.1", "16.1"},
                                  .last_version = "16.1",
                                  .version_sources = "header,log-token",
                                  .commands = "Ping:3,Sync:" + std::to_string(i),
                                  .statuses = "200:5",
                                  .first_seen = 1700000000,
                                  .last_seen = 1700000000 + static_cast<std::int64_t>(i),
                                  .requests = 5 + i});
    loaded.files.push_back({.path = "/var/log/x.log", .format = "iis", .lines = 10});
    const auto run = journal.begin_run({"audit", {"clients", "--log", "/var/log/x.log"}, false, "test"});
    journal_devices(journal, run, loaded);
    journal.finish_run(run, mbx::journal::RunStatus::ok, 0);

    std::size_t device_actions = 0;
    journal.for_each_action_of_run(run, [&](const mbx::journal::ActionRecord& a) {
        if (a.kind == "audit.devices") ++device_actions;
    });
    CHECK(device_actions == 3);
    const auto back = load_journal(journal);
    REQUIRE(back.has_value());
    CHECK(back->from_run == run);
    REQUIRE(back->devices.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        DeviceRow a = loaded.devices[i];
        // The journal stores JSON text: a byte that is not UTF-8 comes back as U+FFFD.
        a.user_agent = "Apple-iPhone14C2/2101.329 \"quoted\" \xef\xbf\xbd";
        const DeviceRow& b = back->devices[i];
        INFO(i);
        REQUIRE(to_json(a).dump() == to_json(b).dump());
    }
}

TEST_CASE("load_journal reads the one-action-per-device journals of older versions", "[ops][audit]") {
    mbx::test::TempDir dir;
    auto journal = mbx::journal::Journal::open(dir.path() / "journal.sqlite");
    const auto run = journal.begin_run({"audit", {"clients", "--log", "x.log"}, false, "old"});
    DeviceRow d{.user = "alice", .device_id = "ApplABC", .versions = {"14.1"}, .requests = 3};
    journal.add_action(run, {.kind = "audit.device",
                             .subject = "alice/ApplABC",
                             .after = to_json(d),
                             .status = mbx::journal::ActionStatus::done});
    journal.finish_run(run, mbx::journal::RunStatus::ok, 0);
    const auto back = load_journal(journal);
    REQUIRE(back.has_value());
    REQUIRE(back->devices.size() == 1);
    CHECK(to_json(back->devices[0]) == to_json(d));
}

TEST_CASE("compat: the target from one source, every device judged, counted and journaled", "[ops][audit]") {
    const mbx::config::Config cfg;
    const mbx::ops::SecretProvider no_secrets = [](const mbx::SecretSource&) -> mbx::Secret {
        throw mbx::Error(mbx::ErrorCategory::internal, "no secret expected");
    };
    CHECK_THROWS_AS(compat_target(cfg, no_secrets, {}), mbx::Error);
    CHECK_THROWS_AS(compat_target(cfg, no_secrets, {.name = "exchange-online", .versions = "16.1"}), mbx::Error);
    const auto online = compat_target(cfg, no_secrets, {.name = "exchange-online"});
    CHECK(online.info.fixed);
    CHECK(online.info.versions == std::vector<std::string>{"16.1"});
    const auto listed = compat_target(cfg, no_secrets, {.versions = "16.1, 14.1,16.0"});
    CHECK(listed.info.versions == std::vector<std::string>{"14.1", "16.0", "16.1"});
    CHECK(listed.source == "--target-versions");

    Loaded loaded;
    DeviceRow old_phone{.user = "alice", .device_id = "A1", .versions = {"2.5"}, .last_version = "2.5"};
    DeviceRow current{.user = "bob", .device_id = "B1", .versions = {"14.1", "16.1"}, .last_version = "16.1"};
    DeviceRow silent{.user = "carol", .device_id = "C1"};
    loaded.devices = {old_phone, current, silent};
    const auto report = judge_devices(loaded, listed.info, {});
    REQUIRE(report.rows.size() == 3);
    // Seen only with 2.5 and no capability row: it may speak more, so at risk, never ok.
    CHECK(report.rows[0].judgement.verdict == Verdict::at_risk);
    CHECK(report.rows[1].judgement.verdict == Verdict::ok);
    CHECK(report.rows[2].judgement.verdict == Verdict::unknown);
    CHECK(report.worst == mbx::ExitCode::warning);
    CHECK(report.totals.at(Verdict::at_risk) == 1);
    CHECK(report.totals.at(Verdict::ok) == 1);
    std::int64_t counted = 0;
    for (const auto& [client, counts] : report.by_client)
        for (const auto& [v, n] : counts) counted += n;
    CHECK(counted == 3);
    CHECK(exit_of(Verdict::at_risk) == mbx::ExitCode::warning);

    mbx::test::TempDir tmp;
    auto journal = mbx::journal::Journal::open(tmp / "j.sqlite");
    const auto run = journal.begin_run({.tool = "audit"});
    journal_compat(journal, run, report, listed.info);
    const auto actions = journal.actions_of(run);
    REQUIRE(actions.size() == 3);
    CHECK(actions[0].kind == "audit.compat");
    CHECK(actions[0].subject == "alice/A1");
    CHECK((*actions[0].after)["verdict"] == "at-risk");
    CHECK((*actions[1].after)["best_common"] == "16.1");
}
