#include "mbx/ops/quota_raise.hpp"

#include "mbx/directory/entry.hpp"
#include "mbx/ops/actions.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/plan.hpp"
#include "mbx/core/text.hpp"

#include "mbx/core/config.hpp"
#include "mbx/core/output.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/ops/user_schema.hpp"
#include "mbx/ops/quota_server.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <limits>
#include <memory>

namespace mbx::ops {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// A storage= value with a unit: the largest unit that divides `bytes` exactly, as Dovecot's
// quota plugin parses only integers followed by one of B, K, M, G, T.
std::string storage_with_unit(std::int64_t bytes) {
    static constexpr std::pair<char, std::int64_t> kUnits[] = {
        {'T', std::int64_t{1} << 40}, {'G', std::int64_t{1} << 30}, {'M', std::int64_t{1} << 20}, {'K', 1024}};
    for (auto [unit, size] : kUnits)
        if (bytes % size == 0) return fmt::format("{}{}", bytes / size, unit);
    return fmt::format("{}B", bytes);
}

std::string storage_value(std::string_view old_value, std::int64_t bytes) {
    if (all_digits(trim(old_value))) // unitless storage= is KiB in Dovecot
        return bytes % 1024 == 0 ? std::to_string(bytes / 1024) : fmt::format("{}B", bytes);
    return storage_with_unit(bytes);
}

// Replaces the value of the first storage=/bytes= key of a Dovecot quota_rule, keeping the
// mailbox pattern and every other part as it was (the same part parse_ldap_quota reads).
std::string replace_in_rule(std::string_view rule, std::int64_t bytes) {
    std::vector<std::string> parts;
    for (std::string_view rest = rule;;) {
        const auto colon = rest.find(':');
        parts.emplace_back(rest.substr(0, colon));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    bool replaced = false;
    for (auto& part : parts) {
        const auto eq = part.find('=');
        if (eq == std::string::npos) continue;
        const std::string key(trim(std::string_view(part).substr(0, eq)));
        if (key != "storage" && key != "bytes") continue;
        const std::string_view old = std::string_view(part).substr(eq + 1);
        part = key + "=" + (key == "bytes" ? std::to_string(bytes) : storage_value(old, bytes));
        replaced = true;
        break;
    }
    if (!replaced)
        throw Error(ErrorCategory::data,
                    fmt::format("quota rule '{}' has no storage= or bytes= limit to change", out::printable(rule)),
                    "set the limit by hand, or use --to after fixing the attribute");
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ":" : "") + parts[i];
    return out;
}

std::string describe(std::int64_t bytes) { return fmt::format("{} ({})", bytes, out::human_bytes(bytes)); }

// The read-only part: the entry, its current value, the new value. Fills `row`.
void plan_row(directory::Directory& dir, const config::Config& cfg, const RaiseRequest& req, bool dry_run,
              RaiseRow& row) {
    row.attribute = cfg.require("ldap.quota-attribute");
    const std::string format = cfg.get("ldap.quota-format");
    if (format != "bytes" && format != "dovecot")
        throw Error(ErrorCategory::config, fmt::format("invalid [ldap] quota-format '{}'", out::printable(format)),
                    "use bytes or dovecot");
    const auto entry = find_user(dir, cfg, req.user, {cfg.get("ldap.uid-attribute"), row.attribute});
    row.user = entry.first(cfg.get("ldap.uid-attribute")).value_or(req.user);
    row.dn = entry.dn;
    row.old_values = entry.values(row.attribute);
    if (row.old_values.size() > 1)
        throw Error(
            ErrorCategory::data,
            fmt::format("'{}' has {} values of {}", out::printable(row.dn), row.old_values.size(), row.attribute),
            "mbx quota raise changes a single-valued quota attribute only: fix the entry by hand");
    std::optional<std::string_view> old_value;
    if (!row.old_values.empty()) {
        old_value = row.old_values.front();
        row.old_bytes = parse_ldap_quota(*old_value, format);
    }
    row.new_bytes = plan_new_limit(row.old_bytes, req.to, req.by);
    row.new_value = format_quota_value(old_value, row.new_bytes, format);
    const bool lower = row.old_bytes && row.new_bytes < *row.old_bytes;
    if (row.old_bytes && row.new_bytes == *row.old_bytes) row.result = RaiseResult::unchanged;
    else if (dry_run) row.result = lower ? RaiseResult::would_lower : RaiseResult::would_raise;
    else row.result = lower ? RaiseResult::lowered : RaiseResult::raised;
    if (lower)
        row.detail =
            fmt::format("warning: the new limit is lower than the current one, {}", out::human_bytes(*row.old_bytes));
}

// GETQUOTAROOT INBOX as the user: what Dovecot now applies. Never throws: the change is done,
// and not being able to confirm it is a warning.
void verify_row(const config::Config& cfg, const SecretProvider& secrets, RaiseRow& row) {
    auto add = [&](const std::string& text) { row.detail += (row.detail.empty() ? "" : "; ") + text; };
    imap::ServerKind kind = imap::ServerKind::other;
    try {
        auto conn = imap::Connection::open(imap_master_config(cfg, secrets, row.user));
        if (!conn.has_capability("QUOTA")) {
            row.verified = "no-quota";
            add("the IMAP server has no QUOTA capability: the new limit cannot be confirmed there");
            conn.logout();
            return;
        }
        for (const auto& q : imap::get_quota_root(conn, "INBOX").quotas)
            if (const auto* s = q.find("STORAGE"); s && !row.server_limit_bytes) {
                row.server_limit_bytes = static_cast<std::int64_t>(s->limit);
                row.used_bytes = static_cast<std::int64_t>(s->usage);
            }
        if (!row.server_limit_bytes || !server_limit_matches(*row.server_limit_bytes, row.new_bytes))
            kind = imap::server_kind(conn, cfg.get("imap.server-kind")); // for the advice
        conn.logout();
    } catch (const Error& e) {
        row.verified = "failed";
        row.status = ExitCode::warning;
        add("changed in the directory, but cannot read the limit from the IMAP server: " + e.one_line());
        return;
    }
    if (row.server_limit_bytes && server_limit_matches(*row.server_limit_bytes, row.new_bytes)) {
        row.verified = "match";
    } else {
        row.verified = "mismatch";
        row.status = ExitCode::warning;
        if (kind == imap::ServerKind::cyrus)
            add("the IMAP server is Cyrus, which keeps limits itself and ignores LDAP: set [quota] limits = server "
                "(or auto), undo this run, and raise again");
        else if (row.server_limit_bytes)
            add(kind == imap::ServerKind::dovecot
                    ? fmt::format("the IMAP server still reports {} (it may cache user data: check again after "
                                  "`doveadm auth cache flush`)",
                                  out::human_bytes(*row.server_limit_bytes))
                    : fmt::format("the IMAP server still reports {} (it may cache user data: check again later)",
                                  out::human_bytes(*row.server_limit_bytes)));
        else add("the IMAP server reports no STORAGE limit for INBOX");
    }
    if (row.used_bytes && *row.used_bytes > row.new_bytes)
        add(fmt::format("warning: usage {} is above the new limit", out::human_bytes(*row.used_bytes)));
}

nlohmann::json before_json(const RaiseRow& row) {
    return {{"dn", row.dn},
            {"attribute", row.attribute},
            {"values", row.old_values},
            {"bytes", row.old_bytes ? nlohmann::json(*row.old_bytes) : nlohmann::json(nullptr)}};
}

nlohmann::json after_json(const RaiseRow& row) {
    return {{"values", std::vector<std::string>{row.new_value}}, {"bytes", row.new_bytes}};
}

// Writes the change: planned action first, so a crash between the modify and the journal
// update leaves a record undo can reason about (it compares the entry with both states).
std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<std::string> string_values(const nlohmann::json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j.at(key).is_array())
        throw Error(ErrorCategory::data, fmt::format("the journal record has no '{}' list", key),
                    "the action was not written by mbx quota raise: restore the value by hand");
    std::vector<std::string> out;
    for (const auto& v : j.at(key)) {
        if (!v.is_string())
            throw Error(ErrorCategory::data, fmt::format("the journal record's '{}' holds a non-string", key));
        out.push_back(v.get<std::string>());
    }
    return out;
}

std::string show_values(const std::vector<std::string>& values) {
    if (values.empty()) return "(none)";
    std::string s;
    for (const auto& v : values) s += (s.empty() ? "" : ", ") + out::printable(v);
    return s;
}

// Exactly one of --to/--by, and a positive size: checked before any network.
void check_sizes(std::optional<std::int64_t> to, std::optional<std::int64_t> by) {
    if (to.has_value() == by.has_value())
        throw Error(ErrorCategory::usage, "give exactly one of --to SIZE and --by SIZE",
                    "--to sets the new limit, --by adds to the current one");
    const std::int64_t size = to ? *to : *by;
    if (size <= 0)
        throw Error(ErrorCategory::usage, fmt::format("{} must be a positive size, not {}", to ? "--to" : "--by", size),
                    "e.g. 2G or 500M");
}

} // namespace

std::int64_t plan_new_limit(std::optional<std::int64_t> current, std::optional<std::int64_t> to,
                            std::optional<std::int64_t> by) {
    check_sizes(to, by);
    if (to) return *to;
    if (!current)
        throw Error(ErrorCategory::data, "the user has no current limit to raise --by", "use --to SIZE to set one");
    if (*current > std::numeric_limits<std::int64_t>::max() - *by)
        throw Error(ErrorCategory::usage, "the new limit is too large");
    return *current + *by;
}

std::string format_quota_value(std::optional<std::string_view> old_value, std::int64_t bytes, std::string_view format) {
    if (format == "bytes") return std::to_string(bytes);
    if (format == "dovecot") return old_value ? replace_in_rule(*old_value, bytes) : fmt::format("*:bytes={}", bytes);
    throw Error(ErrorCategory::config, fmt::format("invalid [ldap] quota-format '{}'", out::printable(format)),
                "use bytes or dovecot");
}

bool server_limit_matches(std::int64_t server_bytes, std::int64_t wanted) {
    const std::int64_t diff = server_bytes > wanted ? server_bytes - wanted : wanted - server_bytes;
    return diff < 1024;
}

RestoreDecision decide_restore(const std::vector<std::string>& current, const std::vector<std::string>& before,
                               const std::vector<std::string>& after) {
    const auto now = sorted(current);
    if (now == sorted(after)) return RestoreDecision::restore;
    if (now == sorted(before)) return RestoreDecision::already;
    return RestoreDecision::conflict;
}

std::string_view raise_result_name(RaiseResult r) {
    switch (r) {
    case RaiseResult::raised: return "raised";
    case RaiseResult::lowered: return "lowered";
    case RaiseResult::would_raise: return "would-raise";
    case RaiseResult::would_lower: return "would-lower";
    case RaiseResult::unchanged: break;
    }
    return "unchanged";
}

RaiseRow raise_quota(const Session& session, const RaiseRequest& req) {
    check_sizes(req.to, req.by);
    if (limits_location(session.config, session.secrets) == LimitsLocation::server)
        return raise_server_quota(session, req);
    auto dir = directory::Directory::connect(ldap_config(session.config, session.secrets));
    RaiseRow row;
    row.user = req.user;
    plan_row(dir, directory_config(dir, session.config), req, session.dry_run, row);
    PlannedAction change{
        .kind = kind::kQuotaRaise, .subject = row.user, .before = before_json(row), .after = after_json(row)};
    if (row.result == RaiseResult::unchanged) {
        row.verified = "skipped";
        row.detail = fmt::format("{} is already {}", row.attribute, describe(row.new_bytes));
    } else {
        change.apply = [&] {
            dir.modify(row.dn, {{directory::Modification::Op::replace, row.attribute, {row.new_value}}});
        };
        if (session.dry_run) {
            row.verified = "skipped";
            const std::string what = fmt::format("would set {} from {} to {}", row.attribute,
                                                 show_values(row.old_values), out::printable(row.new_value));
            row.detail = row.detail.empty() ? what : what + "; " + row.detail;
        }
    }
    const auto applied = ops::apply(session, {change});
    if (applied.front() == Applied::done) verify_row(session.config, session.secrets, row);
    return row;
}

UndoOutcome undo_quota_raise(UndoContext& ctx, const journal::ActionRecord& action) {
    UndoOutcome o{.action_id = action.id, .kind = action.kind, .subject = action.subject};
    const nlohmann::json before = action.before.value_or(nlohmann::json{});
    const nlohmann::json after = action.after.value_or(nlohmann::json{});
    if (!before.is_object() || !before.contains("dn") || !before.at("dn").is_string() ||
        !before.contains("attribute") || !before.at("attribute").is_string()) {
        o.detail = "the journal record has no dn and attribute: restore the value by hand";
        return o;
    }
    const std::string dn = before.at("dn").get<std::string>();
    const std::string attr = before.at("attribute").get<std::string>();
    const auto old_values = string_values(before, "values");
    const auto new_values = string_values(after, "values");

    auto& dir = undo_directory(ctx);
    const auto entry = dir.read_entry(dn);
    if (!entry) {
        o.detail = fmt::format("the entry '{}' no longer exists", out::printable(dn));
        return o;
    }
    const auto current = entry->values(attr);
    const auto decision = decide_restore(current, old_values, new_values);
    if (decision == RestoreDecision::already) {
        o.result = UndoResult::already;
        o.detail = fmt::format("{} is already {}", attr, show_values(old_values));
        return o;
    }
    std::string forced;
    if (decision == RestoreDecision::conflict) {
        if (!ctx.force) {
            o.result = UndoResult::conflict;
            o.detail = fmt::format("{} is now {}, not {} as the run left it; left alone (use --force)", attr,
                                   show_values(current), show_values(new_values));
            return o;
        }
        forced = fmt::format(" (forced: it was {}, not {})", show_values(current), show_values(new_values));
    }
    const std::string what = old_values.empty() ? fmt::format("remove {}", attr)
                                                : fmt::format("restore {} to {}", attr, show_values(old_values));
    if (ctx.dry_run) {
        o.result = UndoResult::would_undo;
        o.detail = "would " + what + forced;
        return o;
    }
    // replace with no values deletes the attribute, and unlike delete it does not fail when
    // someone already removed it (RFC 4511 §4.6).
    dir.modify(dn, {{directory::Modification::Op::replace, attr, old_values}});
    o.result = UndoResult::undone;
    o.detail = (old_values.empty() ? fmt::format("removed {}", attr)
                                   : fmt::format("restored {} to {}", attr, show_values(old_values))) +
               forced;
    return o;
}

} // namespace mbx::ops
