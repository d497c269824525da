// mbx diagnose: the history checks. Gathering (the journal's runs about the user, and which
// `mbx journal undo` reverted which) in the Diagnosis; the judge over the facts
// (diagnose_judge.hpp) below it.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose {

using detail::command_of;
using detail::joined;
using detail::p;

namespace {

Finding change_finding(const journal::SubjectRun& r, const HistoryFacts& facts) {
    const std::string kinds = joined(r.kinds, ",");
    const std::string what = fmt::format("`{}` at {} ({} action{}: {})", command_of(r.run), r.run.started_at, r.actions,
                                         r.actions == 1 ? "" : "s", kinds);
    const std::string id = std::to_string(r.run.id);
    const bool resumable = r.run.tool == "reprovision" || r.run.tool == "merge";
    Finding f{.area = "history", .check = "run " + id};
    switch (r.run.status) {
    case journal::RunStatus::running:
        f.status = Status::warning;
        f.detail = fmt::format("{} is still running (pid {} on {})", what, r.run.pid, p(r.run.host));
        f.remedy = "wait for it to finish before changing the account";
        break;
    case journal::RunStatus::interrupted:
        f.status = Status::warning;
        f.detail = what + " was interrupted";
        f.remedy = resumable ? fmt::format("finish it: `mbx {} --resume {}`, or undo it: `mbx journal undo {}`",
                                           r.run.tool, id, id)
                             : fmt::format("see `mbx journal show {}`; undo with `mbx journal undo {}`", id, id);
        break;
    case journal::RunStatus::failed:
        f.status = Status::warning;
        f.detail = fmt::format("{} failed (exit {})", what, r.run.exit_code.value_or(0));
        f.remedy = resumable ? fmt::format("see `mbx journal show {}`; fix the cause and `mbx {} --resume {}`", id,
                                           r.run.tool, id)
                             : fmt::format("see `mbx journal show {}`", id);
        break;
    default:
        f.status = Status::ok;
        f.detail = fmt::format("{}: {}", what, journal::to_string(r.run.status));
        if (auto u = facts.undone_by.find(r.run.id); u != facts.undone_by.end())
            f.detail += fmt::format(", undone by run {}", u->second);
        else if (r.run.tool != "journal") f.remedy = fmt::format("undo if it caused this: `mbx journal undo {}`", id);
        break;
    }
    return f;
}

// The one line for the read-only runs: how many of each tool, and the latest.
Finding checks_finding(const std::map<std::string, int>& checks, const journal::SubjectRun& latest, std::int64_t days) {
    std::string by_tool;
    int n = 0;
    for (const auto& [tool, count] : checks) {
        by_tool += fmt::format("{}{} {}", by_tool.empty() ? "" : ", ", count, tool);
        n += count;
    }
    return {.area = "history",
            .check = "checks",
            .status = Status::ok,
            .detail = fmt::format("{} read-only run{} in the last {} days ({}); latest: run {} `{}` at {}", n,
                                  n == 1 ? "" : "s", days, by_tool, latest.run.id, command_of(latest.run),
                                  latest.run.started_at)};
}

} // namespace

std::vector<Finding> judge_history(const HistoryFacts& facts) {
    if (!facts.have_journal)
        return {{.area = "history", .check = "journal", .status = Status::skipped, .detail = "no journal"}};
    std::vector<Finding> found;
    std::map<std::string, int> checks; // read-only runs by tool
    const journal::SubjectRun* latest_check = nullptr;
    int shown = 0;
    for (const auto& r : facts.runs) {
        if (r.run.tool == "diagnose") continue; // this very run, and earlier looks
        const bool changed = !r.run.dry_run && std::any_of(r.kinds.begin(), r.kinds.end(),
                                                           [](const auto& k) { return !ops::read_only_kind(k); });
        if (!changed) {
            ++checks[r.run.tool];
            if (!latest_check) latest_check = &r;
            continue;
        }
        if (shown++ >= 10) continue;
        found.push_back(change_finding(r, facts));
    }
    if (!checks.empty()) found.push_back(checks_finding(checks, *latest_check, facts.days));
    if (shown > 10)
        found.push_back({.area = "history",
                         .check = "more",
                         .status = Status::ok,
                         .detail = fmt::format("{} older changes not shown: `mbx journal list`", shown - 10)});
    if (facts.runs.empty() || (checks.empty() && shown == 0))
        found.push_back(
            {.area = "history",
             .check = "runs",
             .status = Status::ok,
             .detail = fmt::format("no mbxkit run about '{}' in the last {} days", p(facts.uid), facts.days)});
    return found;
}

} // namespace mbx::ops::diagnose

namespace mbx::ops::diagnose::detail {

void Diagnosis::history() {
    step("history");
    HistoryFacts facts{.have_journal = journal_ != nullptr, .uid = uid()};
    if (journal_) {
        const auto window = cfg_.get_duration("diagnose.history");
        facts.days = std::chrono::duration_cast<std::chrono::hours>(window).count() / 24;
        const auto since = req_.now - window;
        for (const auto& subject : std::set<std::string>{req_.user, uid()}) {
            auto more = journal_->runs_about(subject, since, 500);
            for (auto& r : more)
                if (std::none_of(facts.runs.begin(), facts.runs.end(),
                                 [&](const auto& x) { return x.run.id == r.run.id; }))
                    facts.runs.push_back(std::move(r));
        }
        std::sort(facts.runs.begin(), facts.runs.end(),
                  [](const auto& a, const auto& b) { return a.run.started_at > b.run.started_at; });
        facts.undone_by = undone_runs(facts.runs);
    }
    add_all(judge_history(facts));
}

// Runs that `mbx journal undo` reverted, and by which run.
std::map<std::int64_t, std::int64_t> Diagnosis::undone_runs(const std::vector<journal::SubjectRun>& runs) const {
    std::map<std::int64_t, std::int64_t> undone_by;
    for (const auto& r : runs) {
        if (r.run.tool != "journal" || r.run.args.empty() || r.run.args[0] != "undo" || r.run.dry_run ||
            r.run.status != journal::RunStatus::ok)
            continue;
        // The RUN operand: the first argument after "undo" that names a run (flags and
        // their values do not).
        for (std::size_t i = 1; i < r.run.args.size(); ++i) {
            const auto& a = r.run.args[i];
            if (a.empty() || a.front() == '-' || (i > 1 && r.run.args[i - 1].starts_with("-"))) continue;
            try {
                if (auto target = journal_->find_run_by_reference(a)) {
                    undone_by.try_emplace(target->id, r.run.id);
                    break;
                }
            } catch (const Error&) {
            }
        }
    }
    return undone_by;
}

} // namespace mbx::ops::diagnose::detail
