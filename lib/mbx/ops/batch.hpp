#pragma once
// One way to run an operation over many subjects (users, pairs of mailboxes): in order or N at
// a time, each subject's journal run begun and finished by one rule, and the failure of one
// subject kept to that subject. Tools call this; none owns a thread pool or a journal run.

#include "mbx/core/error.hpp"
#include "mbx/core/session.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops {

/// What the work on one subject gets: its index and a session whose journal is its thread's
/// (a Journal is one thread's; every worker opens its own on the same file) and whose progress
/// is a NullProgress when several subjects run at once.
struct SubjectContext {
    std::size_t index;
    const Session& session;
};

/// How one subject ended: what its work returned, or the mbx::Error it threw.
struct SubjectOutcome {
    ExitCode exit = ExitCode::ok;
    std::optional<Error> error = {};
};

/// Runs `work` for subjects 0 .. count-1, `parallel` at a time (clamped to 1 .. count; 1 runs
/// them in order on this thread with `session` itself). An mbx::Error thrown by `work`
/// (or by opening a worker's journal) becomes that subject's outcome and the others go on;
/// any other exception propagates once every worker has stopped. Once session.should_stop(), no
/// further subject is begun: each left is an interrupted outcome, its work not called. Returns the outcomes in
/// subject order. Side effects: whatever `work` does; progress.finish() at the end.
std::vector<SubjectOutcome> run_batch(const Session& session, std::size_t count, unsigned parallel,
                                      const std::function<ExitCode(SubjectContext&)>& work);

/// The run of command `tool` that `reference` names (a run id or uuid prefix, as --resume takes
/// it). Throws Error(usage) naming the command when it names no run of it. Reads the journal.
std::int64_t resume_run_of(journal::Journal& journal, std::string_view reference, std::string_view tool);

/// The arguments journaled for one subject of a batch, as if it had been run alone: `argv`
/// without the batch's own options (`batch_options`, each with its value, as `--opt V`,
/// `--opt=V`, `-o V` or `-oV`), after `subject_args`.
std::vector<std::string> subject_argv(const std::vector<std::string>& argv,
                                      std::initializer_list<std::string_view> batch_options,
                                      std::vector<std::string> subject_args);

} // namespace mbx::ops
