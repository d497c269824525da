#include "mbx/audit/eas_query.hpp"
#include "mbx/audit/query_scanner.hpp"
#include "mbx/core/text.hpp"
#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace mbx::audit;

namespace {

// Builds a base64 query from its fields ([MS-ASHTTP] 2.2.1.1.1.1).
std::string encode(unsigned version, unsigned command, std::string id, std::string key, std::string type,
                   std::string params = {}) {
    std::string b;
    b += static_cast<char>(version);
    b += static_cast<char>(command);
    b += "\x09\x04"; // en-US, little-endian
    b += static_cast<char>(id.size());
    b += id;
    b += static_cast<char>(key.size());
    b += key;
    b += static_cast<char>(type.size());
    b += type;
    b += params;
    return mbx::base64_encode(b);
}

std::string param(unsigned tag, std::string value) {
    return std::string(1, static_cast<char>(tag)) + static_cast<char>(value.size()) + value;
}

} // namespace

TEST_CASE("base64_decode reverses base64_encode and rejects bad input", "[audit][core][text]") {
    for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
        CHECK(mbx::base64_decode(mbx::base64_encode(s)) == s);
    CHECK(mbx::base64_decode("YWI") == "ab"); // padding left out
    CHECK_FALSE(mbx::base64_decode("YW=I").has_value());
    CHECK_FALSE(mbx::base64_decode("Y").has_value());
    CHECK_FALSE(mbx::base64_decode("YW I=").has_value());
    CHECK_FALSE(mbx::base64_decode("YWJ=").has_value()); // non-zero pad bits
}

TEST_CASE("the MS-ASHTTP example decodes", "[audit][eas_query]") {
    EasQuery q;
    REQUIRE(decode_base64_query("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", q) == QueryError::none);
    CHECK(q.form == QueryForm::base64);
    CHECK(q.protocol_version == "14.0");
    CHECK(q.command == "Sync");
    CHECK(q.command_code == 0);
    CHECK(q.locale == 0x0409);
    CHECK(q.device_id == "v140Device");
    CHECK_FALSE(q.policy_key.has_value());
    CHECK(q.device_type == "SmartPhone");
    CHECK(q.parameters.empty());
}

TEST_CASE("base64 queries carry versions, commands, policy keys and parameters", "[audit][eas_query]") {
    const std::string guid("\x01\xab\x00\xff\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0", 16);
    const std::string q64 =
        encode(161, 9, guid, std::string("\x78\x56\x34\x12", 4), "iPhone",
               param(8, "alice") + param(1, "5") + param(3, "5:12") + param(7, "\x01") + param(0, "att.txt") +
                   param(4, "RgAAAA") + param(6, "2024-01-01") + param(2, "x"));
    EasQuery q;
    REQUIRE(decode_base64_query(q64, q) == QueryError::none);
    CHECK(q.protocol_version == "16.1");
    CHECK(q.command == "FolderSync");
    CHECK(q.device_id == "01ab00ff102030405060708090a0b0c0");
    CHECK(q.policy_key == 0x12345678u);
    CHECK(q.device_type == "iPhone");
    CHECK(q.user == "alice");
    REQUIRE(q.parameters.size() == 7);
    CHECK(q.parameters[0].name == "CollectionId");
    CHECK(q.parameters[1].name == "ItemId");
    CHECK(q.parameters[1].value == "5:12");
    CHECK(q.parameters[2].name == "Options");
    CHECK(q.parameters[2].value == "1");
    CHECK(q.parameters[3].name == "AttachmentName");
    CHECK(q.parameters[4].name == "LongId");
    CHECK(q.parameters[5].name == "Occurrence");
    CHECK(q.parameters[6].name == "Tag2");

    for (auto [byte, version] : {std::pair{121, "12.1"}, {140, "14.0"}, {141, "14.1"}, {160, "16.0"}, {99, "9.9"}}) {
        EasQuery v;
        REQUIRE(decode_base64_query(encode(static_cast<unsigned>(byte), 18, "dev", "", "t"), v) == QueryError::none);
        CHECK(v.protocol_version == version);
        CHECK(v.command == "Ping");
    }
    EasQuery unknown;
    REQUIRE(decode_base64_query(encode(141, 7, "dev", "", "t"), unknown) == QueryError::none);
    CHECK(unknown.command == "Command7");
    CHECK(command_name(22) == "ValidateCert");
    CHECK(command_name(20) == "Provision");
    CHECK(command_name(5).empty());
    CHECK(command_name(23).empty());
    CHECK(is_known_version("16.1"));
    CHECK_FALSE(is_known_version("9.9"));
}

TEST_CASE("damaged base64 queries give an error, never a crash", "[audit][eas_query]") {
    const std::string good = *mbx::base64_decode(encode(141, 0, "device", "\x01\x02\x03\x04", "Android"));
    for (std::size_t n = 0; n < good.size(); ++n) {
        EasQuery q;
        CHECK(decode_base64_query(mbx::base64_encode(good.substr(0, n)), q) == QueryError::truncated);
    }
    EasQuery q;
    CHECK(decode_base64_query(encode(141, 0, "", "", "t"), q) == QueryError::bad_length);
    CHECK(decode_base64_query(encode(141, 0, "d", "\x01\x02", "t"), q) == QueryError::bad_length);
    CHECK(decode_base64_query(encode(141, 0, "d", "", "t",
                                     "\x01\x05"
                                     "ab"),
                              q) == QueryError::truncated);
    CHECK(decode_base64_query("!!!notbase64", q) == QueryError::bad_base64);
    // Percent-escaped base64 (as some proxies log it) decodes; '+' stays base64.
    std::string escaped = encode(141, 0, "d", "", "tt"); // 10 bytes: two pad characters
    REQUIRE(escaped.substr(escaped.size() - 2) == "==");
    escaped = escaped.substr(0, escaped.size() - 2) + "%3D%3D";
    CHECK(decode_base64_query(escaped, q) == QueryError::none);
    CHECK(q.device_type == "tt");
    CHECK(parse_query(escaped + "&Log=V141").query.device_id == "d");
}

TEST_CASE("device ids normalise binary to lower-case hex", "[audit][eas_query]") {
    CHECK(normalise_device_id("ApplF17XXXX") == "ApplF17XXXX");
    CHECK(normalise_device_id(std::string("\x00\x1f", 2)) == "001f");
    CHECK(normalise_device_id("a b") == "612062"); // a space is not printable in an id
}

TEST_CASE("plain queries are percent-decoded", "[audit][eas_query]") {
    auto p = parse_query("Cmd=Sync&User=DOMAIN%5Calice&DeviceId=ABC123&DeviceType=iPhone&SaveInSent=T&X=%zz+1");
    CHECK(p.error == QueryError::none);
    CHECK(p.query.form == QueryForm::plain);
    CHECK(p.query.command == "Sync");
    CHECK(p.query.user == "DOMAIN\\alice");
    CHECK(p.query.device_id == "ABC123");
    CHECK(p.query.device_type == "iPhone");
    REQUIRE(p.query.parameters.size() == 2);
    CHECK(p.query.parameters[0].name == "SaveInSent");
    CHECK(p.query.parameters[1].value == "%zz 1");
    CHECK_FALSE(p.has_log);
    CHECK(percent_decode("a+b%2B", false) == "a+b+");
}

TEST_CASE("a base64 query may be followed by Exchange's Log field", "[audit][eas_query]") {
    auto p = parse_query("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l&Log=V140_Ver1:141_LdapC1_");
    CHECK(p.query.form == QueryForm::base64);
    CHECK(p.query.device_id == "v140Device");
    CHECK(p.has_log);
    CHECK(p.log.protocol_version == "14.1"); // Ver1: wins over V
    auto bad = parse_query(mbx::base64_encode(std::string("\x8c\x00\x09\x04\x0a"
                                                          "v140",
                                                          9)) +
                           "&Cmd=Sync");
    CHECK(bad.error == QueryError::truncated);
    CHECK(bad.query.command == "Sync"); // the plain part still counts
    // Short plain names are never taken for base64.
    CHECK(parse_query("CollectionId=&Cmd=Ping").query.form == QueryForm::plain);
}

TEST_CASE("Log= tokens in every form", "[audit][eas_query]") {
    const auto log_version = [](std::string_view log) { return parse_exchange_log(log).protocol_version; };
    mbx::test::check_table(log_version, {{"V141_Sst1_LdapC0_Fet2", "14.1"},
                                         {"V120_Sst0", "12.0"},
                                         {"V25_Sst0", "2.5"},
                                         {"Ver1:161_V160", "16.1"},
                                         {"V160_Ver1:161", "16.1"},
                                         {"V1TCo2", "1.0"},
                                         {"V2TCo1Ty:4", "2.0"},
                                         {"V3", "2.1"},
                                         {"Vx_VNone", ""},
                                         {"V1234", ""}});
    mbx::test::check_table(version_from_log_digits, {{"10", "1.0"}, {"21", "2.1"}, {"", ""}});

    auto log = parse_exchange_log("V141_DevOS:iOS+9.2+13C71_As:AllowedG_Error:Bad%20thing_SC1:0");
    REQUIRE(log.fields.size() == 4);
    CHECK(log.fields[0] == std::pair<std::string, std::string>{"DevOS", "iOS 9.2 13C71"});
    CHECK(log.fields[1] == std::pair<std::string, std::string>{"As", "AllowedG"});
    CHECK(log.fields[2].second == "Bad thing");

    // Exchange 2003: after a doubled &&, not underscore-delimited.
    auto p = parse_query("Cmd=Sync&User=bob&DeviceId=X1&DeviceType=PocketPC&&Log=V2TCo1_");
    CHECK(p.query.command == "Sync");
    CHECK(p.has_log);
    CHECK(p.log.protocol_version == "2.0");
    std::string many = "V141";
    for (int i = 0; i < 100; ++i) many += "_K" + std::to_string(i) + ":v";
    CHECK(parse_exchange_log(many).fields.size() == kMaxLogFields);
}

TEST_CASE("the Log= version of a whole value, with V bytes inside other tokens", "[audit][eas_query]") {
    // Found by the fuzzer: a token that only contains a V must not hide the Ver1: after it.
    const std::string value = "C9DOMAIN\xff%idG__Ver1:161_DevOS:9iicId=8p9J1";
    CHECK(parse_exchange_log(value).protocol_version == "16.1");
    CHECK(exchange_log_version(value) == "16.1");
    CHECK(exchange_log_version("aV141_V25") == "2.5"); // the first V token at a token's start
    CHECK(exchange_log_version("V2TCoV_Ver1:x") == "2.0");
    CHECK(exchange_log_version("") == "");
}

namespace {

// The scanner's fields are parse_query()'s.
void require_same(const QueryView& fast, const ParsedQuery& full) {
    REQUIRE(fast.form == full.query.form);
    REQUIRE(fast.protocol_version == full.query.protocol_version);
    REQUIRE(fast.command == full.query.command);
    REQUIRE(fast.user == full.query.user);
    REQUIRE(fast.device_id == full.query.device_id);
    REQUIRE(fast.device_type == full.query.device_type);
    REQUIRE(fast.error == full.error);
    REQUIRE(fast.has_log == full.has_log);
    REQUIRE(fast.log_value == full.log_value);
    REQUIRE(fast.log_version == full.log.protocol_version);
}

} // namespace

TEST_CASE("QueryScanner decodes the fields parse_query decodes", "[audit][eas_query]") {
    const EasQuery b64{.protocol_version = "14.1",
                       .command = "Sync",
                       .user = "EXAMPLE\\dora",
                       .device_id = std::string("\x01\xab\x02", 3),
                       .device_type = "SmartPhone"};
    const std::string base64 = *encode_base64_query(b64);
    const std::vector<std::string> queries = {
        "",
        "Cmd=Sync&User=alice&DeviceId=ApplABC&DeviceType=iPhone",
        "cmd=Ping&USER=EXAMPLE%5Calice&deviceid=AB+CD&DeviceTYPE=iPad&SaveInSent=T",
        "Cmd=Sync&User=a&Cmd=Ping&User=b%40example.org",       // the last one counts
        "User=x&&Log=V2TCo1_&Cmd=Sync",                        // Exchange 2003's &&Log=, then more
        "Cmd=Sync&Log=SC1:1_Ver1:141_HH:mail_V160_x&Log=V25_", // two Log= fields: the last one
        "Cmd=Sync&Log=V141_a&b=Ver1:161",                      // Ver1: after the Log= value ends
        "Cmd=Sync&DeviceId=%01%FFbin&DeviceType=%zz",          // a binary id; a bad escape kept
        "Cm%64=Sync&Us+er=x",                                  // escaped names
        "=x&Cmd&DeviceId=&User=%",                             // empty and broken items
        base64,
        base64 + "&Log=V141_Ver1:161",
        base64 + "&Cmd=Ping",
        base64.substr(0, 14) + "&Cmd=Sync", // truncated base64
        "CollectionId=&Cmd=Ping",
        "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l&Log=V140_Ver1:141_LdapC1_",
    };
    QueryScanner scanner; // one scanner for all, as the log parser uses it: nothing stale may show
    for (const auto& text : queries) {
        INFO(text);
        require_same(scanner.scan(text), parse_query(text));
    }
    const QueryView& v = scanner.scan("cmd=Ping&USER=EXAMPLE%5Calice&deviceid=AB+CD");
    CHECK(v.user == "EXAMPLE\\alice");
    CHECK(v.device_id == "41422043" + std::string("44")); // "AB CD": the space makes it hex
    CHECK(scanner.scan(base64).device_id == "01ab02");
}

namespace {

// RFC 4648 base64 decoded a sextet at a time: the reference base64_decode_into() must match.
std::optional<std::string> reference_base64(std::string_view text) {
    const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (text.size() % 4 == 0 && !text.empty()) {
        if (text.back() == '=') text.remove_suffix(1);
        if (text.back() == '=') text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : text) {
        const auto v = alphabet.find(c);
        if (v == std::string_view::npos) return std::nullopt;
        acc = ((acc << 6) | static_cast<unsigned>(v)) & 0x3FFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    if ((acc & ((1U << bits) - 1)) != 0) return std::nullopt;
    return out;
}

} // namespace

TEST_CASE("base64_decode_into decodes what a sextet-at-a-time decoder decodes", "[audit][core][text]") {
    // Random text near the alphabet: valid and invalid bytes, padding anywhere, every length
    // remainder; one output buffer for all (its old contents must never show).
    const std::string bytes = "AZaz09+/=Qw-_ %\x80";
    std::mt19937 random(11);
    std::string out;
    for (int n = 0; n < 20000; ++n) {
        std::string text;
        const auto size = random() % 23;
        for (std::size_t i = 0; i < size; ++i)
            text += random() % 6 == 0
                        ? bytes[random() % bytes.size()]
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[random() % 64];
        if (random() % 3 == 0) text += random() % 2 == 0 ? "=" : "==";
        INFO(text);
        const auto expected = reference_base64(text);
        const bool ok = mbx::base64_decode_into(out, text);
        REQUIRE(ok == expected.has_value());
        if (ok) REQUIRE(out == *expected);
        REQUIRE(mbx::base64_decode(text) == expected);
    }
}

TEST_CASE("QueryScanner decodes what parse_query decodes, for random queries", "[audit][eas_query]") {
    // Items built near every rule: names in any case and escaped, values with escapes, `=` and
    // `+`, empty items, `&&Log=`, Log= values with V and Ver1 tokens, base64 at the start.
    const EasQuery b64{.protocol_version = "16.1",
                       .command = "Ping",
                       .user = "bob",
                       .device_id = "ABCDEF0123",
                       .device_type = "iPhone"};
    const std::string base64 = *encode_base64_query(b64);
    const std::vector<std::string> names = {"Cmd",        "cmd", "User", "USER",  "DeviceId", "deviceid",
                                            "DeviceType", "Log", "log",  "C%6Dd", "Us+er",    "Device%49d",
                                            "SaveInSent", "x",   "",     "Cmd%",  "Log+"};
    const std::vector<std::string> values = {
        "Sync",   "alice",           "EXAMPLE%5Calice", "a+b",   "%zz",          "%", "x=y",  "",
        "%01%FF", "V141_Ver1:161_x", "SC1:1_V25_",      "V2TCo", "Ver1:99_V160", "+", "abc%2"};
    QueryScanner scanner;
    std::mt19937 random(5);
    for (int n = 0; n < 20000; ++n) {
        std::string query =
            random() % 8 == 0 ? base64.substr(0, random() % 2 == 0 ? base64.size() : 5 + random() % 20) : "";
        const auto items = random() % 6;
        for (std::size_t i = 0; i < items; ++i) {
            if (!query.empty() || random() % 4 == 0) query += random() % 8 == 0 ? "&&" : "&";
            query += names[random() % names.size()];
            if (random() % 10 != 0) query += "=";
            query += values[random() % values.size()];
            if (random() % 6 == 0) query += values[random() % values.size()];
        }
        INFO(query);
        require_same(scanner.scan(query), parse_query(query));
    }
}

TEST_CASE("version_from_byte is the byte's tens, a dot and its units for every byte", "[audit][eas_query]") {
    for (unsigned byte = 0; byte < 256; ++byte) {
        INFO(byte);
        CHECK(version_from_byte(static_cast<std::uint8_t>(byte)) ==
              std::to_string(byte / 10) + "." + std::to_string(byte % 10));
    }
    CHECK(version_from_byte(141) == "14.1");
    CHECK(version_from_byte(25) == "2.5");
    CHECK(version_from_byte(255) == "25.5");
    CHECK(version_from_byte(7) == "0.7");
}
