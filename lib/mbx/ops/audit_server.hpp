#pragma once
// `mbx audit server` (MIS_2): what an ActiveSync endpoint announces in its OPTIONS answer (the
// protocol versions and commands, its build string), judged against what clients need; and
// for imap:// or imaps:// URLs, the IMAP server's CAPABILITY and ID.

#include "mbx/core/config.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/secret.hpp"
#include "mbx/core/session.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/tls/certificate.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mbx::ops::audit {

/// One finding: a line for people and its level (warning or critical).
struct Finding {
    ExitCode level = ExitCode::warning;
    std::string text;
};

/// What one server said.
struct ServerReport {
    std::string url;                                      ///< the URL requested (the endpoint, for ActiveSync)
    std::string kind;                                     ///< "activesync" or "imap"
    int http_status = 0;                                  ///< ActiveSync: the status of the authenticated OPTIONS
    std::vector<std::string> versions;                    ///< MS-ASProtocolVersions; IMAP: IMAP4rev1/IMAP4rev2
    std::vector<std::string> commands;                    ///< MS-ASProtocolCommands; IMAP: the capabilities
    std::string server_version;                           ///< MS-Server-ActiveSync; IMAP: ID name and version
    std::string http_server;                              ///< the Server header (ActiveSync)
    std::string redirect;                                 ///< X-MS-Location of a 451 answer
    double seconds = 0;                                   ///< time of the request(s)
    std::vector<std::string> findings;                    ///< one line each, worst first
    ExitCode status = ExitCode::ok;                       ///< ok, warning, critical by findings; a failure's code
    std::optional<Error> error;                           ///< the failure, when status is a failure
    std::optional<tls::CertificateInfo> certificate = {}; ///< ActiveSync over https: the server's
};

/// The MS-AS headers of an OPTIONS answer, found by name (servers send them in any order).
struct OptionsHeaders {
    std::vector<std::string> versions; ///< items as sent, spaces trimmed (not validated)
    std::vector<std::string> commands;
    std::string server_version;
    std::string http_server;
    std::string location;         ///< X-MS-Location
    std::string www_authenticate; ///< the schemes of the challenge(s)
};

/// A comma-separated header value split into trimmed, non-empty items (at most 64, each cut at
/// 64 bytes: a server cannot make the report grow without limit). Pure.
std::vector<std::string> split_header_list(std::string_view value);

/// The OPTIONS headers of `response`, by name. Pure.
OptionsHeaders parse_options_headers(const http::Response& response);

/// What the announced versions mean for clients: versions below 12.1 (legacy), 2.0/2.1 (broke
/// Outlook 2013), 16.1 missing (Exchange Online's minimum from 2026-03-01; iOS speaks it),
/// malformed or unknown version strings, no versions at all. Pure.
std::vector<Finding> version_findings(const std::vector<std::string>& versions);

/// The ActiveSync endpoint of `url`: `url` itself when it already ends in
/// /Microsoft-Server-ActiveSync (any case), else `url` + that path. Pure.
std::string eas_endpoint(std::string_view url);

/// Audits one server. For http(s) URLs: OPTIONS on eas_endpoint(url), once without credentials
/// (does the server demand authentication?) and once with Basic auth as `user` (default:
/// [activesync] user; the password from [activesync] password-file or MBX_ACTIVESYNC_PASSWORD),
/// TLS verified with [activesync] ca-file, redirects not followed. 451 reports X-MS-Location;
/// 401/403/456/457 with credentials are account problems (status auth). For imap:// and
/// imaps:// URLs: logs in as the [imap] master user on behalf of `user` (IMAP servers announce
/// their full CAPABILITY only after login), then sends CAPABILITY and ID. Never throws for a
/// server's failure: it is in `status` and `error` (an empty `url` and no [activesync] url
/// throws Error(config)). Network.
ServerReport audit_server(const config::Config& cfg, const SecretProvider& secrets, const std::string& url,
                          const std::optional<std::string>& user);

/// One `audit.server` action for `report` (subject the URL; after: kind, http_status, versions,
/// server_version, findings, status; failed with the error when the server failed). Writes the
/// journal.
void journal_server(journal::Journal& journal, std::int64_t run, const ServerReport& report);

/// How to reach and authenticate to an ActiveSync endpoint.
struct EasAccess {
    std::string endpoint; ///< https://host/Microsoft-Server-ActiveSync
    std::string user;     ///< empty: no credentials (unless a token is set)
    Secret password;
    Secret token; ///< an OAuth bearer token: sent instead of Basic auth when set
    std::string ca_file;
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

/// [activesync] settings for `url` (empty: [activesync] url, Error(config) when unset) and
/// `user` (default [activesync] user). Uses a bearer token when [activesync] token-file or
/// MBX_ACTIVESYNC_TOKEN is set; otherwise asks `secrets` for the password, only when there is a
/// user. Throws Error(usage) for a URL that is not http(s)://.
EasAccess eas_access(const config::Config& cfg, const SecretProvider& secrets, const std::string& url,
                     const std::optional<std::string>& user);

/// A request to `access.endpoint` + `query` ("" or "?Cmd=..."), when `with_auth` with
/// `Authorization: Bearer` (a token is set) or Basic auth (a user is set), a User-Agent naming mbxkit, and `headers`.
/// Pure.
http::Request eas_request(const EasAccess& access, std::string method, std::string_view query, bool with_auth,
                          std::vector<std::string> headers = {});

/// Sorts findings worst first and returns the worst level (ok when there are none). Pure.
ExitCode worst_finding(std::vector<Finding>& findings);

/// Throws Error(usage) when `url` holds userinfo (`user:password@`), never echoing it. Pure.
void refuse_userinfo(std::string_view url);

} // namespace mbx::ops::audit
