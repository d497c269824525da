#pragma once
// A small HTTP(S) client on libcurl for admin APIs (Dovecot's doveadm HTTP API) and, later,
// ActiveSync: one request, one response, TLS verified, the response size capped.

#include "mbx/core/error.hpp"
#include "mbx/tls/certificate.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mbx::http {

struct Request {
    std::string method = "GET"; ///< GET, POST, OPTIONS, ...
    std::string url = {};       ///< http:// or https://
    /// "Name: value" lines. Values may be secrets (Authorization): never logged, never in errors.
    std::vector<std::string> headers = {};
    std::string body = {};
    std::string ca_file = {}; ///< PEM CAs for https (empty: the system store)
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
    /// A larger response body is refused with Error(data): a hostile or broken server cannot
    /// make the client allocate without limit.
    std::size_t max_body_bytes = 64u << 20;
    /// Fill Response::certificate with the server's certificate (https only).
    bool want_certificate = false;
};

struct Response {
    long status = 0;
    std::string body = {};
    /// Header lines of the final response, names as sent, values trimmed.
    std::vector<std::pair<std::string, std::string>> headers = {};
    double seconds = 0; ///< total time of the transfer
    /// The certificate the server presented in the TLS handshake, when Request::want_certificate
    /// was set and the URL is https; nullopt otherwise (and for http://).
    std::optional<tls::CertificateInfo> certificate = {};

    /// The first header named `name` (case-insensitive), or an empty string.
    std::string header(std::string_view name) const;
};

/// Sends `request` and returns the response whatever its status (the caller judges 4xx/5xx).
/// Throws mbx::Error: unavailable (refused, unreachable, TLS failure or untrusted certificate —
/// the hint names `what`'s ca-file; an answer that is not HTTP, such as a status line of
/// 999999999999 or random bytes), temporary (timeout), config (bad URL, unreadable CA file),
/// data (body over max_body_bytes, or a certificate asked for that cannot be parsed). `what`
/// names the service in messages ("doveadm API").
/// Thread-safe (one handle per call). Network.
Response perform(const Request& request, std::string_view what);

} // namespace mbx::http
