#include "mbx/ops/audit_server.hpp"
#include "mbx/http/client.hpp"
#include "mbx/ops/actions.hpp"

#include "mbx/audit/compat.hpp"
#include "mbx/audit/eas_query.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/core/version.hpp"
#include "mbx/imap/connection.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/connect.hpp"

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <fmt/format.h>

namespace mbx::ops::audit {
namespace {

constexpr std::string_view kEasPath = "/Microsoft-Server-ActiveSync";
constexpr std::size_t kMaxListItems = 64, kMaxItemBytes = 64, kMaxHeaderBytes = 256;

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string bounded(std::string_view value, std::size_t max) { return std::string(value.substr(0, max)); }

bool contains(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

void account_problem(ServerReport& r, std::vector<Finding>& findings, const std::string& user) {
    std::string why;
    switch (r.http_status) {
    case 401: why = "authentication failed (401)"; break;
    case 403: why = "the account is not enabled for ActiveSync or the device is blocked (403)"; break;
    case 456: why = "the account is blocked (456)"; break;
    case 457: why = "the password has expired (457)"; break;
    default: why = fmt::format("HTTP {}", r.http_status);
    }
    findings.push_back({ExitCode::critical, fmt::format("account '{}': {}", out::printable(user), why)});
    r.error = Error(ErrorCategory::auth,
                    fmt::format("cannot authenticate to '{}' as '{}': {}", r.url, out::printable(user), why),
                    "check [activesync] user and password-file (or MBX_ACTIVESYNC_PASSWORD), or --user");
}

void audit_activesync(const config::Config& cfg, const SecretProvider& secrets, const std::string& url,
                      const std::optional<std::string>& user, ServerReport& r) {
    const EasAccess access = eas_access(cfg, secrets, url, user);
    r.url = access.endpoint;
    std::vector<Finding> findings;
    if (starts_with_ci(access.endpoint, "http://"))
        findings.push_back({ExitCode::critical, "plain http: credentials and mail travel unencrypted"});

    // Without credentials first: a server that answers OPTIONS to anyone tells us so.
    http::Request anon_request = eas_request(access, "OPTIONS", "", false);
    anon_request.want_certificate = true;
    const http::Response anon = http::perform(anon_request, "ActiveSync server");
    r.seconds += anon.seconds;
    r.certificate = anon.certificate;
    http::Response resp = anon;
    if (anon.status == 200) {
        findings.push_back({ExitCode::critical, "OPTIONS is answered without authentication"});
    } else if (anon.status == 401) {
        const auto challenge = parse_options_headers(anon).www_authenticate;
        if (starts_with_ci(access.endpoint, "http://") && starts_with_ci(challenge, "basic"))
            findings.push_back({ExitCode::critical, "Basic authentication offered over plain http"});
        if (!access.user.empty()) {
            resp = http::perform(eas_request(access, "OPTIONS", "", true), "ActiveSync server");
            r.seconds += resp.seconds;
        }
    }
    r.http_status = static_cast<int>(resp.status);
    const OptionsHeaders h = parse_options_headers(resp);
    r.http_server = h.http_server;
    r.server_version = h.server_version;
    r.versions = h.versions;
    r.commands = h.commands;
    if (resp.status == 401 && access.user.empty()) {
        findings.push_back({ExitCode::warning, "authentication required and no user given: set [activesync] "
                                               "user or --user to see the versions"});
    } else if (resp.status == 401 || resp.status == 403 || resp.status == 456 || resp.status == 457) {
        account_problem(r, findings, access.user);
    } else if (resp.status == 451) {
        r.redirect = h.location;
        findings.push_back({ExitCode::warning, fmt::format("the server redirects to '{}' (451): audit that URL",
                                                           out::printable(h.location))});
    } else if (resp.status != 200) {
        const auto category = resp.status == 503 ? ErrorCategory::temporary : ErrorCategory::unavailable;
        r.error = Error(category, fmt::format("OPTIONS on '{}' failed: HTTP {}", r.url, resp.status),
                        resp.status == 404 ? "is this an ActiveSync server? give its base URL" : "");
    } else {
        if (r.server_version.empty())
            findings.push_back({ExitCode::warning, "no MS-Server-ActiveSync header: is this an ActiveSync endpoint?"});
        auto v = version_findings(r.versions);
        findings.insert(findings.end(), v.begin(), v.end());
    }
    const ExitCode worst = worst_finding(findings);
    for (auto& f : findings) r.findings.push_back(std::move(f.text));
    r.status = r.error ? r.error->exit_code() : worst;
}

void audit_imap(const config::Config& cfg, const SecretProvider& secrets, const std::string& url,
                const std::optional<std::string>& user, ServerReport& r) {
    r.kind = "imap";
    const std::string login = user ? *user : cfg.get("activesync.user");
    if (login.empty())
        throw Error(ErrorCategory::usage, fmt::format("no user to log in to '{}' as", out::printable(url)),
                    "give --user USER (logged in as the [imap] master user on its behalf)");
    imap::ImapConfig c = imap_master_config(cfg, secrets, login);
    c.uri = url;
    const auto t0 = std::chrono::steady_clock::now();
    imap::Connection conn = imap::Connection::open(c);
    for (const auto& cap : conn.capabilities()) {
        if (r.commands.size() >= kMaxListItems) break;
        r.commands.push_back(bounded(cap, kMaxItemBytes));
        if (cap == "IMAP4REV1" || cap == "IMAP4REV2")
            r.versions.push_back(cap == "IMAP4REV1" ? "IMAP4rev1" : "IMAP4rev2");
    }
    std::vector<Finding> findings;
    if (conn.has_capability("ID")) {
        std::string name, version;
        for (const auto& [k, v] : imap::id(conn, {{"name", "mbxkit"}, {"version", std::string(mbx::version())}})) {
            if (iequals(k, "name")) name = bounded(v, kMaxHeaderBytes);
            if (iequals(k, "version")) version = bounded(v, kMaxHeaderBytes);
        }
        r.server_version = version.empty() ? name : name + " " + version;
    } else {
        findings.push_back({ExitCode::warning, "no ID capability (RFC 2971): the server does not name itself"});
    }
    if (r.versions.empty()) findings.push_back({ExitCode::warning, "neither IMAP4rev1 nor IMAP4rev2 announced"});
    conn.logout();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const ExitCode worst = worst_finding(findings);
    for (auto& f : findings) r.findings.push_back(std::move(f.text));
    r.status = worst;
}

} // namespace

std::vector<std::string> split_header_list(std::string_view value) {
    std::vector<std::string> out;
    while (!value.empty() && out.size() < kMaxListItems) {
        const auto comma = value.find(',');
        const auto item = trim(value.substr(0, comma));
        value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
        if (!item.empty()) out.push_back(bounded(item, kMaxItemBytes));
    }
    return out;
}

OptionsHeaders parse_options_headers(const http::Response& response) {
    OptionsHeaders h;
    h.versions = split_header_list(response.header("MS-ASProtocolVersions"));
    h.commands = split_header_list(response.header("MS-ASProtocolCommands"));
    h.server_version = bounded(trim(response.header("MS-Server-ActiveSync")), kMaxHeaderBytes);
    h.http_server = bounded(trim(response.header("Server")), kMaxHeaderBytes);
    h.location = bounded(trim(response.header("X-MS-Location")), 2048);
    for (const auto& [name, value] : response.headers) {
        if (!iequals(name, "WWW-Authenticate")) continue;
        const auto scheme = trim(value).substr(0, trim(value).find(' '));
        if (!h.www_authenticate.empty()) h.www_authenticate += ",";
        h.www_authenticate += bounded(scheme, kMaxItemBytes);
        if (h.www_authenticate.size() > kMaxHeaderBytes) break;
    }
    return h;
}

std::vector<Finding> version_findings(const std::vector<std::string>& versions) {
    std::vector<Finding> out;
    if (versions.empty()) {
        out.push_back({ExitCode::critical, "no MS-ASProtocolVersions announced"});
        return out;
    }
    std::vector<std::string> legacy, bad, unknown;
    for (const auto& v : versions) {
        if (!mbx::audit::is_version(v)) bad.push_back(out::printable(v));
        else if (!mbx::audit::is_known_version(v)) unknown.push_back(v);
        else if (mbx::audit::compare_versions(v, "12.1") < 0) legacy.push_back(v);
    }
    if (contains(versions, "2.0") || contains(versions, "2.1"))
        out.push_back({ExitCode::critical, "announces 2.0/2.1: clients that pick them fail (broke Outlook 2013)"});
    if (!legacy.empty())
        out.push_back({ExitCode::warning, fmt::format("legacy versions below 12.1 announced: {} (no base64 "
                                                      "query, 449-style provisioning)",
                                                      fmt::join(legacy, ", "))});
    if (!contains(versions, "16.1"))
        out.push_back({ExitCode::warning, "16.1 not announced: Exchange Online's minimum from 2026-03-01 and "
                                          "what iOS speaks; such clients fall back to an older version"});
    if (!unknown.empty())
        out.push_back({ExitCode::warning, fmt::format("unknown versions announced: {}", fmt::join(unknown, ", "))});
    if (!bad.empty())
        out.push_back(
            {ExitCode::warning, fmt::format("malformed version strings announced: {}", fmt::join(bad, ", "))});
    return out;
}

std::string eas_endpoint(std::string_view url) {
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
    if (url.size() >= kEasPath.size() && iequals(url.substr(url.size() - kEasPath.size()), kEasPath))
        return std::string(url);
    return std::string(url) + std::string(kEasPath);
}

void refuse_userinfo(std::string_view url) {
    if (url_has_userinfo(url))
        throw Error(ErrorCategory::usage, "a server URL holds a user name or password ('user:password@'): refused",
                    "give the user with --user and the password in its *-password-file; a password in a URL ends "
                    "up in shell history, logs and the journal");
}

EasAccess eas_access(const config::Config& cfg, const SecretProvider& secrets, const std::string& url,
                     const std::optional<std::string>& user) {
    refuse_userinfo(url);
    EasAccess a;
    const std::string base = url.empty() ? cfg.require("activesync.url") : url;
    if (!starts_with_ci(base, "https://") && !starts_with_ci(base, "http://"))
        throw Error(ErrorCategory::usage, fmt::format("'{}' is not an http(s) URL", out::printable(base)),
                    "give https://host (ActiveSync) or imap(s)://host:port");
    a.endpoint = eas_endpoint(base);
    a.user = user ? *user : cfg.get("activesync.user");
    const bool credentials = !a.user.empty() || cfg.has("activesync.token-file") || std::getenv("MBX_ACTIVESYNC_TOKEN");
    if (starts_with_ci(base, "http://") && credentials && !cfg.get_bool("activesync.allow-plain-http"))
        throw Error(
            ErrorCategory::usage,
            fmt::format("refusing to send the ActiveSync credentials over plain http to '{}'", out::printable(base)),
            "use https://; or, to audit a test server over a trusted network, set [activesync] "
            "allow-plain-http = true (--activesync-allow-plain-http): the password then crosses the "
            "network readable by anyone on the path");
    a.ca_file = cfg.get("activesync.ca-file");
    a.timeout = cfg.get_duration("activesync.timeout");
    if (cfg.has("activesync.token-file") || std::getenv("MBX_ACTIVESYNC_TOKEN")) a.token = secrets(kActiveSyncToken);
    else if (!a.user.empty()) a.password = secrets(kActiveSyncPassword);
    return a;
}

http::Request eas_request(const EasAccess& access, std::string method, std::string_view query, bool with_auth,
                          std::vector<std::string> headers) {
    http::Request req;
    req.method = std::move(method);
    req.url = access.endpoint + std::string(query);
    req.ca_file = access.ca_file;
    req.timeout = access.timeout;
    req.max_body_bytes = 4u << 20;
    req.headers = std::move(headers);
    req.headers.push_back(fmt::format("User-Agent: mbxkit-audit/{}", mbx::version()));
    if (with_auth && !access.token.empty()) req.headers.push_back("Authorization: Bearer " + access.token.reveal());
    else if (with_auth && !access.user.empty())
        req.headers.push_back("Authorization: Basic " + base64_encode(access.user + ":" + access.password.reveal()));
    return req;
}

ExitCode worst_finding(std::vector<Finding>& findings) {
    std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
        return static_cast<int>(a.level) > static_cast<int>(b.level);
    });
    return findings.empty() ? ExitCode::ok : findings.front().level;
}

ServerReport audit_server(const config::Config& cfg, const SecretProvider& secrets, const std::string& url,
                          const std::optional<std::string>& user) {
    refuse_userinfo(url);
    ServerReport r;
    r.url = url;
    r.kind = "activesync";
    try {
        if (starts_with_ci(url, "imap://") || starts_with_ci(url, "imaps://")) audit_imap(cfg, secrets, url, user, r);
        else audit_activesync(cfg, secrets, url, user, r);
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::usage || e.category() == ErrorCategory::config ||
            e.category() == ErrorCategory::internal)
            throw;
        r.error = e;
        r.status = e.exit_code();
    }
    return r;
}

void journal_server(journal::Journal& journal, std::int64_t run, const ServerReport& r) {
    nlohmann::json after{{"kind", r.kind},         {"http_status", r.http_status},
                         {"versions", r.versions}, {"server_version", out::printable(r.server_version)},
                         {"findings", r.findings}, {"status", std::string(out::status_word(r.status))}};
    journal.add_action(run, {.kind = kind::kAuditServer,
                             .subject = r.url,
                             .after = after,
                             .status = r.error ? journal::ActionStatus::failed : journal::ActionStatus::done,
                             .error = r.error ? std::optional(r.error->one_line()) : std::nullopt});
}

} // namespace mbx::ops::audit
