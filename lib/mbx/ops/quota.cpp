#include "mbx/ops/quota.hpp"
#include "mbx/directory/entry.hpp"
#include "mbx/ops/actions.hpp"
#include "mbx/ops/user_schema.hpp"

#include "mbx/core/input_file.hpp"
#include "mbx/core/text.hpp"

#include "mbx/core/config.hpp"
#include "mbx/core/output.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/quota_server.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <fmt/format.h>

namespace mbx::ops {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

Error bad_quota(std::string_view value, std::string_view why) {
    return Error(ErrorCategory::data, fmt::format("invalid quota value '{}': {}", out::printable(value), why),
                 "fix the user's quota attribute or [ldap] quota-format (bytes or dovecot)");
}

std::int64_t parse_bytes_value(std::string_view value, std::string_view original) {
    try {
        return config::parse_size(value, "quota");
    } catch (const Error&) {
        throw bad_quota(original, "not a size such as 1073741824 or 1G");
    }
}

// A Dovecot quota_rule: `[mailbox:]key=value[:key=value...]`. Only the first storage or bytes
// limit matters for a mailbox limit; messages= and other keys are skipped. Dovecot's quota.c
// multiplies a unitless storage= by 1024 (KiB) and a unitless bytes= by 1.
std::int64_t parse_dovecot_rule(std::string_view rule) {
    std::string_view rest = rule;
    bool first = true;
    while (!rest.empty() || first) {
        const auto colon = rest.find(':');
        std::string_view part = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        const auto eq = part.find('=');
        if (eq == std::string_view::npos) {
            if (!first) throw bad_quota(rule, fmt::format("'{}' is not key=value", out::printable(part)));
            first = false;
            continue; // the mailbox pattern ("*", "INBOX")
        }
        first = false;
        const std::string_view key = trim(part.substr(0, eq)), val = trim(part.substr(eq + 1));
        if (key != "storage" && key != "bytes") continue;
        if (all_digits(val) && val.size() > 15) throw bad_quota(rule, "the limit is too large");
        if (all_digits(val)) return std::stoll(std::string(val)) * (key == "storage" ? 1024 : 1);
        return parse_bytes_value(val, rule);
    }
    throw bad_quota(rule, "no storage= or bytes= limit");
}

// Usage without QUOTA: the sum of STATUS SIZE (RFC 8438) over every selectable mailbox.
std::optional<std::int64_t> usage_from_status(imap::Connection& conn) {
    if (!conn.has_capability("STATUS=SIZE")) return std::nullopt;
    std::int64_t total = 0;
    for (const auto& box : imap::list_mailboxes(conn)) {
        if (box.has_attribute("\\Noselect") || box.has_attribute("\\NonExistent")) continue;
        total += static_cast<std::int64_t>(imap::status(conn, box.name, {"SIZE"}).get("SIZE").value_or(0));
    }
    return total;
}

} // namespace

void validate_thresholds(const Thresholds& t) {
    if (!(t.warning > 0 && t.warning <= t.prohibit_send && t.prohibit_send <= t.prohibit_send_receive))
        throw Error(ErrorCategory::config,
                    fmt::format("invalid [quota] thresholds: warning {}, prohibit-send {}, prohibit-send-receive {}",
                                t.warning, t.prohibit_send, t.prohibit_send_receive),
                    "they must satisfy 0 < warning <= prohibit-send <= prohibit-send-receive");
}

Thresholds thresholds_from_config(const config::Config& cfg) {
    Thresholds t{cfg.get_number("quota.warning"), cfg.get_number("quota.prohibit-send"),
                 cfg.get_number("quota.prohibit-send-receive")};
    validate_thresholds(t);
    return t;
}

std::string_view tier_name(Tier tier) {
    switch (tier) {
    case Tier::ok: return "ok";
    case Tier::warning: return "warning";
    case Tier::prohibit_send: return "prohibit-send";
    case Tier::prohibit_send_receive: return "prohibit-send-receive";
    case Tier::no_limit: return "no-limit";
    case Tier::unknown: break;
    }
    return "unknown";
}

ExitCode tier_severity(Tier tier) {
    switch (tier) {
    case Tier::warning: return ExitCode::warning;
    case Tier::prohibit_send:
    case Tier::prohibit_send_receive: return ExitCode::critical;
    default: return ExitCode::ok;
    }
}

Tier classify(std::optional<std::int64_t> used, std::optional<std::int64_t> limit, const Thresholds& t) {
    if (!used) return Tier::unknown;
    if (!limit || *limit <= 0) return Tier::no_limit;
    const double percent = static_cast<double>(*used) * 100.0 / static_cast<double>(*limit);
    if (percent >= t.prohibit_send_receive) return Tier::prohibit_send_receive;
    if (percent >= t.prohibit_send) return Tier::prohibit_send;
    if (percent >= t.warning) return Tier::warning;
    return Tier::ok;
}

std::int64_t parse_ldap_quota(std::string_view value, std::string_view format) {
    const std::string_view v = trim(value);
    if (v.empty()) throw bad_quota(value, "empty");
    if (format == "bytes") return parse_bytes_value(v, value);
    if (format == "dovecot") return parse_dovecot_rule(v);
    throw Error(ErrorCategory::config, fmt::format("invalid [ldap] quota-format '{}'", out::printable(format)),
                "use bytes or dovecot");
}

directory::Entry find_user(directory::Directory& dir, const config::Config& cfg, const std::string& uid,
                           const std::vector<std::string>& attributes) {
    const UserSchema schema = user_schema(cfg);
    directory::Entry found;
    std::size_t matches = 0;
    dir.search(cfg.require("ldap.base"), directory::Scope::subtree,
               directory::user_filter(schema.lookup_filter, schema.uid_attribute, uid), attributes,
               [&](const directory::Entry& e) {
                   if (matches++ == 0) found = e;
               });
    if (matches == 0)
        throw Error(ErrorCategory::data, fmt::format("no user '{}' in the directory", out::printable(uid)),
                    "check the spelling, [ldap] base and [ldap] user-filter");
    if (matches > 1)
        throw Error(ErrorCategory::data,
                    fmt::format("uid '{}' is not unique ({} entries)", out::printable(uid), matches),
                    "two accounts share a login name: see MIS_5 and `mbx explain 5`");
    return found;
}

std::vector<std::string> quota_attributes(const config::Config& cfg) {
    std::vector<std::string> attrs{cfg.get("ldap.uid-attribute"), cfg.get("ldap.mail-attribute")};
    for (const char* key : {"ldap.quota-attribute", "quota.warning-attribute"})
        if (cfg.has(key) && !cfg.get(key).empty()) attrs.push_back(cfg.get(key));
    return attrs;
}

UserInfo user_info(const directory::Entry& entry, const config::Config& cfg) {
    UserInfo u;
    u.uid = entry.first(cfg.get("ldap.uid-attribute")).value_or("");
    u.mail = entry.first(cfg.get("ldap.mail-attribute")).value_or("");
    if (cfg.has("ldap.quota-attribute") && !cfg.get("ldap.quota-attribute").empty())
        if (auto v = entry.first(cfg.get("ldap.quota-attribute")))
            u.ldap_limit = parse_ldap_quota(*v, cfg.get("ldap.quota-format"));
    if (cfg.has("quota.warning-attribute") && !cfg.get("quota.warning-attribute").empty())
        if (auto v = entry.first(cfg.get("quota.warning-attribute"))) {
            std::string text(trim(*v));
            if (!text.empty() && text.back() == '%') text.pop_back();
            char* end = nullptr;
            const double w = std::strtod(text.c_str(), &end);
            if (!text.empty() && end && *end == '\0' && w > 0) u.warning = w;
            else
                u.note = fmt::format("ignored {} '{}': not a percent", cfg.get("quota.warning-attribute"),
                                     out::printable(*v));
        }
    return u;
}

Thresholds thresholds_for(const UserInfo& user, const Thresholds& t) {
    Thresholds mine = t;
    if (user.warning && *user.warning <= t.prohibit_send) mine.warning = *user.warning;
    return mine;
}

void classify_row(QuotaRow& row, const Thresholds& t) {
    row.percent.reset();
    if (row.used_bytes && row.limit_bytes && *row.limit_bytes > 0)
        row.percent = static_cast<double>(*row.used_bytes) * 100.0 / static_cast<double>(*row.limit_bytes);
    row.tier = classify(row.used_bytes, row.limit_bytes, t);
}

void read_imap_usage(const config::Config& cfg, const SecretProvider& secrets, const UserInfo& user,
                     const Thresholds& t, QuotaRow& row) {
    auto conn = imap::Connection::open(imap_master_config(cfg, secrets, user.uid));
    if (conn.has_capability("QUOTA")) {
        for (const auto& q : imap::get_quota_root(conn, "INBOX").quotas) {
            if (const auto* s = q.find("STORAGE"); s && !row.limit_bytes) {
                row.used_bytes = static_cast<std::int64_t>(s->usage);
                row.limit_bytes = static_cast<std::int64_t>(s->limit);
                row.source = "imap";
            }
            if (const auto* m = q.find("MESSAGE"); m && !row.message_limit) {
                row.messages = static_cast<std::int64_t>(m->usage);
                row.message_limit = static_cast<std::int64_t>(m->limit);
            }
        }
    }
    if (!row.limit_bytes && user.ldap_limit) {
        row.limit_bytes = user.ldap_limit;
        row.source = "ldap";
    }
    if (!row.used_bytes) row.used_bytes = usage_from_status(conn);
    conn.logout();
    if (!row.used_bytes)
        throw Error(ErrorCategory::data,
                    fmt::format("cannot read the usage of '{}': the server has neither QUOTA nor STATUS=SIZE",
                                out::printable(user.uid)),
                    "enable Dovecot's imap_quota plugin or use [quota] backend = doveadm");
    classify_row(row, thresholds_for(user, t));
}

QuotaRow failed_row(std::string user, std::string mail, const Error& e) {
    QuotaRow row;
    row.user = std::move(user);
    row.mail = std::move(mail);
    row.error = e.one_line();
    row.failure = e.exit_code();
    return row;
}

void journal_quota_row(journal::Journal& j, std::int64_t run, const QuotaRow& r) {
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    nlohmann::json after{{"used_bytes", opt(r.used_bytes)},
                         {"limit_bytes", opt(r.limit_bytes)},
                         {"percent", opt(r.percent)},
                         {"tier", std::string(tier_name(r.tier))},
                         {"source", r.source}};
    j.add_action(run, {.kind = kind::kQuotaCheck,
                       .subject = r.user,
                       .after = after,
                       .status = r.tier == Tier::unknown ? journal::ActionStatus::failed : journal::ActionStatus::done,
                       .error = r.error.empty() || r.tier != Tier::unknown ? std::nullopt : std::optional(r.error)});
}

ExitCode check_users(const Session& session, const std::vector<std::string>& users,
                     const std::function<void(const QuotaRow&)>& on_row) {
    const SecretProvider& secrets = session.secrets;
    journal::Journal* journal = session.journal;
    const auto run_id = session.run_id;
    const Thresholds t = thresholds_from_config(session.config);
    auto dir = directory::Directory::connect(ldap_config(session.config, secrets));
    const config::Config cfg = directory_config(dir, session.config);
    // [quota] backend = admin: one admin login for every user; imap (and doveadm, which only
    // sweeps use) a master login per user.
    std::optional<AdminQuotaReader> admin;
    if (cfg.get("quota.backend") == "admin") admin.emplace(cfg, secrets);
    ExitCode overall = ExitCode::ok;
    for (const auto& user : users) {
        session.throw_if_stopped();
        QuotaRow row;
        row.user = user;
        ExitCode code = ExitCode::ok;
        try {
            const UserInfo info = user_info(find_user(dir, cfg, user, quota_attributes(cfg)), cfg);
            row.user = info.uid.empty() ? user : info.uid;
            row.mail = info.mail;
            if (admin) {
                row = std::move(admin->rows({info}, t).front());
                code = row.tier == Tier::unknown ? row.failure : tier_severity(row.tier);
            } else {
                read_imap_usage(cfg, secrets, info, t, row);
                row.error = info.note;
                code = tier_severity(row.tier);
            }
        } catch (const Error& e) {
            // A broken setup is not one user's problem: stop instead of failing every row alike.
            if (e.category() == ErrorCategory::config || e.category() == ErrorCategory::interrupted) throw;
            row = failed_row(row.user, row.mail, e); // no half-read numbers, but what the directory said
            code = e.exit_code();
        }
        if (journal && run_id) journal_quota_row(*journal, *run_id, row);
        on_row(row);
        overall = combine_exit_codes(overall, code);
    }
    return overall;
}

} // namespace mbx::ops
