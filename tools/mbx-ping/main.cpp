// mbx ping: can mbxkit reach and log in to its servers? (docs/commands/ping.md)
#include "mbx/cli/tool.hpp"
#include "mbx/ops/ping.hpp"

#include <fmt/format.h>

namespace {

using mbx::out::Kind;
using mbx::out::Role;

mbx::ExitCode ping(mbx::cli::Context& ctx) {
    mbx::ops::PingRequest req;
    if (ctx.args().count("user")) req.user = ctx.args()["user"].as<std::string>();
    auto report = mbx::ops::ping(ctx.session(), req);
    auto sink = ctx.sink();
    sink->begin({"ping",
                 {{"service", "Service", Kind::text, Role::label},
                  {"step", "Step", Kind::text, Role::label},
                  {"uri", "URI", Kind::text, Role::detail},
                  {"status", "Status", Kind::text, Role::status},
                  {"latency_ms", "Latency ms", Kind::integer, Role::value, "time the check took"},
                  {"detail", "Detail", Kind::text, Role::detail}}});
    std::int64_t failed = 0;
    for (const auto& c : report.checks) {
        failed += c.ok ? 0 : 1;
        sink->row(std::vector<mbx::out::Cell>{c.service, c.step, c.uri, std::string(c.ok ? "ok" : "critical"),
                                              std::int64_t(c.latency.count()), c.detail});
    }
    const auto n = static_cast<std::int64_t>(report.checks.size());
    sink->finish({report.exit_code == mbx::ExitCode::ok ? mbx::ExitCode::ok : mbx::ExitCode::critical,
                  failed ? fmt::format("{} of {} checks failed", failed, n) : fmt::format("all {} checks passed", n),
                  {{"checks", n}, {"failed", failed}}});
    return report.exit_code;
}

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(
        argc, argv,
        {
            .name = "ping",
            .summary = "Check that the configured directory and mail servers answer and accept mbxkit's logins.",
            .usage = "mbx ping [options] [--user USER]",
            .description = "Binds to [ldap] and searches the user base, then logs in to [imap] as the master user on\n"
                           "behalf of USER (default: the first user found). Every check runs even when one fails.",
            .examples = "  mbx ping --config /etc/mbxkit/mbxkit.conf\n  mbx ping --user alice --format nagios\n",
            .sections = {"ldap", "imap", "journal"},
            .formats = {mbx::out::Format::table, mbx::out::Format::csv, mbx::out::Format::json,
                        mbx::out::Format::nagios, mbx::out::Format::prometheus},
            .journaled = true,
            .options =
                [](auto& o) {
                    o.add_options()("user,u", mbx::cli::po::value<std::string>()->value_name("USER"),
                                    "user the IMAP master login is tried for");
                },
            .run = ping,
        });
}
