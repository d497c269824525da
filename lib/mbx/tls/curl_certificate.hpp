#pragma once
// The server certificate libcurl collected with CURLOPT_CERTINFO, for the two layers that talk
// through libcurl (imap, http). <curl/curl.h> stays out of this header: libcurl's CURL is void,
// so a CURL* converts to the void* taken here.

#include <string>

namespace mbx::tls {

/// The "Cert:" item of the first certificate (the leaf) libcurl reported for the last transfer
/// of the easy handle `curl` (a CURL*): PEM with the OpenSSL and GnuTLS backends. Empty when
/// there is none: a plain connection, or CURLOPT_CERTINFO was not set. No side effects.
std::string curl_leaf_certificate_pem(void* curl);

} // namespace mbx::tls
