// mbx explain: what an MIS error code means and which command fixes it (docs/commands/explain.md).
#include "mbx/cli/tool.hpp"
#include "mbx/ops/catalogue.hpp"
#include "page.hpp"

#include <nlohmann/json.hpp>

namespace {

using mbx::ExitCode;

mbx::ExitCode explain(mbx::cli::Context& ctx) {
    const bool list = ctx.args().count("list") > 0;
    const auto& codes =
        ctx.args().count("code") ? ctx.args()["code"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (list == !codes.empty())
        throw mbx::Error(mbx::ErrorCategory::usage, list ? "--list cannot be combined with a code" : "no code given",
                         "run 'mbx explain CODE' or 'mbx explain --list'");
    std::span<const mbx::ops::catalogue::MisCode> selected = mbx::ops::catalogue::all_codes();
    if (!list) selected = std::span(&mbx::ops::catalogue::find_code(codes.front()), 1);

    if (ctx.format() == mbx::out::Format::json) {
        ctx.out()
            << (list ? mbx::ops::catalogue::to_json(selected) : mbx::ops::catalogue::to_json(selected.front())).dump(2)
            << '\n';
        return ExitCode::ok;
    }
    auto sink = ctx.sink();
    sink->begin(mbx::explain::summary_spec());
    for (const auto& code : selected) sink->row(mbx::explain::summary_row(code));
    sink->finish({});
    if (!list && ctx.format() == mbx::out::Format::table) mbx::explain::write_page(ctx.out(), selected.front());
    return ExitCode::ok;
}

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(
        argc, argv,
        {
            .name = "explain",
            .summary = "Explain an ActiveSync/MIS error code (MIS_0..MIS_9) and name the mbxkit command that fixes it.",
            .usage = "mbx explain [options] CODE\n       mbx explain --list [options]",
            .description = "CODE may be written MIS_9, 9, SYNC_STATUS_CODE_DISK_SPACE or disk_space (any case,\n"
                           "'-' for '_'). Nothing is guessed: an unknown code exits 64 and names close matches.",
            .examples =
                "  mbx explain MIS_9\n  mbx explain sync_server --format json\n  mbx explain --list --format csv\n",
            .sections = {},
            .options = [](auto& o) { o.add_options()("list", "explain every code, one row each"); },
            .positional = {{"code", 1}},
            .run = explain,
        });
}
