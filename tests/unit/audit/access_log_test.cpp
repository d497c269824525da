#include "mbx/audit/access_log.hpp"
#include "mbx/audit/access_log_parser.hpp"
#include "mbx/audit/scan.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace mbx::audit;

namespace {

// Exchange 2016 IIS W3C log, fields as IIS writes them for the Exchange back end.
constexpr const char* kIisHeader =
    "#Software: Microsoft Internet Information Services 10.0\r\n"
    "#Version: 1.0\r\n"
    "#Date: 2024-03-01 00:00:00\r\n"
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n";

LineKind parse(AccessLogParser& p, std::string_view line, Request& r) { return p.parse_line(line, r); }

} // namespace

TEST_CASE("IIS lines follow the #Fields directive", "[audit][access_log]") {
    AccessLogParser p;
    Request r;
    std::string_view header = kIisHeader;
    while (!header.empty()) {
        auto nl = header.find('\n');
        CHECK(parse(p, header.substr(0, nl), r) == LineKind::directive);
        header.remove_prefix(nl + 1);
    }
    CHECK(p.format() == LogFormat::iis);
    REQUIRE(p.iis_fields().size() == 15);

    REQUIRE(parse(p,
                  "2024-03-01 10:15:30 10.0.0.5 POST /Microsoft-Server-ActiveSync/default.eas "
                  "Cmd=Sync&User=alice&DeviceId=ApplF17XYZ&DeviceType=iPhone&Log=V161_Ver1:161_DevOS:iOS+17.0+21A329_ "
                  "443 CORP\\alice 203.0.113.7 Apple-iPhone14C2/2101.329 - 200 0 0 120\r",
                  r) == LineKind::request);
    CHECK(r.time == unix_time(2024, 3, 1, 10, 15, 30));
    CHECK(iso8601(r.time) == "2024-03-01T10:15:30Z");
    CHECK(r.user == "CORP\\alice");
    CHECK(r.device_id == "ApplF17XYZ");
    CHECK(r.device_type == "iPhone");
    CHECK(r.user_agent == "Apple-iPhone14C2/2101.329");
    CHECK(r.protocol_version == "16.1");
    CHECK(r.version_source == VersionSource::log_token);
    CHECK(r.command == "Sync");
    CHECK(r.http_status == 200);
    CHECK(r.client_ip == "203.0.113.7");
    CHECK(r.method == "POST");
    CHECK(r.uri_path == "/Microsoft-Server-ActiveSync/default.eas");
    const ExchangeLog log = parse_exchange_log(r.exchange_log);
    REQUIRE(log.fields.size() == 1);
    CHECK(log.fields[0].second == "iOS 17.0 21A329");
    CHECK_FALSE(r.probe);

    // '+' in cs(User-Agent) is a space; a UPN user; the 2013+ proxy path; 449.
    REQUIRE(parse(p,
                  "2024-03-01 10:16:00 10.0.0.5 POST /Microsoft-Server-ActiveSync/Proxy/default.eas "
                  "Cmd=Provision&User=bob%40example.org&DeviceId=androidc123&DeviceType=Android&Log=V141_ "
                  "443 bob@example.org 198.51.100.2 Android/4.4.2-EAS-2.0 - 449 0 0 5",
                  r) == LineKind::request);
    CHECK(r.user == "bob@example.org");
    CHECK(r.http_status == 449);
    CHECK(r.protocol_version == "14.1");

    // Non-ActiveSync requests are skipped; value-count mismatch is malformed.
    CHECK(parse(p, "2024-03-01 10:17:00 10.0.0.5 GET /owa/ - 443 - 1.2.3.4 Mozilla/5.0 - 200 0 0 5", r) ==
          LineKind::skipped);
    CHECK(parse(p, "2024-03-01 10:17:00 10.0.0.5 GET /owa/", r) == LineKind::malformed);
    CHECK(p.reason() == "fewer values than #Fields: names");
    CHECK(parse(p, "2024-03-01 10:17:00 10.0.0.5 GET /owa/ - 443 - 1.2.3.4 UA - 200 0 0 5 extra", r) ==
          LineKind::malformed);
}

TEST_CASE("a new #Fields line mid-file changes the layout", "[audit][access_log]") {
    AccessLogParser p(LogFormat::iis);
    Request r;
    CHECK(parse(p, "#Fields: date time cs-uri-stem cs-uri-query cs-username cs(User-Agent) sc-status", r) ==
          LineKind::directive);
    CHECK(parse(p,
                "2024-03-01 01:00:00 /Microsoft-Server-ActiveSync Cmd=Ping&DeviceId=D1&DeviceType=WP8 u1 "
                "MSFT-WP/8.0.10211 200",
                r) == LineKind::request);
    CHECK(r.command == "Ping");
    CHECK(r.user_agent == "MSFT-WP/8.0.10211");
    // Reordered subset with the protocol-version header field and no date (the #Date: day).
    CHECK(parse(p, "#Date: 2024-03-02 00:00:00", r) == LineKind::directive);
    CHECK(parse(p, "#Fields: time sc-status cs(MS-ASProtocolVersion) cs-uri-query cs-method cs-uri-stem", r) ==
          LineKind::directive);
    REQUIRE(parse(p, "03:00:00 200 14.0 jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l OPTIONS /Microsoft-Server-ActiveSync",
                  r) == LineKind::request);
    CHECK(r.time == unix_time(2024, 3, 2, 3, 0, 0));
    CHECK(r.protocol_version == "14.0");
    CHECK(r.version_source == VersionSource::header);
    CHECK(r.device_id == "v140Device");
    CHECK(r.method == "OPTIONS");
    REQUIRE(parse(p, "03:00:01 200 - jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l POST /Microsoft-Server-ActiveSync", r) ==
            LineKind::request);
    CHECK(r.version_source == VersionSource::base64);
}

TEST_CASE("IIS data before any #Fields is malformed", "[audit][access_log]") {
    AccessLogParser p(LogFormat::iis);
    Request r;
    CHECK(parse(p, "2024-03-01 10:00:00 POST /Microsoft-Server-ActiveSync", r) == LineKind::malformed);
}

TEST_CASE("combined lines with plain and base64 queries and extra fields", "[audit][access_log]") {
    AccessLogParser p;
    Request r;
    REQUIRE(
        parse(p,
              "192.0.2.10 - alice [10/Oct/2023:13:55:36 -0700] \"POST "
              "/SOGo/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=SEC1234&DeviceType=SAMSUNGSMG991B "
              "HTTP/1.1\" 200 512 \"-\" \"SAMSUNG-SM-G991B/101.11001\" \"14.1\"",
              r) == LineKind::request);
    CHECK(p.format() == LogFormat::combined);
    CHECK(r.time == unix_time(2023, 10, 10, 20, 55, 36));
    CHECK(r.user == "alice");
    CHECK(r.client_ip == "192.0.2.10");
    CHECK(r.command == "FolderSync");
    CHECK(r.device_type == "SAMSUNGSMG991B");
    CHECK(r.user_agent == "SAMSUNG-SM-G991B/101.11001");
    CHECK(r.protocol_version == "14.1");
    CHECK(r.version_source == VersionSource::header);
    CHECK(r.uri_path == "/SOGo/Microsoft-Server-ActiveSync");

    // Base64 POST with User-Agent "-", no remote user, an absolute target, extra "-" and a
    // request-time field before the version.
    const std::string b64 = "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l";
    REQUIRE(parse(p,
                  "2001:db8::1 - - [01/Jan/2024:00:00:00 +0100] \"POST https://mail.example.org/Microsoft-Server-"
                  "ActiveSync?" +
                      b64 + " HTTP/1.1\" 200 12 \"-\" \"-\" 0.012 \"-\"",
                  r) == LineKind::request);
    CHECK(r.user.empty());
    CHECK(r.user_agent.empty());
    CHECK(r.time == unix_time(2023, 12, 31, 23, 0, 0));
    CHECK(r.protocol_version == "14.0");
    CHECK(r.version_source == VersionSource::base64);
    CHECK(r.device_type == "SmartPhone");

    // Common format (no referer/UA) and a plain 2.5 request without any version.
    REQUIRE(parse(p,
                  "10.1.1.1 - carol [01/Jan/2024:00:00:00 +0000] \"POST "
                  "/Microsoft-Server-ActiveSync?Cmd=Ping&User=carol&DeviceId=X&DeviceType=PocketPC HTTP/1.1\" 200 -",
                  r) == LineKind::request);
    CHECK(r.version_source == VersionSource::none);
    CHECK(r.http_status == 200);

    CHECK(parse(p, "10.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 5 \"-\" \"curl\"", r) ==
          LineKind::skipped);
    CHECK(parse(p, "10.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"-\" 400 0 \"-\" \"-\"", r) == LineKind::skipped);
    CHECK(parse(p, "10.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"POST /Microsoft-Server-ActiveSync", r) ==
          LineKind::malformed);
    CHECK(parse(p, "10.1.1.1 - - 01/Jan/2024 \"GET / HTTP/1.1\" 200 5", r) == LineKind::malformed);
    CHECK(parse(p, "10.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" abc 5", r) == LineKind::malformed);
    CHECK(parse(p, "garbage", r) == LineKind::malformed);
    CHECK(parse(p, "", r) == LineKind::directive);
}

TEST_CASE("probes are flagged", "[audit][access_log]") {
    CHECK(is_probe("CORP\\HealthMailbox0123abcd", ""));
    CHECK(is_probe("healthmailboxabc@example.org", ""));
    CHECK(is_probe("alice", "TestActiveSyncConnectivity"));
    CHECK(is_probe("alice", "MbxkitProbe")); // mbx audit probe's own requests
    CHECK_FALSE(is_probe("alice", "iPhone"));
    AccessLogParser p;
    Request r;
    REQUIRE(parse(p,
                  "1.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"POST /Microsoft-Server-ActiveSync?Cmd=FolderSync&"
                  "User=x&DeviceId=TestActiveSyncConnectivity&DeviceType=TestActiveSyncConnectivity HTTP/1.1\" 200 1",
                  r) == LineKind::request);
    CHECK(r.probe);
}

TEST_CASE("ActiveSync paths", "[audit][access_log]") {
    CHECK(is_activesync_path("/Microsoft-Server-ActiveSync"));
    CHECK(is_activesync_path("/microsoft-server-activesync/"));
    CHECK(is_activesync_path("/Microsoft-Server-ActiveSync/default.eas"));
    CHECK(is_activesync_path("/Microsoft-Server-ActiveSync/Proxy/default.eas"));
    CHECK(is_activesync_path("/SOGo/Microsoft-Server-ActiveSync"));
    CHECK_FALSE(is_activesync_path("/Microsoft-Server-ActiveSyncX"));
    CHECK_FALSE(is_activesync_path("/owa/"));
    CHECK_FALSE(is_activesync_path(""));
    // The dash-driven search: the segment anywhere, whole segments only.
    CHECK(is_activesync_path("Microsoft-Server-ActiveSync"));
    CHECK(is_activesync_path("/a-b/c-d-e/Microsoft-Server-ActiveSync/x-y"));
    CHECK(is_activesync_path("/Microsoft-Server-Microsoft-Server-ActiveSync/Microsoft-Server-ActiveSync"));
    CHECK_FALSE(is_activesync_path("/xMicrosoft-Server-ActiveSync"));
    CHECK_FALSE(is_activesync_path("/my-Microsoft-Server-ActiveSync"));
    CHECK_FALSE(is_activesync_path("/Microsoft-Server-ActiveSync-2/"));
    CHECK_FALSE(is_activesync_path("/Microsoft-Server-ActiveSyn"));
    CHECK_FALSE(is_activesync_path("Microsoft-Server"));
}

TEST_CASE("is_activesync_path agrees with splitting the path into segments", "[audit][access_log]") {
    // The reference: every '/'-separated segment compared whole.
    auto reference = [](std::string_view path) {
        for (std::size_t start = 0;;) {
            const auto slash = path.find('/', start);
            if (mbx::iequals(
                    path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start),
                    "Microsoft-Server-ActiveSync"))
                return true;
            if (slash == std::string_view::npos) return false;
            start = slash + 1;
        }
    };
    // Paths built from pieces that come close to the segment in every way.
    const std::vector<std::string> pieces = {"/",          "-",
                                             "Microsoft",  "Microsoft-",
                                             "Server-",    "-Server-ActiveSync",
                                             "ActiveSync", "microsoft-server-activesync",
                                             "x",          "Microsoft-Server-ActiveSync"};
    std::uint64_t state = 42;
    for (int i = 0; i < 20000; ++i) {
        std::string path;
        const int n = 1 + static_cast<int>(state % 6);
        for (int k = 0; k < n; ++k) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            path += pieces[(state >> 33) % pieces.size()];
        }
        INFO(path);
        REQUIRE(is_activesync_path(path) == reference(path));
    }
}

TEST_CASE("hostile lines: escapes and invalid UTF-8 are kept, printable neutralises them", "[audit][access_log]") {
    AccessLogParser p;
    Request r;
    // nginx writes control bytes as \xHH; the record holds the real bytes.
    REQUIRE(parse(p,
                  "1.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"POST /Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=D"
                  "&DeviceType=%1B%5B31m HTTP/1.1\" 200 1 \"-\" \"\\x1B[31m=cmd|' /C calc'!A0\\xFF\\\"q\"",
                  r) == LineKind::request);
    CHECK(r.user_agent == "\x1b[31m=cmd|' /C calc'!A0\xff\"q");
    CHECK(r.device_type == "\x1b[31m");
    const std::string shown = mbx::out::printable(r.user_agent);
    CHECK(shown.find('\x1b') == std::string::npos);
    CHECK(shown.find("\\x1b[31m") != std::string::npos);
    CHECK(shown.find("\\xff") != std::string::npos);
    CHECK(mbx::out::printable(r.device_type) == "\\x1b[31m");

    // Over-long lines are rejected without being parsed.
    std::string huge =
        "1.1.1.1 - - [01/Jan/2024:00:00:00 +0000] \"POST /Microsoft-Server-ActiveSync?Cmd=Sync HTTP/1.1\" "
        "200 1 \"-\" \"" +
        std::string(70000, 'A') + "\"";
    CHECK(parse(p, huge, r) == LineKind::malformed);
    CHECK(p.reason() == "line too long");
    // Truncated lines at every length never crash.
    const std::string line = "1.1.1.1 - u [01/Jan/2024:00:00:00 +0000] \"POST /Microsoft-Server-ActiveSync?"
                             "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l HTTP/1.1\" 200 1 \"-\" \"UA\" \"14.1\"";
    for (std::size_t n = 0; n <= line.size(); ++n) {
        AccessLogParser q(LogFormat::combined);
        (void)q.parse_line(line.substr(0, n), r);
    }
}

TEST_CASE("log format names", "[audit][access_log]") {
    CHECK(parse_log_format("iis") == LogFormat::iis);
    CHECK(parse_log_format("auto") == LogFormat::auto_detect);
    CHECK(log_format_name(LogFormat::combined) == "combined");
    CHECK_THROWS_AS(parse_log_format("w3c"), mbx::Error);
    CHECK(version_source_name(VersionSource::log_token) == "log-token");
    CHECK(unix_time(1970, 1, 1, 0, 0, 0) == 0);
    CHECK(unix_time(2024, 13, 1, 0, 0, 0) == 0);
    CHECK(iso8601(unix_time(2000, 2, 29, 23, 59, 59)) == "2000-02-29T23:59:59Z");
}

TEST_CASE("line times from the previous line's minute equal full conversions", "[audit][access_log]") {
    // Each line's time against a fresh parser's (which has nothing cached): same minute, the
    // next minute, another zone or date, seconds 59 and 60, broken seconds and fields.
    const std::vector<std::string> combined = {
        "01/Nov/2026:00:00:02 +0000", "01/Nov/2026:00:00:59 +0000", "01/Nov/2026:00:00:60 +0000",
        "01/Nov/2026:00:01:00 +0000", "01/Nov/2026:00:01:07 +0130", "01/Nov/2026:00:01:07 -0130",
        "02/Nov/2026:00:01:07 -0130", "02/Nov/2026:00:01:6x -0130", "02/Nov/2026:00:01:61 -0130",
        "02/Nov/2026:00:01:09 -0130", "02/Nov/2026:00:01:09",       "02/Nov/2026:00:01:08",
        "31/Feb/2026:00:01:08 +0000", "01/Nov/2026:00:01:09 +0000",
    };
    AccessLogParser cached(LogFormat::combined);
    Request r;
    for (const auto& when : combined) {
        const std::string line =
            "1.1.1.1 - anna [" + when +
            "] \"POST /Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=D1 HTTP/1.1\" 200 1 \"-\" \"ua\"";
        INFO(when);
        AccessLogParser fresh(LogFormat::combined);
        Request expected;
        REQUIRE(parse(fresh, line, expected) == LineKind::request);
        REQUIRE(parse(cached, line, r) == LineKind::request);
        CHECK(r.time == expected.time);
    }
    CHECK(r.time == unix_time(2026, 11, 1, 0, 1, 9));

    const std::vector<std::pair<std::string, std::string>> iis = {
        {"2026-11-01", "00:00:02"},     {"2026-11-01", "00:00:59"},     {"2026-11-01", "00:01:00"},
        {"2026-11-02", "00:01:00"},     {"2026-11-02", "00:01:60"},     {"2026-11-02", "00:01:x1"},
        {"2026-11-02", "00:01:01.250"}, {"2026-11-02", "00:01:02.250"}, {"2026-11-02", "00:01:03"},
        {"2026-13-02", "00:01:03"},     {"2026-11-02", "00:01:04"},
    };
    AccessLogParser iis_cached(LogFormat::iis);
    const std::string fields = "#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username";
    REQUIRE(parse(iis_cached, fields, r) == LineKind::directive);
    for (const auto& [date, time] : iis) {
        const std::string line = date + " " + time + " POST /Microsoft-Server-ActiveSync Cmd=Sync&DeviceId=D1 anna";
        INFO(line);
        AccessLogParser fresh(LogFormat::iis);
        Request expected;
        REQUIRE(parse(fresh, fields, expected) == LineKind::directive);
        REQUIRE(parse(fresh, line, expected) == LineKind::request);
        REQUIRE(parse(iis_cached, line, r) == LineKind::request);
        CHECK(r.time == expected.time);
    }
    CHECK(r.time == unix_time(2026, 11, 2, 0, 1, 4));
}

TEST_CASE("the plain combined splitter takes plain lines and gives the full splitter's tokens", "[audit][access_log]") {
    detail::CombinedFields plain, full;
    detail::CombinedBuffers buffers;
    const std::string request = "\"POST /Microsoft-Server-ActiveSync?Cmd=Ping&User=anna&DeviceId=D1 HTTP/1.1\"";
    // Plain lines: the splitter takes them.
    std::string many_extras = "1.1.1.1 - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1 \"-\" \"ua\"";
    for (int i = 0; i < 20; ++i) many_extras += i == 18 ? " \"2.5\"" : " x";
    for (const std::string& line : std::vector<std::string>{
             "1.1.1.1 - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1 \"-\" \"Apple-iPhone/1\" \"16.1\"",
             "1.1.1.1 - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1", // common format
             "1.1.1.1 - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1 \"-\" \"ua\" 0.012 \"-\" 14.1",
             "1.1.1.1 \"q a]b [x] \"\" 200 1 \"\" \"\"", // odd but plain
             many_extras,                                // past 16 extras nothing is looked at
         }) {
        INFO(line);
        REQUIRE(detail::split_plain_combined(line, plain));
        REQUIRE(detail::split_combined(line, full, buffers).empty());
        CHECK(plain == full);
    }
    CHECK(plain.header_version.empty());
    // Lines it leaves to the full splitter.
    for (const std::string& line : std::vector<std::string>{
             "1.1.1.1  - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1",                 // two spaces
             "1.1.1.1 - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1 ",                 // trailing space
             "1.1.1.1 - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1 \"-\" \"a\\\"b\"", // escape
             " 1.1.1.1 - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1",                 // leading space
             "1.1.1.1 - anna [01/Nov/2026:00:00:00 +0000] " + request + " 200 1 \"-\" \"ua\" \"open",
         }) {
        INFO(line);
        CHECK_FALSE(detail::split_plain_combined(line, plain));
        CHECK(detail::split_combined(line, full, buffers).empty());
    }
    // Random lines near every rule: each field mostly of its own kind, sometimes any piece,
    // mostly one space between them. Whenever the plain splitter takes a line, the full
    // splitter must agree.
    const std::vector<std::string> odd = {"[x", "]",  "[]",   "\"a\\\"b\"", "\"x\\\\y\"", "\"open",
                                          "\\", "\"", "q\"r", "[a]b",       "-"};
    const std::vector<std::vector<std::string>> fields = {{"1.1.1.1", "::1"},
                                                          {"-"},
                                                          {"anna", "-", "a\"b"},
                                                          {"[01/Nov/2026:00:00:00 +0000]", "[x]"},
                                                          {request, "\"-\"", "\"\""},
                                                          {"200", "-"},
                                                          {"1", "-"},
                                                          {"\"-\"", "\"https://x/\""},
                                                          {"\"ua 1\"", "\"-\""},
                                                          {"\"16.1\"", "14.1", "0.012", "\"-\""}};
    const std::vector<std::string> gaps = {" ", " ", " ", " ", " ", " ", " ", "  ", "", "\t"};
    std::mt19937 random(7);
    int taken = 0;
    for (int n = 0; n < 20000; ++n) {
        std::string line;
        const auto count = 1 + random() % (fields.size() + 4);
        for (unsigned i = 0; i < count; ++i) {
            if (i > 0) line += gaps[random() % gaps.size()];
            const auto& own = fields[std::min<std::size_t>(i, fields.size() - 1)];
            line += random() % 8 == 0 ? odd[random() % odd.size()] : own[random() % own.size()];
        }
        if (!detail::split_plain_combined(line, plain)) continue;
        ++taken;
        INFO(line);
        REQUIRE(detail::split_combined(line, full, buffers).empty());
        REQUIRE(plain == full);
    }
    CHECK(taken > 100);
}

TEST_CASE("IIS lines split alike with and without AVX2", "[audit][access_log]") {
    // Long lines (Exchange's Log= value) with values of every length, so that spaces fall on
    // both sides of every 16- and 32-byte step; one parser per mode, compared line by line.
    std::mt19937 random(17);
    std::vector<std::string> lines = {
        "#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip cs(User-Agent) sc-status"};
    for (int n = 0; n < 2000; ++n) {
        const auto run = [&](char c, std::size_t most) { return std::string(1 + random() % most, c); };
        lines.push_back("2024-03-01 10:00:0" + std::to_string(random() % 10) +
                        " POST /Microsoft-Server-ActiveSync/default.eas " + "Cmd=Sync&DeviceId=" + run('D', 40) +
                        "&DeviceType=iPhone&Log=V141_" + run('x', 300) + "_Ver1:161_" + run('y', 200) + " " +
                        run('u', 30) + " 10.0.0." + std::to_string(random() % 256) + " " + run('A', 70) +
                        (random() % 9 == 0 ? " 200 extra" : " 200"));
    }
    AccessLogParser with(LogFormat::iis), without(LogFormat::iis);
    Request a, b;
    int requests = 0;
    for (const auto& line : lines) {
        INFO(line);
        mbx::audit::scan::set_avx2(true);
        const LineKind ka = with.parse_line(line, a);
        mbx::audit::scan::set_avx2(false);
        const LineKind kb = without.parse_line(line, b);
        REQUIRE(ka == kb);
        if (ka != LineKind::request) continue;
        ++requests;
        REQUIRE(a.time == b.time);
        REQUIRE(a.user == b.user);
        REQUIRE(a.device_id == b.device_id);
        REQUIRE(a.user_agent == b.user_agent);
        REQUIRE(a.client_ip == b.client_ip);
        REQUIRE(a.http_status == b.http_status);
        REQUIRE(a.protocol_version == b.protocol_version);
        REQUIRE(a.exchange_log == b.exchange_log);
    }
    CHECK(requests > 1500);
    mbx::audit::scan::set_avx2(true);
}

TEST_CASE("iso8601 is what unix_time reads back, for times across the years", "[audit][access_log]") {
    // Every field is checked: unix_time() of the text's fields must give the same second.
    std::mt19937_64 random(19);
    for (int n = 0; n < 20000; ++n) {
        const auto t = static_cast<std::int64_t>(random() % 253402300800ull); // 1970 to 9999
        INFO(t);
        const std::string text = iso8601(t);
        REQUIRE(text.size() == 20);
        REQUIRE(text.substr(4, 1) + text.substr(7, 1) + text.substr(10, 1) + text.substr(13, 1) + text.substr(16, 1) +
                    text.substr(19) ==
                "--T::Z");
        REQUIRE(unix_time(std::stoi(text.substr(0, 4)), std::stoi(text.substr(5, 2)), std::stoi(text.substr(8, 2)),
                          std::stoi(text.substr(11, 2)), std::stoi(text.substr(14, 2)),
                          std::stoi(text.substr(17, 2))) == t);
    }
    CHECK(iso8601(0) == "1970-01-01T00:00:00Z");
    CHECK(iso8601(253402300799) == "9999-12-31T23:59:59Z");
    CHECK(iso8601(-1) == "1969-12-31T23:59:59Z");
}

TEST_CASE("split_plain_combined agrees with split_combined on lines of any length, with and without AVX2",
          "[audit][access_log]") {
    // Tokens of random lengths put the spaces, quotes and backslashes on both sides of every
    // 64-byte block and of the 1,024-byte limit of the plain splitter; random damage (a double
    // space, a quote, a backslash, a cut) makes lines it must refuse.
    std::mt19937 random(23);
    const auto run = [&](std::size_t most) {
        std::string t(random() % (most + 1), 'x');
        for (char& c : t)
            if (random() % 16 == 0) c = "/-=a"[random() % 4];
        return t;
    };
    detail::CombinedFields plain, full;
    detail::CombinedBuffers buffers;
    for (bool avx2 : {true, false}) {
        mbx::audit::scan::set_avx2(avx2);
        int taken = 0;
        for (int n = 0; n < 5000; ++n) {
            std::string line = "10.0.0." + std::to_string(random() % 256) + " - " + run(40) + "u [01/Nov/2026:00:00:0" +
                               std::to_string(random() % 10) + " +0000] \"POST /" + run(600) + " HTTP/1.1\" 200 " +
                               std::to_string(random() % 100000) + " \"" + run(100) + "\" \"" + run(400) + "\"";
            if (random() % 2 == 0) line += " \"16.1\"";
            const bool damaged = random() % 4 == 0;
            if (damaged) {
                const auto at = random() % line.size();
                switch (random() % 4) {
                case 0: line.insert(at, " "); break;
                case 1: line.insert(at, "\""); break;
                case 2: line.insert(at, "\\"); break;
                default: line.resize(at); break;
                }
            }
            INFO("avx2 " << avx2 << ": " << line);
            if (!detail::split_plain_combined(line, plain)) {
                CHECK((damaged || line.size() > 1024)); // every plain line up to the limit is taken
                continue;
            }
            ++taken;
            REQUIRE(detail::split_combined(line, full, buffers).empty());
            REQUIRE(plain == full);
        }
        CHECK(taken > 2000);
    }
    mbx::audit::scan::set_avx2(true);
}
