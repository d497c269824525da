#pragma once
// `mbx quota cleanup`: frees space in a mailbox over (or near) its limit (MIS_9) by removing
// old messages from the folders the admin names, Trash and Junk typically. Plan, then apply:
// the plan reads (EXAMINE, UID SEARCH, UID FETCH of sizes and dates) and decides which
// messages go; the apply archives each message to a Maildir on local disk (fsynced) and
// journals it *before* `UID STORE +FLAGS.SILENT (\Deleted)` and `UID EXPUNGE` of exactly those
// UIDs, so `mbx journal undo RUN` can append every one back with its flags and date.
// docs/commands/quota-cleanup.md describes the command, the archive layout and crash safety.

#include "mbx/core/config.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/progress.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/ops/message.hpp"
#include "mbx/ops/undo.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops {

// ---- parsing the request (pure) -------------------------------------------------------------

/// One entry of --folder: a folder name, or a SPECIAL-USE attribute (RFC 6154).
struct FolderSpec {
    std::string name = {};        ///< the UTF-8 name as the user sees it ("Trash"); empty for special_use
    std::string special_use = {}; ///< "\\Trash" when the entry was `\Trash`; empty for a name
    /// The entry as given, for messages ("Trash", "\\Junk").
    std::string text() const { return special_use.empty() ? name : special_use; }
};

/// Parses --folder: a comma-separated list of UTF-8 folder names, each trimmed of surrounding
/// blanks; an entry starting with a backslash (`\Trash`) means the folder with that
/// SPECIAL-USE attribute. Names cannot contain a comma. Throws Error(usage) for an empty list,
/// an empty entry, a repeated entry, or a special-use that is not `\` followed by letters.
/// Pure.
std::vector<FolderSpec> parse_folder_list(std::string_view text);

/// Parses --older-than: a positive whole number and a unit: h (hours), d (days), w (weeks),
/// m (months of 30 days), y (years of 365 days): "36h", "30d", "12w", "6m", "1y". Throws
/// Error(usage) naming the text otherwise (0, no unit, fractions, overflow). Pure.
std::chrono::seconds parse_age(std::string_view text);

/// Parses --until-below: a percent of the limit, "80%" or "80" (decimals allowed), greater
/// than 0 and at most 100. Throws Error(usage) naming the text otherwise. Pure.
double parse_percent(std::string_view text);

// ---- planning (pure parts) ------------------------------------------------------------------

/// One message that may be removed: where it is, and what the plan orders by.
struct CleanupCandidate {
    std::size_t folder = 0; ///< index into the request's folders
    std::uint64_t uid = 0;
    std::uint64_t size = 0;             ///< RFC822.SIZE
    std::chrono::sys_seconds date = {}; ///< INTERNALDATE
};

enum class CleanupOrder { oldest_first, largest_first };

/// The UID SEARCH criteria that find the candidates older than `cutoff`: `UNDELETED BEFORE
/// d-Mon-yyyy`. IMAP's BEFORE compares dates only, in the server's idea of the time zone
/// (RFC 3501 §6.4.4), so the date is two days after the cutoff's UTC date: a superset, which
/// the caller narrows to INTERNALDATE < cutoff exactly. Pure.
std::string cleanup_search_criteria(std::chrono::sys_seconds cutoff);

/// The messages to remove from `candidates`: all of them in `order` (oldest first: by date,
/// then folder, then UID; largest first: by size, then the same), or, with `below_bytes`,
/// only as many as it takes until `usage_bytes` minus what they free is below `below_bytes`
/// (none when usage is already below). Pure.
std::vector<CleanupCandidate> select_for_cleanup(std::vector<CleanupCandidate> candidates, CleanupOrder order,
                                                 std::int64_t usage_bytes, std::optional<double> below_bytes);

// ---- plan and apply (network) ---------------------------------------------------------------

/// What to clean.
struct CleanupRequest {
    std::string user = {};                  ///< the uid, looked up in the directory
    std::vector<FolderSpec> folders = {};   ///< parse_folder_list
    std::chrono::seconds older_than = {};   ///< parse_age
    std::optional<double> until_below = {}; ///< percent of the limit (parse_percent)
    CleanupOrder order = CleanupOrder::oldest_first;
    std::chrono::sys_seconds now = {}; ///< the clock; the cutoff is now - older_than
};

/// What became of one folder of a cleanup.
enum class FolderOutcome {
    planned,      ///< selected, not cleaned yet
    would_remove, ///< a dry run: these would be removed
    nothing,      ///< nothing old enough (or needed) in it
    done,         ///< every selected message removed
    partial,      ///< some removed, then an error
    failed,       ///< none removed: the error says why
    interrupted,  ///< stopped on request between batches
    not_started,  ///< the run stopped before this folder
};

/// "planned", "would-remove", "nothing", "done", "partial", "failed", "interrupted",
/// "not-started": as the report and the journal say it. Pure.
std::string_view folder_outcome_name(FolderOutcome o);

/// One folder of a cleanup.
struct CleanupFolder {
    std::string requested = {}; ///< the --folder entry ("\\Trash")
    std::string folder = {};    ///< the folder's name (UTF-8)
    std::uint64_t uidvalidity = 0;
    std::int64_t matched = 0;  ///< undeleted messages older than the cutoff
    std::int64_t selected = 0; ///< of those, the ones the plan removes
    std::int64_t bytes = 0;    ///< RFC822.SIZE of the selected messages
    std::int64_t removed = 0;  ///< archived and expunged (apply)
    std::int64_t removed_bytes = 0;
    std::int64_t vanished = 0; ///< selected, but gone before this run could expunge them
    std::int64_t kept = 0;     ///< archived, but still there after UID EXPUNGE
    FolderOutcome result = FolderOutcome::planned;
    std::string error = {};
};

/// What a cleanup planned and did.
struct CleanupReport {
    std::string user = {};
    std::string cutoff = {}; ///< ISO 8601 UTC
    std::optional<std::int64_t> usage_before = {};
    std::optional<std::int64_t> limit = {}; ///< none: no limit (or unknown)
    std::optional<std::int64_t> estimated_after = {};
    std::optional<std::int64_t> usage_after = {}; ///< GETQUOTAROOT after the apply
    std::string archive = {};                     ///< this run's archive Maildir (apply only)
    std::vector<CleanupFolder> folders = {};
    ExitCode code = ExitCode::ok;
};

/// Plans and, unless the session is a dry run (then only EXAMINE and FETCH, never STORE or
/// EXPUNGE), applies a cleanup of one user's mailbox. The session's run names the archive
/// directory and holds the journaled actions.
///
/// Plan: the user's directory entry (exactly one, else Error(data)); an IMAP master login;
/// GETQUOTAROOT INBOX for usage and limit (the LDAP quota attribute for the limit when the
/// server reports none); the folders resolved by LIST (unknown, ambiguous special-use or
/// \Noselect folder: Error(data)); per folder EXAMINE, UID SEARCH (cleanup_search_criteria)
/// and a streaming UID FETCH of UID RFC822.SIZE INTERNALDATE FLAGS; select_for_cleanup.
/// With until_below and no limit: Error(data). A dry run journals one `quota.cleanup.folder`
/// action per folder and returns.
///
/// Apply: needs `[quota] archive-dir` (else Error(config), checked before any connection) and
/// UIDPLUS (else Error(unavailable)); creates ARCHIVE/<uid>/<run>-<yyyymmddThhmmssZ>/ with
/// tmp, new, cur and manifest.jsonl (Error(io) when it cannot: nothing is stored or expunged).
/// Per folder SELECT, the UIDVALIDITY must be the plan's; then per batch (200 messages or
/// 20 MiB): each message fetched (BODY.PEEK[]) one at a time, written to the archive and
/// fsynced; then ops::apply_batch: one journal transaction with a `quota.cleanup.message`
/// action per message (status planned; `skipped` for a message that vanished); UID STORE
/// +FLAGS.SILENT (\Deleted) and UID EXPUNGE of exactly those UIDs; one transaction marking them
/// done (failed: one the server kept, or all when it refused the expunge).
/// An interrupt (SIGINT/SIGTERM) stops between batches (report code interrupted). A folder
/// that fails is reported and the next one is still cleaned. Finally GETQUOTAROOT again.
///
/// Throws Error for what stops the whole command (directory, login, config, archive).
/// Network; journal (when given); destructive (expunges) and local disk writes unless dry run.
CleanupReport cleanup_mailbox(const Session& session, const CleanupRequest& req);

/// Undo handler of `quota.cleanup.message` (the row in undo.cpp). For a done action, or a
/// planned one whose UID is no longer in the folder under the same UIDVALIDITY: reads the
/// archive file, checks its SHA-256 (mismatch: failed), returns `already` when the folder
/// holds a message with the same Message-ID and size (or, without a Message-ID, the same size
/// and INTERNALDATE), else APPENDs it with its flags (minus \Deleted and \Recent) and its
/// INTERNALDATE, creating the folder when it is gone. Dry run: only reads, `would_undo`.
/// Keeps one IMAP connection per user in ctx.state("imap:USER"). Never deletes mail and never
/// touches the archive. Throws Error(data) for an incomplete record. Network.
UndoOutcome undo_quota_cleanup_message(UndoContext& ctx, const journal::ActionRecord& action);

} // namespace mbx::ops
