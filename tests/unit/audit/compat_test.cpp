#include "mbx/audit/compat.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using namespace mbx::audit;
using mbx::test::error_of;

TEST_CASE("compare_versions compares numerically, part by part", "[audit][compat]") {
    CHECK(compare_versions("2.5", "12.0") < 0);
    CHECK(compare_versions("12.0", "12.1") < 0);
    CHECK(compare_versions("14.1", "14.1") == 0);
    CHECK(compare_versions("16.1", "14.1") > 0);
    CHECK(compare_versions("16.10", "16.9") > 0);
    CHECK(compare_versions("012.1", "12.1") == 0);
    CHECK(compare_versions("12", "12.0") < 0);
    CHECK(compare_versions("99999999999999999999.0", "1.0") > 0); // no overflow
    CHECK(compare_versions("garbage", "1.0") > 0);                // text after numbers
}

TEST_CASE("is_version: digits.digits only", "[audit][compat]") {
    CHECK(is_version("16.10"));
    CHECK(is_version("2.5"));
    for (const char* bad : {"16", "14.", ".1", "1 4.1", "14.1.2", "garbage", "123456789012345.1"}) {
        INFO(bad);
        CHECK_FALSE(is_version(bad));
    }
}

TEST_CASE("parse_versions sorts, dedups and refuses what is not a version", "[audit][compat]") {
    CHECK(parse_versions("16.1, 14.1,16.0,14.1") == std::vector<std::string>{"14.1", "16.0", "16.1"});
    CHECK(parse_versions("2.5,12.0") == std::vector<std::string>{"2.5", "12.0"});
    for (const char* bad : {"", " , ", "14", "14.1.2", "v14.1", "14.", ".1", "14,1x"}) {
        INFO(bad);
        CHECK(error_of([&] { parse_versions(bad); }).category() == mbx::ErrorCategory::usage);
    }
}

TEST_CASE("judge: ok, at-risk, breaks, unknown with reasons and remediations", "[audit][compat]") {
    const std::vector<std::string> target{"14.1", "16.0", "16.1"};

    auto ok = judge({"14.1"}, "14.1", target, "iOS 9.3");
    CHECK(ok.verdict == Verdict::ok);
    CHECK(ok.best_common == "14.1");
    CHECK(ok.remediation.empty());

    // Windows Mail speaks 12.1 and 14.0 only: nothing in common with 14.1+.
    auto breaks = judge({"12.1", "14.0"}, "14.0", target, "Windows Mail 17.5");
    CHECK(breaks.verdict == Verdict::breaks);
    CHECK(breaks.best_common.empty());
    CHECK_THAT(breaks.reason, Catch::Contains("no version in common"));
    CHECK_THAT(breaks.remediation, Catch::Contains("update Windows Mail 17.5"));
    CHECK_THAT(breaks.remediation, Catch::Contains("keep 14.0 on the server"));

    // Uses 16.0 now, which goes; it has used 14.1, which stays: it can fall back.
    auto dropped = judge({"14.1", "16.0"}, "16.0", {"14.1", "16.1"}, "Outlook 16.0");
    CHECK(dropped.verdict == Verdict::at_risk);
    CHECK(dropped.best_common == "14.1");
    CHECK_THAT(dropped.reason, Catch::Contains("16.0"));
    CHECK_THAT(dropped.remediation, Catch::Contains("keep 16.0"));

    // Negotiates 14.0 now though it has used 14.1, which the target keeps.
    auto below = judge({"14.0", "14.1"}, "14.0", {"14.0", "14.1"}, "");
    CHECK(below.verdict == Verdict::at_risk);
    CHECK(below.best_common == "14.1");
    CHECK_THAT(below.remediation, Catch::Contains("the client"));

    // No last version recorded: the highest seen counts as the current one.
    CHECK(judge({"14.1", "16.1"}, "", target, "").verdict == Verdict::ok);

    auto unknown = judge({}, "", target, "");
    CHECK(unknown.verdict == Verdict::unknown);
    CHECK_THAT(unknown.remediation, Catch::Contains("MS-ASProtocolVersion"));
    CHECK(judge({""}, "", target, "").verdict == Verdict::unknown);

    CHECK(verdict_name(Verdict::at_risk) == "at-risk");
}
