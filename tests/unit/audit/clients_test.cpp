#include "mbx/audit/clients.hpp"
#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>

using namespace mbx::audit;

namespace {
ClientInfo ua(std::string_view agent, std::string_view type = {}, std::string_view id = {}) {
    static const ClientClassifier classifier;
    return classifier.classify(agent, type, id);
}

// Checks the family, model (empty: none) and version the user agent `agent` is classified with.
void check_client(std::string_view agent, std::string_view family, std::string_view model, std::string_view version) {
    INFO(agent);
    const ClientInfo c = ua(agent);
    CHECK(c.family == family);
    CHECK(c.model == model);
    CHECK(c.version == version);
}
} // namespace

TEST_CASE("iOS user agents give model, build and version", "[audit][clients]") {
    auto c = ua("Apple-iPhone8C4/1504.100");
    CHECK(c.family == "iOS");
    CHECK(c.model == "iPhone8,4");
    CHECK(c.build == "15D100");
    CHECK(c.version == "11.2.6");
    CHECK(c.matched_on == MatchField::user_agent);
    auto unknown_build = ua("Apple-iPad13C1/2103.77");
    CHECK(unknown_build.model == "iPad13,1");
    CHECK(unknown_build.build == "21C77");
    CHECK(unknown_build.version == "17");
    CHECK(ua("Apple-iPhone/705.18").version == "3.x");
    CHECK(ua("Apple-iPhone/508.11").version == "2.x");
    CHECK(ios_version_for_build("13C75") == "9.2");
    CHECK(ios_version_for_build("junk").empty());
}

TEST_CASE("Android, Gmail, Samsung, Nine, TouchDown", "[audit][clients]") {
    check_client("Android/4.4.2-EAS-2.0", "Android (Exchange app)", "", "4.4.2");
    check_client("SonyC6603/4.2.2-EAS-2.0", "Android (Exchange app)", "SonyC6603", "4.2.2");
    CHECK(ua("Android-Mail/2023.10.29.583").family == "Gmail (Android)");
    CHECK(ua("Android-Mail/2023.10.29.583").version == "2023.10.29.583");
    check_client("SAMSUNG-SM-G900F/101.40402", "Samsung Email", "SM-G900F", "101.40402");
    CHECK(ua("", "", "NineAbc123").family == "Nine");
    CHECK(ua("TouchDown(MSRPC)/8.5.0005").version == "8.5.0005");
}

TEST_CASE("Windows Mobile, Windows Phone, Windows Mail, Outlook, BlackBerry, Nokia", "[audit][clients]") {
    CHECK(ua("MSFT-PPC/5.2.5082").family == "Windows Mobile (Pocket PC)");
    CHECK(ua("MSFT-PPC/5.2.5082").version == "6.x");
    CHECK(ua("MSFT-SPhone/5.1.2300").version == "5");
    CHECK(ua("Microsoft-PocketPC/3.0").version == "2003");
    CHECK(ua("Microsoft-PocketPC/2.0").version == "2002");
    CHECK(ua("MSFT-WP/8.10.14219").family == "Windows Phone");
    CHECK(ua("WindowsMail/16.0.12026").family == "Windows Mail");
    auto outlook = ua("Outlook/16.0 (16.0.4266.1001; MSI; x64)");
    CHECK(outlook.family == "Outlook (desktop)");
    CHECK(outlook.version == "16.0");
    CHECK(ua("", "WindowsOutlook15").family == "Outlook (desktop)");
    CHECK(ua("BlackBerry/10.3.2").family == "BlackBerry");
    CHECK(ua("RIM-Playbook/2.1.0.1917").family == "BlackBerry PlayBook");
    CHECK(ua("NokiaE72-1/2.00(0)MailforExchange").family == "Nokia Mail for Exchange");
}

TEST_CASE("fallbacks: device type, then device id, then unknown", "[audit][clients]") {
    auto t = ua("", "iPhone");
    CHECK(t.family == "iOS");
    CHECK(t.matched_on == MatchField::device_type);
    auto i = ua("SomethingNew/1.0", "Weird", "androidc1234567");
    CHECK(i.family == "Android (Exchange app)");
    CHECK(i.matched_on == MatchField::device_id);
    CHECK(ua("SomethingNew/1.0", "Weird", "x").family == "unknown");
}

TEST_CASE("rules from text extend the table", "[audit][clients]") {
    auto rules = parse_client_rules("# site rules\n"
                                    "user-agent prefix Acme/ after_slash Acme Mail Pro\n"
                                    "\n"
                                    "device-type equals Gizmo none Gizmo\n",
                                    "rules.txt");
    REQUIRE(rules.size() == 2);
    CHECK(rules[0].family == "Acme Mail Pro");
    rules.insert(rules.end(), default_client_rules().begin(), default_client_rules().end());
    ClientClassifier c(rules);
    CHECK(c.classify("Acme/2.1 (x)", "", "").version == "2.1");
    CHECK(c.classify("", "gizmo", "").family == "Gizmo");
    CHECK(c.classify("Apple-iPhone8C4/1504.100", "", "").family == "iOS");
    CHECK_THROWS_AS(parse_client_rules("user-agent regex x none X\n", "r"), mbx::Error);
    CHECK_THROWS_AS(parse_client_rules("user-agent prefix x none\n", "r"), mbx::Error);
    // Version readers never read out of bounds on values they were not meant for.
    ClientClassifier odd(parse_client_rules("user-agent prefix A apple X\nuser-agent prefix S samsung Y\n", "r"));
    CHECK(odd.classify("A", "", "").family == "X");
    CHECK(odd.classify("S/1", "", "").family == "Y");
}
