#include "mbx/audit/eas_query.hpp"
#include "mbx/audit/wbxml.hpp"
#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace mbx::audit;
namespace wb = mbx::audit::wbxml;

TEST_CASE("the FolderSync SyncKey 0 request is the 13 bytes of activesync.md", "[audit][wbxml]") {
    const auto e = wb::parent_element(wb::page::folder_hierarchy, wb::tag::folder_sync,
                                      {wb::text_element(wb::page::folder_hierarchy, wb::tag::sync_key, "0")});
    CHECK(wb::encode(e) == std::string("\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30\x00\x01\x01", 13));
}

TEST_CASE("a Provision with Settings matches xml2wbxml's bytes", "[audit][wbxml]") {
    // xml2wbxml -a -n -v 1.3 of <Provision><settings:DeviceInformation><settings:Set>
    // <settings:Model>mbxkit</settings:Model></settings:Set></settings:DeviceInformation><Policies>
    // <Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>
    const auto e = wb::parent_element(
        wb::page::provision, wb::tag::provision,
        {wb::parent_element(wb::page::settings, wb::tag::device_information,
                            {wb::parent_element(wb::page::settings, wb::tag::set,
                                                {wb::text_element(wb::page::settings, wb::tag::model, "mbxkit")})}),
         wb::parent_element(wb::page::provision, wb::tag::policies,
                            {wb::parent_element(wb::page::provision, wb::tag::policy,
                                                {wb::text_element(wb::page::provision, wb::tag::policy_type,
                                                                  "MS-EAS-Provisioning-WBXML")})})});
    const std::string want = std::string("\x03\x01\x6a\x00\x00\x0e\x45\x00\x12\x56\x48\x57\x03mbxkit\x00\x01\x01\x01"
                                         "\x00\x0e\x46\x47\x48\x03MS-EAS-Provisioning-WBXML\x00\x01\x01\x01\x01",
                                         59);
    CHECK(wb::encode(e) == want);
    const auto back = wb::decode(want);
    CHECK(wb::encode(back) == want);
    REQUIRE(back.find({{18, 0x16}, {18, 0x08}, {18, 0x17}}));
    CHECK(back.find({{18, 0x16}, {18, 0x08}, {18, 0x17}})->text == "mbxkit");
}

TEST_CASE("a FolderSync answer decodes, with string table and opaque data", "[audit][wbxml]") {
    // <FolderSync><Status>1</Status><SyncKey>1</SyncKey><Changes><Count>2</Count><Add>
    // <DisplayName>(table "Inbox")</DisplayName></Add><Add><ServerId>(opaque "x")</ServerId></Add></Changes>
    const std::string doc("\x03\x01\x6a\x06Inbox\x00"
                          "\x00\x07\x56\x4c\x03\x31\x00\x01\x52\x03\x31\x00\x01\x4e\x57\x03\x32\x00\x01"
                          "\x4f\x47\x83\x00\x01\x01\x4f\x48\xc3\x01x\x01\x01\x01\x01",
                          44);
    const auto root = wb::decode(doc);
    CHECK(root.page == 7);
    CHECK(wb::tag_name(root.page, root.token) == "FolderSync");
    REQUIRE(root.find({{7, 0x0E}, {7, 0x17}}));
    CHECK(root.find({{7, 0x0E}, {7, 0x17}})->text == "2");
    CHECK(root.find({{7, 0x0E}, {7, 0x0F}, {7, 0x07}})->text == "Inbox");
    CHECK(root.children[2].children[2].children[0].opaque);
    CHECK(wb::to_text(root).find("<DisplayName>Inbox</DisplayName>") != std::string::npos);
}

TEST_CASE("the WBXML decoder refuses malformed and hostile input", "[audit][wbxml]") {
    const std::string head("\x03\x01\x6a\x00", 4);
    for (const std::string& bad :
         {std::string(), std::string("\x03"), head, head + "\x56", head + "\x56\x52\x03\x30", head + "\x56\x01\x01",
          head + "\xc5\x01", head + "\x56\x02\x01\x01", head + "\x56\x04\x01\x01",
          head + "\x56\xc3\x05"
                 "ab\x01\x01",
          head + "\x56\x83\x00\x01", std::string("\x03\x01\x6a\xff\xff\xff\xff\x7f", 8), head + "\x16\x16",
          head + "\x45"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(wb::decode(bad), mbx::Error);
    }
    std::string deep = head;
    for (int i = 0; i < 100; ++i) deep += '\x56';
    for (int i = 0; i < 100; ++i) deep += '\x01';
    CHECK_THROWS_AS(wb::decode(deep), mbx::Error);
    CHECK_NOTHROW(wb::decode(head + "\x16"));
}

TEST_CASE("the WBXML encoder refuses what it cannot write", "[audit][wbxml]") {
    CHECK_THROWS_AS(wb::encode(wb::text_element(7, 0x02, "x")), mbx::Error);
    CHECK_THROWS_AS(wb::encode(wb::text_element(7, 0x12, std::string("a\0b", 3))), mbx::Error);
    auto opaque = wb::text_element(7, 0x08, std::string(200, 'x'));
    opaque.opaque = true;
    const auto root = wb::decode(wb::encode(wb::parent_element(7, 0x16, {opaque})));
    CHECK(root.children.at(0).text == std::string(200, 'x'));
}

TEST_CASE("encode_base64_query is the inverse of decode_base64_query", "[audit][eas_query]") {
    EasQuery q;
    q.protocol_version = "14.1";
    q.command = "FolderSync";
    q.locale = 0x0407;
    q.device_id = "MBXPROBE0001";
    q.device_type = "MbxkitProbe";
    q.policy_key = 3141592653u;
    q.user = "alice";
    q.parameters = {{"CollectionId", "7"}, {"Options", "3"}};
    const auto text = encode_base64_query(q);
    REQUIRE(text);
    EasQuery back;
    REQUIRE(decode_base64_query(*text, back) == QueryError::none);
    CHECK(back.protocol_version == q.protocol_version);
    CHECK(back.command == q.command);
    CHECK(back.command_code == 9);
    CHECK(back.locale == q.locale);
    CHECK(back.device_id == q.device_id);
    CHECK(back.device_type == q.device_type);
    CHECK(back.policy_key == q.policy_key);
    CHECK(back.user == q.user);
    REQUIRE(back.parameters.size() == 2);
    CHECK(back.parameters[0].name == "CollectionId");
    CHECK(back.parameters[1].value == "3");

    EasQuery spec; // [MS-ASHTTP]'s example
    spec.protocol_version = "14.0";
    spec.command = "Sync";
    spec.device_id = "v140Device";
    spec.device_type = "SmartPhone";
    CHECK(encode_base64_query(spec) == "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");

    EasQuery bad = spec;
    bad.protocol_version = "14";
    CHECK_FALSE(encode_base64_query(bad));
    bad = spec;
    bad.command = "NoSuchCommand";
    CHECK_FALSE(encode_base64_query(bad));
    bad = spec;
    bad.device_id.clear();
    CHECK_FALSE(encode_base64_query(bad));
    bad = spec;
    bad.parameters = {{"Unknown", "x"}};
    CHECK_FALSE(encode_base64_query(bad));
}
