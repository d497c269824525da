#include "mbx/core/text.hpp"
#include "mbx/http/client.hpp"
#include "mbx/ops/doveadm.hpp"
#include "mbx/ops/quota_sweep.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <set>

using mbx::ErrorCategory;
using mbx::ops::DoveadmResult;
using mbx::test::error_of;

namespace {

std::vector<DoveadmResult> decode(std::string_view body) {
    std::vector<DoveadmResult> out;
    mbx::ops::decode_quota_response(body, [&](const DoveadmResult& r) { out.push_back(r); });
    return out;
}

} // namespace

TEST_CASE("parse_shard reads K/N and refuses everything else", "[quota][sweep]") {
    auto s = mbx::ops::parse_shard("2/4");
    CHECK(s.index == 2);
    CHECK(s.count == 4);
    CHECK(mbx::ops::parse_shard("1/1").count == 1);
    for (const char* bad : {"0/4", "5/4", "4", "/4", "2/", "2/0", "a/b", "2/4x", "-1/4", "1/2000000", ""}) {
        INFO(bad);
        CHECK(error_of([&] { mbx::ops::parse_shard(bad); }).category() == ErrorCategory::usage);
    }
}

TEST_CASE("shards partition the users: each uid in exactly one shard, roughly evenly", "[quota][sweep]") {
    const unsigned n = 4;
    std::map<unsigned, int> per_shard;
    for (int i = 0; i < 4000; ++i) {
        const std::string uid = "user" + std::to_string(i);
        int hits = 0;
        for (unsigned k = 1; k <= n; ++k)
            if (mbx::ops::in_shard(uid, {k, n})) {
                ++hits;
                ++per_shard[k];
            }
        REQUIRE(hits == 1);
    }
    for (const auto& [k, count] : per_shard) CHECK((count > 850 && count < 1150));
    // Stable across versions and hosts: FNV-1a-64("alice") % 4 == 3, so alice is in shard 4/4.
    CHECK(mbx::ops::in_shard("alice", {4, 4}));
}

TEST_CASE("parse_backend knows imap and doveadm", "[quota][sweep]") {
    CHECK(mbx::ops::parse_backend("imap") == mbx::ops::Backend::imap);
    CHECK(mbx::ops::parse_backend("doveadm") == mbx::ops::Backend::doveadm);
    CHECK(error_of([] { mbx::ops::parse_backend("IMAP"); }).category() == ErrorCategory::usage);
}

TEST_CASE("doveadm quotaGet replies: one-user commands, KiB to bytes, tags", "[quota][doveadm]") {
    auto r = decode(
        R"([["doveadmResponse",[{"root":"User quota","type":"STORAGE","value":"8545","limit":"51200","percent":"16"},)"
        R"({"root":"User quota","type":"MESSAGE","value":"200","limit":"1000000","percent":"0"}],"0"],)"
        R"(["error",{"type":"exitCode", "exitCode":67},"1"]])");
    REQUIRE(r.size() == 2);
    CHECK(r[0].tag == "0");
    CHECK_FALSE(r[0].error);
    CHECK(r[0].quota.used_bytes == 8545 * 1024);
    CHECK(r[0].quota.limit_bytes == 51200 * 1024);
    CHECK(r[0].quota.messages == 200);
    CHECK(r[0].quota.message_limit == 1000000);
    CHECK(r[1].tag == "1");
    REQUIRE(r[1].error);
    CHECK(r[1].error->category() == ErrorCategory::data);
}

TEST_CASE("doveadm allUsers replies give one result per user; '-' and 0 are no limit", "[quota][doveadm]") {
    auto r =
        decode(R"([["doveadmResponse",[)"
               R"({"username":"a","root":"R","type":"STORAGE","value":"1","limit":"-","percent":"0"},)"
               R"({"username":"a","root":"R","type":"MESSAGE","value":"3","limit":"-","percent":"0"},)"
               R"({"username":"b","root":"R","type":"STORAGE","value":"2","limit":"0","percent":"0"},)"
               R"({"username":"b","root":"Other","type":"STORAGE","value":"9","limit":"10","percent":"90"}],"t"]])");
    REQUIRE(r.size() == 2);
    CHECK(r[0].user == "a");
    CHECK(r[0].quota.used_bytes == 1024);
    CHECK_FALSE(r[0].quota.limit_bytes);
    CHECK(r[0].quota.messages == 3);
    CHECK(r[1].user == "b");
    CHECK(r[1].quota.used_bytes == 2048); // the first root with a STORAGE row wins
    CHECK_FALSE(r[1].quota.limit_bytes);
}

TEST_CASE("doveadm replies: permission and other errors keep their category", "[quota][doveadm]") {
    auto r =
        decode(R"([["error",{"type":"exitCode","exitCode":77},"x"],["error",{"type":"exitCode","exitCode":75},"y"]])");
    REQUIRE(r.size() == 2);
    CHECK(r[0].error->category() == ErrorCategory::auth);
    CHECK(r[1].error->category() == ErrorCategory::unavailable);
}

TEST_CASE("malformed doveadm replies are data errors, never crashes", "[quota][doveadm]") {
    for (const char* bad :
         {"", "[", "[]", "{}", "[[\"weird\",[],\"t\"]]",
          "[[\"doveadmResponse\",[{\"type\":\"STORAGE\",\"value\":\"x\"}],\"t\"]]",
          "[[\"doveadmResponse\",[[[[1]]]],\"t\"]]", "[[\"doveadmResponse\"]]", "[[\"doveadmResponse\",[{}],\"t\"",
          "<html>502 Bad Gateway</html>",
          // KiB values whose bytes overflow 63 bits (found by the fuzzer)
          "[[\"doveadmResponse\",[{\"type\":\"STORAGE\",\"value\":\"43718888888888885\"}],\"t\"]]",
          "[[\"doveadmResponse\",[{\"type\":\"STORAGE\",\"value\":\"1\",\"limit\":\"9223372036854775807\"}],\"t\"]]"}) {
        INFO(bad);
        CHECK(error_of([&] { decode(bad); }).category() == ErrorCategory::data);
    }
}

TEST_CASE("base64_encode follows RFC 4648 test vectors", "[text]") {
    CHECK(mbx::base64_encode("") == "");
    CHECK(mbx::base64_encode("f") == "Zg==");
    CHECK(mbx::base64_encode("fo") == "Zm8=");
    CHECK(mbx::base64_encode("foo") == "Zm9v");
    CHECK(mbx::base64_encode("foob") == "Zm9vYg==");
    CHECK(mbx::base64_encode("fooba") == "Zm9vYmE=");
    CHECK(mbx::base64_encode("foobar") == "Zm9vYmFy");
    CHECK(mbx::base64_encode(std::string("\xff\x00\xfe", 3)) == "/wD+");
}

TEST_CASE("Response::header finds a header by name, ignoring ASCII case", "[http]") {
    mbx::http::Response r;
    r.headers = {{"Content-Type", "application/json"}, {"MS-ASProtocolVersions", "14.1,16.1"}};
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.header("ms-asprotocolversions") == "14.1,16.1");
    CHECK(r.header("Server").empty());
}
