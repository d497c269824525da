#include "mbx/ops/diagnose.hpp"

#include "mbx/audit/compat.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/audit_devices.hpp"
#include "mbx/ops/audit_server.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/tls/certificate.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>

namespace mbx::ops::diagnose {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

std::int64_t ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

std::string p(std::string_view s) { return out::printable(s); }

// `items` as printable text joined by `sep`.
template <class Range> std::string joined(const Range& items, std::string_view sep) {
    std::string s;
    for (const auto& item : items) s += (s.empty() ? "" : std::string(sep)) + p(item);
    return s;
}

// A server that answers but whose TLS certificate is not accepted: not "down", and not fixed by
// waiting. The directory, imap and http layers classify a failed handshake or an untrusted
// certificate themselves, and their hint for it (only for it) names the section's ca-file.
bool tls_failure(const Error& e) { return e.hint().find("ca-file") != std::string::npos; }

std::string tls_remedy(std::string_view section) {
    return fmt::format("the server's TLS certificate is not accepted: renew it if it expired, check that it names "
                       "the host, and that [{}] ca-file holds the CA that signed it (devices check the same)",
                       section);
}

std::string date_of(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// A run's command line as people typed it, shortened for a one-line detail.
std::string command_of(const journal::RunRecord& run) {
    std::string s = "mbx " + run.tool;
    for (const auto& a : run.args) {
        if (s.size() > 80) return s + " ...";
        s += " " + p(a);
    }
    return s;
}

// Kinds that only look: a run made of these changed nothing about the user.
bool read_only_kind(std::string_view kind) {
    return kind == "quota.check" || kind.starts_with("diagnose.") || kind.starts_with("audit.") ||
           kind == "ldap.bind" || kind == "ldap.search" || kind == "imap.login";
}

// The folders a device syncs besides INBOX: SPECIAL-USE attribute and the names servers use
// when they do not announce it.
struct NeededFolder {
    std::string_view use;
    std::vector<std::string_view> names;
};
const std::vector<NeededFolder>& needed_folders() {
    static const std::vector<NeededFolder> folders{
        {"\\Drafts", {"Drafts"}},
        {"\\Sent", {"Sent", "Sent Items", "Sent Messages"}},
        {"\\Trash", {"Trash", "Deleted Items", "Deleted Messages"}},
    };
    return folders;
}

class Diagnosis {
public:
    Diagnosis(const config::Config& cfg, const SecretProvider& secrets, const Request& req, journal::Journal* journal)
        : cfg_(cfg), secrets_(secrets), req_(req), journal_(journal) {
        report_.user = req.user;
        const auto days = cfg.get_int("diagnose.certificate-warning-days");
        if (days < 0)
            throw Error(ErrorCategory::config, "[diagnose] certificate-warning-days must be 0 or more",
                        "e.g. certificate-warning-days = 30");
        cert_warning_days_ = days;
    }

    Report run() {
        server_ldap();
        directory_checks();
        server_imap();
        folders();
        quota();
        activesync();
        devices();
        history();
        report_.exit_code = worst_status(report_.findings);
        if (user_missing_) report_.exit_code = combine_exit_codes(report_.exit_code, ExitCode::data);
        return std::move(report_);
    }

private:
    void step(std::string_view name) {
        if (req_.on_check) req_.on_check(name);
    }
    Finding& add(Finding f) {
        report_.findings.push_back(std::move(f));
        return report_.findings.back();
    }
    std::string uid() const { return uid_.empty() ? req_.user : uid_; }

    // ---- server: the certificate of a TLS connection --------------------------------------
    template <class Get> void certificate(const std::string& check, Get&& get, std::string_view server) {
        std::optional<tls::CertificateInfo> cert;
        try {
            cert = get();
        } catch (const Error& e) {
            add({.area = "server", .check = check, .status = Status::warning,
                 .detail = fmt::format("{}: {}", server, e.one_line()),
                 .remedy = "check the certificate with `openssl s_client -showcerts`"});
            return;
        }
        if (!cert) {
            add({.area = "server", .check = check, .status = Status::skipped,
                 .detail = fmt::format("{}: no TLS certificate (plain connection)", server)});
            return;
        }
        const auto days = tls::days_left(*cert, req_.now);
        const std::string what = fmt::format("{} certificate {} expires {}", server, p(cert->subject), date_of(cert->not_after));
        if (days < 0) {
            add({.area = "server", .check = check, .status = Status::failed, .mis = "MIS_5",
                 .detail = fmt::format("{} ({} days ago)", what, -days),
                 .remedy = "renew the certificate: devices refuse an expired one"});
        } else if (days < cert_warning_days_) {
            add({.area = "server", .check = check, .status = Status::warning, .mis = "MIS_5",
                 .detail = fmt::format("{} in {} day{}", what, days, days == 1 ? "" : "s"),
                 .remedy = fmt::format("renew it before {}: devices refuse an expired certificate",
                                       date_of(cert->not_after))});
        } else {
            add({.area = "server", .check = check, .status = Status::ok,
                 .detail = fmt::format("{} in {} days", what, days)});
        }
    }

    // ---- server: LDAP ------------------------------------------------------------------------
    void server_ldap() {
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

    // ---- directory: the entry ------------------------------------------------------------------
    void directory_checks() {
        step("directory");
        if (!dir_) {
            add({.area = "directory", .check = "entry", .status = Status::skipped,
                 .detail = "the directory could not be reached"});
            return;
        }
        try {
            directory_entry();
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::config) throw;
            add({.area = "directory", .check = "entry", .status = Status::failed, .mis = "MIS_5",
                 .detail = "directory search failed: " + e.one_line(),
                 .remedy = "retry; if it persists, check the directory server's log"});
        }
    }

    std::vector<std::string> entry_attributes() const {
        std::vector<std::string> attrs = quota_attributes(cfg_);
        for (const auto& a : split_list(cfg_.get("ldap.alias-attributes"))) attrs.push_back(a);
        if (cfg_.get("reprovision.disable-method") == "attribute") attrs.push_back(cfg_.get("reprovision.disable-attribute"));
        return attrs;
    }

    void directory_entry() {
        const std::string base = cfg_.require("ldap.base");
        const std::string uid_attr = cfg_.get("ldap.uid-attribute");
        // Every entry with this uid, whatever the user filter says: a second one is the classic
        // sign of a provisioning that went wrong.
        std::vector<directory::Entry> same_uid;
        dir_->search(base, directory::Scope::subtree, directory::user_filter("", uid_attr, req_.user),
                     entry_attributes(), [&](const directory::Entry& e) {
                         if (same_uid.size() < 20) same_uid.push_back(e);
                     });
        std::set<std::string> users;
        dir_->search(base, directory::Scope::subtree,
                     directory::user_filter(cfg_.get("ldap.user-filter"), uid_attr, req_.user), {"1.1"},
                     [&](const directory::Entry& e) { users.insert(e.dn); });
        std::sort(same_uid.begin(), same_uid.end(), [](const auto& a, const auto& b) { return a.dn < b.dn; });
        if (same_uid.empty()) {
            user_missing_ = true;
            add({.area = "directory", .check = "entry", .status = Status::failed,
                 .detail = fmt::format("no entry with {} '{}' under {}", uid_attr, p(req_.user), p(base)),
                 .remedy = "check the spelling and [ldap] base; the history below shows whether mbxkit renamed or "
                           "replaced the account"});
            return;
        }
        // The entry to diagnose: the one the user filter selects (the one the mail server uses);
        // of several, the one named by its uid (uid=USER,...), as provisioning names them.
        const std::string rdn = uid_attr + "=" + directory::escape_dn_value(req_.user) + ",";
        auto chosen = std::find_if(same_uid.begin(), same_uid.end(), [&](const auto& e) {
            return users.contains(e.dn) && e.dn.size() > rdn.size() && iequals(e.dn.substr(0, rdn.size()), rdn);
        });
        if (chosen == same_uid.end())
            chosen = std::find_if(same_uid.begin(), same_uid.end(), [&](const auto& e) { return users.contains(e.dn); });
        if (chosen == same_uid.end()) {
            entry_ = same_uid.front();
            add({.area = "directory", .check = "entry", .status = Status::failed, .mis = "MIS_5",
                 .detail = fmt::format("{} has {} '{}' but does not match [ldap] user-filter {}: it is not a mail "
                                       "user for mbxkit (nor, likely, for the mail server)",
                                       p(entry_->dn), uid_attr, p(req_.user), p(cfg_.get("ldap.user-filter"))),
                 .remedy = "give the entry back what the filter needs (objectClass, attributes); if its provisioning "
                           "is damaged beyond that, create a fresh account: `mbx reprovision " + p(req_.user) +
                           " --new-uid NEWUID`"});
        } else {
            entry_ = *chosen;
            add({.area = "directory", .check = "entry", .status = Status::ok, .detail = p(entry_->dn)});
        }
        report_.dn = entry_->dn;
        uid_ = entry_->first(uid_attr).value_or(req_.user);
        if (same_uid.size() > 1) {
            std::vector<std::string> dn_list;
            for (const auto& e : same_uid) dn_list.push_back(e.dn);
            const std::string dns = joined(dn_list, "; ");
            add({.area = "directory", .check = "uid-unique", .status = Status::failed, .mis = "MIS_5",
                 .detail = fmt::format("{} '{}' is on {} entries: {}", uid_attr, p(req_.user), same_uid.size(), dns),
                 .remedy = "a corrupted provisioning: keep the entry the mailbox belongs to, remove or rename the "
                           "other (save it first: ldapsearch -LLL ... > saved.ldif), then `mbx diagnose " +
                           p(req_.user) + "` again"});
        } else {
            add({.area = "directory", .check = "uid-unique", .status = Status::ok,
                 .detail = fmt::format("one entry has {} '{}'", uid_attr, p(req_.user))});
        }
        enabled_check();
        mail_checks(base);
    }

    void enabled_check() {
        const std::string method = cfg_.get("reprovision.disable-method");
        if (method == "attribute") {
            const std::string attr = cfg_.get("reprovision.disable-attribute");
            if (auto v = entry_->first(attr)) {
                add({.area = "directory", .check = "enabled", .status = Status::failed, .mis = "MIS_5",
                     .detail = fmt::format("the account is disabled: {}: {}", attr, p(*v)),
                     .remedy = fmt::format("if it should sync again, remove {} from the entry; if `mbx reprovision` "
                                           "disabled it, the user has a new account (see the history)",
                                           attr)});
                return;
            }
            add({.area = "directory", .check = "enabled", .status = Status::ok,
                 .detail = fmt::format("no {} on the entry", attr)});
        } else if (method == "move") {
            const std::string disabled = cfg_.get("reprovision.disabled-base");
            const std::string dn = entry_->dn;
            const bool under = !disabled.empty() && dn.size() > disabled.size() &&
                               iequals(std::string_view(dn).substr(dn.size() - disabled.size()), disabled) &&
                               dn[dn.size() - disabled.size() - 1] == ',';
            add({.area = "directory", .check = "enabled", .status = under ? Status::failed : Status::ok,
                 .mis = under ? "MIS_5" : "",
                 .detail = under ? fmt::format("the entry is under [reprovision] disabled-base {}", p(disabled))
                                 : fmt::format("not under [reprovision] disabled-base {}", p(disabled)),
                 .remedy = under ? "move it back if it should sync again; if `mbx reprovision` moved it, the user "
                                   "has a new account (see the history)"
                                 : ""});
        } else {
            add({.area = "directory", .check = "enabled", .status = Status::skipped,
                 .detail = "[reprovision] disable-method is none: no account state to check"});
        }
    }

    void mail_checks(const std::string& base) {
        const std::string mail_attr = cfg_.get("ldap.mail-attribute");
        const auto mails = entry_->values(mail_attr);
        if (mails.empty() || mails.front().find('@') == std::string::npos) {
            add({.area = "directory", .check = "mail", .status = Status::failed, .mis = "MIS_5",
                 .detail = mails.empty() ? fmt::format("the entry has no {}", mail_attr)
                                         : fmt::format("{} '{}' is not a mail address", mail_attr, p(mails.front())),
                 .remedy = fmt::format("give the entry its address ({}); ActiveSync provisions a device by it",
                                       mail_attr)});
        } else {
            report_.mail = mails.front();
            add({.area = "directory", .check = "mail", .status = Status::ok, .detail = p(mails.front())});
        }
        // Every address of the entry (main and aliases), on no other entry.
        std::vector<std::string> attrs{mail_attr};
        for (const auto& a : split_list(cfg_.get("ldap.alias-attributes"))) attrs.push_back(a);
        std::vector<std::string> addresses;
        for (const auto& a : attrs)
            for (const auto& v : entry_->values(a))
                if (addresses.size() < 20 && std::find(addresses.begin(), addresses.end(), v) == addresses.end())
                    addresses.push_back(v);
        if (addresses.empty()) return;
        std::string filter = "(|";
        for (const auto& v : addresses)
            for (const auto& a : attrs) filter += "(" + a + "=" + directory::escape_filter_value(v) + ")";
        filter += ")";
        std::vector<directory::Entry> others;
        dir_->search(base, directory::Scope::subtree, filter, attrs, [&](const directory::Entry& e) {
            if (e.dn != entry_->dn && others.size() < 20) others.push_back(e);
        });
        if (others.empty()) {
            add({.area = "directory", .check = "mail-unique", .status = Status::ok,
                 .detail = fmt::format("{} address{} on this entry only", addresses.size(),
                                       addresses.size() == 1 ? "" : "es")});
            return;
        }
        std::string clash;
        for (const auto& o : others)
            for (const auto& a : attrs)
                for (const auto& v : o.values(a))
                    if (std::find(addresses.begin(), addresses.end(), v) != addresses.end())
                        clash += fmt::format("{}{} is also on {}", clash.empty() ? "" : "; ", p(v), p(o.dn));
        add({.area = "directory", .check = "mail-unique", .status = Status::failed, .mis = "MIS_5",
             .detail = clash,
             .remedy = "an address on two entries: remove it from the one that should not have it (a cutover that "
                       "stopped halfway leaves it on both: see the history)"});
    }

    // ---- server: IMAP ----------------------------------------------------------------------------
    void server_imap() {
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
    void reference_login(const Error& failure, std::int64_t latency) {
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
    struct Stop {};

    // ---- folders ---------------------------------------------------------------------------------
    void folders() {
        step("folders");
        if (!imap_) {
            add({.area = "folders", .check = "INBOX", .status = Status::skipped, .detail = "no IMAP login"});
            return;
        }
        std::vector<imap::ListEntry> list;
        try {
            list = imap::list_mailboxes(*imap_);
        } catch (const Error& e) {
            add({.area = "folders", .check = "list", .status = Status::failed, .mis = "MIS_8",
                 .detail = "LIST failed: " + e.one_line(), .remedy = "check the mail server's log for this user"});
            return;
        }
        auto find_name = [&](std::string_view name) -> const imap::ListEntry* {
            for (const auto& e : list)
                if (e.name == name) return &e;
            return nullptr;
        };
        open_folder("INBOX", find_name("INBOX"), "");
        for (const auto& need : needed_folders()) {
            const imap::ListEntry* found = nullptr;
            for (const auto& e : list)
                if (e.has_attribute(need.use)) {
                    found = &e;
                    break;
                }
            if (!found)
                for (auto name : need.names)
                    if ((found = find_name(name))) break;
            open_folder(std::string(need.use.substr(1)), found, need.use);
        }
    }

    void open_folder(const std::string& check, const imap::ListEntry* entry, std::string_view use) {
        const std::string who = p(uid());
        if (!entry) {
            const std::string name = use.empty() ? "INBOX" : std::string(use.substr(1));
            add({.area = "folders", .check = check, .status = Status::failed, .mis = "MIS_8",
                 .detail = use.empty() ? "no INBOX"
                                       : fmt::format("no folder marked {} (nor one named {})", use, name),
                 .remedy = use.empty()
                               ? "the server cannot open the mailbox: check its storage for this user"
                               : fmt::format("create it with the {} use (IMAP CREATE \"{}\" USE ({}), e.g. `doveadm "
                                             "mailbox create -u {} -s {}`); the device recovers on its next sync",
                                             use, name, use, who, name)});
            return;
        }
        const std::string shown = p(entry->name);
        if (entry->has_attribute("\\Noselect") || entry->has_attribute("\\NonExistent")) {
            add({.area = "folders", .check = check, .status = Status::failed, .mis = "MIS_8",
                 .detail = fmt::format("{} cannot be selected (\\Noselect)", shown),
                 .remedy = fmt::format("recreate {} as a real folder (it exists only as a parent)", shown)});
            return;
        }
        try {
            const auto info = imap::select(*imap_, entry->name, /*read_only=*/true);
            add({.area = "folders", .check = check, .status = Status::ok,
                 .detail = fmt::format("{} opens: {} message{}", shown, info.exists, info.exists == 1 ? "" : "s")});
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::unavailable || e.category() == ErrorCategory::temporary) {
                add({.area = "folders", .check = check, .status = Status::failed, .mis = "MIS_5",
                     .detail = fmt::format("the connection broke while opening {}: {}", shown, e.one_line()),
                     .remedy = "retry; check the mail server (`mbx ping`)"});
                imap_.reset();
                return;
            }
            add({.area = "folders", .check = check, .status = Status::failed, .mis = "MIS_8",
                 .detail = fmt::format("{} cannot be opened: {}", shown, e.one_line()),
                 .remedy = fmt::format("the server cannot open {}: check its storage and log for {} (permissions, "
                                       "a damaged index: `doveadm force-resync -u {} '{}'` on Dovecot)",
                                       shown, who, who, shown)});
        }
    }

    // ---- quota ----------------------------------------------------------------------------------
    void quota() {
        step("quota");
        if (user_missing_ || !cfg_.has("imap.uri")) {
            add({.area = "quota", .check = "usage", .status = Status::skipped,
                 .detail = user_missing_ ? "no such user" : "no [imap] uri configured"});
            return;
        }
        QuotaRow row;
        row.user = uid();
        UserInfo info{.uid = uid()};
        Thresholds t = thresholds_from_config(cfg_);
        try {
            if (entry_) info = user_info(*entry_, cfg_);
            t = thresholds_for(info, t);
            read_imap_usage(cfg_, secrets_, info, t, row);
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::config) throw;
            add({.area = "quota", .check = "usage", .status = Status::warning,
                 .detail = "cannot read the usage: " + e.one_line(), .remedy = "`mbx quota check " + p(uid()) + "`"});
            return;
        }
        const std::string usage =
            row.limit_bytes && row.used_bytes
                ? fmt::format("{} of {} ({:.0f}%, from {})", out::human_bytes(*row.used_bytes),
                              out::human_bytes(*row.limit_bytes), row.percent.value_or(0), row.source)
                : row.used_bytes ? fmt::format("{} used, no limit", out::human_bytes(*row.used_bytes)) : "no usage";
        switch (row.tier) {
        case Tier::ok:
        case Tier::no_limit:
            add({.area = "quota", .check = "usage", .status = Status::ok,
                 .detail = fmt::format("{}: {}", usage, tier_name(row.tier))});
            return;
        case Tier::unknown:
            add({.area = "quota", .check = "usage", .status = Status::warning,
                 .detail = "usage unknown: " + row.error, .remedy = "`mbx quota check " + p(uid()) + "`"});
            return;
        default:
            break;
        }
        const std::int64_t used = *row.used_bytes, limit = *row.limit_bytes;
        const std::int64_t need = bytes_to_free(used, limit, t.warning);
        const std::string w = fmt::format("{:g}", t.warning);
        add({.area = "quota", .check = "usage",
             .status = row.tier == Tier::warning ? Status::warning : Status::failed, .mis = "MIS_9",
             .detail = fmt::format("{}: {} tier; {} to free to get under the {}% warning tier", usage,
                                   tier_name(row.tier), out::human_bytes(need), w),
             .remedy = fmt::format("free space: `mbx quota cleanup {} --folder '\\Trash,\\Junk' --older-than 30d "
                                   "--until-below {}` (archived, undoable), or raise the limit: `mbx quota raise {} "
                                   "--to {}M`",
                                   p(uid()), w, p(uid()), limit_for(used, t.warning) >> 20)});
    }

    // ---- server: ActiveSync ---------------------------------------------------------------------
    void activesync() {
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
    void journal_server_versions() {
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

    // ---- devices -------------------------------------------------------------------------------
    void devices() {
        step("devices");
        std::optional<audit::Loaded> loaded;
        std::string source;
        if (!req_.logs.empty()) {
            loaded = audit::load_logs({.logs = req_.logs, .format = req_.log_format});
            source = req_.logs.size() == 1 ? p(req_.logs.front().string()) : fmt::format("{} logs", req_.logs.size());
        } else if (journal_) {
            loaded = audit::load_journal(*journal_);
            if (loaded)
                source = fmt::format("`mbx audit clients` run {} of {}", loaded->from_run, loaded->from_run_started);
        }
        if (!loaded) {
            add({.area = "devices", .check = req_.device.value_or("devices"), .status = Status::skipped,
                 .detail = "no device data: the journal has no `mbx audit clients` run",
                 .remedy = "give the ActiveSync access logs with --log FILE, or run `mbx audit clients --log FILE...`"});
            return;
        }
        std::vector<const audit::DeviceRow*> mine;
        std::set<std::string> seen_ids;
        for (const auto& d : loaded->devices) {
            if (!audit::same_user(d.user, uid(), report_.mail)) continue;
            seen_ids.insert(d.device_id);
            if (req_.device && !iequals(d.device_id, *req_.device)) continue;
            mine.push_back(&d);
        }
        if (mine.empty()) {
            if (req_.device) {
                const std::string ids = joined(seen_ids, ", ");
                add({.area = "devices", .check = p(*req_.device), .status = Status::warning,
                     .detail = fmt::format("device {} of '{}' is not in {}{}", p(*req_.device), p(uid()), source,
                                           ids.empty() ? "" : " (its devices there: " + ids + ")"),
                     .remedy = "check the device id (the phone's ActiveSync settings), or give logs that cover its "
                               "last attempt with --log"});
            } else {
                add({.area = "devices", .check = "devices", .status = Status::skipped,
                     .detail = fmt::format("no ActiveSync device of '{}' in {}", p(uid()), source)});
            }
            return;
        }
        journal_server_versions();
        const std::string server = joined(server_versions_, ",");
        for (const auto* d : mine) {
            const std::string versions = joined(d->versions, ",");
            const std::string who = fmt::format("{} ({}), {} requests, last seen {}", p(audit::client_name(*d)),
                                                p(d->device_type), d->requests,
                                                d->last_seen ? mbx::audit::iso8601(d->last_seen) : "-");
            if (server_versions_.empty()) {
                add({.area = "devices", .check = p(d->device_id), .status = Status::skipped,
                     .detail = fmt::format("{}; versions {}; the server's versions are unknown", who,
                                           versions.empty() ? "-" : versions),
                     .remedy = "set [activesync] url and user (or run `mbx audit server`) to compare versions"});
                continue;
            }
            const auto j = mbx::audit::judge({.seen = {d->versions.begin(), d->versions.end()},
                                              .last = d->last_version,
                                              .family = d->family,
                                              .client_version = d->client_version,
                                              .client = audit::client_name(*d)},
                                             {.versions = server_versions_});
            Finding f{.area = "devices", .check = p(d->device_id),
                      .detail = fmt::format("{}; uses {}, server offers {} (from {}): {}", who,
                                            d->last_version.empty() ? "-" : p(d->last_version), server,
                                            versions_from_, p(j.reason)),
                      .remedy = p(j.remediation)};
            // Unlike compat's question (what happens after a change), diagnose asks what fails
            // now: a device still sending a version the server does not offer is failing today,
            // whatever it could fall back to.
            const bool offered = d->last_version.empty() ||
                                 std::any_of(server_versions_.begin(), server_versions_.end(), [&](const auto& v) {
                                     return mbx::audit::compare_versions(v, d->last_version) == 0;
                                 });
            if (!offered) {
                f.status = Status::failed;
                f.mis = "MIS_2";
                if (!j.best_common.empty())
                    f.remedy = fmt::format("re-create the device partnership on the phone: it keeps the versions of "
                                           "an earlier OPTIONS answer; it will then negotiate {}",
                                           j.best_common);
                add(std::move(f));
                continue;
            }
            switch (j.verdict) {
            case mbx::audit::Verdict::ok: f.status = Status::ok; break;
            case mbx::audit::Verdict::at_risk: f.status = Status::warning; f.mis = "MIS_2"; break;
            case mbx::audit::Verdict::breaks: f.status = Status::failed; f.mis = "MIS_2"; break;
            case mbx::audit::Verdict::unknown:
                f.status = Status::skipped;
                f.remedy = "log the MS-ASProtocolVersion header ($http_ms_asprotocolversion in nginx) to see it";
                break;
            }
            add(std::move(f));
        }
    }

    // ---- history -------------------------------------------------------------------------------
    void history() {
        step("history");
        if (!journal_) {
            add({.area = "history", .check = "journal", .status = Status::skipped, .detail = "no journal"});
            return;
        }
        const auto window = cfg_.get_duration("diagnose.history");
        const auto since = req_.now - window;
        std::vector<journal::SubjectRun> runs;
        for (const auto& subject : std::set<std::string>{req_.user, uid()}) {
            auto more = journal_->runs_about(subject, since, 500);
            for (auto& r : more)
                if (std::none_of(runs.begin(), runs.end(), [&](const auto& x) { return x.run.id == r.run.id; }))
                    runs.push_back(std::move(r));
        }
        std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.run.started_at > b.run.started_at; });
        // Runs that `mbx journal undo` reverted, and by which run.
        undone_by_.clear();
        for (const auto& r : runs) {
            if (r.run.tool != "journal" || r.run.args.empty() || r.run.args[0] != "undo" || r.run.dry_run ||
                r.run.status != journal::RunStatus::ok)
                continue;
            // The RUN operand: the first argument after "undo" that names a run (flags and
            // their values do not).
            for (std::size_t i = 1; i < r.run.args.size(); ++i) {
                const auto& a = r.run.args[i];
                if (a.empty() || a.front() == '-' || (i > 1 && r.run.args[i - 1].starts_with("-"))) continue;
                try {
                    if (auto target = journal_->find_run_by_reference(a)) {
                        undone_by_.try_emplace(target->id, r.run.id);
                        break;
                    }
                } catch (const Error&) {
                }
            }
        }
        std::map<std::string, int> checks; // read-only runs by tool
        const journal::SubjectRun* latest_check = nullptr;
        int shown = 0;
        for (const auto& r : runs) {
            if (r.run.tool == "diagnose") continue; // this very run, and earlier looks
            const bool changed = !r.run.dry_run && std::any_of(r.kinds.begin(), r.kinds.end(),
                                                               [](const auto& k) { return !read_only_kind(k); });
            if (!changed) {
                ++checks[r.run.tool];
                if (!latest_check) latest_check = &r;
                continue;
            }
            if (shown++ >= 10) continue;
            change_finding(r);
        }
        const auto days = std::chrono::duration_cast<std::chrono::hours>(window).count() / 24;
        if (!checks.empty()) {
            std::string by_tool;
            int n = 0;
            for (const auto& [tool, count] : checks) {
                by_tool += fmt::format("{}{} {}", by_tool.empty() ? "" : ", ", count, tool);
                n += count;
            }
            add({.area = "history", .check = "checks", .status = Status::ok,
                 .detail = fmt::format("{} read-only run{} in the last {} days ({}); latest: run {} `{}` at {}", n,
                                       n == 1 ? "" : "s", days, by_tool, latest_check->run.id,
                                       command_of(latest_check->run), latest_check->run.started_at)});
        }
        if (shown > 10)
            add({.area = "history", .check = "more", .status = Status::ok,
                 .detail = fmt::format("{} older changes not shown: `mbx journal list`", shown - 10)});
        if (runs.empty() || (checks.empty() && shown == 0))
            add({.area = "history", .check = "runs", .status = Status::ok,
                 .detail = fmt::format("no mbxkit run about '{}' in the last {} days", p(uid()), days)});
    }

    void change_finding(const journal::SubjectRun& r) {
        const std::string kinds = joined(r.kinds, ",");
        const std::string what = fmt::format("`{}` at {} ({} action{}: {})", command_of(r.run), r.run.started_at,
                                             r.actions, r.actions == 1 ? "" : "s", kinds);
        const std::string id = std::to_string(r.run.id);
        Finding f{.area = "history", .check = "run " + id};
        switch (r.run.status) {
        case journal::RunStatus::running:
            f.status = Status::warning;
            f.detail = fmt::format("{} is still running (pid {} on {})", what, r.run.pid, p(r.run.host));
            f.remedy = "wait for it to finish before changing the account";
            break;
        case journal::RunStatus::interrupted:
            f.status = Status::warning;
            f.detail = what + " was interrupted";
            f.remedy = r.run.tool == "reprovision" || r.run.tool == "merge"
                           ? fmt::format("finish it: `mbx {} --resume {}`, or undo it: `mbx journal undo {}`",
                                         r.run.tool, id, id)
                           : fmt::format("see `mbx journal show {}`; undo with `mbx journal undo {}`", id, id);
            break;
        case journal::RunStatus::failed:
            f.status = Status::warning;
            f.detail = fmt::format("{} failed (exit {})", what, r.run.exit_code.value_or(0));
            f.remedy = r.run.tool == "reprovision" || r.run.tool == "merge"
                           ? fmt::format("see `mbx journal show {}`; fix the cause and `mbx {} --resume {}`", id,
                                         r.run.tool, id)
                           : fmt::format("see `mbx journal show {}`", id);
            break;
        default:
            f.status = Status::ok;
            f.detail = fmt::format("{}: {}", what, journal::to_string(r.run.status));
            if (auto u = undone_by_.find(r.run.id); u != undone_by_.end())
                f.detail += fmt::format(", undone by run {}", u->second);
            else if (r.run.tool != "journal")
                f.remedy = fmt::format("undo if it caused this: `mbx journal undo {}`", id);
            break;
        }
        add(std::move(f));
    }

    const config::Config& cfg_;
    const SecretProvider& secrets_;
    const Request& req_;
    journal::Journal* journal_;
    Report report_;
    std::int64_t cert_warning_days_ = 30;
    std::optional<directory::Directory> dir_;
    std::optional<directory::Entry> entry_;
    std::string uid_;
    bool user_missing_ = false;
    bool ldap_down_ = false;
    std::optional<imap::Connection> imap_;
    std::vector<std::string> server_versions_;
    std::string versions_from_;
    std::map<std::int64_t, std::int64_t> undone_by_; // run -> the `mbx journal undo` run that reverted it
};

} // namespace

std::string_view status_name(Status s) {
    switch (s) {
    case Status::ok: return "ok";
    case Status::warning: return "warning";
    case Status::failed: return "failed";
    case Status::skipped: return "skipped";
    }
    return "unknown";
}

ExitCode worst_status(const std::vector<Finding>& findings) {
    ExitCode worst = ExitCode::ok;
    for (const auto& f : findings) {
        if (f.status == Status::failed) return ExitCode::critical;
        if (f.status == Status::warning) worst = ExitCode::warning;
    }
    return worst;
}

std::int64_t bytes_to_free(std::int64_t used, std::int64_t limit, double warning_percent) {
    if (limit <= 0 || used <= 0) return 0;
    // The tier starts at the threshold itself (classify(): equal is in the tier), so the most
    // that stays below it is one byte under limit * warning / 100.
    const double threshold = static_cast<double>(limit) * warning_percent / 100.0;
    const auto below = static_cast<std::int64_t>(std::ceil(threshold)) - 1;
    return std::max<std::int64_t>(0, used - below);
}

std::int64_t limit_for(std::int64_t used, double warning_percent) {
    constexpr std::int64_t MiB = 1 << 20;
    if (warning_percent <= 0) return MiB;
    // used < limit * warning / 100  <=>  limit > used * 100 / warning
    const auto least = static_cast<std::int64_t>(std::floor(static_cast<double>(used) * 100.0 / warning_percent)) + 1;
    return std::max<std::int64_t>(MiB, (least + MiB - 1) / MiB * MiB);
}

Report diagnose(const Session& session, const Request& request) {
    const config::Config& cfg = session.config;
    const SecretProvider& secrets = session.secrets;
    journal::Journal* journal = session.journal;
    if (request.user.empty())
        throw Error(ErrorCategory::usage, "no user to diagnose", "give the login: mbx diagnose USER");
    if (!cfg.has("ldap.uri") && !cfg.has("imap.uri"))
        throw Error(ErrorCategory::config, "nothing to check: neither [ldap] uri nor [imap] uri is set",
                    "write a configuration file (docs/configuration.md) and pass it with --config");
    return Diagnosis(cfg, secrets, request, journal).run();
}

void journal_findings(journal::Journal& journal, std::int64_t run, const Report& report) {
    auto batch = journal.batch();
    for (const auto& f : report.findings) {
        json after{{"area", f.area}, {"check", f.check}, {"status", std::string(status_name(f.status))},
                   {"mis", f.mis},   {"detail", f.detail}, {"remedy", f.remedy}};
        if (f.latency_ms) after["latency_ms"] = *f.latency_ms;
        journal.add_action(run, {.kind = "diagnose.check",
                                 .subject = report.user,
                                 .after = std::move(after),
                                 .status = f.status == Status::failed ? journal::ActionStatus::failed
                                                                      : journal::ActionStatus::done,
                                 .error = f.status == Status::failed ? std::optional(f.detail) : std::nullopt});
    }
    batch.commit();
}

} // namespace mbx::ops::diagnose
