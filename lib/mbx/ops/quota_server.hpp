#pragma once
// Mailbox limits kept by the IMAP server itself (Cyrus: it ignores LDAP): where limits live
// ([quota] limits), the admin's view of a user's mailbox, reading usage over admin logins
// (`[quota] backend = admin`), and `mbx quota raise` by SETQUOTA, journaled and undoable.

#include "mbx/core/error.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/ops/quota_raise.hpp"
#include "mbx/ops/undo.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops {

/// [quota] limits: where mailbox limits live.
enum class LimitsSetting { automatic, ldap, server };

/// Where `mbx quota raise` changes a limit.
enum class LimitsLocation { ldap, server };

/// "auto", "ldap" or "server"; throws Error(config) naming [quota] limits otherwise. Pure.
LimitsSetting parse_limits(std::string_view text);

/// "ldap" or "server" (the `where` of a raise row). Pure.
std::string_view limits_location_name(LimitsLocation where);

/// Where limits live for `setting`: ldap or server as set; auto: server when the IMAP server is
/// Cyrus, else ldap when [ldap] quota-attribute is set, else server. Pure.
LimitsLocation resolve_limits(LimitsSetting setting, bool server_is_cyrus, bool has_quota_attribute);

/// resolve_limits() for this configuration. Auto with a quota attribute and [imap] server-kind
/// auto asks the server over the master user's own login (one ID; never a proxy login, which
/// makes Cyrus create a missing INBOX); a server that refuses that login is not Cyrus.
/// Otherwise no network. Throws Error(config) for a bad [quota] limits or [imap] server-kind,
/// and the connection's errors other than a refused login. Network.
LimitsLocation limits_location(const config::Config& cfg, const SecretProvider& secrets);

/// Reads usage and limits over one admin login ([imap] master-user as itself): NAMESPACE once,
/// then GETQUOTAROOT of each user's mailbox in the admin's other-users namespace, pipelined.
/// The connection opens on first use and is opened again after it broke. Not thread-safe: one
/// per thread.
class AdminQuotaReader {
public:
    AdminQuotaReader(const config::Config& cfg, const SecretProvider& secrets);
    ~AdminQuotaReader();
    AdminQuotaReader(const AdminQuotaReader&) = delete;
    AdminQuotaReader& operator=(const AdminQuotaReader&) = delete;

    /// One row per user, in order (source `imap-admin`), classified by `t` (and each user's
    /// own warning). A user without a mailbox, or without a STORAGE quota root, is a row of
    /// tier unknown with its error; a connection that cannot be opened or breaks makes the rows
    /// it could not read unknown with that error. Never throws for a user or the server.
    /// Network.
    std::vector<QuotaRow> rows(const std::vector<UserInfo>& users, const Thresholds& t);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The STORAGE limit in whole KiB for SETQUOTA (RFC 9208 counts STORAGE in units of 1024
/// octets): `bytes` rounded up. Pure.
std::uint64_t storage_kib_of(std::int64_t bytes);

/// Undo's decision for a server limit: `current`, `before` and `after` in KiB (nullopt: no
/// STORAGE limit). current == after -> restore; current == before -> already; else conflict.
/// Pure.
RestoreDecision decide_server_restore(std::optional<std::int64_t> current, std::optional<std::int64_t> before,
                                      std::optional<std::int64_t> after);

/// `mbx quota raise` where limits live on the server: the user looked up in the directory,
/// then as the admin GETQUOTAROOT of the user's mailbox (its root and STORAGE limit), the new
/// limit from plan_new_limit() in whole KiB, SETQUOTA through ops::apply as a
/// `quota.raise-server` action (before {mailbox, root, storage_kib or null}, after
/// {storage_kib}), then GETQUOTA to verify. A dry run reads and plans only. Throws Error: usage
/// (sizes), data (unknown user, no mailbox, SETQUOTA refused), config (no other-users
/// namespace), auth, unavailable. Network; changes the server's limit; journal.
RaiseRow raise_server_quota(const Session& session, const RaiseRequest& req);

/// Undoes one `quota.raise-server` action: GETQUOTA of the recorded root as the admin (one
/// connection per undo run, in ctx.state("imap-admin")), then by decide_server_restore:
/// SETQUOTA back to the exact before (SETQUOTA root () when there was no limit), `already`, or
/// `conflict` unless ctx.force. A dry run only reads. A malformed record is `failed`. Throws
/// Error for an unreachable server or a bad config. Network; changes the server's limit.
UndoOutcome undo_quota_raise_server(UndoContext& ctx, const journal::ActionRecord& action);

} // namespace mbx::ops
