#include "mbx/core/output.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace mbx::out;

namespace {

ReportSpec quota_spec() {
    return {"quota",
            {{"user", "User", Kind::text, Role::label},
             {"used_bytes", "Used", Kind::bytes, Role::value, "bytes used"},
             {"percent", "Use%", Kind::percent, Role::value},
             {"tier", "Tier", Kind::text, Role::status},
             {"source", "Source", Kind::text, Role::detail}}};
}

std::string render(Format f, const std::vector<std::vector<Cell>>& rows,
                   mbx::ExitCode status = mbx::ExitCode::warning) {
    std::ostringstream out;
    auto sink = make_sink(f, out);
    sink->begin(quota_spec());
    for (const auto& r : rows) sink->row(r);
    sink->finish({status, "1 of 2 mailboxes at warning", {{"users", std::int64_t(2)}}});
    return out.str();
}

const std::vector<std::vector<Cell>> kRows = {
    {std::string("alice"), std::int64_t(1610612736), 85.25, std::string("warning"), std::string("imap")},
    {std::string("bob"), std::int64_t(512), 1.0, std::string("ok"), std::monostate{}},
};

} // namespace

TEST_CASE("table: titles, humanized numbers right-aligned, summary", "[core][output]") {
    CHECK(render(Format::table, kRows) == "User      Used   Use%  Tier     Source\n"
                                          "alice  1.5 GiB  85.2%  warning  imap\n"
                                          "bob      512 B   1.0%  ok       -\n"
                                          "\n"
                                          "1 of 2 mailboxes at warning\n");
}

TEST_CASE("csv: keys as header, raw values, RFC 4180 quoting, formula and escape neutralised", "[core][output]") {
    CHECK(render(Format::csv, kRows) == "user,used_bytes,percent,tier,source\r\n"
                                        "alice,1610612736,85.25,warning,imap\r\n"
                                        "bob,512,1,ok,\r\n");
    std::ostringstream out;
    auto sink = make_sink(Format::csv, out);
    sink->begin({"t", {{"a", "A"}, {"b", "B"}, {"n", "N", Kind::integer}}});
    sink->row(std::vector<Cell>{std::string("=HYPERLINK(\"x\")"), std::string("a,b\x1b[31m"), std::int64_t(-5)});
    sink->finish({});
    CHECK(out.str() == "a,b,n\r\n\"'=HYPERLINK(\"\"x\"\")\",\"a,b\\x1b[31m\",-5\r\n");
}

TEST_CASE("json: typed values, stable keys, summary", "[core][output]") {
    auto doc = nlohmann::json::parse(render(Format::json, kRows));
    CHECK(doc["report"] == "quota");
    CHECK(doc["format_version"] == 1);
    REQUIRE(doc["rows"].size() == 2);
    CHECK(doc["rows"][0]["used_bytes"] == 1610612736);
    CHECK(doc["rows"][0]["used_bytes"].is_number_integer());
    CHECK(doc["rows"][0]["percent"] == 85.25);
    CHECK(doc["rows"][1]["source"].is_null());
    CHECK(doc["summary"]["status"] == "warning");
    CHECK(doc["summary"]["exit_code"] == 1);
    CHECK(doc["summary"]["users"] == 2);
    CHECK(doc["summary"]["rows"] == 2);
}

TEST_CASE("json survives invalid UTF-8 and control characters", "[core][output]") {
    std::ostringstream out;
    auto sink = make_sink(Format::json, out);
    sink->begin({"t", {{"a", "A"}}});
    sink->row(std::vector<Cell>{std::string("bad\xff\x1b[2J")});
    sink->finish({});
    auto doc = nlohmann::json::parse(out.str());
    std::string v = doc["rows"][0]["a"];
    CHECK(v.find('\x1b') != std::string::npos); // kept, but JSON-escaped on the wire:
    CHECK(out.str().find('\x1b') == std::string::npos);
}

TEST_CASE("nagios: status line, perfdata with units, long text for rows not ok", "[core][output]") {
    CHECK(render(Format::nagios, kRows) ==
          "MBX QUOTA WARNING - 1 of 2 mailboxes at warning | 'users'=2 'alice_used_bytes'=1610612736B "
          "'alice_percent'=85.25% 'bob_used_bytes'=512B 'bob_percent'=1%\n"
          "WARNING: user=alice used_bytes=1610612736 percent=85.25 source=imap\n");
}

TEST_CASE("prometheus: grouped gauges with labels, state, exit code", "[core][output]") {
    std::string text = render(Format::prometheus, kRows);
    CHECK(text.find("# HELP mbx_quota_used_bytes bytes used\n# TYPE mbx_quota_used_bytes gauge\n"
                    "mbx_quota_used_bytes{user=\"alice\"} 1610612736\nmbx_quota_used_bytes{user=\"bob\"} 512\n") !=
          std::string::npos);
    CHECK(text.find("mbx_quota_state{user=\"alice\"} 1\nmbx_quota_state{user=\"bob\"} 0\n") != std::string::npos);
    CHECK(text.find("mbx_quota_users 2\n") != std::string::npos);
    CHECK(text.find("mbx_quota_exit_code 1\n") != std::string::npos);
    CHECK(text.find("mbx_quota_last_run_timestamp_seconds ") != std::string::npos);
}

TEST_CASE("prometheus label values are escaped", "[core][output]") {
    std::ostringstream out;
    auto sink = make_sink(Format::prometheus, out);
    sink->begin({"t", {{"user", "U", Kind::text, Role::label}, {"n", "N", Kind::integer, Role::value}}});
    sink->row(std::vector<Cell>{std::string("a\"b\\c\nd"), std::int64_t(1)});
    sink->finish({});
    CHECK(out.str().find("mbx_t_n{user=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
}

TEST_CASE("a row with the wrong number of cells is a programming error", "[core][output]") {
    std::ostringstream out;
    auto sink = make_sink(Format::table, out);
    sink->begin(quota_spec());
    CHECK_THROWS_AS(sink->row(std::vector<Cell>{std::string("x")}), mbx::Error);
}

TEST_CASE("the table sink keeps memory flat: widths from the first rows, then streams", "[core][output]") {
    std::ostringstream out;
    auto sink = make_sink(Format::table, out);
    sink->begin({"t", {{"n", "N", Kind::integer}}});
    for (std::int64_t i = 0; i < 150; ++i) sink->row(std::vector<Cell>{i});
    // After kTableBufferRows rows the header and buffered rows are already written.
    CHECK(out.str().rfind(" N\n 0\n 1\n", 0) == 0);
    sink->finish({});
    std::string text = out.str();
    CHECK(std::count(text.begin(), text.end(), '\n') == 151);
}

TEST_CASE("printable escapes control characters and invalid UTF-8 but keeps UTF-8", "[core][output]") {
    CHECK(printable("Entwürfe") == "Entwürfe");
    CHECK(printable("a\x1b[31mb") == "a\\x1b[31mb");
    CHECK(printable("tab\there") == "tab\\x09here");
    CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");          // overlong '/'
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80"); // surrogate
    CHECK(printable("\xc2\x9b"
                    "31m") == "\\xc2\\x9b31m"); // C1 CSI
}

TEST_CASE("formats parse by name, unknown names list the allowed ones", "[core][output]") {
    const Format allowed[] = {Format::table, Format::json};
    CHECK(parse_format("json", allowed) == Format::json);
    try {
        parse_format("nagios", allowed);
        FAIL("no error");
    } catch (const mbx::Error& e) {
        CHECK(e.one_line() == "unknown format 'nagios'; use one of: table, json");
        CHECK(e.category() == mbx::ErrorCategory::usage);
    }
}

TEST_CASE("json columns are embedded as documents in JSON and stay text elsewhere", "[core][output]") {
    ReportSpec spec{"t", {{"state", "State", Kind::json}}};
    std::ostringstream json, csv;
    for (auto* os : {&json, &csv}) {
        auto sink = make_sink(os == &json ? Format::json : Format::csv, *os);
        sink->begin(spec);
        sink->row(std::vector<Cell>{std::string(R"({"quota":5})")});
        sink->row(std::vector<Cell>{std::string("not json")});
        sink->finish({});
    }
    auto doc = nlohmann::json::parse(json.str());
    CHECK(doc["rows"][0]["state"]["quota"] == 5);
    CHECK(doc["rows"][1]["state"] == "not json");
    CHECK(csv.str() == "state\r\n\"{\"\"quota\"\":5}\"\r\nnot json\r\n");
}
