#pragma once
// Plan, then apply: an operation decides what it will change (a Plan of actions, each a kind of
// the registry with the state before and the state it leaves) and one executor carries it out,
// journaling each action before it is made and after. A dry run is the same plan journaled and
// not made: the session says which, no request does.

#include "mbx/core/session.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mbx::ops {

/// One change an operation plans.
struct PlannedAction {
    const char* kind = nullptr;                 ///< a name of the registry (ops/actions.hpp)
    std::string subject = {};
    std::optional<nlohmann::json> before = {};  ///< the state found
    std::optional<nlohmann::json> after = {};   ///< the state the change leaves
    /// Makes the change; throws mbx::Error when it fails. Empty: there is nothing to change
    /// (the state is already `after`), and the action is journaled `skipped`.
    std::function<void()> apply = {};
};

using Plan = std::vector<PlannedAction>;

/// What became of a planned action.
enum class Applied {
    skipped, ///< nothing to change
    planned, ///< a dry run: journaled, not made
    done,    ///< made
};

/// Carries out `plan` in order in `session`: each action is journaled `planned` (before, after)
/// in the session's run before it is made, then `done`, or `failed` with the error, which is
/// rethrown and ends the plan. In a dry run every action is only journaled `planned`; an action
/// without apply is journaled `skipped`. Without a journal run nothing is journaled. Throws
/// Error(internal) for a kind the registry does not name, before anything is journaled or made.
std::vector<Applied> apply(const Session& session, const Plan& plan);

} // namespace mbx::ops
