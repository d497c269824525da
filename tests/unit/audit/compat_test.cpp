#include "mbx/audit/capabilities.hpp"
#include "mbx/audit/clients.hpp"
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

namespace {
const TargetInfo kModern{.versions = {"14.1", "16.0", "16.1"}};
const TargetInfo kOnline{.versions = {"16.1"}, .fixed = true};

DeviceVersions seen(std::set<std::string> versions, std::string last, std::string family = {},
                    std::string client_version = {}) {
    const std::string client =
        family.empty() ? std::string() : family + (client_version.empty() ? "" : " " + client_version);
    return {.seen = std::move(versions),
            .last = std::move(last),
            .family = std::move(family),
            .client_version = std::move(client_version),
            .client = client};
}
} // namespace

TEST_CASE("judge by what the logs show when no capability row covers the client", "[audit][compat]") {
    auto ok = judge(seen({"14.1"}, "14.1", "Nine", "4.1"), kModern);
    CHECK(ok.verdict == Verdict::ok);
    CHECK(ok.basis == Basis::observed);
    CHECK(ok.best_common == "14.1");
    CHECK(ok.remediation.empty());
    CHECK(ok.capability.empty());

    // Seen at 12.1 and 14.0 only: whether it speaks 14.1+ is not known. Never `breaks` (or `ok`) by guess.
    auto unknown_up = judge(seen({"12.1", "14.0"}, "14.0", "Windows Mail", "17.5.9600"), kModern);
    CHECK(unknown_up.verdict == Verdict::at_risk);
    CHECK(unknown_up.basis == Basis::unknown);
    CHECK(unknown_up.best_common.empty());
    CHECK_THAT(unknown_up.reason,
               Catch::Contains(
                   "whether Windows Mail 17.5.9600 speaks 14.1 is not known")); // any version kept would do: the lowest
    CHECK_THAT(unknown_up.remediation, Catch::Contains("mbx audit probe URL --as-version 14.1"));
    CHECK_THAT(unknown_up.remediation, Catch::Contains("keep 14.0 on the server"));

    // Uses 16.0 now, which goes; it has used 14.1, which stays: it falls back (15.0 is no
    // released version: never assumed).
    auto dropped = judge(seen({"14.1", "16.0"}, "16.0", "Outlook (desktop)", "16.0"), {.versions = {"14.1", "15.0"}});
    CHECK(dropped.verdict == Verdict::at_risk);
    CHECK(dropped.basis == Basis::observed);
    CHECK(dropped.best_common == "14.1");
    CHECK_THAT(dropped.reason, Catch::Contains("fall back to 14.1 (it has used it)"));
    CHECK_THAT(dropped.remediation, Catch::Contains("keep 16.0 on the server"));
    // 16.1 may be in reach, 14.1 surely is.
    auto maybe = judge(seen({"14.1", "16.0"}, "16.0", "Outlook (desktop)", "16.0"), {.versions = {"14.1", "16.1"}});
    CHECK(maybe.verdict == Verdict::at_risk);
    CHECK(maybe.basis == Basis::unknown);
    CHECK(maybe.best_common == "14.1");
    CHECK_THAT(maybe.reason, Catch::Contains("whether Outlook (desktop) 16.0 speaks 16.1 is not known"));
    CHECK_THAT(maybe.reason, Catch::Contains("if not, it falls back to 14.1 (it has used it)"));
    CHECK_THAT(maybe.remediation, Catch::Contains("keep 16.0 on the server"));
    // A target of versions no client is known to speak.
    CHECK(judge(seen({"16.1"}, "16.1"), {.versions = {"17.0"}}).verdict == Verdict::at_risk);

    // Negotiates 14.0 now though it has used 14.1, which the target keeps.
    auto below = judge(seen({"14.0", "14.1"}, "14.0"), {.versions = {"14.0", "14.1"}});
    CHECK(below.verdict == Verdict::at_risk);
    CHECK(below.best_common == "14.1");
    CHECK_THAT(below.remediation, Catch::Contains("re-create the device partnership so that the client"));

    // No last version recorded: the highest seen counts as the current one.
    CHECK(judge(seen({"14.1", "16.1"}, ""), kModern).verdict == Verdict::ok);

    auto nothing = judge(seen({}, ""), kModern);
    CHECK(nothing.verdict == Verdict::unknown);
    CHECK(nothing.basis == Basis::unknown);
    CHECK_THAT(nothing.remediation, Catch::Contains("MS-ASProtocolVersion"));
    CHECK(judge(seen({""}, ""), kModern).verdict == Verdict::unknown);

    CHECK(verdict_name(Verdict::at_risk) == "at-risk");
    CHECK(basis_name(Basis::capability) == "capability");
}

TEST_CASE("a new client against an older server falls back instead of breaking", "[audit][compat]") {
    // Seen at 16.1; the target keeps up to 14.1 (a SOGo or Z-Push): clients negotiate down.
    const TargetInfo old_server{.versions = {"2.5", "12.0", "12.1", "14.0", "14.1"}};
    auto unknown_client = judge(seen({"16.1"}, "16.1", "Nine", "5.0"), old_server);
    CHECK(unknown_client.verdict == Verdict::at_risk);
    CHECK(unknown_client.best_common == "14.1");
    CHECK(unknown_client.basis == Basis::observed);
    CHECK_THAT(unknown_client.reason, Catch::Contains("fall back to 14.1 (clients negotiate down"));
    CHECK_THAT(unknown_client.remediation, Catch::Contains("keep 16.1 on the server"));
    CHECK_THAT(unknown_client.remediation, !Catch::Contains("update"));

    auto iphone = judge(seen({"16.1"}, "16.1", "iOS", "17.4"), old_server);
    CHECK(iphone.verdict == Verdict::at_risk);
    CHECK(iphone.basis == Basis::capability);
    CHECK_THAT(iphone.reason, Catch::Contains("(iOS 10 and later speaks up to 16.1)"));
}

TEST_CASE("capability rows decide what the logs cannot show", "[audit][compat]") {
    // iOS 17 seen at 14.1 because its server offered no more: it speaks 16.1.
    auto ios17 = judge(seen({"14.1"}, "14.1", "iOS", "17.0"), kOnline);
    CHECK(ios17.verdict == Verdict::ok);
    CHECK(ios17.basis == Basis::capability);
    CHECK(ios17.best_common == "16.1");
    CHECK_THAT(ios17.reason, Catch::Contains("it will negotiate 16.1"));
    CHECK_THAT(ios17.capability, Catch::Contains("Exchange Team blog 2025-12-15"));

    // iOS 9 speaks 16.0 at most: Exchange Online's 16.1 is out of reach; the fix is iOS 10.
    auto ios9 = judge(seen({"14.1"}, "14.1", "iOS", "9.3.5"), kOnline);
    CHECK(ios9.verdict == Verdict::breaks);
    CHECK(ios9.basis == Basis::capability);
    CHECK_THAT(ios9.reason, Catch::Contains("speaks at most 16.0"));
    CHECK(ios9.remediation == "update to iOS 10 or later, which speaks 16.1"); // nothing to keep on Exchange Online

    // On a server the admin runs, keeping the old version is a choice too.
    CHECK_THAT(judge(seen({"14.1"}, "14.1", "iOS", "9.3.5"), {.versions = {"16.1"}}).remediation,
               Catch::Contains("or keep 16.0 on the server"));

    auto aosp = judge(seen({"14.1"}, "14.1", "Android (Exchange app)", "4.4.2"), kOnline);
    CHECK(aosp.verdict == Verdict::breaks);
    CHECK_THAT(aosp.remediation, Catch::Contains("move the user to a client that speaks 16.1"));

    // A row that only bounds: Windows Phone 8.1 at 12.1 against 14.1: whether it reaches 14.1 is not known.
    auto wp = judge(seen({"12.1"}, "12.1", "Windows Phone", "8.10.14157"), {.versions = {"14.1"}});
    CHECK(wp.verdict == Verdict::at_risk);
    CHECK(wp.basis == Basis::capability);
    CHECK(judge(seen({"14.1"}, "14.1", "Windows Phone", "8.10.14157"), kOnline).verdict == Verdict::breaks);

    // The logs win over a row they contradict (an iOS 9 logged at 16.1).
    auto contradicted = judge(seen({"16.1"}, "16.1", "iOS", "9.2"), kOnline);
    CHECK(contradicted.verdict == Verdict::ok);
    CHECK(contradicted.basis == Basis::observed);
    CHECK_THAT(contradicted.reason, Catch::Contains("above the iOS 9 to before 10 row's 16.0"));

    // No version in the logs, but the row speaks it.
    auto by_row = judge(seen({}, "", "iOS", "12.1"), kOnline);
    CHECK(by_row.verdict == Verdict::ok);
    CHECK(by_row.basis == Basis::capability);

    // A device-id fallback has no client version: a ranged row does not apply.
    CHECK(judge(seen({"14.1"}, "14.1", "iOS", ""), kOnline).basis == Basis::unknown);
}

TEST_CASE("capability rows: lookup, labels, rules-file lines, named targets", "[audit][compat]") {
    const auto& rows = default_capabilities();
    REQUIRE(find_capability(rows, "ios", "10.0.2") != nullptr);
    CHECK(find_capability(rows, "iOS", "10.0.2")->speaks == "16.1");
    CHECK(find_capability(rows, "iOS", "9")->at_most == "16.0");
    CHECK(find_capability(rows, "iOS", "3.x")->at_most == "14.1");
    CHECK(find_capability(rows, "iOS", "") == nullptr);
    CHECK(find_capability(rows, "Windows Phone", "10.0.10240") == nullptr);
    CHECK(find_capability(rows, "Windows Mobile (Pocket PC)", "")->at_most == "14.1");
    CHECK(find_capability(rows, "Samsung Email", "6.1") == nullptr);
    CHECK(find_capability(rows, "Android (Exchange app)", "") == nullptr);
    CHECK(capability_label(*find_capability(rows, "Android (Exchange app)", "4.4")) == "Android (Exchange app)");
    CHECK(first_client_speaking(rows, "iOS", "16.1") == std::optional<std::string>("10"));
    CHECK(first_client_speaking(rows, "iOS", "16.0") == std::optional<std::string>("9"));
    CHECK_FALSE(first_client_speaking(rows, "Android (Exchange app)", "16.1"));
    CHECK(capability_label(*find_capability(rows, "iOS", "9.1")) == "iOS 9 to before 10");

    auto rules = parse_rules("# site\ncapability 6.2 - 16.1 16.1 Samsung Email\n"
                             "user-agent prefix Acme/ after_slash Acme Mail\n"
                             "capability - - - 14.1 Acme Mail\n",
                             "site.rules");
    REQUIRE(rules.capabilities.size() == 2);
    CHECK(rules.clients.size() == 1);
    const auto& samsung = rules.capabilities[0];
    CHECK((samsung.family == "Samsung Email" && samsung.from == "6.2" && samsung.below.empty() &&
           samsung.speaks == "16.1"));
    CHECK(samsung.source == "site.rules:2");
    auto site = judge(seen({"14.1"}, "14.1", "Samsung Email", "6.2.4"), kOnline, rules.capabilities);
    CHECK((site.verdict == Verdict::ok && site.basis == Basis::capability));
    CHECK_THAT(site.capability, Catch::Contains("site.rules:2"));
    for (const char* bad : {"capability 1 2 x 16.1 Foo", "capability - - - -  Foo", "capability - - 16.1 14.1 Foo",
                            "capability - - 16.1", "capability"}) {
        INFO(bad);
        CHECK(error_of([&] { parse_rules(bad, "r"); }).category() == mbx::ErrorCategory::data);
    }
    CHECK(find_named_target("Exchange-Online").versions == "16.1");
    CHECK_THAT(std::string(find_named_target("exchange-online").description), Catch::Contains("2026-03-01"));
    CHECK(error_of([] { find_named_target("exchange-2003"); }).category() == mbx::ErrorCategory::usage);
}
