#include "mbx/tls/certificate.hpp"

#include "mbx/core/error.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <string>
#include <utility>

namespace mbx::tls {
namespace {

struct X509Deleter {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct BioDeleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct GeneralNamesDeleter {
    void operator()(GENERAL_NAMES* n) const noexcept { GENERAL_NAMES_free(n); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter>;

// The reason OpenSSL queued first for a failure (the root cause; later entries wrap it), and an
// empty queue afterwards: this thread's error queue is shared with libcurl, which must not see
// our leftovers.
std::pair<std::string, unsigned long> take_openssl_error() {
    unsigned long code = ERR_peek_error();
    const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
    ERR_clear_error();
    return {reason != nullptr ? reason : "", code};
}

[[noreturn]] void fail(const std::string& what, bool with_openssl_reason = true) {
    auto [reason, code] = with_openssl_reason ? take_openssl_error() : std::pair<std::string, unsigned long>{};
    std::string message = "cannot read the certificate: " + what;
    if (!reason.empty()) message += " (" + reason + ")";
    throw Error(ErrorCategory::data, message, "", static_cast<std::int64_t>(code));
}

void check_size(std::string_view input, const char* form) {
    if (input.empty()) fail(std::string("the ") + form + " input is empty", false);
    if (input.size() > kMaxCertificateBytes) {
        fail(std::string("the ") + form + " input has " + std::to_string(input.size()) + " bytes, more than the " +
                 std::to_string(kMaxCertificateBytes) + " allowed",
             false);
    }
}

std::string name_text(const X509_NAME* name, const char* which) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) fail(std::string("no memory for its ") + which);
    // RFC 2253 (most specific RDN first, "," between RDNs, special and control characters
    // escaped) but non-ASCII characters as UTF-8 instead of \XX escapes, like
    // `openssl x509 -nameopt RFC2253,-esc_msb`.
    const unsigned long flags = XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB);
    if (X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) fail(std::string("unreadable ") + which);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return size > 0 && data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::chrono::system_clock::time_point time_of(const ASN1_TIME* t, const char* which) {
    using namespace std::chrono;
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) fail(std::string("unreadable ") + which + " date");
    // ASN1_TIME_to_tm has converted to UTC; years 0..9999 fit a 64-bit time_t.
    const std::int64_t secs = ::timegm(&tm);
    constexpr std::int64_t kMaxSecs = duration_cast<seconds>(system_clock::duration::max()).count();
    constexpr std::int64_t kMinSecs = duration_cast<seconds>(system_clock::duration::min()).count();
    if (secs > kMaxSecs) return system_clock::time_point::max();
    if (secs < kMinSecs) return system_clock::time_point::min();
    return system_clock::time_point(duration_cast<system_clock::duration>(seconds(secs)));
}

std::vector<std::string> dns_names_of(const X509* x) {
    int critical = -1;
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &critical, nullptr)));
    if (!names) {
        if (critical == -1) return {}; // no subjectAltName
        // -2: more than one (RFC 5280 §4.2 forbids it); 0/1: present but not decodable.
        fail(critical == -2 ? "it has more than one subjectAltName extension"
                            : "its subjectAltName extension is malformed");
    }
    std::vector<std::string> out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
        if (name == nullptr || name->type != GEN_DNS) continue;
        const ASN1_STRING* s = name->d.dNSName;
        out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
    return out;
}

CertificateInfo info_of(const X509* x) {
    CertificateInfo info;
    info.subject = name_text(X509_get_subject_name(x), "subject");
    info.issuer = name_text(X509_get_issuer_name(x), "issuer");
    info.dns_names = dns_names_of(x);
    info.not_before = time_of(X509_get0_notBefore(x), "notBefore");
    info.not_after = time_of(X509_get0_notAfter(x), "notAfter");
    return info;
}

// Encrypted PEM blocks ("Proc-Type: 4,ENCRYPTED") would make OpenSSL's default callback ask
// for a passphrase on the terminal: a certificate never needs one, so there is none (-1: 0
// would be an empty passphrase that PEM_do_header tries).
int no_passphrase(char*, int, int, void*) { return -1; }

} // namespace

CertificateInfo parse_certificate_der(std::string_view der) {
    check_size(der, "DER");
    const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
    const unsigned char* p = begin;
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!x) fail("it is not a DER-encoded X.509 certificate");
    if (p != begin + der.size()) {
        const std::size_t extra = der.size() - static_cast<std::size_t>(p - begin);
        fail("trailing data after the DER-encoded X.509 certificate (" + std::to_string(extra) +
                 (extra == 1 ? " byte)" : " bytes)"),
             false);
    }
    return info_of(x.get());
}

CertificateInfo parse_certificate_pem(std::string_view pem) {
    check_size(pem, "PEM");
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) fail("no memory for the PEM text");
    X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!x) fail("there is no PEM certificate (BEGIN CERTIFICATE) that can be read");
    ERR_clear_error(); // PEM reading may queue errors for blocks it skipped
    return info_of(x.get());
}

std::int64_t days_left(const CertificateInfo& c, std::chrono::system_clock::time_point now) {
    using namespace std::chrono;
    // In seconds: not_after - now in nanoseconds overflows for a clamped not_after, in seconds
    // the difference of any two time_points fits. not_after is whole seconds (certificates
    // have no fractions), so rounding `now` up keeps the result exact: 0.5 s after not_after
    // is already -1.
    const seconds diff = floor<seconds>(c.not_after).time_since_epoch() - ceil<seconds>(now).time_since_epoch();
    return floor<days>(diff).count();
}

} // namespace mbx::tls
