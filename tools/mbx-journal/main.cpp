// mbx journal: list, show and export what mbxkit did (docs/commands/journal.md).
#include "mbx/cli/tool.hpp"
#include "report.hpp"

namespace {

mbx::ExitCode journal(mbx::cli::Context& ctx) {
    const auto& a = ctx.args();
    auto words = a.count("words") ? a["words"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (words.empty())
        throw mbx::Error(mbx::ErrorCategory::usage, "no journal command given", "use: list, show RUN or export");
    mbx::journal_tool::Request req;
    req.action = words.front();
    req.operands.assign(words.begin() + 1, words.end());
    if (a.count("since")) req.since = a["since"].as<std::string>();
    if (a.count("tool")) req.tool = a["tool"].as<std::string>();
    if (a.count("status")) req.status = a["status"].as<std::string>();
    req.limit = a["limit"].as<std::size_t>();
    auto sink = ctx.sink();
    return mbx::journal_tool::run(ctx.journal(), req, *sink);
}

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(argc, argv, {
        .name = "journal",
        .summary = "List, show and export what mbxkit did: one run per command, one action per change.",
        .usage = "mbx journal list [--since DATE] [--tool NAME] [--status STATUS] [--limit N]\n"
                 "       mbx journal show RUN\n"
                 "       mbx journal export [--since DATE] [--tool NAME] [--status STATUS] [--format json|csv]",
        .description = "RUN is a run id or at least 4 hex digits of its uuid. DATE is 2026-11-24 or\n"
                       "2026-11-24T18:00 (UTC). STATUS is running, ok, warning, critical, failed or interrupted;\n"
                       "a run whose process died is reported as interrupted.",
        .examples = "  mbx journal list --since 2026-11-01 --tool quota\n  mbx journal show 42\n"
                    "  mbx journal export --format csv > journal.csv\n",
        .sections = {"journal"},
        .journaled = false,
        .options = [](auto& o) {
            o.add_options()
                ("since", mbx::cli::po::value<std::string>()->value_name("DATE"), "runs started at or after DATE (UTC)")
                ("tool", mbx::cli::po::value<std::string>()->value_name("NAME"), "runs of this command only")
                ("status", mbx::cli::po::value<std::string>()->value_name("STATUS"), "runs that ended so")
                ("limit", mbx::cli::po::value<std::size_t>()->default_value(50)->value_name("N"),
                 "list: at most N runs, newest first (0: all)");
        },
        .positional = {{"words", -1}},
        .run = journal,
    });
}
