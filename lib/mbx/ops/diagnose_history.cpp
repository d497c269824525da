// mbx diagnose: the history checks.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose::detail {

void Diagnosis::history() {
    step("history");
    if (!journal_) {
        add({.area = "history", .check = "journal", .status = Status::skipped, .detail = "no journal"});
        return;
    }
    const auto window = cfg_.get_duration("diagnose.history");
    const auto since = req_.now - window;
    std::vector<journal::SubjectRun> runs;
    for (const auto& subject : std::set<std::string>{req_.user, uid()}) {
        auto more = journal_->runs_about(subject, since, 500);
        for (auto& r : more)
            if (std::none_of(runs.begin(), runs.end(), [&](const auto& x) { return x.run.id == r.run.id; }))
                runs.push_back(std::move(r));
    }
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.run.started_at > b.run.started_at; });
    // Runs that `mbx journal undo` reverted, and by which run.
    undone_by_.clear();
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
                    undone_by_.try_emplace(target->id, r.run.id);
                    break;
                }
            } catch (const Error&) {
            }
        }
    }
    std::map<std::string, int> checks; // read-only runs by tool
    const journal::SubjectRun* latest_check = nullptr;
    int shown = 0;
    for (const auto& r : runs) {
        if (r.run.tool == "diagnose") continue; // this very run, and earlier looks
        const bool changed = !r.run.dry_run && std::any_of(r.kinds.begin(), r.kinds.end(),
                                                           [](const auto& k) { return !read_only_kind(k); });
        if (!changed) {
            ++checks[r.run.tool];
            if (!latest_check) latest_check = &r;
            continue;
        }
        if (shown++ >= 10) continue;
        change_finding(r);
    }
    const auto days = std::chrono::duration_cast<std::chrono::hours>(window).count() / 24;
    if (!checks.empty()) {
        std::string by_tool;
        int n = 0;
        for (const auto& [tool, count] : checks) {
            by_tool += fmt::format("{}{} {}", by_tool.empty() ? "" : ", ", count, tool);
            n += count;
        }
        add({.area = "history", .check = "checks", .status = Status::ok,
             .detail = fmt::format("{} read-only run{} in the last {} days ({}); latest: run {} `{}` at {}", n,
                                   n == 1 ? "" : "s", days, by_tool, latest_check->run.id,
                                   command_of(latest_check->run), latest_check->run.started_at)});
    }
    if (shown > 10)
        add({.area = "history", .check = "more", .status = Status::ok,
             .detail = fmt::format("{} older changes not shown: `mbx journal list`", shown - 10)});
    if (runs.empty() || (checks.empty() && shown == 0))
        add({.area = "history", .check = "runs", .status = Status::ok,
             .detail = fmt::format("no mbxkit run about '{}' in the last {} days", p(uid()), days)});
}

void Diagnosis::change_finding(const journal::SubjectRun& r) {
    const std::string kinds = joined(r.kinds, ",");
    const std::string what = fmt::format("`{}` at {} ({} action{}: {})", command_of(r.run), r.run.started_at,
                                         r.actions, r.actions == 1 ? "" : "s", kinds);
    const std::string id = std::to_string(r.run.id);
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
        f.remedy = r.run.tool == "reprovision" || r.run.tool == "merge"
                       ? fmt::format("finish it: `mbx {} --resume {}`, or undo it: `mbx journal undo {}`",
                                     r.run.tool, id, id)
                       : fmt::format("see `mbx journal show {}`; undo with `mbx journal undo {}`", id, id);
        break;
    case journal::RunStatus::failed:
        f.status = Status::warning;
        f.detail = fmt::format("{} failed (exit {})", what, r.run.exit_code.value_or(0));
        f.remedy = r.run.tool == "reprovision" || r.run.tool == "merge"
                       ? fmt::format("see `mbx journal show {}`; fix the cause and `mbx {} --resume {}`", id,
                                     r.run.tool, id)
                       : fmt::format("see `mbx journal show {}`", id);
        break;
    default:
        f.status = Status::ok;
        f.detail = fmt::format("{}: {}", what, journal::to_string(r.run.status));
        if (auto u = undone_by_.find(r.run.id); u != undone_by_.end())
            f.detail += fmt::format(", undone by run {}", u->second);
        else if (r.run.tool != "journal")
            f.remedy = fmt::format("undo if it caused this: `mbx journal undo {}`", id);
        break;
    }
    add(std::move(f));
}

} // namespace mbx::ops::diagnose::detail
