#include "mbx/tls/certificate.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <iterator>

using namespace std::chrono;
using namespace std::chrono_literals;
using mbx::ErrorCategory;
using mbx::test::error_of;
using namespace mbx::tls; // CertificateInfo, days_left, parse_certificate_der/pem

namespace {

// The fixtures of tests/unit/data/tls (README.md there says how they were made).
std::string fixture(const std::string& name) {
    std::ifstream in(MBX_SOURCE_DIR "/tests/unit/data/tls/" + name, std::ios::binary);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

system_clock::time_point utc(year_month_day date, seconds time_of_day = 0s) { return sys_days(date) + time_of_day; }

// leaf.pem / leaf.der
CertificateInfo expected_leaf() {
    return CertificateInfo{
        .subject = "CN=mail.example.org,O=mbxkit tests,C=DE",
        .issuer = "CN=mbxkit fixture CA,O=mbxkit tests",
        .dns_names = {"mail.example.org", "*.example.org"}, // not the IP:192.0.2.1 entry
        .not_before = utc(2024y / January / 1),
        .not_after = utc(2034y / March / 1, 12h),
    };
}

void check_data_error(const std::function<void()>& f, const std::string& fragment) {
    mbx::Error e = error_of(f);
    INFO(e.what());
    CHECK(e.category() == ErrorCategory::data);
    CHECK(std::string(e.what()).starts_with("cannot read the certificate: "));
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
}

} // namespace

TEST_CASE("tls: a PEM certificate gives subject, issuer, DNS names and validity", "[tls]") {
    CertificateInfo c = parse_certificate_pem(fixture("leaf.pem"));
    CertificateInfo want = expected_leaf();
    CHECK(c.subject == want.subject);
    CHECK(c.issuer == want.issuer);
    CHECK(c.dns_names == want.dns_names);
    CHECK(c.not_before == want.not_before);
    CHECK(c.not_after == want.not_after);
    CHECK(c == want);
}

TEST_CASE("tls: the DER form of the certificate gives the same fields", "[tls]") {
    CHECK(parse_certificate_der(fixture("leaf.der")) == expected_leaf());
}

TEST_CASE("tls: UTF-8 names, no SAN and a 9999 expiry clamped to time_point::max()", "[tls]") {
    for (const char* name : {"forever.pem", "forever.der"}) {
        INFO(name);
        std::string bytes = fixture(name);
        CertificateInfo c =
            std::string(name).ends_with(".pem") ? parse_certificate_pem(bytes) : parse_certificate_der(bytes);
        CHECK(c.subject == "CN=J\xC3\xB6rg's server,O=J\xC3\xB6rg M\xC3\xBCller GmbH");
        CHECK(c.issuer == c.subject);
        CHECK(c.dns_names.empty());
        CHECK(c.not_before == utc(1999y / December / 31));
        CHECK(c.not_after == system_clock::time_point::max());
        CHECK(days_left(c, utc(2024y / January / 1)) > 80000);
    }
}

TEST_CASE("tls: the first certificate of a PEM text, whatever comes before or after", "[tls]") {
    const std::string leaf = fixture("leaf.pem");
    const std::string forever = fixture("forever.pem");
    CHECK(parse_certificate_pem("issued by someone\r\n" + leaf) == expected_leaf());
    CHECK(parse_certificate_pem(fixture("leaf-request.pem") + forever + leaf).subject ==
          parse_certificate_pem(forever).subject);
    CHECK(parse_certificate_pem(leaf + "trailing text, not base64 !!!\n") == expected_leaf());
}

TEST_CASE("tls: input of exactly the size limit is read", "[tls]") {
    std::string pem = fixture("leaf.pem");
    pem.resize(kMaxCertificateBytes, '\n');
    CHECK(parse_certificate_pem(pem) == expected_leaf());
}

TEST_CASE("tls: DER that is not exactly one certificate is a data error", "[tls]") {
    const std::string der = fixture("leaf.der");
    check_data_error([] { parse_certificate_der(""); }, "empty");
    check_data_error([] { parse_certificate_der("this is not a certificate"); }, "not a DER");
    check_data_error([&] { parse_certificate_der(der.substr(0, der.size() - 1)); }, "not a DER");
    check_data_error([&] { parse_certificate_der(der.substr(0, der.size() / 2)); }, "not a DER");
    check_data_error([&] { parse_certificate_der(der.substr(0, 4)); }, "not a DER");
    check_data_error([&] { parse_certificate_der(der + '\0'); },
                     "trailing data after the DER-encoded X.509 certificate (1 byte)");
    check_data_error([&] { parse_certificate_der(der + der); }, "(" + std::to_string(der.size()) + " bytes)");
    check_data_error([] { parse_certificate_der(fixture("leaf.pem")); }, "not a DER");
    std::string corrupt = der;
    corrupt[1] = static_cast<char>(corrupt[1] ^ 0x40); // the outer SEQUENCE's length
    check_data_error([&] { parse_certificate_der(corrupt); }, "not a DER");
}

TEST_CASE("tls: a PEM text without a readable certificate is a data error", "[tls]") {
    const std::string pem = fixture("leaf.pem");
    check_data_error([] { parse_certificate_pem(""); }, "empty");
    check_data_error([] { parse_certificate_pem("no PEM here\n"); }, "no PEM certificate");
    check_data_error([] { parse_certificate_pem(fixture("leaf-request.pem")); }, "no PEM certificate");
    check_data_error([] { parse_certificate_pem(fixture("leaf.der")); }, "no PEM certificate");
    // Cut inside the base64 (no END line), and with the base64 cut short.
    check_data_error([&] { parse_certificate_pem(pem.substr(0, pem.size() / 2)); }, "no PEM certificate");
    std::string shortened = pem;
    shortened.erase(shortened.find('\n') + 1, 64);
    check_data_error([&] { parse_certificate_pem(shortened); }, "no PEM certificate");
}

TEST_CASE("tls: an encrypted PEM block is refused without asking for a passphrase", "[tls]") {
    std::string pem = fixture("leaf.pem");
    pem.insert(pem.find('\n') + 1,
               "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n");
    check_data_error([&] { parse_certificate_pem(pem); }, "(bad password read)");
}

TEST_CASE("tls: input over 1 MiB is refused before parsing", "[tls]") {
    std::string pem = fixture("leaf.pem");
    pem.resize(kMaxCertificateBytes + 1, '\n');
    check_data_error([&] { parse_certificate_pem(pem); }, "more than the 1048576 allowed");
    std::string der = fixture("leaf.der");
    der.resize(kMaxCertificateBytes + 1, '\0');
    check_data_error([&] { parse_certificate_der(der); }, "more than the 1048576 allowed");
}

TEST_CASE("tls: days_left counts whole days to not_after, rounded down", "[tls]") {
    CertificateInfo c = expected_leaf();
    const auto end = c.not_after; // 2034-03-01 12:00:00 UTC
    CHECK(days_left(c, end - days(10)) == 10);
    CHECK(days_left(c, end - days(1) - 1s) == 1);
    CHECK(days_left(c, end - days(1)) == 1);
    CHECK(days_left(c, end - days(1) + 1s) == 0);
    CHECK(days_left(c, end - 1s) == 0);
    CHECK(days_left(c, end) == 0);
    // Expired: negative from the first moment after not_after.
    CHECK(days_left(c, end + 1ns) == -1);
    CHECK(days_left(c, end + 500ms) == -1);
    CHECK(days_left(c, end + 1s) == -1);
    CHECK(days_left(c, end + days(1)) == -1);
    CHECK(days_left(c, end + days(1) + 1s) == -2);
    CHECK(days_left(c, utc(2024y / January / 1)) == 3712);
    // Fractions of `now` count: 0.5 s before a whole day left is still that day.
    CHECK(days_left(c, end - days(1) - 500ms) == 1);
    CHECK(days_left(c, end - days(1) + 500ms) == 0);
}

TEST_CASE("tls: days_left does not overflow at the ends of time_point", "[tls]") {
    CertificateInfo forever{.not_after = system_clock::time_point::max()};
    CHECK(days_left(forever, system_clock::time_point{}) == 106751); // 2^63 ns in days
    CHECK(days_left(forever, system_clock::time_point::min()) == 213503);
    CertificateInfo ancient{.not_after = system_clock::time_point::min()};
    CHECK(days_left(ancient, system_clock::time_point::max()) == -213504);
}
