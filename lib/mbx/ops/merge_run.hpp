#pragma once
// One merge, inside ops: its two endpoints (an IMAP login each), the request, and the run,
// alone or as a journal run of its own. merge_pairs (mbx merge) and reprovision call these;
// a tool calls merge::run_pairs (merge.hpp), which needs no IMAP type.

#include "mbx/imap/connection.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/ops/merge.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mbx::ops::merge {

/// One side of a merge, resolved from the command line and the configuration.
struct Endpoint {
    std::string label;     ///< as the admin wrote it: "alice" or "alice@old"
    imap::ImapConfig imap; ///< server and login (master or the user's own)
};

/// What to merge. Where it is journaled, and whether it is a dry run (plan only: EXAMINE,
/// FETCH and LIST, no write on either side), is the session's.
struct Request {
    Endpoint from;
    Endpoint to;
    Options options;
    /// A run whose plan to continue (--resume, or found by the tool; mbx reprovision passes its
    /// own run): its baselines (the target's UIDNEXT when it began) are reused.
    std::optional<std::int64_t> resume_run = {};
};

/// Runs the merge. Throws mbx::Error before anything is written: unavailable/auth/config when
/// a side cannot be reached or logged in to, data for a source that does not exist, temporary
/// when the pre-flight finds that the copy cannot fit the target's quota (unless force).
/// Problems after the first write are reported in Result (exit and stopped) so that what was
/// done is still shown. Network; writes only to the target.
/// Journals to session.journal's run session.run_id (no journal: not journaled).
Result run(const Session& session, const Request& request);

/// The journal run of an earlier, unfinished `mbx merge` of the same pair that a new run
/// continues, or nullopt (none, or the newest one finished). Reads the journal.
std::optional<std::int64_t> find_unfinished_run(journal::Journal& journal, const std::string& from,
                                                const std::string& to);

/// One pair as `mbx merge` runs it: in a journal run of its own (tool "merge", arguments
/// `argv`, as if the pair had been given alone) that continues run `resume` (a run id or uuid
/// prefix, --resume) or, when empty and not a dry run, the pair's unfinished run
/// (find_unfinished_run). The run is finished with the status of the exit code however the
/// merge ends. Throws as run(), and usage for a `resume` that names no merge run.
Result run_journaled(const Session& session, Request request, const std::string& resume,
                     const std::vector<std::string>& argv);

/// The side `label` names, resolved from the configuration; its secret comes from the session
/// (which may prompt). Throws usage for an empty user, config for a missing [imap.NAME].
Endpoint endpoint_of(const Session& session, const std::string& label,
                     const std::optional<std::filesystem::path>& password_file);

} // namespace mbx::ops::merge
