#include "mbx/audit/inventory.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "../test_support.hpp"
#include "gzip_support.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>

using namespace mbx::audit;

namespace {

constexpr const char* kIis =
    "#Software: Microsoft Internet Information Services 10.0\r\n"
    "#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip cs(User-Agent) sc-status\r\n"
    "2024-03-01 10:00:00 POST /Microsoft-Server-ActiveSync/default.eas "
    "Cmd=FolderSync&User=alice&DeviceId=ApplABC&DeviceType=iPhone&Log=V141_ CORP\\alice 1.1.1.1 "
    "Apple-iPhone8C4/1504.100 200\r\n"
    "2024-03-01 10:05:00 POST /Microsoft-Server-ActiveSync/default.eas "
    "Cmd=Sync&User=alice&DeviceId=APPLABC&DeviceType=iPhone&Log=V161_ corp\\ALICE 1.1.1.1 "
    "Apple-iPhone8C4/1504.100 449\r\n"
    "2024-03-01 09:00:00 POST /Microsoft-Server-ActiveSync/default.eas "
    "Cmd=Sync&User=alice&DeviceId=ApplABC&DeviceType=iPhone&Log=V161_ CORP\\alice 1.1.1.1 "
    "Apple-iPhone8C4/1504.100 200\r\n"
    "2024-03-01 10:06:00 OPTIONS /Microsoft-Server-ActiveSync - CORP\\alice 1.1.1.1 Apple-iPhone8C4/1504.100 200\r\n"
    "2024-03-01 10:07:00 POST /Microsoft-Server-ActiveSync "
    "Cmd=FolderSync&User=HealthMailbox01&DeviceId=TestActiveSyncConnectivity&DeviceType=TestActiveSyncConnectivity "
    "CORP\\HealthMailbox01 ::1 - 200\r\n"
    "2024-03-01 10:08:00 GET /owa/ - - 1.1.1.1 Mozilla 200\r\n"
    "broken line\r\n";

} // namespace

TEST_CASE("the inventory folds requests per user and device", "[audit][inventory]") {
    mbx::test::TempDir dir;
    const auto path = dir.write("u_ex240301.log", kIis);
    Inventory inv;
    auto scan = scan_access_log(path, LogFormat::auto_detect, inv);
    CHECK(scan.format == LogFormat::iis);
    REQUIRE(scan.malformed.size() == 1);
    CHECK(scan.malformed[0].line == 9);
    const auto& t = inv.totals();
    CHECK(t.lines == 9);
    CHECK(t.directives == 2);
    CHECK(t.requests == 5);
    CHECK(t.probes == 1);
    CHECK(t.no_device == 1);
    CHECK(t.skipped == 1);
    CHECK(t.malformed == 1);
    auto devices = inv.devices();
    REQUIRE(devices.size() == 1);
    const Device& d = devices[0];
    CHECK(d.user == "CORP\\alice");
    CHECK(d.device_id == "ApplABC");
    CHECK(d.requests == 3);
    CHECK(d.protocol_versions == std::set<std::string>{"14.1", "16.1"});
    CHECK(d.version_sources == std::set<VersionSource>{VersionSource::log_token});
    CHECK(d.commands.at("Sync") == 2);
    CHECK(d.commands.at("FolderSync") == 1);
    CHECK(d.statuses.at(449) == 1);
    CHECK(d.statuses.at(200) == 2);
    CHECK(d.first_seen == unix_time(2024, 3, 1, 9, 0, 0));
    CHECK(d.last_seen == unix_time(2024, 3, 1, 10, 5, 0));
    CHECK(d.client.family == "iOS");
    CHECK(d.client.version == "11.2.6");
    CHECK(d.user_agent == "Apple-iPhone8C4/1504.100");
}

TEST_CASE("the inventory reads gzip combined logs and caps hostile variety", "[audit][inventory]") {
    std::string log;
    for (int i = 0; i < 100; ++i)
        log += "1.1.1.1 - bob [01/Jan/2024:00:00:" + std::string(i % 60 < 10 ? "0" : "") + std::to_string(i % 60) +
               " +0000] \"POST /Microsoft-Server-ActiveSync?Cmd=Cmd" + std::to_string(i) + "&DeviceId=D1&DeviceType=T" +
               std::to_string(i) + " HTTP/1.1\" " + std::to_string(200 + i) + " 1 \"-\" \"UA" + std::to_string(i) +
               "\" \"" + std::to_string(i % 20) + ".1\"\n";
    const std::string packed = mbx::test::gzip(log);
    mbx::test::TempDir dir;
    Inventory inv;
    auto scan = scan_access_log(dir.write("access.log.1", packed), LogFormat::combined, inv);
    CHECK(scan.read.gzip);
    auto devices = inv.devices();
    REQUIRE(devices.size() == 1);
    const Device& d = devices[0];
    CHECK(d.requests == 100);
    CHECK(d.commands.size() == kMaxDistinctPerDevice + 1);
    CHECK(d.commands.at("(other)") == 100 - kMaxDistinctPerDevice);
    CHECK(d.statuses.size() == kMaxDistinctPerDevice + 1);
    CHECK(d.user_agents.size() == kMaxDistinctPerDevice);
    CHECK(d.protocol_versions.size() == kMaxDistinctPerDevice);
    // The latest values past the caps are kept, though not interned.
    CHECK(d.user_agent == "UA99");
    CHECK(d.device_type == "T99");
    CHECK(d.last_version == "19.1");
    CHECK(d.client.family == "unknown");
}

TEST_CASE("binary device ids from base64 match the hex ids of the plain form", "[audit][inventory]") {
    // The same device: base64 carries bytes 01 ab, the plain form the server's hex text.
    std::string bytes("\x8d\x00\x09\x04\x02\x01\xab\x00\x04Test", 13);
    std::string log = "1.1.1.1 - eve [01/Jan/2024:00:00:00 +0000] \"POST /Microsoft-Server-ActiveSync?" +
                      mbx::base64_encode(bytes) + " HTTP/1.1\" 200 1 \"-\" \"-\"\n" +
                      "1.1.1.1 - eve [01/Jan/2024:00:00:01 +0000] \"POST /Microsoft-Server-ActiveSync?Cmd=Ping&"
                      "DeviceId=01AB&DeviceType=Test HTTP/1.1\" 200 1 \"-\" \"-\"\n";
    mbx::test::TempDir dir;
    Inventory inv;
    scan_access_log(dir.write("a.log", log), LogFormat::auto_detect, inv);
    auto devices = inv.devices();
    REQUIRE(devices.size() == 1);
    CHECK(devices[0].requests == 2);
    CHECK(devices[0].protocol_versions == std::set<std::string>{"14.1"});
    CHECK(devices[0].device_id == "01ab");
}

TEST_CASE("account_name: after DOMAIN\\, before @", "[audit][inventory]") {
    mbx::test::check_table(account_name, {{"EXAMPLE\\alice", "alice"},
                                          {"alice@example.org", "alice"},
                                          {"alice", "alice"},
                                          {"A\\B\\carol@x@y", "carol"},
                                          {"", ""},
                                          {"EXAMPLE\\", ""}});
}

TEST_CASE("account_name is after the last \\ and before the next @, for random names", "[audit][inventory]") {
    // The reference: the rule as written, one step at a time.
    const auto reference = [](std::string_view user) {
        const auto back = user.rfind('\\');
        if (back != std::string_view::npos) user.remove_prefix(back + 1);
        return user.substr(0, user.find('@'));
    };
    std::mt19937 random(3);
    const std::string bytes = "ab\\@@\\.-";
    for (int n = 0; n < 20000; ++n) {
        std::string user;
        const auto size = random() % 40; // past 16: the searches' vector steps
        for (std::size_t i = 0; i < size; ++i) user += bytes[random() % bytes.size()];
        INFO(user);
        REQUIRE(account_name(user) == reference(user));
    }
}

TEST_CASE("device keys fold ASCII letters only, 8 bytes at a time and in the tail", "[audit][inventory]") {
    // Users and device ids long enough for the word-at-a-time folding, with the bytes next to
    // 'A' and 'Z' ('@' 0x40, '[' 0x5B, '`' 0x60, '{' 0x7B) and UTF-8, which must not fold.
    mbx::test::TempDir dir;
    const std::string head = "2024-03-01 10:00:00 POST /Microsoft-Server-ActiveSync ";
    const auto line = [&](const std::string& user, const std::string& id) {
        return head + "Cmd=Sync&DeviceId=" + id + "&DeviceType=iPhone " + user + " 1.1.1.1 - 200\n";
    };
    const auto path =
        dir.write("u_ex.log",
                  "#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip cs(User-Agent) sc-status\n" +
                      line("AbcdEfghIjkl[x]", "DEVICE-ZZ-0001{a}") + line("aBCDeFGHiJKL[X]", "device-zz-0001{A}") +
                      line("abcdefghijkl{x}", "DEVICE-ZZ-0001{a}") + // '{' is not '['
                      line("abcdefghijkl[x]", "DEVICE-ZZ-0001[a]") + // nor the other way round
                      line("abcdefghijkl`x`", "DEVICE-ZZ-0001{a}") + // '`' is not '@'
                      line("ÄBCDEFGHIJKL[x]", "DEVICE-ZZ-0001{a}") + line("äbcdefghijkl[x]", "DEVICE-ZZ-0001{a}"));
    Inventory inv;
    scan_access_log(path, LogFormat::iis, inv);
    const auto devices = inv.devices();
    std::map<std::string, std::uint64_t> requests;
    for (const auto& d : devices) requests[d.user + " " + d.device_id] = d.requests;
    CHECK(requests == std::map<std::string, std::uint64_t>{{"AbcdEfghIjkl[x] DEVICE-ZZ-0001{a}", 2},
                                                           {"abcdefghijkl{x} DEVICE-ZZ-0001{a}", 1},
                                                           {"abcdefghijkl[x] DEVICE-ZZ-0001[a]", 1},
                                                           {"abcdefghijkl`x` DEVICE-ZZ-0001{a}", 1},
                                                           {"ÄBCDEFGHIJKL[x] DEVICE-ZZ-0001{a}", 1},
                                                           {"äbcdefghijkl[x] DEVICE-ZZ-0001{a}", 1}});
}

TEST_CASE("one device logged as DOMAIN\\user, as a UPN and by its query's User= is one device", "[audit][inventory]") {
    mbx::test::TempDir dir;
    // A 401 first (no cs-username: the query's User= names it), then the authenticated
    // requests, in both spellings; bob uses a device with the same id (iOS uses one id for all
    // the accounts on a phone) and stays apart.
    const auto path = dir.write(
        "u_ex.log",
        "#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip cs(User-Agent) sc-status\n"
        "2024-03-01 10:00:00 POST /Microsoft-Server-ActiveSync/default.eas "
        "Cmd=Sync&User=anna&DeviceId=DEV1&DeviceType=iPhone - 1.1.1.1 Apple-iPhone8C4/1504.100 401\n"
        "2024-03-01 10:00:01 POST /Microsoft-Server-ActiveSync/default.eas "
        "Cmd=Sync&User=anna&DeviceId=DEV1&DeviceType=iPhone EXAMPLE\\anna 1.1.1.1 Apple-iPhone8C4/1504.100 200\n"
        "2024-03-01 10:00:02 POST /Microsoft-Server-ActiveSync/default.eas "
        "Cmd=Ping&User=anna%40example.org&DeviceId=dev1&DeviceType=iPhone Anna@Example.org 1.1.1.1 "
        "Apple-iPhone8C4/1504.100 200\n"
        "2024-03-01 10:00:03 POST /Microsoft-Server-ActiveSync/default.eas "
        "Cmd=Sync&User=bob&DeviceId=DEV1&DeviceType=iPhone EXAMPLE\\bob 1.1.1.1 Apple-iPhone8C4/1504.100 200\n");
    Inventory inv;
    scan_access_log(path, LogFormat::iis, inv);
    const auto devices = inv.devices();
    REQUIRE(devices.size() == 2);
    CHECK(devices[0].user == "EXAMPLE\\anna"); // the first spelling with a domain
    CHECK(devices[0].device_id == "DEV1");
    CHECK(devices[0].requests == 3);
    CHECK(devices[0].statuses == std::map<int, std::uint64_t>{{200, 2}, {401, 1}});
    CHECK(devices[1].user == "EXAMPLE\\bob");
    CHECK(devices[1].requests == 1);
}

TEST_CASE("requests naming no user count for the one user of their device id", "[audit][inventory]") {
    auto base64 = [](std::string id) {
        return *encode_base64_query(
            {.protocol_version = "14.1", .command = "Ping", .device_id = std::move(id), .device_type = "iPhone"});
    };
    const std::string ua = " 1.1.1.1 Apple-iPhone8C4/1504.100 ";
    const std::string as = " POST /Microsoft-Server-ActiveSync/default.eas ";
    mbx::test::TempDir dir;
    const auto path = dir.write(
        "u_ex.log",
        "#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip cs(User-Agent) sc-status\n"
        // carol's phone: two 401s without any user, one before and one after her own request
        "2024-03-01 09:00:00" +
            as + base64("CAROL1") + " -" + ua + "401\n" + "2024-03-01 10:00:00" + as +
            "Cmd=Sync&User=carol&DeviceId=CAROL1&DeviceType=iPhone EXAMPLE\\carol" + ua + "200\n" +
            "2024-03-01 11:00:00" + as + base64("carol1") + " -" + ua + "401\n" +
            // a device id two users share: its userless request stays apart
            "2024-03-01 10:00:00" + as + "Cmd=Sync&User=dan&DeviceId=SHARED&DeviceType=iPhone EXAMPLE\\dan" + ua +
            "200\n" + "2024-03-01 10:00:00" + as + "Cmd=Sync&User=eve&DeviceId=SHARED&DeviceType=iPhone EXAMPLE\\eve" +
            ua + "200\n" + "2024-03-01 10:00:00" + as + base64("SHARED") + " -" + ua + "401\n" +
            // a device that never got in: stays, with an empty user
            "2024-03-01 10:00:00" + as + base64("LOCKED") + " -" + ua + "401\n");
    Inventory inv;
    scan_access_log(path, LogFormat::iis, inv);
    const auto devices = inv.devices();
    REQUIRE(devices.size() == 5);
    CHECK(devices[0].user.empty());
    CHECK(devices[0].device_id == "LOCKED");
    CHECK(devices[1].user.empty());
    CHECK(devices[1].device_id == "SHARED");
    const Device& carol = devices[2];
    CHECK(carol.user == "EXAMPLE\\carol");
    CHECK(carol.requests == 3);
    CHECK(carol.statuses == std::map<int, std::uint64_t>{{200, 1}, {401, 2}});
    CHECK(carol.commands == std::map<std::string, std::uint64_t>{{"Ping", 2}, {"Sync", 1}});
    CHECK(carol.protocol_versions == std::set<std::string>{"14.1"});
    CHECK(carol.version_sources == std::set<VersionSource>{VersionSource::base64});
    CHECK(carol.last_version == "14.1");
    CHECK(iso8601(carol.first_seen) == "2024-03-01T09:00:00Z");
    CHECK(iso8601(carol.last_seen) == "2024-03-01T11:00:00Z");
    CHECK(devices[3].user == "EXAMPLE\\dan");
    CHECK(devices[3].requests == 1);
    CHECK(devices[4].user == "EXAMPLE\\eve");
}

// The defect of 2026-12: one request that names no user and folds into no device (a base64 query
// without User, logged with user `-`, from a device id seen nowhere else) blanked every device
// row but its requests and times (a self-move in the compaction after the fold).
TEST_CASE("a userless request that folds nowhere leaves every other device whole", "[audit][inventory]") {
    const EasQuery q{.protocol_version = "14.1",
                     .command = "FolderSync",
                     .device_id = "NEVERSEENELSEWHERE01",
                     .device_type = "SmartPhone"};
    const std::string as = " POST /Microsoft-Server-ActiveSync/default.eas ";
    mbx::test::TempDir dir;
    const auto path =
        dir.write("u_ex261201.log",
                  "#Software: Microsoft Internet Information Services 10.0\r\n"
                  "#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip cs(User-Agent) sc-status\r\n"
                  "2026-12-01 08:00:00" +
                      as +
                      "Cmd=Sync&User=alice&DeviceId=ApplF17XYZQWERTYUIOP&DeviceType=iPhone&Log=V161_ "
                      "CONTOSO\\alice.longname 10.1.1.1 Apple-iPhone15C2/2104.62 200\r\n"
                      "2026-12-01 08:00:01" +
                      as +
                      "Cmd=Ping&User=bob&DeviceId=androidc1234567890&DeviceType=Android&Log=V141_ "
                      "bob.longname@contoso.example 10.1.1.2 Android/4.4.2-EAS-2.0 200\r\n"
                      "2026-12-01 08:00:02" +
                      as +
                      "Cmd=Sync&User=carol&DeviceId=WindowsMailDevice01&DeviceType=WindowsMail&Log=V160_ "
                      "CONTOSO\\carol 10.1.1.3 MSFT-WIN-3/10.0.17134 200\r\n"
                      "2026-12-01 08:00:03" +
                      as + *encode_base64_query(q) + " - 10.1.1.4 MSFT-PPC/5.2.5082 401\r\n");
    Inventory inv;
    scan_access_log(path, LogFormat::auto_detect, inv);
    const auto devices = inv.devices();
    REQUIRE(devices.size() == 4);
    const Device& lonely = devices[0];
    CHECK(lonely.user.empty());
    CHECK(lonely.device_id == "NEVERSEENELSEWHERE01");
    CHECK(lonely.device_type == "SmartPhone");
    CHECK(lonely.client.family == "Windows Mobile (Pocket PC)");
    CHECK(lonely.protocol_versions == std::set<std::string>{"14.1"});
    struct Want {
        const char *user, *id, *type, *agent, *family, *version;
    };
    const Want want[] = {
        {"bob.longname@contoso.example", "androidc1234567890", "Android", "Android/4.4.2-EAS-2.0",
         "Android (Exchange app)", "14.1"},
        {"CONTOSO\\alice.longname", "ApplF17XYZQWERTYUIOP", "iPhone", "Apple-iPhone15C2/2104.62", "iOS", "16.1"},
        {"CONTOSO\\carol", "WindowsMailDevice01", "WindowsMail", "MSFT-WIN-3/10.0.17134", "Windows Mail", "16.0"},
    };
    for (std::size_t i = 0; i < 3; ++i) {
        const Device& d = devices[i + 1];
        INFO(want[i].user);
        CHECK(d.user == want[i].user);
        CHECK(d.device_id == want[i].id);
        CHECK(d.device_type == want[i].type);
        CHECK(d.user_agent == want[i].agent);
        CHECK(d.user_agents == std::set<std::string>{want[i].agent});
        CHECK(d.client.family == want[i].family);
        CHECK(d.protocol_versions == std::set<std::string>{want[i].version});
        CHECK(d.last_version == want[i].version);
        CHECK(d.commands.size() == 1);
        CHECK(d.statuses == std::map<int, std::uint64_t>{{200, 1}});
        CHECK(d.requests == 1);
    }
}
