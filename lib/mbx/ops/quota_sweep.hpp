#pragma once
// `mbx quota sweep`: every user the directory selects, checked in parallel, streamed. Memory
// stays flat as users grow: entries flow from the paged LDAP search through a bounded queue to
// N workers, and rows come back to the caller as they finish.

#include "mbx/core/error.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/ops/quota.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mbx::ops {

/// Shard K of N (K from 1): a user belongs to it when FNV-1a-64 of its uid (bytes as the
/// directory spells it) modulo N is K-1. Stable across hosts, versions and directory order.
struct Shard {
    unsigned index = 1;
    unsigned count = 1;
};

/// Parses "K/N" (1 <= K <= N <= 1000000). Throws Error(usage) naming the text. Pure.
Shard parse_shard(std::string_view text);

/// True when `uid` belongs to `shard`. Pure.
bool in_shard(std::string_view uid, const Shard& shard);

/// How usage is read.
enum class Backend {
    imap,    ///< a master login and GETQUOTAROOT per user, N connections at once
    doveadm, ///< Dovecot's doveadm HTTP API, quotaGet for batches of users, N requests at once
    admin    ///< N admin logins, GETQUOTAROOT of each user's mailbox pipelined on them (Cyrus)
};

/// "imap", "doveadm" or "admin"; throws Error(usage) otherwise. Pure.
Backend parse_backend(std::string_view text);

/// "imap", "doveadm" or "admin". Pure.
std::string_view backend_name(Backend backend);

struct SweepOptions {
    std::string filter = {};                    ///< ANDed with [ldap] user-filter; validated
    std::optional<std::string> users_file = {}; ///< only these uids (others are reported missing)
    std::optional<Shard> shard = {};
    unsigned parallel = 8; ///< connections (imap, admin) or requests (doveadm) at once
    Backend backend = Backend::imap;
    std::size_t doveadm_batch = 200; ///< users per doveadm request
    std::size_t admin_batch = 100;   ///< users handed to one admin connection at a time
};

/// Counts for progress reports.
struct SweepProgress {
    std::uint64_t found = 0;   ///< users selected so far (search still running while !enumerated)
    std::uint64_t checked = 0; ///< rows delivered
    bool enumerated = false;   ///< the directory search has finished
};

/// Sweeps: one paged search under [ldap] base with (&user-filter filter), the shard and
/// users-file applied to each entry, usage read by the backend, one row per user through
/// `on_row` (in completion order, on the calling thread) and `on_progress` now and then.
/// Users of the users file that the search did not return get an unknown row ("no user ...
/// in the directory or excluded by --filter"). A user that cannot be checked is an unknown
/// row and never stops the sweep. Journals one `quota.check` action per row when the session has
/// a journal and a run (committed in batches). Returns the worst tier's code combined with the
/// failures. Throws Error for a broken setup (config, the directory unreachable or refusing
/// the bind, an invalid filter) and interrupted on SIGINT/SIGTERM (rows so far are journaled).
/// Network; journal; threads.
ExitCode sweep_users(const Session& session, const SweepOptions& options,
                     const std::function<void(const QuotaRow&)>& on_row,
                     const std::function<void(const SweepProgress&)>& on_progress);

} // namespace mbx::ops
