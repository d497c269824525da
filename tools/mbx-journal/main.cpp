// mbx journal: list, show and export what mbxkit did (docs/commands/journal.md).
#include "mbx/cli/tool.hpp"
#include "mbx/ops/undo.hpp"
#include "mbx/ops/journal_view.hpp"

#include <fmt/format.h>

namespace {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;

// `mbx journal undo RUN`: its own journal run, one row per reverted action.
mbx::ExitCode undo(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    if (operands.size() != 1)
        throw mbx::Error(mbx::ErrorCategory::usage, "'mbx journal undo' takes one run", "e.g. mbx journal undo 42");
    const auto target = mbx::ops::journal_view::resolve_run(ctx.journal(), operands.front());
    ctx.begin_journal_run();
    auto sink = ctx.sink();
    sink->begin({"journal_undo",
                 {{"action", "Action", Kind::integer, Role::label, "the undone action's id"},
                  {"kind", "Kind", Kind::text, Role::detail},
                  {"subject", "Subject", Kind::text, Role::detail},
                  {"result", "Result", Kind::text, Role::status},
                  {"detail", "Detail", Kind::text, Role::detail}}});
    std::int64_t undone = 0, conflicts = 0, failed = 0, total = 0;
    const bool dry = ctx.dry_run();
    const auto code = mbx::ops::undo_run(
        ctx.session(), target.id, ctx.args().count("force") > 0, [&](const mbx::ops::UndoOutcome& o) {
            ++total;
            if (o.result == mbx::ops::UndoResult::undone || o.result == mbx::ops::UndoResult::would_undo) ++undone;
            if (o.result == mbx::ops::UndoResult::conflict) ++conflicts;
            if (o.result == mbx::ops::UndoResult::failed) ++failed;
            sink->row(std::vector<Cell>{o.action_id, o.kind, o.subject,
                                        std::string(mbx::ops::undo_result_name(o.result)), o.detail});
        });
    std::string text = fmt::format("run {} ({}): {} of {} action{} {}", target.id, target.tool, undone, total,
                                   total == 1 ? "" : "s", dry ? "would be undone (dry run)" : "undone");
    if (conflicts) text += fmt::format(", {} changed since (use --force)", conflicts);
    if (failed) text += fmt::format(", {} failed", failed);
    sink->finish(
        {code,
         text,
         {{"run", target.id}, {"undone", undone}, {"conflicts", conflicts}, {"failed", failed}, {"actions", total}}});
    return code;
}

// `mbx journal list|show|export`: read only.
auto reader(std::string action) {
    return [action](mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
        const auto& a = ctx.args();
        mbx::ops::journal_view::Request req;
        req.action = action;
        req.operands = operands;
        if (a.count("since")) req.since = a["since"].as<std::string>();
        if (a.count("tool")) req.tool = a["tool"].as<std::string>();
        if (a.count("status")) req.status = a["status"].as<std::string>();
        req.limit = a["limit"].as<std::size_t>();
        auto sink = ctx.sink();
        return mbx::ops::journal_view::run(ctx.journal(), req, *sink);
    };
}

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(
        argc, argv,
        {
            .name = "journal",
            .summary = "List, show and export what mbxkit did: one run per command, one action per change.",
            .usage = "mbx journal list [--since DATE] [--tool NAME] [--status STATUS] [--limit N]\n"
                     "       mbx journal show RUN\n"
                     "       mbx journal export [--since DATE] [--tool NAME] [--status STATUS] [--format json|csv]\n"
                     "       mbx journal undo RUN [--dry-run] [--force]",
            .description =
                "RUN is a run id or at least 4 hex digits of its uuid. DATE is 2026-11-24 or\n"
                "2026-11-24T18:00 (UTC). STATUS is running, ok, warning, critical, failed or interrupted;\n"
                "a run whose process died is reported as interrupted.\n\n"
                "undo reverses a run's changes, newest first, from the before-state it journaled: a quota\n"
                "raise gets its old limit back, a cleanup's archived messages are appended back with their\n"
                "flags and dates. An action whose state changed since the run is left alone unless --force.\n"
                "Undo never deletes mail; it is itself a journal run.",
            .examples = "  mbx journal list --since 2026-11-01 --tool quota\n  mbx journal show 42\n"
                        "  mbx journal export --format csv > journal.csv\n"
                        "  mbx journal undo 42 --dry-run\n",
            .sections = {"journal", "ldap", "imap", "quota"},
            .changes_state = true, // undo
            .journaled = false,    // list/show/export only read; undo records its own run
            .options =
                [](auto& o) {
                    // One option a line, as --help lists them.
                    // clang-format off
            o.add_options()
                ("since", mbx::cli::po::value<std::string>()->value_name("DATE"), "runs started at or after DATE (UTC)")
                ("tool", mbx::cli::po::value<std::string>()->value_name("NAME"), "runs of this command only")
                ("status", mbx::cli::po::value<std::string>()->value_name("STATUS"), "runs that ended so")
                ("limit", mbx::cli::po::value<std::size_t>()->default_value(50)->value_name("N"),
                 "list: at most N runs, newest first (0: all)")
                ("force", "undo: also revert actions whose state changed since the run");
                    // clang-format on
                },
            .positional = {{"words", -1}},
            .subcommands = {{"list", {"since", "tool", "status", "limit"}, reader("list")},
                            {"show", {}, reader("show")},
                            {"export", {"since", "tool", "status"}, reader("export")},
                            {"undo", {"force"}, undo}},
        });
}
