#pragma once
// `mbx merge`: copy one mailbox into another, IMAP to IMAP, faithfully (bytes, flags,
// keywords, INTERNALDATE), without duplicates, resumable, verified. The ExMerge step of MIS_5.
//
// How it stays exactly-once without trusting its own bookkeeping alone: every pass starts from
// what the servers hold. A folder is scanned on both sides and its messages paired
// (match_messages: the copies APPENDUID named, then identity, never size alone: servers change
// bytes on APPEND), the source messages the target lacks are copied, and a crash, a kill -9 or a
// dropped connection at any point is repaired by scanning again. The journal records the plan,
// each folder, each batch (before it is sent, and after with the target UIDs), and the target's
// UIDNEXT from the run's start, so that a resumed run tells the messages it copied itself from
// older ones: in --mode always to copy again only what it has not copied, in both modes to give
// its own copies the source's flags again when they differ (a server crash can lose keyword
// names; see fix_flags in merge.cpp).

#include "mbx/core/error.hpp"
#include "mbx/core/progress.hpp"
#include "mbx/core/session.hpp"
#include "mbx/ops/merge_plan.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops::merge {

enum class Mode {
    missing, ///< copy what the target lacks (ExMerge "merge", the default)
    always,  ///< copy everything, even when the target already has a copy
};

struct Options {
    FolderRules folders = {};
    MessageFilter filter = {};
    Mode mode = Mode::missing;
    double max_messages_per_second = 0;     ///< 0: no limit
    std::uint64_t max_bytes_per_second = 0; ///< 0: no limit
    std::uint64_t errors_max = 50;          ///< rejected messages tolerated before stopping
    bool verify = true;
    bool force = false; ///< copy even when the pre-flight says the target quota is too small
    /// Dry run only: the target mailbox does not exist yet (mbx reprovision plans the merge
    /// into an account it has not made), so it is planned as empty, without logging in.
    bool target_absent = false;
    int retries = 5;                         ///< reconnects per folder on a dropped connection or throttling
    std::chrono::milliseconds backoff{1000}; ///< first back-off; doubles up to 30 s
    /// A resumed run whose predecessor died while sending to a folder first waits until that
    /// folder has not changed for settle_quiet (at most settle_max): the server may still be
    /// storing what it had received.
    std::chrono::milliseconds settle_quiet{2000};
    std::chrono::milliseconds settle_max{60000};
    std::size_t batch_messages = 1000;       ///< messages per UID FETCH of bodies
    std::uint64_t batch_bytes = 32ull << 20; ///< bytes per UID FETCH of bodies
    std::size_t in_flight = 32;              ///< APPEND commands sent before the oldest is awaited
    bool multiappend = true;                 ///< group messages in MULTIAPPENDs when the target can
    std::size_t group_messages = 1000;       ///< messages per MULTIAPPEND
    std::uint64_t group_bytes = 8ull << 20;  ///< bytes per MULTIAPPEND (a larger message goes alone)
};

/// A message the target refused (reported, skipped).
struct Rejected {
    std::string folder;
    std::uint64_t uid = 0;
    std::string message_id;
    std::string reason;
};

/// Where a source folder's merge stands.
enum class FolderStatus {
    planned,    ///< a dry run, or not reached yet
    ok,         ///< copied (and, when verified, nothing missing)
    incomplete, ///< copied, but the target refused some messages or verification found some missing
    failed,     ///< the run stopped before the folder was copied
};

/// "planned", "ok", "incomplete", "failed": as the report and the documentation say it. Pure.
std::string_view folder_status_name(FolderStatus s);

/// The outcome for one source folder.
struct FolderResult {
    FolderPlan plan;
    std::uint64_t messages = 0; ///< in the source folder
    std::uint64_t excluded = 0; ///< not selected by the filters (admin's choice)
    std::uint64_t present = 0;  ///< selected and already on the target
    std::uint64_t to_copy = 0;
    std::uint64_t bytes_to_copy = 0;
    bool created = false; ///< the run created the target folder (dry run: would)
    std::uint64_t copied = 0;
    std::uint64_t bytes_copied = 0;
    std::uint64_t failed = 0;             ///< rejected by the target
    std::uint64_t flags_fixed = 0;        ///< copies of this run (or the resumed one) given the source's flags again
    std::optional<std::uint64_t> missing; ///< after verification
    /// After verification: copies on the target whose bytes differ from the source's (the server
    /// changed them on APPEND), counted present; and how ("header added: x-name", "header
    /// rewritten", "body changed", "not examined" past the first 50 of a folder) -> count.
    std::optional<std::uint64_t> normalised;
    std::map<std::string, std::uint64_t> normalised_how;
    /// After verification: copies made by this run (or the ones it resumed) that are a second
    /// copy of a source message (a server that stored a killed run's messages late). Reported;
    /// mbx never deletes them.
    std::optional<std::uint64_t> extra;
    FolderStatus status = FolderStatus::planned;
    /// Why this folder failed (the server refused to create, open or write it; verification
    /// could not open it), in one line; empty otherwise. Other folders go on regardless.
    std::string error;
};

/// A selected source message that verification did not find on the target.
struct MissingMessage {
    std::string folder;     ///< source folder
    std::uint64_t uid = 0;  ///< source UID
    std::string message_id; ///< empty when it has none (or an unprintable one)
    std::string date;       ///< the Date header as written
    std::string subject;    ///< the Subject header as written (may hold 8-bit bytes)
};

struct Result {
    std::vector<FolderResult> folders;
    /// Other users' and shared folders left out (merged only with --include-shared).
    std::vector<ForeignFolder> foreign;
    std::vector<Rejected> rejected;
    /// After verification: the missing messages by name, the first 1,000 of each folder.
    std::vector<MissingMessage> missing_messages;
    ExitCode exit = ExitCode::ok;
    /// Why the run stopped early (over quota, error budget, a server gone), if it did.
    std::optional<Error> stopped;
    std::uint64_t retries = 0;
    double seconds = 0;
};

/// One pair as the admin wrote it: USER, or USER@NAME for a user on the server of an
/// [imap.NAME] section (a suffix with a dot is part of a login name: alice@example.org).
struct Pair {
    std::string from;
    std::string to;
};

/// `mbx merge` over one pair or many (--users-file).
struct PairsRequest {
    std::vector<Pair> pairs;
    Options options;
    /// Log in to that side as the user with this password instead of the master user.
    std::optional<std::filesystem::path> from_password_file = {};
    std::optional<std::filesystem::path> to_password_file = {};
    std::string resume = {}; ///< --resume RUN; empty: each pair continues its own unfinished run
    unsigned parallel = 1;   ///< pairs at once
    /// The command line. A pair's journal run records it as if the pair had been given alone:
    /// with `alone` false, --users-file/-F/--parallel are replaced by --from/--to.
    std::vector<std::string> argv = {};
    bool alone = true;
};

/// What became of one pair: its merge, or the error that stopped it before any write.
struct PairOutcome {
    Pair pair;
    std::optional<Result> result;
    std::optional<Error> error;
    ExitCode exit = ExitCode::ok;
};

/// Merges every pair, up to `parallel` at once, each in a journal run of its own
/// (run_journaled, merge_run.hpp) through ops::run_batch. Endpoints (and their secrets) are resolved first, in
/// order. One pair's failure is kept to its outcome. Network; writes to the targets.
std::vector<PairOutcome> run_pairs(const Session& session, const PairsRequest& request);

/// The sums over the pairs' outcomes that `mbx merge` reports. Pure.
struct Totals {
    ExitCode worst = ExitCode::ok;
    std::uint64_t pairs = 0, pairs_ok = 0, folders = 0, messages = 0, to_copy = 0, bytes_to_copy = 0, copied = 0,
                  bytes_copied = 0, failed = 0, flags_fixed = 0, missing = 0, normalised = 0, extra = 0;
    std::map<std::string, std::uint64_t> normalised_how; ///< how the servers changed bytes -> count
    double seconds = 0;                                  ///< the longest pair
    bool verified_all = true;                            ///< every folder of every pair has a verification count
};
Totals totals_of(const std::vector<PairOutcome>& outcomes);
/// The sums over one merge's folders. Pure.
Totals totals_of(const Result& result);

/// "header added: x-rewritten-by ×4, body changed ×1". Pure.
std::string counts_text(const std::map<std::string, std::uint64_t>& counts);

/// The report's one-line summary of `t`. Pure.
std::string summary_of(const Totals& t, bool dry_run);

} // namespace mbx::ops::merge
