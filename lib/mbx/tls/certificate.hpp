#pragma once
// The parts of a server's X.509 certificate an admin checks (who it names, who issued it, when
// it expires), read with OpenSSL from the DER or PEM the LDAP, IMAP and HTTP connections
// capture after their TLS handshake.
//
// <openssl/*.h> stays out of this header.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::tls {

/// The largest DER or PEM input the parsers accept (1 MiB); a real certificate is a few KiB.
inline constexpr std::size_t kMaxCertificateBytes = std::size_t{1} << 20;

/// One certificate, as far as mbxkit reports it.
struct CertificateInfo {
    /// RFC 2253 one line, most specific first: "CN=mail.example.org,O=Example,C=DE". Non-ASCII
    /// characters as UTF-8; special and control characters escaped as RFC 2253 says.
    std::string subject = {};
    std::string issuer = {}; ///< as `subject`
    /// The dNSName entries of subjectAltName, in certificate order (IP and other entries are
    /// left out); empty when the certificate has no subjectAltName.
    std::vector<std::string> dns_names = {};
    /// Validity (RFC 5280 §4.1.2.5). A date outside what time_point holds (before 1678 or
    /// after 2261, e.g. the "no expiry" 99991231235959Z) is clamped to time_point::min()/max().
    std::chrono::system_clock::time_point not_before = {};
    std::chrono::system_clock::time_point not_after = {};

    bool operator==(const CertificateInfo&) const = default;
};

/// Reads one DER-encoded X.509 certificate. Throws mbx::Error(data) for anything that is not
/// exactly one certificate (garbage, truncated, trailing bytes, empty, over
/// kMaxCertificateBytes), or whose validity dates cannot be read. Pure.
CertificateInfo parse_certificate_der(std::string_view der);

/// Reads the first certificate ("BEGIN CERTIFICATE" block) of a PEM text; other blocks before
/// it and anything after it are ignored. Throws mbx::Error(data) when there is no readable
/// certificate in it or the text is over kMaxCertificateBytes. Pure.
CertificateInfo parse_certificate_pem(std::string_view pem);

/// Whole days from `now` to not_after, rounded down (negative when expired: -1 from the first
/// second after not_after). Throws nothing. Pure.
std::int64_t days_left(const CertificateInfo& c, std::chrono::system_clock::time_point now);

} // namespace mbx::tls
