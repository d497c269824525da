// `mbx merge` of one pair as a journal run: which earlier run it continues, and the run's
// beginning and end. Separate from merge.cpp, which copies.
#include "mbx/ops/merge_run.hpp"
#include "mbx/ops/actions.hpp"

#include "mbx/core/version.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/batch.hpp"

namespace mbx::ops::merge {

std::optional<std::int64_t> find_unfinished_run(journal::Journal& journal, const std::string& from,
                                                const std::string& to) {
    const std::string subject = from + " -> " + to;
    for (const auto& run : journal.list_runs({.tool = "merge", .limit = 100})) {
        bool this_pair = false;
        for (const auto& a : journal.actions_of(run.id))
            if (a.kind == kind::kMergePlan && a.subject == subject && a.after) this_pair = true;
        if (!this_pair) continue;
        if (run.status == journal::RunStatus::ok || run.dry_run) {
            if (run.status == journal::RunStatus::ok) return std::nullopt; // finished: start afresh
            continue;
        }
        return run.id;
    }
    return std::nullopt;
}

Result run_journaled(const Session& session, Request request, const std::string& resume,
                     const std::vector<std::string>& argv) {
    if (!session.journal) throw Error(ErrorCategory::internal, "mbx merge runs with a journal");
    journal::Journal& journal = *session.journal;
    if (!resume.empty()) request.resume_run = resume_run_of(journal, resume, "merge");
    else if (!session.dry_run) request.resume_run = find_unfinished_run(journal, request.from.label, request.to.label);
    Session in_run = session;
    in_run.run_id = journal.begin_run(
        {.tool = "merge", .args = argv, .dry_run = session.dry_run, .mbx_version = std::string(version())});
    const auto finish = [&](ExitCode exit) {
        journal.finish_run(*in_run.run_id, journal::run_status_of(static_cast<int>(exit)), static_cast<int>(exit));
    };
    try {
        Result result = run(in_run, request);
        finish(result.exit);
        return result;
    } catch (const Error& e) {
        finish(e.exit_code());
        throw;
    }
}

} // namespace mbx::ops::merge
