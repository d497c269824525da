#pragma once
// Plan, then apply: an operation decides what it will change (a Plan of actions, each a kind of
// the registry with the state before and the state it leaves) and one executor carries it out,
// journaling each action before it is made and after. A dry run is the same plan journaled and
// not made: the session says which, no request does.

#include "mbx/core/error.hpp"
#include "mbx/core/session.hpp"
#include "mbx/journal/records.hpp"
#include "mbx/ops/fwd.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops {

/// One change an operation plans.
struct PlannedAction {
    const char* kind = nullptr; ///< a name of the registry (ops/actions.hpp)
    std::string subject = {};
    std::optional<nlohmann::json> before = {}; ///< the state found
    std::optional<nlohmann::json> after = {};  ///< the state the change leaves
    /// Makes the change; throws mbx::Error when it fails. Empty: there is nothing to change
    /// (the state is already `after`), and the action is journaled `skipped`.
    std::function<void()> apply = {};
    /// The after-state known only once apply has returned or thrown (what it created, what it
    /// copied). When it gives one, that is journaled as the action's after with its outcome;
    /// empty, or nullopt: the planned `after` stands.
    std::function<std::optional<nlohmann::json>()> made = {};
};

using Plan = std::vector<PlannedAction>;

/// What became of a planned action.
enum class Applied {
    skipped, ///< nothing to change
    planned, ///< a dry run: journaled, not made
    done,    ///< made
    already, ///< made by an earlier attempt of a resumed run: not made again
};

/// Carries out `plan` in order in `session`: each action is journaled `planned` (before, after)
/// in the session's run before it is made, then `done`, or `failed` with the error, which is
/// rethrown and ends the plan. In a dry run every action is only journaled `planned`; an action
/// without apply is journaled `skipped`. Without a journal run nothing is journaled. Throws
/// Error(internal) for a kind the registry does not name, before anything is journaled or made.
std::vector<Applied> apply(const Session& session, const Plan& plan);

/// What the earlier attempts of a resumed run journaled, for apply to carry on from: the last
/// action of each kind and subject.
class Resumed {
public:
    Resumed() = default;

    /// The actions of the journal runs `runs`, oldest run first (a later record of the same kind
    /// and subject wins). Reads the journal.
    static Resumed of_runs(journal::Journal& journal, std::span<const std::int64_t> runs);

    /// The last action of `kind` about `subject` the earlier attempts journaled, or nullptr.
    const journal::ActionRecord* find(std::string_view kind, std::string_view subject) const;

    /// True when that action was made (journaled done).
    bool done(std::string_view kind, std::string_view subject) const;

    /// True when any action of the earlier attempts was undone since (`mbx journal undo`).
    bool undone() const;

private:
    std::vector<journal::ActionRecord> actions_; // in the order journaled
};

/// apply, for a run that continues `resumed`: an action whose kind and subject an earlier attempt
/// journaled done is not made again (Applied::already), and is journaled `skipped` when that
/// attempt was another run than the session's (a reopened run already holds its record). One
/// journaled planned in the session's own run, and never finished (the process stopped while it
/// was made), is made again under that record, whose before and after stand.
std::vector<Applied> apply(const Session& session, const Plan& plan, const Resumed& resumed);

} // namespace mbx::ops

// ---- batches --------------------------------------------------------------------------------

namespace mbx::ops {

/// One change of a PlannedBatch: journaled on its own, made by the batch's one call.
struct BatchedAction {
    const char* kind = nullptr; ///< a name of the registry (ops/actions.hpp)
    std::string subject = {};
    std::optional<nlohmann::json> before = {};
    std::optional<nlohmann::json> after = {};
    /// Set: there is nothing to change, for this reason (the message vanished); the action is
    /// journaled `skipped` with it and left out of the call.
    std::optional<std::string> skipped = {};
};

/// Changes made together by one call, for speed: many messages expunged by one IMAP command.
struct PlannedBatch {
    /// The actions the call could not make, by index into `actions`, each with why.
    using Unmade = std::map<std::size_t, std::string>;

    std::vector<BatchedAction> actions = {};
    /// Makes every action that is not skipped, at once, and returns those it could not make (a
    /// batch can partly succeed). Throws mbx::Error when the call fails as a whole.
    std::function<Unmade()> apply = {};
    /// True for an error after which it is unknown whether the changes were made (the
    /// connection was lost in the call): the actions then stay `planned`, for undo to judge by
    /// what it finds. Empty: every error marks them `failed`.
    std::function<bool(const Error&)> outcome_unknown = {};
};

/// What became of an action of a batch.
enum class BatchApplied {
    skipped, ///< nothing to change
    planned, ///< a dry run: journaled, not made
    done,    ///< made
    failed,  ///< the call could not make it (PlannedBatch::Unmade)
};

/// Carries out `batch` in `session`: every action journaled in one transaction before the call,
/// `planned` (before, after), or `skipped` with its reason; then the one call, unless it is a
/// dry run or every action is skipped; then in one transaction each action made `done`, each
/// unmade `failed` with why. When the call throws, its actions are journaled `failed` with the
/// error (left `planned` when outcome_unknown says so) and the error is rethrown. Without a
/// journal run nothing is journaled. Throws Error(internal) for a kind the registry does not
/// name, or a batch without apply, before anything is journaled or made.
std::vector<BatchApplied> apply_batch(const Session& session, const PlannedBatch& batch);

} // namespace mbx::ops

// ---- a pipeline -----------------------------------------------------------------------------

namespace mbx::ops {

/// A change begun and not yet finished, for a pipeline that has several in flight: merge's
/// batches, journaled before a byte is sent and finished when the server has stored them all.
struct Begun {
    std::optional<std::int64_t> action = {}; ///< its journal record; none without a journal run
};

/// Journals `action` `planned` (its before and after), as apply() does before it makes a change;
/// the caller makes it (`action.apply` is not called). One never finished stays `planned`: in
/// doubt, for the next run to look at. Throws Error(internal) for a kind the registry does not
/// name, before anything is journaled.
Begun begin(const Session& session, const PlannedAction& action);

/// Journals a begun change `done`, with `after` as its after-state when given.
void finish(const Session& session, const Begun& begun, std::optional<nlohmann::json> after = std::nullopt);

} // namespace mbx::ops
