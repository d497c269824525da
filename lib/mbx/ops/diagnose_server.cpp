// mbx diagnose: the server checks. Gathering (connections, logins, OPTIONS) in the Diagnosis;
// the judges over the facts (diagnose_judge.hpp) below it.
#include "mbx/ops/diagnose_impl.hpp"

#include "mbx/ops/connect.hpp"
#include "mbx/ops/user_schema.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose {

using detail::date_of;
using detail::joined;
using detail::p;
using detail::tls_failure;
using detail::tls_remedy;

Finding judge_certificate(const CertificateFacts& facts) {
    const std::string& check = facts.check;
    const std::string& server = facts.server;
    if (facts.error)
        return {.area = "server",
                .check = check,
                .status = Status::warning,
                .detail = fmt::format("{}: {}", server, facts.error->one_line()),
                .remedy = "check the certificate with `openssl s_client -showcerts`"};
    if (!facts.certificate)
        return {.area = "server",
                .check = check,
                .status = Status::skipped,
                .detail = fmt::format("{}: no TLS certificate (plain connection)", server)};
    const auto& cert = *facts.certificate;
    const auto days = tls::days_left(cert, facts.now);
    const std::string what =
        fmt::format("{} certificate {} expires {}", server, p(cert.subject), date_of(cert.not_after));
    if (days < 0)
        return {.area = "server",
                .check = check,
                .status = Status::failed,
                .mis = "MIS_5",
                .detail = fmt::format("{} ({} days ago)", what, -days),
                .remedy = "renew the certificate: devices refuse an expired one"};
    if (days < facts.warning_days)
        return {.area = "server",
                .check = check,
                .status = Status::warning,
                .mis = "MIS_5",
                .detail = fmt::format("{} in {} day{}", what, days, days == 1 ? "" : "s"),
                .remedy =
                    fmt::format("renew it before {}: devices refuse an expired certificate", date_of(cert.not_after))};
    return {.area = "server", .check = check, .status = Status::ok, .detail = fmt::format("{} in {} days", what, days)};
}

bool directory_down(const LdapFacts& facts) {
    return facts.configured && facts.error && facts.error->category() != ErrorCategory::auth &&
           !tls_failure(*facts.error);
}

std::vector<Finding> judge_ldap(const LdapFacts& facts) {
    if (!facts.configured)
        return {{.area = "server", .check = "ldap", .status = Status::skipped, .detail = "no [ldap] uri configured"}};
    if (!facts.error) {
        std::vector<Finding> found{{.area = "server",
                                    .check = "ldap",
                                    .status = Status::ok,
                                    .detail = fmt::format("{} answers; {}", facts.uri, p(facts.bound_as)),
                                    .latency_ms = facts.latency_ms}};
        if (facts.certificate) found.push_back(judge_certificate(*facts.certificate));
        return found;
    }
    const Error& e = *facts.error;
    if (e.category() == ErrorCategory::auth)
        return {{.area = "server",
                 .check = "ldap",
                 .status = Status::failed,
                 .detail = e.one_line(),
                 .remedy = "mbxkit's own bind was refused: check [ldap] bind-dn and password-file (`mbx ping`)",
                 .latency_ms = facts.latency_ms}};
    return {{.area = "server",
             .check = "ldap",
             .status = Status::failed,
             .mis = "MIS_5",
             .detail = "directory unavailable: " + e.one_line(),
             .remedy = tls_failure(e) ? tls_remedy("ldap")
                                      : "the server side of MIS_5: bring the directory back (`mbx ping`), then "
                                        "let the device retry; nothing is wrong with the account as far as "
                                        "this shows",
             .latency_ms = facts.latency_ms}};
}

namespace {

// The user's master login was refused (auth) and the directory is up: the reference login
// tells a broken account from mbxkit's own login or a failing server.
Finding judge_refused_login(const ImapLoginFacts& facts) {
    const std::string uid = p(facts.uid);
    const Error& failure = *facts.error;
    Finding f{.area = "server", .check = "imap-login", .status = Status::failed, .latency_ms = facts.latency_ms};
    if (facts.reference.empty()) {
        f.mis = "MIS_5";
        f.detail = fmt::format("the master login for '{}' is refused ({}); no other user to compare with", uid,
                               failure.one_line());
        f.remedy = "set [diagnose] reference-user to a user that works, and run again";
    } else if (!facts.reference_error) {
        f.mis = "MIS_5";
        f.detail = fmt::format("the master login works for '{}' but is refused for '{}': the account is "
                               "broken, not the server",
                               p(facts.reference), uid);
        f.remedy = "the account side of MIS_5: create a fresh account and merge the mailbox into it: "
                   "`mbx reprovision " +
                   uid + " --new-uid NEWUID`";
    } else if (facts.reference_error->category() == ErrorCategory::auth) {
        f.detail = fmt::format("the master login is refused for '{}' and for '{}' too", uid, p(facts.reference));
        f.remedy = "mbxkit's own login is wrong, not the account: check [imap] master-user and "
                   "master-password-file (`mbx ping`)";
    } else {
        f.mis = "MIS_5";
        f.detail = fmt::format("the master login for '{}' is refused, and the server fails for '{}' too ({})", uid,
                               p(facts.reference), facts.reference_error->one_line());
        f.remedy = "the server side of MIS_5: check the mail server (`mbx ping`), then diagnose again";
    }
    return f;
}

} // namespace

std::vector<Finding> judge_imap_login(const ImapLoginFacts& facts) {
    if (!facts.configured)
        return {
            {.area = "server", .check = "imap-login", .status = Status::skipped, .detail = "no [imap] uri configured"}};
    if (facts.user_missing)
        return {{.area = "server",
                 .check = "imap-login",
                 .status = Status::skipped,
                 .detail = "not tried: the directory has no such user"}};
    if (!facts.error) {
        std::vector<Finding> found{{.area = "server",
                                    .check = "imap-login",
                                    .status = Status::ok,
                                    .detail = fmt::format("{} answers; master login for '{}'", facts.uri, p(facts.uid)),
                                    .latency_ms = facts.latency_ms}};
        if (facts.certificate) found.push_back(judge_certificate(*facts.certificate));
        return found;
    }
    const Error& e = *facts.error;
    if (e.category() != ErrorCategory::auth)
        return {{.area = "server",
                 .check = "imap-login",
                 .status = Status::failed,
                 .mis = "MIS_5",
                 .detail = "IMAP server unavailable: " + e.one_line(),
                 .remedy = tls_failure(e) ? tls_remedy("imap")
                                          : "the server side of MIS_5: bring the mail server back (`mbx ping`), "
                                            "then let the device retry; nothing points at the account",
                 .latency_ms = facts.latency_ms}};
    if (facts.directory_down)
        return {{.area = "server",
                 .check = "imap-login",
                 .status = Status::failed,
                 .mis = "MIS_5",
                 .detail = fmt::format("the master login for '{}' is refused ({}) while the directory is down: "
                                       "the mail server cannot look anybody up",
                                       p(facts.uid), e.one_line()),
                 .remedy = "the server side of MIS_5: bring the directory back, then diagnose again",
                 .latency_ms = facts.latency_ms}};
    return {judge_refused_login(facts)};
}

std::vector<Finding> judge_activesync(const ActiveSyncFacts& facts) {
    if (!facts.configured)
        return {{.area = "server",
                 .check = "activesync",
                 .status = Status::skipped,
                 .detail = "no [activesync] url configured"}};
    if (facts.setup_error)
        return {{.area = "server",
                 .check = "activesync",
                 .status = Status::failed,
                 .detail = facts.setup_error->one_line(),
                 .remedy = "fix [activesync] (docs/configuration.md)"}};
    std::vector<Finding> found;
    if (facts.error) {
        found.push_back({.area = "server",
                         .check = "activesync",
                         .status = Status::failed,
                         .mis = "MIS_5",
                         .detail = "ActiveSync endpoint unavailable: " + facts.error->one_line(),
                         .remedy = tls_failure(*facts.error)
                                       ? tls_remedy("activesync")
                                       : "the server side of MIS_5: bring the ActiveSync service back (`mbx "
                                         "audit server`), then let the device retry",
                         .latency_ms = facts.latency_ms});
    } else {
        const std::string versions = joined(facts.versions, ",");
        found.push_back({.area = "server",
                         .check = "activesync",
                         .status = Status::ok,
                         .detail = fmt::format("{} answers OPTIONS (HTTP {}){}", p(facts.url), facts.http_status,
                                               versions.empty() ? "" : "; versions " + versions),
                         .latency_ms = facts.latency_ms});
    }
    if (facts.certificate) found.push_back(judge_certificate(*facts.certificate));
    return found;
}

std::vector<std::string> offered_versions(const ActiveSyncFacts& facts) {
    std::vector<std::string> offered;
    if (!facts.configured || facts.setup_error || facts.error) return offered;
    for (const auto& v : facts.versions)
        if (mbx::audit::is_version(v)) offered.push_back(v);
    return offered;
}

} // namespace mbx::ops::diagnose

namespace mbx::ops::diagnose::detail {

void Diagnosis::server_ldap() {
    step("ldap");
    LdapFacts facts{.configured = cfg_.has("ldap.uri"), .uri = cfg_.get("ldap.uri")};
    if (facts.configured) {
        const auto t0 = Clock::now();
        try {
            const auto config = ldap_config(cfg_, secrets_);
            dir_.emplace(directory::Directory::connect(config));
            facts.bound_as = bind_description(*dir_, config);
            try {
                cfg_ = directory_config(*dir_, cfg_); // Active Directory's own attributes and filter
            } catch (const Error& e) {
                if (e.category() == ErrorCategory::config)
                    throw; // a root DSE it may not read: the settings as they are
            }
            facts.latency_ms = ms_since(t0);
            facts.certificate = certificate_facts(
                "ldap-certificate", [&] { return dir_->peer_certificate(); }, "LDAP");
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::config || e.category() == ErrorCategory::usage) throw;
            facts.error = e;
            facts.latency_ms = ms_since(t0);
        }
    }
    ldap_down_ = directory_down(facts);
    add_all(judge_ldap(facts));
}

void Diagnosis::server_imap() {
    step("imap");
    ImapLoginFacts facts{.configured = cfg_.has("imap.uri"),
                         .user_missing = user_missing_,
                         .uri = cfg_.get("imap.uri"),
                         .uid = uid(),
                         .directory_down = ldap_down_};
    if (facts.configured && !facts.user_missing) {
        const auto t0 = Clock::now();
        try {
            imap::ImapConfig config = imap_master_config(cfg_, secrets_, uid());
            config.want_certificate = true;
            imap_.emplace(imap::Connection::open(config));
            imap::require_inbox(*imap_, uid());
            facts.latency_ms = ms_since(t0);
            facts.certificate = certificate_facts(
                "imap-certificate", [&] { return imap_->peer_certificate(); }, "IMAP");
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::config || e.category() == ErrorCategory::usage) throw;
            facts.latency_ms = ms_since(t0);
            facts.error = e;
            if (e.category() == ErrorCategory::auth && !ldap_down_) reference_login(facts);
        }
    }
    add_all(judge_imap_login(facts));
}

// The master login failed for the user: does it work for somebody else?
void Diagnosis::reference_login(ImapLoginFacts& facts) {
    std::string ref = cfg_.get("diagnose.reference-user");
    if (ref.empty() && dir_) {
        const std::string uid_attr = cfg_.get("ldap.uid-attribute");
        try {
            dir_->search(cfg_.require("ldap.base"), directory::Scope::subtree, cfg_.get("ldap.user-filter"), {uid_attr},
                         [&](const directory::Entry& e) {
                             auto v = e.first(uid_attr);
                             if (ref.empty() && v && !iequals(*v, uid())) ref = *v;
                             if (!ref.empty()) throw Stop{};
                         });
        } catch (const Stop&) {
        } catch (const Error&) {
        }
    }
    facts.reference = ref;
    if (ref.empty()) return;
    try {
        imap::Connection::open(imap_master_config(cfg_, secrets_, ref)).logout();
    } catch (const Error& e) {
        facts.reference_error = e;
    }
}

void Diagnosis::activesync() {
    step("activesync");
    ActiveSyncFacts facts{.configured = cfg_.has("activesync.url")};
    if (facts.configured) {
        const auto t0 = Clock::now();
        try {
            audit::ServerReport r = audit::audit_server(cfg_, secrets_, "", std::nullopt);
            facts.latency_ms = ms_since(t0);
            facts.url = r.url;
            facts.http_status = r.http_status;
            facts.versions = r.versions;
            facts.error = r.error;
            if (r.url.starts_with("https://") || r.url.starts_with("HTTPS://"))
                if (r.certificate || !r.error)
                    facts.certificate = certificate_facts(
                        "activesync-certificate", [&] { return r.certificate; }, "ActiveSync");
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::internal) throw;
            facts.setup_error = e;
        }
    }
    server_versions_ = offered_versions(facts);
    if (!server_versions_.empty()) versions_from_ = "the server's OPTIONS answer";
    add_all(judge_activesync(facts));
}

// The versions the latest `mbx audit server` recorded, when the live check gave none.
void Diagnosis::journal_server_versions() {
    if (!journal_ || !server_versions_.empty()) return;
    for (const auto& run : journal_->list_runs({.tool = "audit", .limit = 200})) {
        if (run.args.empty() || run.args.front() != "server") continue;
        journal_->for_each_action_of_run(run.id, [&](const journal::ActionRecord& a) {
            if (!server_versions_.empty() || a.kind != kind::kAuditServer || !a.after || !a.after->is_object()) return;
            if (a.after->value("kind", "") != "activesync") return;
            const auto it = a.after->find("versions");
            if (it == a.after->end() || !it->is_array()) return;
            for (const auto& v : *it)
                if (v.is_string() && mbx::audit::is_version(v.get<std::string>()))
                    server_versions_.push_back(v.get<std::string>());
            if (!server_versions_.empty())
                versions_from_ = fmt::format("`mbx audit server` run {} of {}", run.id, run.started_at);
        });
        if (!server_versions_.empty()) return;
    }
}

} // namespace mbx::ops::diagnose::detail
