// Active Directory's rules as [MS-ADTS] writes them: unicodePwd values, userAccountControl,
// sAMAccountName.
#include "mbx/directory/ad.hpp"

#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>

using namespace mbx::directory::ad;

namespace {

// A plain reference: UTF-8 decoded by the standard's rule, each code point as UTF-16LE.
std::string reference_utf16le_quoted(const std::u32string& cps) {
    std::string out;
    auto unit = [&](std::uint32_t u) {
        out += static_cast<char>(u & 0xFF);
        out += static_cast<char>(u >> 8);
    };
    unit('"');
    for (char32_t c : cps) {
        if (c >= 0x10000) {
            unit(0xD800 | ((c - 0x10000) >> 10));
            unit(0xDC00 | ((c - 0x10000) & 0x3FF));
        } else {
            unit(c);
        }
    }
    unit('"');
    return out;
}

std::string utf8(char32_t c) {
    std::string s;
    if (c < 0x80) s += static_cast<char>(c);
    else if (c < 0x800) s += {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
    else if (c < 0x10000)
        s += {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
              static_cast<char>(0x80 | (c & 0x3F))};
    else
        s += {static_cast<char>(0xF0 | (c >> 18)), static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
              static_cast<char>(0x80 | ((c >> 6) & 0x3F)), static_cast<char>(0x80 | (c & 0x3F))};
    return s;
}

} // namespace

TEST_CASE("unicode_pwd_value: the password quoted, in UTF-16LE", "[directory][ad]") {
    // [MS-ADTS] 3.1.1.3.1.5.1's example: "newPassword" -> 22 00 6E 00 ... 22 00
    const std::string v = unicode_pwd_value("ab");
    CHECK(v == std::string("\"\0a\0b\0\"\0", 8));
    CHECK(unicode_pwd_value("") == std::string("\"\0\"\0", 4));
    CHECK(unicode_pwd_value("\xC3\xA9") == std::string("\"\0\xE9\0\"\0", 6));                   // é
    CHECK(unicode_pwd_value("\xF0\x9F\x94\x91") == std::string("\"\0\x3D\xD8\x11\xDD\"\0", 8)); // U+1F511
    for (const char* bad : {"\xC3", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "a\x80"})
        CHECK_THROWS_AS(unicode_pwd_value(bad), mbx::Error);
}

TEST_CASE("unicode_pwd_value against a plain reference, randomised", "[directory][ad]") {
    std::mt19937 rng(20261207);
    std::uniform_int_distribution<int> plane(0, 3);
    for (int round = 0; round < 2000; ++round) {
        std::u32string cps;
        std::string text;
        const int n = static_cast<int>(rng() % 12);
        for (int i = 0; i < n; ++i) {
            char32_t c = 0;
            switch (plane(rng)) {
            case 0: c = 0x20 + rng() % 0x5F; break;
            case 1: c = 0x80 + rng() % 0x780; break;
            case 2: c = 0x800 + rng() % 0xD000; break; // below the surrogates
            default: c = 0x10000 + rng() % 0x100000; break;
            }
            if (c >= 0xD800 && c <= 0xDFFF) c = 'x';
            cps += c;
            text += utf8(c);
        }
        INFO("round " << round);
        CHECK(unicode_pwd_value(text) == reference_utf16le_quoted(cps));
    }
}

TEST_CASE("userAccountControl: signed or unsigned, written signed", "[directory][ad]") {
    CHECK(parse_account_control("512") == 512u);
    CHECK(parse_account_control(" 514 ") == 514u);
    CHECK(parse_account_control("-2147483136") == 0x80000200u);
    CHECK(parse_account_control("4294967295") == 0xFFFFFFFFu);
    CHECK_FALSE(parse_account_control(""));
    CHECK_FALSE(parse_account_control("0x200"));
    CHECK_FALSE(parse_account_control("4294967296"));
    CHECK(account_control_text(514) == "514");
    CHECK(account_control_text(0x80000200u) == "-2147483136");
    CHECK((kNormalAccount | kAccountDisable) == 514u);
}

TEST_CASE("sam_account_name_problem: AD's rule for logon names", "[directory][ad]") {
    CHECK_FALSE(sam_account_name_problem("alice2"));
    CHECK_FALSE(sam_account_name_problem("j.smith-2026"));
    CHECK_FALSE(sam_account_name_problem("abcdefghijklmnopqrst")); // 20
    CHECK(sam_account_name_problem("abcdefghijklmnopqrstu")->find("20") != std::string::npos);
    for (const char* bad : {"a/b", "a@b", "a,b", "a=b", "a+b", "a\"b", "a[b", "a;b", "a*b", "a?b", "a<b", "a|b"})
        CHECK(sam_account_name_problem(bad));
    CHECK(sam_account_name_problem(""));
    CHECK(sam_account_name_problem(". ."));
    CHECK(sam_account_name_problem("alice."));
    CHECK(sam_account_name_problem("a\tb"));
}

TEST_CASE("proxyAddresses: the SMTP addresses, primary or alias; other types are none", "[directory][ad]") {
    CHECK(proxy_smtp_address("SMTP:alice@example.org") == "alice@example.org");
    CHECK(proxy_smtp_address("smtp:a.smith@example.org") == "a.smith@example.org");
    CHECK_FALSE(proxy_smtp_address("X500:/o=Example/ou=Exchange/cn=Recipients/cn=alice"));
    CHECK_FALSE(proxy_smtp_address("sip:alice@example.org"));
    CHECK_FALSE(proxy_smtp_address("alice@example.org"));
    CHECK_FALSE(proxy_smtp_address("SMTP:"));
    CHECK(address_in("proxyAddresses", "SMTP:a@x") == "a@x");
    CHECK(address_in("mail", "SMTP:a@x") == "SMTP:a@x");
    CHECK(address_in("mailAlternateAddress", "b@x") == "b@x");
}
