// mbx diagnose: the server checks.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose::detail {

void Diagnosis::server_ldap() {
    step("ldap");
    if (!cfg_.has("ldap.uri")) {
        add({.area = "server", .check = "ldap", .status = Status::skipped, .detail = "no [ldap] uri configured"});
        return;
    }
    const auto t0 = Clock::now();
    try {
        const auto config = ldap_config(cfg_, secrets_);
        dir_.emplace(directory::Directory::connect(config));
        add({.area = "server", .check = "ldap", .status = Status::ok,
             .detail = fmt::format("{} answers; {}", cfg_.get("ldap.uri"), p(bind_description(*dir_, config))),
             .latency_ms = ms_since(t0)});
        certificate("ldap-certificate", [&] { return dir_->peer_certificate(); }, "LDAP");
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::config || e.category() == ErrorCategory::usage) throw;
        if (e.category() == ErrorCategory::auth) {
            add({.area = "server", .check = "ldap", .status = Status::failed, .detail = e.one_line(),
                 .remedy = "mbxkit's own bind was refused: check [ldap] bind-dn and password-file (`mbx ping`)",
                 .latency_ms = ms_since(t0)});
        } else {
            ldap_down_ = !tls_failure(e);
            add({.area = "server", .check = "ldap", .status = Status::failed, .mis = "MIS_5",
                 .detail = "directory unavailable: " + e.one_line(),
                 .remedy = tls_failure(e) ? tls_remedy("ldap")
                                          : "the server side of MIS_5: bring the directory back (`mbx ping`), then "
                                            "let the device retry; nothing is wrong with the account as far as "
                                            "this shows",
                 .latency_ms = ms_since(t0)});
        }
    }
}

void Diagnosis::server_imap() {
    step("imap");
    if (!cfg_.has("imap.uri")) {
        add({.area = "server", .check = "imap-login", .status = Status::skipped, .detail = "no [imap] uri configured"});
        return;
    }
    if (user_missing_) {
        add({.area = "server", .check = "imap-login", .status = Status::skipped,
             .detail = "not tried: the directory has no such user"});
        return;
    }
    const auto t0 = Clock::now();
    try {
        imap::ImapConfig config = imap_master_config(cfg_, secrets_, uid());
        config.want_certificate = true;
        imap_.emplace(imap::Connection::open(config));
        add({.area = "server", .check = "imap-login", .status = Status::ok,
             .detail = fmt::format("{} answers; master login for '{}'", cfg_.get("imap.uri"), p(uid())),
             .latency_ms = ms_since(t0)});
        certificate("imap-certificate", [&] { return imap_->peer_certificate(); }, "IMAP");
        return;
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::config || e.category() == ErrorCategory::usage) throw;
        const auto latency = ms_since(t0);
        if (e.category() != ErrorCategory::auth) {
            add({.area = "server", .check = "imap-login", .status = Status::failed, .mis = "MIS_5",
                 .detail = "IMAP server unavailable: " + e.one_line(),
                 .remedy = tls_failure(e) ? tls_remedy("imap")
                                          : "the server side of MIS_5: bring the mail server back (`mbx ping`), "
                                            "then let the device retry; nothing points at the account",
                 .latency_ms = latency});
            return;
        }
        if (ldap_down_) {
            add({.area = "server", .check = "imap-login", .status = Status::failed, .mis = "MIS_5",
                 .detail = fmt::format("the master login for '{}' is refused ({}) while the directory is down: "
                                       "the mail server cannot look anybody up",
                                       p(uid()), e.one_line()),
                 .remedy = "the server side of MIS_5: bring the directory back, then diagnose again",
                 .latency_ms = latency});
            return;
        }
        reference_login(e, latency);
    }
}

// The master login failed for the user: does it work for somebody else?
void Diagnosis::reference_login(const Error& failure, std::int64_t latency) {
    std::string ref = cfg_.get("diagnose.reference-user");
    if (ref.empty() && dir_) {
        const std::string uid_attr = cfg_.get("ldap.uid-attribute");
        try {
            dir_->search(cfg_.require("ldap.base"), directory::Scope::subtree, cfg_.get("ldap.user-filter"),
                         {uid_attr}, [&](const directory::Entry& e) {
                             auto v = e.first(uid_attr);
                             if (ref.empty() && v && !iequals(*v, uid())) ref = *v;
                             if (!ref.empty()) throw Stop{};
                         });
        } catch (const Stop&) {
        } catch (const Error&) {
        }
    }
    if (ref.empty()) {
        add({.area = "server", .check = "imap-login", .status = Status::failed, .mis = "MIS_5",
             .detail = fmt::format("the master login for '{}' is refused ({}); no other user to compare with",
                                   p(uid()), failure.one_line()),
             .remedy = "set [diagnose] reference-user to a user that works, and run again",
             .latency_ms = latency});
        return;
    }
    try {
        imap::Connection::open(imap_master_config(cfg_, secrets_, ref)).logout();
        add({.area = "server", .check = "imap-login", .status = Status::failed, .mis = "MIS_5",
             .detail = fmt::format("the master login works for '{}' but is refused for '{}': the account is "
                                   "broken, not the server",
                                   p(ref), p(uid())),
             .remedy = "the account side of MIS_5: create a fresh account and merge the mailbox into it: "
                       "`mbx reprovision " + p(uid()) + " --new-uid NEWUID`",
             .latency_ms = latency});
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::auth)
            add({.area = "server", .check = "imap-login", .status = Status::failed,
                 .detail = fmt::format("the master login is refused for '{}' and for '{}' too", p(uid()), p(ref)),
                 .remedy = "mbxkit's own login is wrong, not the account: check [imap] master-user and "
                           "master-password-file (`mbx ping`)",
                 .latency_ms = latency});
        else
            add({.area = "server", .check = "imap-login", .status = Status::failed, .mis = "MIS_5",
                 .detail = fmt::format("the master login for '{}' is refused, and the server fails for '{}' too "
                                       "({})",
                                       p(uid()), p(ref), e.one_line()),
                 .remedy = "the server side of MIS_5: check the mail server (`mbx ping`), then diagnose again",
                 .latency_ms = latency});
    }
}

void Diagnosis::activesync() {
    step("activesync");
    if (!cfg_.has("activesync.url")) {
        add({.area = "server", .check = "activesync", .status = Status::skipped,
             .detail = "no [activesync] url configured"});
        return;
    }
    const auto t0 = Clock::now();
    audit::ServerReport r;
    try {
        r = audit::audit_server(cfg_, secrets_, "", std::nullopt);
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::internal) throw;
        add({.area = "server", .check = "activesync", .status = Status::failed, .detail = e.one_line(),
             .remedy = "fix [activesync] (docs/configuration.md)"});
        return;
    }
    const auto latency = ms_since(t0);
    if (r.error) {
        add({.area = "server", .check = "activesync", .status = Status::failed, .mis = "MIS_5",
             .detail = "ActiveSync endpoint unavailable: " + r.error->one_line(),
             .remedy = tls_failure(*r.error) ? tls_remedy("activesync")
                                             : "the server side of MIS_5: bring the ActiveSync service back (`mbx "
                                               "audit server`), then let the device retry",
             .latency_ms = latency});
    } else {
        const std::string versions = joined(r.versions, ",");
        add({.area = "server", .check = "activesync", .status = Status::ok,
             .detail = fmt::format("{} answers OPTIONS (HTTP {}){}", p(r.url), r.http_status,
                                   versions.empty() ? "" : "; versions " + versions),
             .latency_ms = latency});
        for (const auto& v : r.versions)
            if (mbx::audit::is_version(v)) server_versions_.push_back(v);
        if (!server_versions_.empty()) versions_from_ = "the server's OPTIONS answer";
    }
    if (r.url.starts_with("https://") || r.url.starts_with("HTTPS://"))
        if (r.certificate || !r.error) certificate("activesync-certificate", [&] { return r.certificate; }, "ActiveSync");
}

// The versions the latest `mbx audit server` recorded, when the live check gave none.
void Diagnosis::journal_server_versions() {
    if (!journal_ || !server_versions_.empty()) return;
    for (const auto& run : journal_->list_runs({.tool = "audit", .limit = 200})) {
        if (run.args.empty() || run.args.front() != "server") continue;
        journal_->for_each_action_of_run(run.id, [&](const journal::ActionRecord& a) {
            if (!server_versions_.empty() || a.kind != "audit.server" || !a.after || !a.after->is_object()) return;
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
