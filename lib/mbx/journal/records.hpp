#pragma once
// The value types of the journal: what a caller writes (RunStart, NewAction), what a reader gets
// back (RunRecord, ActionRecord), the status vocabularies and the timestamp format.
//
// The string forms of the statuses and the timestamp format are part of the journal's stable
// scripting contract (docs/journal.md): add values, never rename them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mbx::journal {

/// How a run (one command invocation) ended, or that it has not ended yet.
enum class RunStatus {
    running,     ///< begun, not finished (or the process died: see RunRecord::stale)
    ok,          ///< finished, nothing to report
    warning,     ///< finished with findings at warning level
    critical,    ///< finished with findings at critical level
    failed,      ///< finished with an error
    interrupted, ///< stopped by a signal, or found dead while still marked running
};

/// Where one action of a run stands.
enum class ActionStatus {
    planned, ///< recorded before it is done (dry runs stop here)
    done,    ///< carried out
    failed,  ///< attempted, did not succeed (see ActionRecord::error)
    skipped, ///< deliberately not done
    undone,  ///< carried out, later reverted by `mbx journal undo`
};

/// The stable string for `status` ("running", "ok", ...), as stored in the database.
std::string_view to_string(RunStatus status);

/// The stable string for `status` ("planned", "done", ...), as stored in the database.
std::string_view to_string(ActionStatus status);

/// Parses a run status string. Failure: throws mbx::Error(usage) naming the valid values.
RunStatus parse_run_status(std::string_view text);

/// The status of a run that ended with exit code `code` (an int: ExitCode's value): ok,
/// warning, critical, interrupted, or failed for every failure. The one rule every command uses.
RunStatus run_status_of(int code);

/// Parses an action status string. Failure: throws mbx::Error(usage) naming the valid values.
ActionStatus parse_action_status(std::string_view text);

using TimePoint = std::chrono::system_clock::time_point;

/// Formats `t` as ISO 8601 UTC with milliseconds: `2026-11-24T18:52:03.123Z`. Never fails.
std::string format_timestamp(TimePoint t);

/// Parses `2026-11-24`, `2026-11-24T18:52`, `2026-11-24T18:52:03`, optionally with `.123`
/// fractions and a trailing `Z` (a space may replace `T`); all are taken as UTC.
/// Failure: throws mbx::Error(usage) quoting the text.
TimePoint parse_timestamp(std::string_view text);

/// What begin_run needs from the caller; the journal fills in operator, host, pid and time.
struct RunStart {
    std::string tool{};              ///< e.g. "quota", "merge"
    std::vector<std::string> args{}; ///< argv after the program name; redacted before storing
    bool dry_run = false;
    std::string mbx_version{}; ///< e.g. "0.1.0"
};

/// One action to record.
struct NewAction {
    std::string kind{};                     ///< e.g. "quota.check", "ldap.modify", "imap.expunge"
    std::string subject{};                  ///< e.g. "alice" or "alice/INBOX:UID 42"
    std::optional<nlohmann::json> before{}; ///< state before, for undo; scrubbed of secrets
    std::optional<nlohmann::json> after{};  ///< state after; scrubbed of secrets
    ActionStatus status = ActionStatus::planned;
    std::optional<std::string> error{}; ///< why it failed, when status is failed
};

/// One row of `runs`, as a reader sees it.
struct RunRecord {
    std::int64_t id = 0;
    std::string uuid{}; ///< 32 lower-case hex digits, unique across shard journals
    std::string tool{};
    std::vector<std::string> args{}; ///< as stored: already redacted
    std::string operator_name{};     ///< login name of the real uid that ran the command
    std::int64_t operator_uid = 0;
    std::string host{};
    std::int64_t pid = 0;
    std::string mbx_version{};
    bool dry_run = false;
    std::string started_at{};              ///< ISO 8601 UTC, see format_timestamp
    std::optional<std::string> ended_at{}; ///< unset while running
    /// The status to report. A run stored as `running` whose process no longer exists on this
    /// host is reported as `interrupted`, with `stale` set.
    RunStatus status = RunStatus::running;
    /// True when the database still says `running` but the process is gone (see `status`).
    bool stale = false;
    std::optional<int> exit_code{};
};

/// One row of `actions`.
struct ActionRecord {
    std::int64_t id = 0;
    std::int64_t run_id = 0;
    std::int64_t seq = 0; ///< 1, 2, 3, ... within the run
    std::string kind{};
    std::string subject{};
    std::optional<nlohmann::json> before{};
    std::optional<nlohmann::json> after{};
    ActionStatus status = ActionStatus::planned;
    std::optional<std::string> error{};
    std::string started_at{};
    std::optional<std::string> ended_at{};
};

/// Which runs list_runs and for_each_action select. Unset fields do not filter; every member
/// has a default, so designated initializers work: `list_runs({.tool = "quota", .limit = 20})`.
struct RunFilter {
    std::optional<TimePoint> since{};  ///< runs started at or after this instant
    std::optional<std::string> tool{}; ///< exact tool name
    std::optional<RunStatus> status{}; ///< the reported status (stale runs count as interrupted)
    std::size_t limit = 0;             ///< at most this many runs, newest first; 0 = no limit
};

/// A run that has actions about one subject (Journal::runs_about).
struct SubjectRun {
    RunRecord run{};
    std::int64_t actions = 0;         ///< its actions about the subject
    std::vector<std::string> kinds{}; ///< their kinds, distinct, sorted
};

} // namespace mbx::journal
