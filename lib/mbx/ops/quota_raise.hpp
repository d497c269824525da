#pragma once
// `mbx quota raise USER --to SIZE | --by SIZE`: changes a mailbox limit in the directory (the
// [ldap] quota-attribute, which Dovecot reads at each login) for MIS_9 ("mailbox full"),
// journaled so that `mbx journal undo RUN` puts the exact old value back.

#include "mbx/core/error.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/ops/undo.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops {

/// What to change: exactly one of `to` and `by`, both in bytes.
struct RaiseRequest {
    std::string user = {};               ///< the login ([ldap] uid-attribute)
    std::optional<std::int64_t> to = {}; ///< the new limit
    std::optional<std::int64_t> by = {}; ///< added to the current limit
};

/// What raise_quota did, or would do in a dry run.
enum class RaiseResult { raised, lowered, unchanged, would_raise, would_lower };

/// "raised", "lowered", "unchanged", "would-raise", "would-lower" (the report's words).
std::string_view raise_result_name(RaiseResult r);

/// True for the results of a dry run.
inline bool planned_only(RaiseResult r) { return r == RaiseResult::would_raise || r == RaiseResult::would_lower; }

/// What raise_quota did (or would do) for one user.
struct RaiseRow {
    std::string user = {};       ///< the uid as the directory spells it
    std::string where = "ldap";  ///< where the limit was changed: "ldap" or "server" (SETQUOTA)
    std::string mailbox = {};    ///< server: the user's mailbox as the admin names it
    std::string quota_root = {}; ///< server: the quota root changed
    std::string dn = {};
    std::string attribute = {};               ///< [ldap] quota-attribute
    std::vector<std::string> old_values = {}; ///< raw, as read; empty when the entry had none
    std::optional<std::int64_t> old_bytes = {};
    std::string new_value = {}; ///< raw, as written in [ldap] quota-format
    std::int64_t new_bytes = 0;
    RaiseResult result = RaiseResult::unchanged;
    /// The STORAGE limit Dovecot reports after the change (GETQUOTAROOT INBOX), when read.
    std::optional<std::int64_t> server_limit_bytes = {};
    std::optional<std::int64_t> used_bytes = {}; ///< the STORAGE usage, when read
    /// "match", "mismatch", "no-quota" (server without QUOTA), "failed" (could not log in or
    /// read), "skipped" (dry run or nothing changed).
    std::string verified = {};
    ExitCode status = ExitCode::ok; ///< ok, or warning when the server does not show the new limit
    std::string detail = {};        ///< one line for people: warnings, what would change
};

/// The new limit in bytes for a user whose current limit is `current` (nullopt: none).
/// Throws Error(usage) unless exactly one of `to`/`by` is set, when it is 0 or negative, or
/// when the result overflows; Error(data) for `by` without a current limit ("use --to").
/// Pure.
std::int64_t plan_new_limit(std::optional<std::int64_t> current, std::optional<std::int64_t> to,
                            std::optional<std::int64_t> by);

/// The attribute value for `bytes` in [ldap] quota-format `format`. "bytes": the integer.
/// "dovecot": `old_value`'s rule with the value of its first storage=/bytes= key replaced and
/// everything else (mailbox pattern, messages=, other keys) kept; `*:bytes=N` when there is no
/// old value. A `bytes=` key gets the integer; a `storage=` key keeps its style: unitless (KiB)
/// stays unitless when `bytes` is a whole number of KiB, a value with a unit gets the largest
/// of T, G, M, K that divides `bytes` exactly, anything else is written `<bytes>B` (Dovecot
/// only takes integers). parse_ldap_quota(result, format) == bytes always. Throws Error(data)
/// when `old_value` has no storage= or bytes= key, Error(config) for an unknown format. Pure.
std::string format_quota_value(std::optional<std::string_view> old_value, std::int64_t bytes, std::string_view format);

/// True when the STORAGE limit a server reports (bytes, from KiB on the wire) shows `wanted`:
/// RFC 9208 counts STORAGE in units of 1024 octets, so the server's KiB rounded down or up
/// both match. Pure.
bool server_limit_matches(std::int64_t server_bytes, std::int64_t wanted);

/// What undo should do with a quota attribute whose values are now `current`, given the
/// action's before- and after-values (compared as sets: LDAP values have no order).
enum class RestoreDecision {
    restore,  ///< current == after: put `before` back
    already,  ///< current == before: nothing to do
    conflict, ///< someone changed it since: leave it unless forced
};

/// Pure; see RestoreDecision.
RestoreDecision decide_restore(const std::vector<std::string>& current, const std::vector<std::string>& before,
                               const std::vector<std::string>& after);

/// Changes the quota attribute of `req.user`: one search under [ldap] base with
/// user_filter (USER escaped; exactly one entry must match), the new value from
/// plan_new_limit/format_quota_value, one LDAP modify (replace), then an IMAP master login as
/// the user and GETQUOTAROOT INBOX to see what Dovecot now reports. Journals one
/// `quota.raise` action in `run_id` (when `journal` is given): recorded `planned` with
/// before {dn, attribute, values, bytes} and after {values, bytes} before the modify, marked
/// `done` (or `failed`) after it; `skipped` when nothing changes. A dry run only reads: no
/// modify, no IMAP, the action stays `planned`. Returns the row; its status is warning when
/// the server shows another limit or cannot be asked (the change itself is done).
/// Throws Error: usage (see plan_new_limit), data (unknown or non-unique user, more than one
/// or an unreadable current value, --by without a limit, the modify refused), config (no
/// [ldap] quota-attribute, unknown quota-format), unavailable, auth, temporary.
/// Network; changes the directory; journal.
RaiseRow raise_quota(const Session& session, const RaiseRequest& req);

/// Undoes one `quota.raise` action: reads the entry (one directory connection per undo run,
/// kept in ctx.state("ldap")), then by decide_restore: restores the exact before-values
/// (replace; removing the attribute when there were none), reports `already`, or `conflict`
/// unless ctx.force. A dry run reports `would_undo` and writes nothing. A vanished entry or a
/// malformed record is `failed`. Throws Error for an unreachable directory or a bad config.
/// Network; changes the directory.
UndoOutcome undo_quota_raise(UndoContext& ctx, const journal::ActionRecord& action);

} // namespace mbx::ops
