#include "mbx/ops/ping.hpp"

#include "mbx/core/output.hpp"
#include "mbx/directory/entry.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/directory/kind.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/ops/user_schema.hpp"

#include <fmt/format.h>

namespace mbx::ops {
namespace {

using Clock = std::chrono::steady_clock;

// Runs one check, timing it and turning an mbx::Error into a failed check (a ping never stops
// at the first failure: an admin wants to see every broken server at once).
template <typename F> PingCheck run_check(std::string service, std::string uri, std::string step, F&& body) {
    PingCheck c;
    c.service = std::move(service);
    c.uri = std::move(uri);
    c.step = std::move(step);
    auto start = Clock::now();
    try {
        c.detail = body();
        c.ok = true;
    } catch (const Error& e) {
        c.detail = e.one_line();
        c.failure = e.category();
    }
    c.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return c;
}

void journal_check(journal::Journal* j, std::optional<std::int64_t> run, const PingCheck& c) {
    if (!j || !run) return;
    nlohmann::json after{{"ok", c.ok}, {"latency_ms", c.latency.count()}, {"detail", c.detail}, {"uri", c.uri}};
    j->add_action(*run, {.kind = c.service + "." + c.step,
                         .subject = c.uri,
                         .after = after,
                         .status = c.ok ? journal::ActionStatus::done : journal::ActionStatus::failed,
                         .error = c.ok ? std::nullopt : std::optional(c.detail)});
}

// The directory: bind, then one paged search of the user base that stops at the first entry
// (enough to prove the base and filter work and to find a user for the IMAP check).
// `user` given: whether the directory has it, in `unknown_user` the error when it does not (the
// IMAP login is then not tried: a master login for a name the server does not know can make a
// mailbox for it, as Cyrus's autocreate does).
void ping_ldap(const config::Config& configured_cfg, const SecretProvider& secrets, PingReport& report,
               std::string& first_user, const std::string& user, std::optional<Error>& unknown_user) {
    const std::string uri = configured_cfg.get("ldap.uri");
    std::optional<directory::Directory> dir;
    config::Config cfg = configured_cfg; // with the kind's defaults once the kind is known
    report.checks.push_back(run_check("ldap", uri, "bind", [&] {
        const auto config = ldap_config(configured_cfg, secrets);
        dir.emplace(directory::Directory::connect(config));
        // Which server it is: a root DSE the bind may not read leaves the kind unknown, not the
        // bind failed.
        const std::string configured = cfg.get("ldap.kind");
        std::string kind;
        try {
            const auto k = directory::directory_kind(*dir, configured);
            cfg = with_kind_defaults(configured_cfg, k);
            kind = fmt::format("{} ({})", directory::directory_kind_name(k),
                               configured.empty() || configured == "auto" ? "root DSE" : "[ldap] kind");
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::config) throw;
            kind = "kind unknown (the root DSE cannot be read: " + e.one_line() + ")";
        }
        return bind_description(*dir, config) + "; " + kind;
    }));
    if (!dir) return;
    report.checks.push_back(run_check("ldap", uri, "search", [&] {
        const std::string base = cfg.require("ldap.base");
        const std::string uid_attr = cfg.get("ldap.uid-attribute");
        std::size_t n = 0;
        dir->search(base, directory::Scope::subtree, cfg.get("ldap.user-filter"), {uid_attr},
                    [&](const directory::Entry& e) {
                        if (first_user.empty()) first_user = e.first(uid_attr).value_or("");
                        ++n;
                    });
        return fmt::format("{} users under {}", n, base);
    }));
    if (user.empty()) return;
    try {
        (void)find_user(*dir, cfg, user, {cfg.get("ldap.uid-attribute")});
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::data) unknown_user = e;
    }
}

void ping_imap(const config::Config& cfg, const SecretProvider& secrets, PingReport& report, const std::string& user,
               const std::optional<Error>& unknown_user) {
    const std::string uri = cfg.get("imap.uri");
    if (user.empty()) {
        report.checks.push_back(
            {"imap", uri, "login", false, {}, "no user to log in as: give --user USER", ErrorCategory::usage});
        return;
    }
    if (unknown_user) {
        report.checks.push_back({"imap",
                                 uri,
                                 "login",
                                 false,
                                 {},
                                 "not tried: " + unknown_user->one_line() +
                                     " (a master login for an unknown name can create a mailbox for it, as Cyrus "
                                     "does with autocreate)",
                                 ErrorCategory::data});
        return;
    }
    report.checks.push_back(run_check("imap", uri, "login", [&] {
        auto conn = imap::Connection::open(imap_master_config(cfg, secrets, user));
        imap::require_inbox(conn, user);
        std::string caps;
        for (std::string_view want :
             {"IMAP4rev2", "IMAP4rev1", "QUOTA", "SPECIAL-USE", "UIDPLUS", "LITERAL+", "MULTIAPPEND"})
            if (conn.has_capability(want)) caps += (caps.empty() ? "" : " ") + std::string(want);
        conn.logout();
        return fmt::format("{} logged in for '{}'; {}", cfg.get("imap.master-user"), out::printable(user), caps);
    }));
}

} // namespace

PingReport ping(const Session& session, const PingRequest& request) {
    const config::Config& cfg = session.config;
    const SecretProvider& secrets = session.secrets;
    journal::Journal* journal = session.journal;
    const auto run_id = session.run_id;
    if (!cfg.has("ldap.uri") && !cfg.has("imap.uri"))
        throw Error(ErrorCategory::config, "nothing to check: neither [ldap] uri nor [imap] uri is set",
                    "write a configuration file (docs/configuration.md) and pass it with --config");
    PingReport report;
    std::string user = request.user;
    std::string found;
    std::optional<Error> unknown_user;
    if (cfg.has("ldap.uri")) ping_ldap(cfg, secrets, report, found, request.user, unknown_user);
    if (user.empty()) user = found;
    if (cfg.has("imap.uri")) ping_imap(cfg, secrets, report, user, unknown_user);
    for (const auto& c : report.checks) {
        journal_check(journal, run_id, c);
        if (c.failure) report.exit_code = combine_exit_codes(report.exit_code, exit_code_for(*c.failure));
    }
    return report;
}

} // namespace mbx::ops
