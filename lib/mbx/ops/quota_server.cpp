#include "mbx/ops/quota_server.hpp"
#include "mbx/ops/user_schema.hpp"

#include "mbx/core/config.hpp"
#include "mbx/core/output.hpp"
#include "mbx/directory/directory.hpp"
#include "mbx/directory/entry.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/actions.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/plan.hpp"

#include <deque>
#include <fmt/format.h>

namespace mbx::ops {
namespace {

// Commands in flight on one admin connection: enough to hide the round trip, few enough that
// the answers (~150 bytes each) never fill the socket buffers while we are still sending.
constexpr std::size_t kWindow = 64;

// The error of a GETQUOTAROOT the server refused for `user`'s mailbox: most often the user has
// no mailbox there (Cyrus: "Mailbox does not exist").
Error mailbox_error(const Error& e, const std::string& user) {
    if (e.category() != ErrorCategory::data) return e;
    return Error(ErrorCategory::data, e.what(),
                 fmt::format("does '{}' have a mailbox on this IMAP server? (the admin sees users' mailboxes in "
                             "its other-users namespace)",
                             out::printable(user)));
}

// The STORAGE resource of `info` (the first root that has one), with that root.
struct StorageOf {
    std::string root;
    const imap::Quota* quota = nullptr; ///< the root's resources
    const imap::QuotaResource* storage = nullptr;
    const imap::QuotaResource* messages = nullptr;
};

StorageOf storage_of(const imap::QuotaRootInfo& info) {
    StorageOf s;
    for (const auto& q : info.quotas) {
        if (std::find(info.roots.begin(), info.roots.end(), q.root) == info.roots.end()) continue;
        if (const auto* r = q.find("STORAGE"); r && !s.storage) {
            s.root = q.root;
            s.quota = &q;
            s.storage = r;
        }
        if (const auto* m = q.find("MESSAGE"); m && !s.messages) s.messages = m;
    }
    return s;
}

// Fills `row` (user and mail already set) from the GETQUOTAROOT answer for `mailbox`.
void fill_row(QuotaRow& row, const UserInfo& user, const std::string& mailbox, const imap::QuotaRootInfo& info,
              const Thresholds& t) {
    const StorageOf s = storage_of(info);
    if (!s.storage)
        throw Error(ErrorCategory::data,
                    fmt::format("mailbox '{}' has no STORAGE quota on the IMAP server, so the admin cannot read its "
                                "usage",
                                out::printable(mailbox)),
                    "give it a limit (mbx quota raise USER --to SIZE), or use [quota] backend = imap");
    row.used_bytes = static_cast<std::int64_t>(s.storage->usage);
    row.limit_bytes = static_cast<std::int64_t>(s.storage->limit);
    if (s.messages) {
        row.messages = static_cast<std::int64_t>(s.messages->usage);
        row.message_limit = static_cast<std::int64_t>(s.messages->limit);
    }
    row.source = "imap-admin";
    row.error = user.note;
    classify_row(row, thresholds_for(user, t));
}

// A logged-in admin connection and what it sees.
struct AdminSession {
    imap::Connection conn;
    imap::Namespaces namespaces;

    static AdminSession open(const config::Config& cfg, const SecretProvider& secrets) {
        auto conn = imap::Connection::open(imap_admin_config(cfg, secrets));
        if (!conn.has_capability("QUOTA"))
            throw Error(ErrorCategory::config,
                        fmt::format("the IMAP server '{}' has no QUOTA capability", out::printable(conn.uri())),
                        "limits cannot be read or set on the server: use [quota] limits = ldap and backend = imap");
        auto ns = imap::namespaces(conn);
        return {std::move(conn), std::move(ns)};
    }
};

std::optional<std::int64_t> json_kib(const nlohmann::json& j, const char* key) {
    if (!j.is_object() || !j.contains(key)) throw Error(ErrorCategory::data, fmt::format("no '{}'", key));
    const auto& v = j.at(key);
    if (v.is_null()) return std::nullopt;
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
        throw Error(ErrorCategory::data, fmt::format("'{}' is not a size in KiB", key));
    return v.get<std::int64_t>();
}

nlohmann::json others_json(const imap::ResourceLimits& others) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, limit] : others) j[name] = limit;
    return j;
}

// The limits of other resources a raise found (absent in a record: none).
imap::ResourceLimits others_of(const nlohmann::json& before) {
    imap::ResourceLimits out;
    if (!before.contains("other")) return out;
    const auto& j = before.at("other");
    if (!j.is_object()) throw Error(ErrorCategory::data, "'other' is not an object");
    for (const auto& [name, limit] : j.items()) {
        if (!limit.is_number_unsigned()) throw Error(ErrorCategory::data, "a limit in 'other' is not a number");
        out.emplace_back(name, limit.get<std::uint64_t>());
    }
    return out;
}

std::string show_kib(std::optional<std::int64_t> kib) {
    return kib ? fmt::format("{} KiB ({})", *kib, out::human_bytes(*kib * 1024)) : std::string("no limit");
}

std::string storage_list(std::optional<std::int64_t> kib) {
    return kib ? fmt::format("(STORAGE {})", *kib) : std::string("()");
}

// The current STORAGE limit of `root` in KiB; nullopt when it has none or no longer exists.
std::optional<std::int64_t> current_kib(imap::Connection& conn, const std::string& root) {
    imap::Quota q;
    try {
        q = imap::get_quota(conn, root);
    } catch (const Error& e) {
        if (e.category() != ErrorCategory::data) throw;
        return std::nullopt; // Cyrus answers NO for a root without limits
    }
    const auto* s = q.find("STORAGE");
    if (!s) return std::nullopt;
    return static_cast<std::int64_t>(s->limit / 1024);
}

} // namespace

LimitsSetting parse_limits(std::string_view text) {
    if (text == "auto" || text.empty()) return LimitsSetting::automatic;
    if (text == "ldap") return LimitsSetting::ldap;
    if (text == "server") return LimitsSetting::server;
    throw Error(ErrorCategory::config, fmt::format("invalid [quota] limits '{}'", out::printable(text)),
                "use auto, ldap or server");
}

std::string_view limits_location_name(LimitsLocation where) {
    return where == LimitsLocation::server ? "server" : "ldap";
}

LimitsLocation resolve_limits(LimitsSetting setting, bool server_is_cyrus, bool has_quota_attribute) {
    switch (setting) {
    case LimitsSetting::ldap: return LimitsLocation::ldap;
    case LimitsSetting::server: return LimitsLocation::server;
    case LimitsSetting::automatic: break;
    }
    if (server_is_cyrus) return LimitsLocation::server; // Cyrus never reads LDAP limits
    return has_quota_attribute ? LimitsLocation::ldap : LimitsLocation::server;
}

LimitsLocation limits_location(const config::Config& cfg, const SecretProvider& secrets) {
    const LimitsSetting setting = parse_limits(cfg.get("quota.limits"));
    const bool has_attribute = cfg.has("ldap.quota-attribute") && !cfg.get("ldap.quota-attribute").empty();
    if (setting != LimitsSetting::automatic || !has_attribute) return resolve_limits(setting, false, has_attribute);
    const std::string configured = cfg.get("imap.server-kind");
    bool cyrus = configured == "cyrus";
    if (configured.empty() || configured == "auto") {
        // Asked over the admin's own login, never a proxy login as the user: Cyrus creates the
        // INBOX of a user at its first login (autocreate), and a check must not. A server that
        // refuses the master user's own login (Dovecot's master users only log in as others)
        // has no admin that could SETQUOTA, so it is not taken for Cyrus.
        std::optional<imap::Connection> conn;
        try {
            conn.emplace(imap::Connection::open(imap_admin_config(cfg, secrets)));
        } catch (const Error& e) {
            if (e.category() != ErrorCategory::auth) throw;
        }
        if (conn) {
            cyrus = imap::server_kind(*conn, configured) == imap::ServerKind::cyrus;
            conn->logout();
        }
    } else if (configured != "dovecot" && configured != "other") {
        throw Error(ErrorCategory::config, fmt::format("invalid imap.server-kind '{}'", out::printable(configured)),
                    "use auto, dovecot, cyrus or other");
    }
    return resolve_limits(setting, cyrus, has_attribute);
}

// ---- reading over admin logins ----------------------------------------------------------------

struct AdminQuotaReader::Impl {
    const config::Config& cfg;
    const SecretProvider& secrets;
    std::optional<AdminSession> session = {};
};

AdminQuotaReader::AdminQuotaReader(const config::Config& cfg, const SecretProvider& secrets)
    : impl_(std::make_unique<Impl>(Impl{cfg, secrets})) {}

AdminQuotaReader::~AdminQuotaReader() = default;

std::vector<QuotaRow> AdminQuotaReader::rows(const std::vector<UserInfo>& users, const Thresholds& t) {
    std::vector<QuotaRow> rows(users.size());
    std::vector<std::string> mailboxes(users.size());
    std::vector<bool> pending(users.size(), false);
    for (std::size_t i = 0; i < users.size(); ++i) {
        rows[i].user = users[i].uid;
        rows[i].mail = users[i].mail;
    }
    auto fail = [&](std::size_t i, const Error& e) {
        rows[i] = failed_row(users[i].uid, users[i].mail, e);
        pending[i] = false;
    };
    try {
        if (!impl_->session) impl_->session = AdminSession::open(impl_->cfg, impl_->secrets);
        for (std::size_t i = 0; i < users.size(); ++i) {
            try {
                mailboxes[i] = imap::other_user_mailbox(impl_->session->namespaces, users[i].uid);
                pending[i] = true;
            } catch (const Error& e) {
                if (e.category() == ErrorCategory::config) throw;
                fail(i, e);
            }
        }
        imap::Connection& conn = impl_->session->conn;
        std::deque<std::pair<std::size_t, std::string>> in_flight; // user index, tag
        auto finish_one = [&] {
            const auto [i, tag] = in_flight.front();
            in_flight.pop_front();
            const imap::Response r = conn.wait(tag);
            try {
                fill_row(rows[i], users[i], mailboxes[i], imap::quota_root_result(mailboxes[i], r), t);
                pending[i] = false;
            } catch (const Error& e) {
                fail(i, mailbox_error(e, users[i].uid));
            }
        };
        for (std::size_t i = 0; i < users.size(); ++i) {
            if (!pending[i]) continue;
            if (in_flight.size() >= kWindow) finish_one();
            in_flight.emplace_back(i, conn.submit(imap::get_quota_root_command(mailboxes[i])));
        }
        while (!in_flight.empty()) finish_one();
    } catch (const Error& e) {
        // The connection could not be opened or broke: every user not read yet gets its error,
        // and the next batch logs in again.
        impl_->session.reset();
        for (std::size_t i = 0; i < users.size(); ++i)
            if (pending[i] || e.category() == ErrorCategory::config) fail(i, e);
    }
    return rows;
}

// ---- raise and undo ---------------------------------------------------------------------------

std::uint64_t storage_kib_of(std::int64_t bytes) {
    return bytes <= 0 ? 0 : static_cast<std::uint64_t>(bytes / 1024 + (bytes % 1024 != 0 ? 1 : 0));
}

RestoreDecision decide_server_restore(std::optional<std::int64_t> current, std::optional<std::int64_t> before,
                                      std::optional<std::int64_t> after) {
    if (current == after) return RestoreDecision::restore;
    if (current == before) return RestoreDecision::already;
    return RestoreDecision::conflict;
}

namespace {

void add_detail(RaiseRow& row, const std::string& text) { row.detail += (row.detail.empty() ? "" : "; ") + text; }

// What a server raise found and plans: the row, and the limits in KiB.
struct ServerPlan {
    std::optional<std::int64_t> old_kib = {};
    std::int64_t new_kib = 0;
    imap::ResourceLimits others = {}; ///< kept as they are: SETQUOTA drops the limits it does not name
};

// The read-only part as the admin: the mailbox, its root and limit, the new limit. Fills `row`.
ServerPlan plan_server_row(AdminSession& admin, const RaiseRequest& req, bool dry_run, RaiseRow& row) {
    row.mailbox = imap::other_user_mailbox(admin.namespaces, row.user);
    imap::QuotaRootInfo info;
    try {
        info = imap::get_quota_root(admin.conn, row.mailbox);
    } catch (const Error& e) {
        throw mailbox_error(e, row.user);
    }
    const StorageOf found = storage_of(info);
    // No root with a STORAGE limit: SETQUOTA on the mailbox's own name creates one (Cyrus).
    row.quota_root = found.storage ? found.root : (info.roots.empty() ? row.mailbox : info.roots.front());
    ServerPlan plan;
    if (found.quota)
        for (const auto& r : found.quota->resources)
            if (r.name != "STORAGE") plan.others.emplace_back(r.name, r.limit);
    if (found.storage) {
        plan.old_kib = static_cast<std::int64_t>(found.storage->limit / 1024);
        row.old_bytes = *plan.old_kib * 1024;
        row.old_values = {storage_list(plan.old_kib)};
    }
    const std::int64_t wanted = plan_new_limit(row.old_bytes, req.to, req.by);
    plan.new_kib = static_cast<std::int64_t>(storage_kib_of(wanted));
    row.new_bytes = plan.new_kib * 1024;
    row.new_value = storage_list(plan.new_kib);
    row.attribute = "STORAGE";
    const bool lower = row.old_bytes && row.new_bytes < *row.old_bytes;
    if (plan.old_kib && *plan.old_kib == plan.new_kib) row.result = RaiseResult::unchanged;
    else if (dry_run) row.result = lower ? RaiseResult::would_lower : RaiseResult::would_raise;
    else row.result = lower ? RaiseResult::lowered : RaiseResult::raised;
    if (lower)
        add_detail(row, fmt::format("warning: the new limit is lower than the current one, {}",
                                    out::human_bytes(*row.old_bytes)));
    if (row.new_bytes != wanted)
        add_detail(row, fmt::format("rounded up to {} KiB (STORAGE counts whole KiB)", plan.new_kib));
    return plan;
}

// GETQUOTA of the root as the admin after the change. Never throws: the change is made, and not
// being able to confirm it is a warning.
void verify_server_row(imap::Connection& conn, RaiseRow& row) {
    try {
        const imap::Quota q = imap::get_quota(conn, row.quota_root);
        if (const auto* s = q.find("STORAGE")) {
            row.server_limit_bytes = static_cast<std::int64_t>(s->limit);
            row.used_bytes = static_cast<std::int64_t>(s->usage);
        }
        row.verified = row.server_limit_bytes == row.new_bytes ? "match" : "mismatch";
    } catch (const Error& e) {
        row.verified = "failed";
        add_detail(row, "changed on the server, but cannot read it back: " + e.one_line());
    }
    if (row.verified != "match") row.status = ExitCode::warning;
    if (row.verified == "mismatch")
        add_detail(row, row.server_limit_bytes
                            ? fmt::format("the server now reports {}", out::human_bytes(*row.server_limit_bytes))
                            : std::string("the server reports no STORAGE limit"));
    if (row.used_bytes && *row.used_bytes > row.new_bytes)
        add_detail(row, fmt::format("warning: usage {} is above the new limit", out::human_bytes(*row.used_bytes)));
}

} // namespace

RaiseRow raise_server_quota(const Session& session, const RaiseRequest& req) {
    const config::Config& cfg = session.config;
    plan_new_limit(std::int64_t{0}, req.to, req.by); // the sizes, before any network
    RaiseRow row;
    {
        auto dir = directory::Directory::connect(ldap_config(cfg, session.secrets));
        const config::Config dcfg = directory_config(dir, cfg);
        const auto entry = find_user(dir, dcfg, req.user, {dcfg.get("ldap.uid-attribute")});
        row.user = entry.first(dcfg.get("ldap.uid-attribute")).value_or(req.user);
    }
    row.where = std::string(limits_location_name(LimitsLocation::server));
    AdminSession admin = AdminSession::open(cfg, session.secrets);
    const ServerPlan plan = plan_server_row(admin, req, session.dry_run, row);
    PlannedAction change{.kind = kind::kQuotaRaiseServer,
                         .subject = row.user,
                         .before =
                             nlohmann::json{{"mailbox", row.mailbox},
                                            {"root", row.quota_root},
                                            {"storage_kib", plan.old_kib ? nlohmann::json(*plan.old_kib) : nullptr},
                                            {"other", others_json(plan.others)}},
                         .after = nlohmann::json{{"storage_kib", plan.new_kib}}};
    if (row.result == RaiseResult::unchanged) {
        row.verified = "skipped";
        row.detail = fmt::format("the STORAGE limit of '{}' is already {}", out::printable(row.quota_root),
                                 show_kib(plan.new_kib));
    } else {
        change.apply = [&] {
            imap::set_quota(admin.conn, row.quota_root, static_cast<std::uint64_t>(plan.new_kib), plan.others);
        };
        if (session.dry_run) {
            row.verified = "skipped";
            row.detail = fmt::format("would SETQUOTA {} {} (was {})", out::printable(row.quota_root),
                                     storage_list(plan.new_kib), show_kib(plan.old_kib)) +
                         (row.detail.empty() ? "" : "; " + row.detail);
        }
    }
    if (ops::apply(session, {change}).front() == Applied::done) verify_server_row(admin.conn, row);
    try {
        admin.conn.logout();
    } catch (const Error&) {
        // the change is made and journaled; a failed LOGOUT changes nothing
    }
    return row;
}

UndoOutcome undo_quota_raise_server(UndoContext& ctx, const journal::ActionRecord& action) {
    UndoOutcome o{.action_id = action.id, .kind = action.kind, .subject = action.subject};
    const nlohmann::json before = action.before.value_or(nlohmann::json{});
    const nlohmann::json after = action.after.value_or(nlohmann::json{});
    std::string root;
    std::optional<std::int64_t> before_kib, after_kib;
    imap::ResourceLimits others;
    try {
        if (!before.is_object() || !before.contains("root") || !before.at("root").is_string())
            throw Error(ErrorCategory::data, "no 'root'");
        root = before.at("root").get<std::string>();
        before_kib = json_kib(before, "storage_kib");
        after_kib = json_kib(after, "storage_kib");
        others = others_of(before);
    } catch (const Error& e) {
        o.detail =
            fmt::format("the journal record is not one of mbx quota raise ({}): restore the limit by hand", e.what());
        return o;
    }
    auto& slot = ctx.state("imap-admin");
    if (!slot)
        slot = std::make_shared<imap::Connection>(imap::Connection::open(imap_admin_config(ctx.cfg, ctx.secrets)));
    imap::Connection& conn = *std::static_pointer_cast<imap::Connection>(slot);

    const auto current = current_kib(conn, root);
    const auto decision = decide_server_restore(current, before_kib, after_kib);
    if (decision == RestoreDecision::already) {
        o.result = UndoResult::already;
        o.detail = fmt::format("the STORAGE limit of '{}' is already {}", out::printable(root), show_kib(before_kib));
        return o;
    }
    std::string forced;
    if (decision == RestoreDecision::conflict) {
        if (!ctx.force) {
            o.result = UndoResult::conflict;
            o.detail = fmt::format("the STORAGE limit of '{}' is now {}, not {} as the run left it; left alone (use "
                                   "--force)",
                                   out::printable(root), show_kib(current), show_kib(after_kib));
            return o;
        }
        forced = fmt::format(" (forced: it was {}, not {})", show_kib(current), show_kib(after_kib));
    }
    const std::string what =
        before_kib ? fmt::format("restore the STORAGE limit of '{}' to {}", out::printable(root), show_kib(before_kib))
                   : fmt::format("remove the STORAGE limit of '{}'", out::printable(root));
    if (ctx.dry_run) {
        o.result = UndoResult::would_undo;
        o.detail = "would " + what + forced;
        return o;
    }
    imap::set_quota(conn, root,
                    before_kib ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(*before_kib)) : std::nullopt,
                    others);
    o.result = UndoResult::undone;
    o.detail = (before_kib ? fmt::format("restored the STORAGE limit of '{}' to {}", out::printable(root),
                                         show_kib(before_kib))
                           : fmt::format("removed the STORAGE limit of '{}'", out::printable(root))) +
               forced;
    return o;
}

} // namespace mbx::ops
