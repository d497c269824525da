#include "mbx/ops/plan.hpp"

#include "mbx/journal/journal.hpp"
#include "mbx/ops/actions.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace mbx::ops {

namespace {

// Refuses a kind the registry does not name: an operation's mistake, caught before anything is
// journaled or made.
void refuse_unregistered(const char* kind) {
    if (!kind || !find_action_kind(kind))
        throw Error(ErrorCategory::internal,
                    fmt::format("an action of kind '{}' is not in the registry", kind ? kind : ""));
}

} // namespace

std::vector<Applied> apply(const Session& session, const Plan& plan) { return apply(session, plan, Resumed{}); }

std::vector<Applied> apply(const Session& session, const Plan& plan, const Resumed& resumed) {
    for (const auto& a : plan) refuse_unregistered(a.kind);
    journal::Journal* journal = session.run_id ? session.journal : nullptr;
    const auto record = [&](const PlannedAction& a, journal::ActionStatus status) -> std::optional<std::int64_t> {
        if (!journal) return std::nullopt;
        return journal->add_action(
            *session.run_id,
            {.kind = a.kind, .subject = a.subject, .before = a.before, .after = a.after, .status = status});
    };
    const auto made = [](const PlannedAction& a) { return a.made ? a.made() : std::optional<nlohmann::json>(); };
    std::vector<Applied> applied;
    for (const auto& a : plan) {
        const journal::ActionRecord* earlier = resumed.find(a.kind, a.subject);
        if (earlier && earlier->status == journal::ActionStatus::done) {
            if (earlier->run_id != session.run_id) record(a, journal::ActionStatus::skipped);
            applied.push_back(Applied::already);
            continue;
        }
        if (!a.apply) {
            record(a, journal::ActionStatus::skipped);
            applied.push_back(Applied::skipped);
            continue;
        }
        // The attempt that stopped while it made this change left its record planned: finishing
        // that record keeps one action per change in the run.
        const bool continued = journal && !session.dry_run && earlier &&
                               earlier->status == journal::ActionStatus::planned && earlier->run_id == session.run_id;
        const auto id = continued ? std::optional(earlier->id) : record(a, journal::ActionStatus::planned);
        if (session.dry_run) {
            applied.push_back(Applied::planned);
            continue;
        }
        try {
            a.apply();
        } catch (const Error& e) {
            if (id) journal->update_action(*id, journal::ActionStatus::failed, made(a), e.one_line());
            throw;
        }
        if (id) journal->update_action(*id, journal::ActionStatus::done, made(a));
        applied.push_back(Applied::done);
    }
    return applied;
}

Resumed Resumed::of_runs(journal::Journal& journal, std::span<const std::int64_t> runs) {
    Resumed r;
    for (const std::int64_t run : runs)
        for (auto& a : journal.actions_of(run)) r.actions_.push_back(std::move(a));
    return r;
}

const journal::ActionRecord* Resumed::find(std::string_view kind, std::string_view subject) const {
    const auto it = std::find_if(actions_.rbegin(), actions_.rend(), [&](const journal::ActionRecord& a) {
        return a.kind == kind && a.subject == subject;
    });
    return it == actions_.rend() ? nullptr : &*it;
}

bool Resumed::done(std::string_view kind, std::string_view subject) const {
    const auto* a = find(kind, subject);
    return a && a->status == journal::ActionStatus::done;
}

bool Resumed::undone() const {
    return std::any_of(actions_.begin(), actions_.end(),
                       [](const journal::ActionRecord& a) { return a.status == journal::ActionStatus::undone; });
}

} // namespace mbx::ops

// ---- batches --------------------------------------------------------------------------------

namespace mbx::ops {
namespace {

// Refuses a batch the registry or the caller got wrong, before anything is journaled or made.
void check_batch(const PlannedBatch& batch) {
    for (const auto& a : batch.actions) refuse_unregistered(a.kind);
    if (!batch.apply) throw Error(ErrorCategory::internal, "a batch of actions without the call that makes them");
}

// Every action of `batch`, journaled in one transaction (one commit for hundreds of messages).
std::vector<std::int64_t> journal_planned(journal::Journal& journal, std::int64_t run_id, const PlannedBatch& batch) {
    std::vector<std::int64_t> ids;
    auto tx = journal.batch();
    for (const auto& a : batch.actions)
        ids.push_back(journal.add_action(
            run_id, {.kind = a.kind,
                     .subject = a.subject,
                     .before = a.before,
                     .after = a.after,
                     .status = a.skipped ? journal::ActionStatus::skipped : journal::ActionStatus::planned,
                     .error = a.skipped}));
    tx.commit();
    return ids;
}

// The outcome of each action the call made or left unmade, in one transaction.
void journal_outcomes(journal::Journal& journal, const std::vector<std::int64_t>& ids,
                      const std::vector<BatchApplied>& applied, const std::function<std::string(std::size_t)>& why) {
    auto tx = journal.batch();
    for (std::size_t i = 0; i < applied.size(); ++i) {
        if (applied[i] == BatchApplied::done) journal.update_action(ids[i], journal::ActionStatus::done);
        if (applied[i] == BatchApplied::failed)
            journal.update_action(ids[i], journal::ActionStatus::failed, std::nullopt, why(i));
    }
    tx.commit();
}

} // namespace

std::vector<BatchApplied> apply_batch(const Session& session, const PlannedBatch& batch) {
    check_batch(batch);
    journal::Journal* journal = session.run_id ? session.journal : nullptr;
    const auto ids = journal ? journal_planned(*journal, *session.run_id, batch) : std::vector<std::int64_t>{};
    std::vector<BatchApplied> applied;
    for (const auto& a : batch.actions)
        applied.push_back(a.skipped         ? BatchApplied::skipped
                          : session.dry_run ? BatchApplied::planned
                                            : BatchApplied::done);
    if (std::none_of(applied.begin(), applied.end(), [](BatchApplied a) { return a == BatchApplied::done; }))
        return applied; // a dry run, or nothing to change: no call
    PlannedBatch::Unmade unmade;
    try {
        unmade = batch.apply();
    } catch (const Error& e) {
        if (journal && !(batch.outcome_unknown && batch.outcome_unknown(e))) {
            std::replace(applied.begin(), applied.end(), BatchApplied::done, BatchApplied::failed);
            journal_outcomes(*journal, ids, applied, [&](std::size_t) { return e.one_line(); });
        }
        throw;
    }
    // An index that names no action of the call (out of range, or skipped) changes nothing.
    for (const auto& [i, why] : unmade)
        if (i < applied.size() && applied[i] == BatchApplied::done) applied[i] = BatchApplied::failed;
    if (journal) journal_outcomes(*journal, ids, applied, [&](std::size_t i) { return unmade.at(i); });
    return applied;
}

} // namespace mbx::ops

// ---- a pipeline -----------------------------------------------------------------------------

namespace mbx::ops {

Begun begin(const Session& session, const PlannedAction& action) {
    refuse_unregistered(action.kind);
    if (!session.journal || !session.run_id) return {};
    return {session.journal->add_action(*session.run_id, {.kind = action.kind,
                                                          .subject = action.subject,
                                                          .before = action.before,
                                                          .after = action.after,
                                                          .status = journal::ActionStatus::planned})};
}

void finish(const Session& session, const Begun& begun, std::optional<nlohmann::json> after) {
    if (begun.action && session.journal)
        session.journal->update_action(*begun.action, journal::ActionStatus::done, std::move(after));
}

} // namespace mbx::ops
