#pragma once
// The one server certificate scripts/testenv makes for all its servers, read independently
// with the openssl command, and the check that a peer certificate is it.

#include "testenv.hpp"

#include "mbx/tls/certificate.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace mbx::testing {

struct SandboxCertificate {
    std::string pem = {};
    std::chrono::system_clock::time_point not_before = {};
    std::chrono::system_clock::time_point not_after = {};
};

inline SandboxCertificate sandbox_certificate() {
    const std::string pem_file = server_certificate_file();
    std::ifstream in(pem_file);
    return {std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()),
            openssl_certificate_date(pem_file, "-startdate"), openssl_certificate_date(pem_file, "-enddate")};
}

/// Checks that `cert` is the sandbox's: its dates as openssl reads them, subject, issuer,
/// names, and all of it as parsed from the PEM file.
inline void check_is_sandbox_certificate(const mbx::tls::CertificateInfo& cert, const SandboxCertificate& want) {
    CHECK(cert.not_after == want.not_after);
    CHECK(cert.not_before == want.not_before);
    CHECK(cert.subject == "CN=localhost,O=mbxkit testenv");
    CHECK(cert.issuer == "CN=mbxkit testenv CA,O=mbxkit testenv");
    CHECK(cert.dns_names == std::vector<std::string>{"localhost"});
    CHECK(cert == mbx::tls::parse_certificate_pem(want.pem));
}

} // namespace mbx::testing
