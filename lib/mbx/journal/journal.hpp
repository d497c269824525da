#pragma once
// The journal: one SQLite database recording every run of every mbxkit command (who ran what,
// with which redacted arguments, how it ended) and every action of each run (what it touched,
// before and after), so runs can be listed, exported, resumed and undone.
//
// Schema, file location, concurrency and redaction rules: docs/journal.md.
//
//     auto journal = mbx::journal::Journal::open(mbx::journal::default_journal_path());
//     auto run = journal.begin_run({"quota", args, /*dry_run=*/false, "0.1.0"});
//     {
//         auto batch = journal.batch();      // one transaction for many actions
//         for (...) journal.add_action(run, {"quota.check", user, before, after});
//         batch.commit();
//     }
//     journal.finish_run(run, RunStatus::ok, 0);

#include "mbx/journal/records.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::journal {

/// The default journal file: `/var/lib/mbxkit/journal.sqlite` for root (effective uid 0),
/// else `$XDG_STATE_HOME/mbxkit/journal.sqlite` when XDG_STATE_HOME is set and absolute, else
/// `$HOME/.local/state/mbxkit/journal.sqlite`. `[journal] path` and `--journal` are applied by
/// the caller before this. Failure: mbx::Error(config) when neither variable is usable.
std::filesystem::path default_journal_path();

/// One open journal database. Movable, not copyable; a moved-from Journal may only be
/// destroyed or assigned to. Not thread-safe: use one Journal per thread (or process); several
/// processes may write the same file at once (WAL, BEGIN IMMEDIATE, 10 s busy timeout).
///
/// Every method may throw mbx::Error: temporary (the file stayed locked past the busy timeout),
/// io (cannot open/write, disk full), data (corrupt or not a journal), config (schema newer than
/// this build), internal (anything else; the SQLite extended code is in library_code()).
class Journal {
public:
    class Batch;

    /// Opens (creating if missing) the journal at `path`: missing directories are created with
    /// mode 0700 and the file with 0600; WAL, synchronous=NORMAL, foreign keys and a 10 s busy
    /// timeout are set; the schema is migrated forward to current_schema_version().
    /// Failure: io (cannot create/open), data (not a SQLite database or corrupt), config
    /// (schema version newer than this mbxkit), temporary (locked by a migration elsewhere).
    static Journal open(const std::filesystem::path& path);

    /// The schema version this build writes; opening raises older journals to it.
    static int current_schema_version();

    Journal(Journal&&) noexcept;
    Journal& operator=(Journal&&) noexcept;
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;
    ~Journal();

    /// The file this journal was opened from.
    const std::filesystem::path& path() const;

    /// The database's schema version (PRAGMA user_version). Failure: as the class says.
    int schema_version();

    // ---- writing -------------------------------------------------------------------------

    /// Starts a transaction that the journal's writes join until commit() or destruction;
    /// see Batch. Failure: internal when a Batch is already open on this Journal; temporary
    /// when another process holds the write lock past the busy timeout.
    Batch batch();

    /// Records the start of a run: `start` plus operator (login of the real uid), uid, host,
    /// pid, a random uuid and the current time; status `running`. The arguments are stored
    /// through redact_arguments. Returns the run id. Side effects: one write transaction
    /// (or joins the open Batch).
    std::int64_t begin_run(const RunStart& start);

    /// Marks run `run_id` finished with `status` (not `running`) and `exit_code`, at the
    /// current time. Failure: usage when `status` is running; data when there is no such run.
    void finish_run(std::int64_t run_id, RunStatus status, int exit_code);

    /// Marks the finished run `run_id` running again, owned by this process (pid, host), with
    /// no end time or exit code: for commands that resume their own run (`mbx reprovision
    /// --resume`), so that one run holds every step and `mbx journal undo RUN` reverts them all.
    /// Failure: data when there is no such run; usage when it is still running in a live
    /// process.
    void reopen_run(std::int64_t run_id);

    /// Appends an action to run `run_id` with the next seq (max + 1, assigned inside the write
    /// transaction, so concurrent writers never collide). before/after go through redact_json.
    /// Returns the action id. Failure: data when there is no such run.
    std::int64_t add_action(std::int64_t run_id, const NewAction& action);

    /// Sets the status of action `action_id`, its ended_at to now, and, when given, its after
    /// state (through redact_json) and error text. Failure: data when there is no such action.
    void update_action(std::int64_t action_id, ActionStatus status, std::optional<nlohmann::json> after = std::nullopt,
                       std::optional<std::string> error = std::nullopt);

    /// Claims the mailbox of `user` for run `run_id`, so that two runs sharing this journal
    /// never change one mailbox at once (two cleanups would archive, expunge and count the same
    /// messages twice). The claim is an action of kind `mailbox.claim` about `user`, status
    /// planned while held; release it with update_action(id, done). A claim of a run that
    /// ended, or whose process is gone (stale), is no claim. Returns the action id. Side
    /// effects: one write transaction (BEGIN IMMEDIATE, so the check and the claim are one
    /// step across processes). Failure: temporary when a live run holds a claim on `user`,
    /// naming it; internal when a Batch is open.
    std::int64_t claim_mailbox(std::int64_t run_id, std::string_view user);

    // ---- reading -------------------------------------------------------------------------

    /// Runs selected by `filter`, newest first (by started_at, then id). A run stored as
    /// `running` whose pid no longer exists on this host is returned as `interrupted` with
    /// `stale` set, and is filtered as interrupted.
    std::vector<RunRecord> list_runs(const RunFilter& filter);

    /// The run with id `run_id`, or nothing.
    std::optional<RunRecord> find_run(std::int64_t run_id);

    /// The run whose uuid starts with `prefix` (case-insensitive, at least 4 hex digits), or
    /// nothing. Failure: usage when the prefix is too short or not hex, or matches several runs.
    std::optional<RunRecord> find_run_by_uuid(std::string_view prefix);

    /// The run a person named on the command line: a numeric id (`42`) or a uuid prefix
    /// (`bc13ac5f`), or nothing. Failure: usage as find_run_by_uuid.
    std::optional<RunRecord> find_run_by_reference(std::string_view text);

    /// The actions of run `run_id`, ordered by seq (empty for an unknown run).
    std::vector<ActionRecord> actions_of(std::int64_t run_id);

    /// Calls `visit` for each action of run `run_id` in seq order, reading one row at a time
    /// (for `mbx journal show` on a run with millions of actions). Exceptions thrown by
    /// `visit` propagate unchanged and stop the walk.
    void for_each_action_of_run(std::int64_t run_id, const std::function<void(const ActionRecord&)>& visit);

    /// Calls `visit` for every action of every run selected by `filter`: runs in list_runs
    /// order (newest first), actions by seq. Actions are read one row at a time, so memory does
    /// not grow with the journal; runs without actions are not visited. Exceptions thrown by
    /// `visit` propagate unchanged and stop the walk.
    void for_each_action(const RunFilter& filter,
                         const std::function<void(const RunRecord&, const ActionRecord&)>& visit);

    /// Runs started at or after `since` that have actions about `subject`: an action whose
    /// subject is `subject`, starts with `subject` + "/" (a folder or device of it), "@" (a
    /// probe as it) or " -> " (a merge from it), or is a merge action ending in " -> " +
    /// `subject`. Newest first, at most `limit` (0: all). Uses the subject and kind indexes, so
    /// it stays fast with millions of actions of other subjects.
    std::vector<SubjectRun> runs_about(std::string_view subject, TimePoint since, std::size_t limit);

    /// Runs SQLite's `PRAGMA integrity_check`; returns the problems found (empty = healthy).
    std::vector<std::string> integrity_problems();

private:
    struct Impl;
    explicit Journal(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// A write transaction (BEGIN IMMEDIATE) on a Journal: every begin_run/add_action/... made
/// while it is open joins it, so thousands of actions cost one commit. Call commit() to keep
/// them; destroying an uncommitted Batch rolls them all back (and never throws). Other
/// processes wait for the lock while a Batch is open (up to the 10 s busy timeout), so commit
/// at least every few seconds in long loops. Movable, not copyable; Batches do not nest; a
/// Batch must not outlive (or be kept across a move-assignment of) its Journal.
class Journal::Batch {
public:
    Batch(Batch&& other) noexcept;
    Batch& operator=(Batch&&) = delete;
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    /// Rolls back when commit() was not called; errors during rollback are swallowed.
    ~Batch();

    /// Commits the batch's writes. Failure: mbx::Error (io, temporary, ...) and the batch is
    /// then rolled back; internal when already committed.
    void commit();

private:
    friend class Journal;
    explicit Batch(Journal::Impl* impl);
    Journal::Impl* impl_;
    bool open_ = true;
};

} // namespace mbx::journal
