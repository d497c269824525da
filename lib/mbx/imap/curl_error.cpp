#include "mbx/imap/curl_error.hpp"

#include <curl/curl.h>

namespace mbx::imap::detail {
namespace {

std::string quoted(const std::string& s) { return "'" + s + "'"; }

std::string reason(int code, const std::string& detail) {
    std::string text = curl_easy_strerror(static_cast<CURLcode>(code));
    if (!detail.empty() && detail != text) text += " (" + detail + ")";
    // libcurl capitalises some texts; our messages continue in lower case (but keep "SSL").
    if (text.size() > 1 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'a' && text[1] <= 'z') {
        text[0] = static_cast<char>(text[0] - 'A' + 'a');
    }
    return text;
}

} // namespace

Error curl_open_error(int code, const CurlContext& c) {
    using C = ErrorCategory;
    std::string connect = "cannot connect to " + quoted(c.uri);
    switch (code) {
    case CURLE_LOGIN_DENIED:
        return Error(C::auth, "cannot log in to " + quoted(c.uri) + " as " + c.login + ": authentication failed",
                     c.master ? "check [" + c.section +
                                    "] master-user and master-password-file, and that "
                                    "the server allows master logins"
                              : "check the user name and the password file",
                     code);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
        return Error(C::unavailable,
                     connect +
                         (code == CURLE_PEER_FAILED_VERIFICATION ? ": server certificate not trusted"
                                                                 : ": TLS handshake failed") +
                         (c.detail.empty() ? "" : " (" + c.detail + ")"),
                     "check that [" + c.section +
                         "] ca-file names the CA that signed the server certificate "
                         "and that the certificate matches the host name in [" +
                         c.section + "] uri",
                     code);
    case CURLE_SSL_CACERT_BADFILE:
        return Error(C::config, connect + ": " + reason(code, c.detail),
                     "set [" + c.section +
                         "] ca-file to a readable PEM file with the CA that signed the "
                         "server certificate",
                     code);
    case CURLE_USE_SSL_FAILED:
        return Error(C::unavailable, connect + ": the server does not offer STARTTLS",
                     "use imaps:// or enable STARTTLS on the server; mbxkit never sends "
                     "passwords unencrypted",
                     code);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return Error(C::config, "invalid IMAP URI " + quoted(c.uri), "use imaps://host[:port] or imap://host[:port]",
                     code);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FAILED_INIT: return Error(C::internal, connect + ": " + reason(code, c.detail), "", code);
    default:
        // Refused, unresolvable, timed out, reset, garbled greeting: the server is not usable.
        return Error(C::unavailable, connect + ": " + reason(code, c.detail),
                     "check [" + c.section + "] uri and that the server is running", code);
    }
}

} // namespace mbx::imap::detail
