#include "mbx/ops/plan.hpp"

#include "mbx/journal/journal.hpp"
#include "mbx/ops/actions.hpp"

#include <fmt/format.h>

namespace mbx::ops {

std::vector<Applied> apply(const Session& session, const Plan& plan) {
    for (const auto& a : plan)
        if (!a.kind || !find_action_kind(a.kind))
            throw Error(ErrorCategory::internal,
                        fmt::format("an action of kind '{}' is not in the registry", a.kind ? a.kind : ""));
    journal::Journal* journal = session.run_id ? session.journal : nullptr;
    const auto record = [&](const PlannedAction& a, journal::ActionStatus status) -> std::optional<std::int64_t> {
        if (!journal) return std::nullopt;
        return journal->add_action(*session.run_id,
                                   {.kind = a.kind, .subject = a.subject, .before = a.before, .after = a.after,
                                    .status = status});
    };
    std::vector<Applied> applied;
    for (const auto& a : plan) {
        if (!a.apply) {
            record(a, journal::ActionStatus::skipped);
            applied.push_back(Applied::skipped);
            continue;
        }
        const auto id = record(a, journal::ActionStatus::planned);
        if (session.dry_run) {
            applied.push_back(Applied::planned);
            continue;
        }
        try {
            a.apply();
        } catch (const Error& e) {
            if (id) journal->update_action(*id, journal::ActionStatus::failed, std::nullopt, e.one_line());
            throw;
        }
        if (id) journal->update_action(*id, journal::ActionStatus::done);
        applied.push_back(Applied::done);
    }
    return applied;
}

} // namespace mbx::ops
