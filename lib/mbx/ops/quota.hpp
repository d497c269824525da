#pragma once
// `mbx quota check`: usage and limit per mailbox, classified into Exchange's three tiers
// (warning, prohibit-send, prohibit-send-receive) for MIS_9 ("mailbox full").

#include "mbx/core/error.hpp"
#include "mbx/core/session.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/ops/users.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops {

/// The tier thresholds in percent of the limit ([quota] warning, prohibit-send,
/// prohibit-send-receive).
struct Thresholds {
    double warning = 80;
    double prohibit_send = 90;
    double prohibit_send_receive = 100;
};

/// Reads the thresholds from [quota]. Throws Error(config) unless 0 < warning <=
/// prohibit-send <= prohibit-send-receive, or when a value is not a number. No side effects.
Thresholds thresholds_from_config(const config::Config& cfg);

/// Checks 0 < warning <= prohibit_send <= prohibit_send_receive; throws Error(config) naming
/// the values otherwise. No side effects.
void validate_thresholds(const Thresholds& t);

/// Where a mailbox stands against its limit.
enum class Tier { ok, warning, prohibit_send, prohibit_send_receive, no_limit, unknown };

/// "ok", "warning", "prohibit-send", "prohibit-send-receive", "no-limit", "unknown".
std::string_view tier_name(Tier tier);

/// The exit code a tier stands for: warning -> warning, prohibit-* -> critical, else ok
/// (unknown rows carry their failure separately). No side effects.
ExitCode tier_severity(Tier tier);

/// The tier of `used` bytes against `limit` bytes: unknown without usage, no_limit without a
/// limit or with a limit of 0 (Dovecot's "unlimited"). A percent equal to a threshold is in
/// that threshold's tier. Pure.
Tier classify(std::optional<std::int64_t> used, std::optional<std::int64_t> limit, const Thresholds& t);

/// Parses a quota attribute value into bytes. `format` "bytes": an integer, or a size with a
/// unit (500M, 1GiB). "dovecot": a quota_rule such as `*:storage=1G`, `*:bytes=1048576` or
/// `storage=512M`; a unitless `storage` is in KiB (Dovecot quota.c multiplies it by 1024),
/// `bytes` in bytes. Throws Error(data) naming the value when it cannot be parsed, and
/// Error(config) for an unknown format. Pure.
std::int64_t parse_ldap_quota(std::string_view value, std::string_view format);

/// One checked mailbox.
struct QuotaRow {
    std::string user;
    std::string mail;
    std::optional<std::int64_t> used_bytes;
    std::optional<std::int64_t> limit_bytes;
    std::optional<double> percent;
    std::optional<std::int64_t> messages;
    std::optional<std::int64_t> message_limit;
    Tier tier = Tier::unknown;
    std::string source;              ///< "imap" (GETQUOTAROOT) or "ldap" (the quota attribute); "" if none
    std::string error;               ///< one line: why the tier is unknown, or a note on an ignored value
    ExitCode failure = ExitCode::ok; ///< for tier unknown: the exit code of the failure
};

// ---- building blocks shared by check, sweep, cleanup and raise -----------------------------

/// The directory entry of login `uid` with `attributes`: one search under [ldap] base with
/// user_filter(lookup filter, uid attribute, uid) of user_schema(cfg) (`cfg` as
/// directory_config() makes it, so that Active Directory's defaults apply), so `*)(uid=*` matches nothing. Exactly
/// one entry must match: none -> Error(data) "no user ..."; two or more -> Error(data) "uid ...
/// is not unique (N entries)" (a classic MIS_5 sign). Throws the directory's errors. Network.
directory::Entry find_user(directory::Directory& dir, const config::Config& cfg, const std::string& uid,
                           const std::vector<std::string>& attributes);

/// The LDAP attributes a quota row needs: uid, mail, and the quota and warning attributes
/// when configured. No side effects.
std::vector<std::string> quota_attributes(const config::Config& cfg);

/// What the directory says of one user, for a quota row.
struct UserInfo {
    std::string uid = {};
    std::string mail = {};
    std::optional<std::int64_t> ldap_limit = {}; ///< the quota attribute in bytes
    std::optional<double> warning = {};          ///< the per-user warning percent
    std::string note = {};                       ///< a value that was ignored, and why
};

/// Reads `entry` (with quota_attributes()) into a UserInfo. An unreadable quota attribute
/// throws Error(data); an unusable per-user warning percent is ignored and noted. Pure.
UserInfo user_info(const directory::Entry& entry, const config::Config& cfg);

/// The thresholds for one user: `t` with the per-user warning percent when it has one that
/// fits (0 < warning <= prohibit-send). Pure.
Thresholds thresholds_for(const UserInfo& user, const Thresholds& t);

/// Fills the usage and limit of `row` over IMAP for `user`: a master login, GETQUOTAROOT
/// INBOX, else the LDAP limit and STATUS SIZE usage; then percent and tier. Throws Error
/// (unavailable, auth, data) when the user cannot be checked. Network.
void read_imap_usage(const config::Config& cfg, const SecretProvider& secrets, const UserInfo& user,
                     const Thresholds& t, QuotaRow& row);

/// Sets percent and tier of `row` from its used and limit bytes. Pure.
void classify_row(QuotaRow& row, const Thresholds& t);

/// The row of a user that could not be checked: tier unknown and the one-line error.
QuotaRow failed_row(std::string user, std::string mail, const Error& e);

/// Records `row` as a `quota.check` action of `run` (done, or failed with its error).
void journal_quota_row(journal::Journal& journal, std::int64_t run, const QuotaRow& row);

/// Checks each of `users` (uids): one LDAP search per user under [ldap] base (one directory
/// connection for all), then an IMAP master login per user and GETQUOTAROOT INBOX, falling
/// back to the LDAP quota attribute for the limit (usage from STATUS SIZE) when the server has
/// no QUOTA or no STORAGE limit. Calls `on_row` once per user, in order. A user that cannot
/// be checked becomes a row of tier unknown and never stops the loop. Journals one
/// `quota.check` action per user when the session has a journal and a run. Returns the worst
/// tier's exit code combined with the per-user failures. Throws Error when the directory
/// itself cannot be used (config, connect, bind). Network; journal.
ExitCode check_users(const Session& session, const std::vector<std::string>& users,
                     const std::function<void(const QuotaRow&)>& on_row);

} // namespace mbx::ops
