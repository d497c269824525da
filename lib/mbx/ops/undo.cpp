#include "mbx/ops/undo.hpp"

#include "mbx/core/output.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/actions.hpp"
#include "mbx/ops/connect.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <vector>

namespace mbx::ops {
namespace {

nlohmann::json undo_record(const UndoOutcome& o) {
    nlohmann::json j{{"result", std::string(undo_result_name(o.result))}, {"detail", o.detail}};
    if (o.kept) j["kept"] = *o.kept;
    return j;
}

journal::ActionStatus journal_status(UndoResult r) {
    switch (r) {
    case UndoResult::undone: return journal::ActionStatus::done;
    case UndoResult::would_undo: return journal::ActionStatus::planned;
    case UndoResult::failed: return journal::ActionStatus::failed;
    case UndoResult::already:
    case UndoResult::conflict: break;
    }
    return journal::ActionStatus::skipped;
}

} // namespace

std::string_view undo_result_name(UndoResult r) {
    switch (r) {
    case UndoResult::undone: return "undone";
    case UndoResult::would_undo: return "would-undo";
    case UndoResult::already: return "already";
    case UndoResult::conflict: return "conflict";
    case UndoResult::failed: break;
    }
    return "failed";
}

directory::Directory& undo_directory(UndoContext& ctx) {
    auto& slot = ctx.state("ldap");
    if (!slot)
        slot = std::make_shared<directory::Directory>(directory::Directory::connect(ldap_config(ctx.cfg, ctx.secrets)));
    return *std::static_pointer_cast<directory::Directory>(slot);
}

UndoHandler find_undo_handler(std::string_view kind) {
    const ActionKind* k = find_action_kind(kind);
    return k ? k->undo : nullptr;
}

bool is_undoable(std::string_view kind) { return find_undo_handler(kind) != nullptr; }

ExitCode undo_run(const Session& session, std::int64_t target, bool force,
                  const std::function<void(const UndoOutcome&)>& on_outcome) {
    const config::Config& cfg = session.config;
    const SecretProvider& secrets = session.secrets;
    if (!session.journal) throw Error(ErrorCategory::internal, "undo reads the journal");
    journal::Journal& journal = *session.journal;
    const std::optional<std::int64_t> undo_run_id = session.run_id;
    const bool dry_run = session.dry_run;
    const auto run = journal.find_run(target);
    if (!run)
        throw Error(ErrorCategory::data, fmt::format("no run {} in the journal", target),
                    "list runs with `mbx journal list`");
    if (run->status == journal::RunStatus::running)
        throw Error(ErrorCategory::usage, fmt::format("run {} is still running (pid {})", target, run->pid),
                    "wait for it to finish, or stop it first");
    if (run->dry_run)
        throw Error(ErrorCategory::usage, fmt::format("run {} was a dry run and changed nothing", target));
    if (run->tool == "journal")
        throw Error(ErrorCategory::usage, fmt::format("run {} is itself an undo", target),
                    "to redo, run the original command again");

    // The undoable actions, newest first (a cleanup of 10,000 messages is a few MB of records).
    auto actions = journal.actions_of(target);
    std::erase_if(actions, [](const journal::ActionRecord& a) { return !is_undoable(a.kind); });
    std::reverse(actions.begin(), actions.end());

    std::map<std::string, std::shared_ptr<void>> state;
    UndoContext uctx{
        cfg, secrets, journal, undo_run_id, dry_run, force, [&](const std::string& name) -> std::shared_ptr<void>& {
            return state[name];
        }};
    ExitCode overall = ExitCode::ok;
    for (const journal::ActionRecord& a : actions) {
        UndoOutcome o;
        if (a.status == journal::ActionStatus::undone) {
            o = {a.id, a.kind, a.subject, UndoResult::already, "undone by an earlier undo"};
        } else if (a.status == journal::ActionStatus::skipped ||
                   (a.status == journal::ActionStatus::failed && !find_action_kind(a.kind)->partial_on_failure)) {
            continue; // never carried out
        } else {
            try {
                o = find_undo_handler(a.kind)(uctx, a);
            } catch (const Error& e) {
                if (e.category() != ErrorCategory::data) throw; // unreachable server, bad config
                o = {a.id, a.kind, a.subject, UndoResult::failed, e.one_line()};
            }
            o.action_id = a.id;
            o.kind = a.kind;
            o.subject = a.subject;
        }
        if (undo_run_id && !dry_run && o.result != UndoResult::already) {
            auto batch = journal.batch();
            journal.add_action(*undo_run_id,
                               {.kind = std::string(kind::kUndoPrefix) + a.kind,
                                .subject = a.subject,
                                .before = nlohmann::json{{"run", target}, {"action", a.id}, {"seq", a.seq}},
                                .after = undo_record(o),
                                .status = journal_status(o.result),
                                .error = o.result == UndoResult::failed ? std::optional(o.detail) : std::nullopt});
            if (o.result == UndoResult::undone) journal.update_action(a.id, journal::ActionStatus::undone);
            batch.commit();
        }
        if (o.result == UndoResult::conflict) overall = combine_exit_codes(overall, ExitCode::warning);
        if (o.result == UndoResult::failed) overall = combine_exit_codes(overall, ExitCode::data);
        on_outcome(o);
    }
    return overall;
}

} // namespace mbx::ops
