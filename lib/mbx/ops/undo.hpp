#pragma once
// `mbx journal undo RUN`: reverses what a run did, action by action, newest first, from the
// before-state the run journaled. Each kind of undoable action has one handler, named in the
// registry of action kinds (ops/actions.hpp); the journal tool only calls undo_run().
//
// Rules every handler follows:
// - It reverts one action (status done, or planned when the change may have happened before a
//   crash) and says what it did; it never deletes mail.
// - It checks that the current state is still the action's after-state before writing, and
//   refuses (outcome `conflict`) when someone changed it since, unless `force`.
// - In a dry run it only reads and reports what it would do.

#include "mbx/core/config.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/session.hpp"
#include "mbx/ops/fwd.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mbx::ops {

/// What undoing one action came to.
enum class UndoResult {
    undone,     ///< reverted; the original action is now marked `undone`
    would_undo, ///< dry run: would be reverted
    already,    ///< nothing to do (already undone, or the change never happened)
    conflict,   ///< the state changed since the run; left alone (use --force)
    failed,     ///< tried and failed (error says why)
};

/// "undone", "would-undo", "already", "conflict", "failed".
std::string_view undo_result_name(UndoResult r);

/// One reported line of an undo.
struct UndoOutcome {
    std::int64_t action_id = 0;
    std::string kind = {};    ///< the original action's kind, e.g. "ldap.modify"
    std::string subject = {}; ///< the original action's subject
    UndoResult result = UndoResult::failed;
    std::string detail = {}; ///< one line: what was restored, or why not
    /// What the undo removed, kept in the undo's journal record so it can be put back
    /// (e.g. the LDIF of a deleted entry).
    std::optional<nlohmann::json> kept = {};
};

/// What a handler gets: the configuration, secrets, and the undo run's own journal (to record
/// the reverse action), plus connections it may keep across actions of one run.
struct UndoContext {
    const config::Config& cfg;
    const SecretProvider& secrets;
    journal::Journal& journal;
    std::optional<std::int64_t> undo_run; ///< the run recording this undo (unset in a dry run)
    bool dry_run = false;
    bool force = false;
    /// Handlers keep per-run state (an open directory or IMAP connection) here, by name.
    std::function<std::shared_ptr<void>&(const std::string&)> state = {};
};

/// The directory connection of this undo run: opened on first use from [ldap], then kept in
/// ctx.state("ldap") for the run's other actions. Throws as Directory::connect. Network.
directory::Directory& undo_directory(UndoContext& ctx);

/// Reverts one action. Returns its outcome; throws mbx::Error only for failures that make
/// going on pointless (the server is unreachable, the configuration is wrong).
using UndoHandler = UndoOutcome (*)(UndoContext&, const journal::ActionRecord&);

/// The handler for actions of `kind`, or nullptr: the kind's row in the registry of action
/// kinds (ops/actions.cpp), pointing at the function its operation exports.
UndoHandler find_undo_handler(std::string_view kind);

/// True when actions of `kind` can be undone.
bool is_undoable(std::string_view kind);

/// Undoes run `target` (its done, and possibly-done planned, undoable actions in reverse
/// seq order), reporting each through `on_outcome`. Actions of other kinds (checks, reads)
/// are skipped silently. A failed or conflicting action does not stop the others. Throws
/// Error(data) for an unknown run, Error(usage) for a run that is still running, a dry run, or
/// an undo run. Returns ok, warning (conflicts) or the worst failure's exit code.
/// Journal writes; network through the handlers.
ExitCode undo_run(const Session& session, std::int64_t target, bool force,
                  const std::function<void(const UndoOutcome&)>& on_outcome);

} // namespace mbx::ops
