#pragma once
// mbx merge's insides, shared by merge.cpp (connect, plan, scan, the run), merge_copy.cpp
// (fetch, append, journal each batch) and merge_verify.cpp (verification, naming what is
// missing). Internal to lib/mbx/ops: nothing else includes it.

#include "mbx/ops/merge_run.hpp"
#include "mbx/ops/plan.hpp"

#include "mbx/core/session.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace mbx::ops::merge::detail {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

inline std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// Byte counts for messages, through the one formatter the sinks use.
inline std::string human_bytes(std::uint64_t n) { return out::human_bytes(static_cast<std::int64_t>(n)); }

// A throttling answer or a dropped connection: reconnect, rescan, go on.
struct Transient {
    Error error;
};

// The run must stop after the current batch (over quota, error budget, interrupt).
struct Stop {
    Error error;
};

inline bool retryable(const Error& e) { return e.category() == ErrorCategory::unavailable; }

// One folder's scan: every message, no bodies, each handed to `take` as it arrives.
struct Scan {
    std::uint64_t uidvalidity = 0;
    std::uint64_t uidnext = 0;
};

// `opened` learns the folder's UIDVALIDITY and UIDNEXT before the first message arrives.
Scan scan(imap::Connection& conn, const std::string& folder, const std::function<void(Message&&)>& take,
          const std::function<void(const Scan&)>& opened = {});

// The folders of a connection's user and the namespaces their names are in.
Hierarchy list_folders(imap::Connection& conn);

// An error that concerns one folder (the server refused to create, select or write it): the
// folder fails with it, the others go on. Anything else stops the run.
inline bool folder_error(const Error& e) { return e.category() == ErrorCategory::data; }

// What is left to copy of one folder.
struct Todo {
    std::uint64_t uid = 0;
    std::uint64_t size = 0;
};

// Per folder: the result being built and the copy state.
struct FolderState {
    FolderResult result;
    bool target_exists = false;
    std::uint64_t target_uidvalidity = 0;
    std::uint64_t baseline = 1; ///< target UIDs from here on were copied by this run (or the one it resumes)
    std::uint64_t source_uidvalidity = 0;
    std::vector<Todo> todo;
    /// Copies made by this run whose flags differ from their source message's: (source UID,
    /// target UID). A server that crashed while storing them can have lost keyword names.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> reflag;
    /// The copies of this run (and of the run it resumes) that APPENDUID named: source UID ->
    /// target UID, valid while both folders keep these UIDVALIDITYs.
    KnownCopies known;
    std::uint64_t known_source_uidvalidity = 0, known_target_uidvalidity = 0;
    /// From the last scan: pairs whose sizes differ (the target changed the bytes), the first
    /// kMaxExplained of them as (source UID, target UID) to say how.
    std::uint64_t resized = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> resized_pairs;
    std::uint64_t extra = 0; ///< from the last scan: second copies made by this run or the ones it resumes
    bool done = false;
    bool skip = false; ///< failed in the scan: not copied, not verified
};

// How a copy's header differs from its source's: "header added: X-Name" (the first field the
// target has and the source has not), "header rewritten", or "body changed" (equal headers).
std::string describe_change(std::string_view source, std::string_view target);

struct Baseline {
    std::uint64_t uidvalidity = 0;
    std::uint64_t uid = 1;
};

// Known copies journaled by a run, per target folder.
struct Journaled {
    std::uint64_t source_uidvalidity = 0, target_uidvalidity = 0;
    KnownCopies copies;
};

// At most this many changed copies per folder are compared header to header (two FETCHes of
// headers each) to say how the target changed them.
constexpr std::size_t kMaxExplained = 50;
// At most this many missing messages per folder are named (folder, UID, Message-ID, date,
// subject) in the output and the journal; the count is always whole.
constexpr std::size_t kMaxNamedMissing = 1000;

class Merger {
public:
    Merger(const Session& session, const Request& req)
        : session_(session), req_(req), opt_(req.options), progress_(session.progress), journal_(session.journal),
          run_id_(session.run_id.value_or(0)), dry_run_(session.dry_run) {}

    Result run();

private:
    void connect();
    void load_resumed();
    void plan();
    Result plan_only();
    void copy_folders();
    void copy_with_retries(FolderState& st);
    void verify_with_retries();
    void finish_folders();
    void logout();
    void scan_folder(FolderState& st, bool count_source);
    void preflight();
    void journal_plan();
    void copy_folder(FolderState& st);
    void fix_flags(FolderState& st);
    void copy_batch(FolderState& st, const std::vector<Todo>& todo, bool multi);
    void drain(FolderState& st);
    void finish_batch(FolderState& st, std::uint64_t id);
    void send(FolderState& st, imap::FetchItem& f, std::uint64_t uid, bool multi);
    void explain(FolderState& st);
    void name_missing(FolderState& st);
    void load_known();
    void settle(const std::string& folder);
    void close_group();
    void complete_one(FolderState& st);
    void verify();
    void throttle(std::uint64_t size);
    void backoff(int attempt, const Error& why);
    void show(const FolderState& st);
    ExitCode outcome() const;
    std::string pair() const { return req_.from.label + " -> " + req_.to.label; }

    const Session& session_; // its stop_requested is checked between batches and folders
    const Request& req_;
    const Options& opt_;
    Progress& progress_;
    journal::Journal* journal_; // nullptr: not journaled
    std::int64_t run_id_;       // the run the actions go to
    bool dry_run_;              // plan only: EXAMINE, FETCH and LIST; no write on either side
    std::optional<imap::Connection> src_, dst_;
    std::vector<FolderState> folders_;
    std::map<std::string, Baseline> baselines_;  // by target folder
    std::map<std::string, Journaled> journaled_; // by target folder, from the resumed runs
    std::set<std::string> in_doubt_;             // target folders where a resumed run died while sending
    Result result_;
    Clock::time_point start_ = Clock::now();
    std::uint64_t total_to_copy_ = 0, total_bytes_ = 0, copied_ = 0, copied_bytes_ = 0;
    std::uint64_t throttled_messages_ = 0, throttled_bytes_ = 0;
    Clock::time_point throttle_start_ = Clock::now();
    std::optional<Error> stopping_;
    bool writes_started_ = false;

    // One message sent in an APPEND whose completion is awaited.
    struct Sent {
        std::uint64_t uid = 0;
        std::uint64_t size = 0;
        std::string message_id;
    };
    // One APPEND command in flight: one message, or many with MULTIAPPEND (all or none).
    struct Group {
        std::string tag;
        std::vector<Sent> messages;
        std::uint64_t bytes = 0;
        std::uint64_t batch = 0; ///< the batch it belongs to (batches_)
    };
    std::deque<Group> pending_;
    // A batch whose APPENDs may still be in flight: it is journaled done when its last group
    // completes, so the next batch's FETCH overlaps the target's commit of this one.
    struct Batch {
        Begun begun;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> copied; ///< (source UID, target UID or 0)
        std::uint64_t bytes = 0;
        std::size_t groups = 0; ///< groups sent and not completed
        bool sent = false;      ///< every group of it is sent
    };
    std::map<std::uint64_t, Batch> batches_;
    std::uint64_t next_batch_ = 0, current_batch_ = 0;
    void handle_completion(FolderState& st, Group& g, const imap::Response& r);
    std::optional<Group> open_group_;         // a MULTIAPPEND still being streamed
    bool multiappend_ = false;                // the target has MULTIAPPEND and LITERAL+
    std::vector<std::uint64_t> retry_single_; // UIDs of a refused MULTIAPPEND, to send one by one
};

} // namespace mbx::ops::merge::detail
