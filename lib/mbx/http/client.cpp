#include "mbx/http/client.hpp"

#include "mbx/core/text.hpp"
#include "mbx/tls/curl_certificate.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <memory>

namespace mbx::http {
namespace {

void global_init() {
    // curl_global_init is not thread-safe; a function-local static is initialised once.
    static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) throw Error(ErrorCategory::internal, "cannot initialise libcurl");
}

struct Sink {
    Response* response;
    std::size_t max;
    bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    const std::size_t len = size * n;
    if (s->response->body.size() + len > s->max) {
        s->too_large = true;
        return 0; // aborts the transfer (CURLE_WRITE_ERROR)
    }
    s->response->body.append(data, len);
    return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* r = static_cast<Response*>(user);
    const std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) r->headers.clear(); // a new (final or redirected) response
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && r->headers.size() < 200)
        r->headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    return size * n;
}

// The URL without user info or query, for messages.
std::string shown_url(const std::string& url) {
    std::string s = url.substr(0, url.find('?'));
    if (const auto at = s.find('@'); at != std::string::npos)
        if (const auto scheme = s.find("://"); scheme != std::string::npos && scheme < at)
            s.erase(scheme + 3, at - scheme - 2);
    return s;
}

Error invalid_url(const Request& req, std::string_view what) {
    return Error(ErrorCategory::config, fmt::format("invalid URL '{}' for the {}", shown_url(req.url), what),
                 "use http://host:port/path or https://host:port/path");
}

// The URL is judged here, before any transfer, so that libcurl's "unsupported protocol" after
// it can only mean that the server's answer was not HTTP.
void check_url(const Request& req, std::string_view what) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
    if (!u) throw Error(ErrorCategory::internal, "cannot create a libcurl URL handle");
    if (curl_url_set(u.get(), CURLUPART_URL, req.url.c_str(), 0) != CURLUE_OK) throw invalid_url(req, what);
    char* scheme = nullptr;
    if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) throw invalid_url(req, what);
    const bool http = iequals(scheme, "http") || iequals(scheme, "https");
    curl_free(scheme);
    if (!http) throw invalid_url(req, what);
}

Error transfer_error(CURLcode code, const char* detail, const Request& req, std::string_view what) {
    const std::string subject = fmt::format("cannot reach the {} at '{}'", what, shown_url(req.url));
    const std::string text = *detail ? detail : curl_easy_strerror(code);
    switch (code) {
    case CURLE_URL_MALFORMAT: return invalid_url(req, what);
    case CURLE_UNSUPPORTED_PROTOCOL: // the URL passed check_url: the answer was not HTTP
    case CURLE_WEIRD_SERVER_REPLY:
        return Error(ErrorCategory::unavailable,
                     fmt::format("the {} at '{}' did not answer in HTTP: {}", what, shown_url(req.url), text),
                     "check that the URL names the HTTP(S) port of that service", code);
    case CURLE_SSL_CACERT_BADFILE:
        return Error(ErrorCategory::config, fmt::format("cannot read the CA file '{}'", req.ca_file),
                     "check the ca-file setting");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
        return Error(ErrorCategory::unavailable, fmt::format("{}: TLS failed: {}", subject, text),
                     "set the ca-file of that section to the CA that signed the server certificate");
    case CURLE_OPERATION_TIMEDOUT:
        return Error(ErrorCategory::temporary, fmt::format("{}: timed out", subject),
                     "try again later, or raise the timeout setting");
    default:
        return Error(ErrorCategory::unavailable, fmt::format("{}: {}", subject, text),
                     "check that the server runs and the URL is right", code);
    }
}

std::optional<tls::CertificateInfo> certificate_of(CURL* h, const Request& req, std::string_view what) {
    const std::string pem = tls::curl_leaf_certificate_pem(h);
    if (pem.empty()) return std::nullopt;
    try {
        return tls::parse_certificate_pem(pem);
    } catch (const Error& e) {
        constexpr std::string_view kPrefix = "cannot read the certificate: ";
        std::string_view reason = e.what();
        if (reason.starts_with(kPrefix)) reason.remove_prefix(kPrefix.size());
        throw Error(e.category(),
                    fmt::format("cannot read the certificate of the {} at '{}': {}", what, shown_url(req.url), reason),
                    e.hint(), e.library_code());
    }
}

} // namespace

std::string Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return {};
}

Response perform(const Request& req, std::string_view what) {
    global_init();
    check_url(req, what);
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
    if (!h) throw Error(ErrorCategory::internal, "cannot create a libcurl handle");
    CURL* c = h.get();
    Response response;
    Sink sink{&response, req.max_body_bytes};
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_slist* headers = nullptr;
    for (const auto& line : req.headers) headers = curl_slist_append(headers, line.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers, curl_slist_free_all);

    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!req.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, req.ca_file.c_str());
    if (req.want_certificate) curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); // gzip/deflate when the server offers it
    if (req.method == "GET") {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
        if (req.method == "OPTIONS" || req.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        if (!req.body.empty()) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        }
    }
    const CURLcode rc = curl_easy_perform(c);
    if (sink.too_large)
        throw Error(ErrorCategory::data, fmt::format("the {} at '{}' sent more than {} bytes", what, shown_url(req.url),
                                                     req.max_body_bytes));
    if (rc != CURLE_OK) throw transfer_error(rc, errbuf, req, what);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &response.seconds);
    if (req.want_certificate) response.certificate = certificate_of(c, req, what);
    return response;
}

} // namespace mbx::http
