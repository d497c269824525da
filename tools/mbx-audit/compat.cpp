// mbx audit compat --target-versions LIST | --server URL: which devices keep syncing after an
// upgrade (docs/commands/audit.md).
#include "devices.hpp"
#include "subcommands.hpp"

#include "mbx/ops/audit_run.hpp"

#include <fmt/format.h>
#include <map>

namespace mbx_audit {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;
namespace audit = mbx::ops::audit;

namespace {

std::optional<std::string> opt(const mbx::cli::Context& ctx, const char* name) {
    return ctx.args().count(name) ? std::optional(ctx.args()[name].as<std::string>()) : std::nullopt;
}

} // namespace

mbx::ExitCode compat(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    if (!operands.empty())
        throw mbx::Error(
            mbx::ErrorCategory::usage, "'mbx audit compat' takes no operands",
            "give --target NAME, --target-versions LIST or --server URL, and --log FILE... or --from-journal");
    const bool from_journal = ctx.args().count("from-journal") > 0;
    if (from_journal == (ctx.args().count("log") > 0))
        throw mbx::Error(mbx::ErrorCategory::usage, "give --log FILE... or --from-journal (one of them)",
                         "--from-journal uses the devices of the latest `mbx audit clients` run");
    auto secrets = [&](const mbx::SecretSource& s) { return ctx.secret(s); };
    const auto target = audit::compat_target(ctx.config(), secrets,
                                             {.name = opt(ctx, "target"),
                                              .versions = opt(ctx, "target-versions"),
                                              .server = opt(ctx, "server"),
                                              .user = opt(ctx, "user")});
    const std::string& source = target.source;
    const auto capabilities =
        audit::load_rules(ctx.args().count("rules")
                              ? std::optional<std::filesystem::path>(ctx.args()["rules"].as<std::string>())
                              : std::nullopt)
            .capabilities;
    const Loaded loaded = from_journal ? load_journal(ctx) : load_logs(ctx);
    ctx.progress().finish();
    const auto report = audit::judge_compat(ctx.session(), loaded, target.info, capabilities);

    auto sink = ctx.sink();
    sink->begin(
        {"audit_compat",
         {{"user", "User", Kind::text, Role::label},
          {"device_id", "Device ID", Kind::text, Role::label},
          {"family", "Client", Kind::text, Role::detail},
          {"client_version", "Client version", Kind::text, Role::detail},
          {"protocol_versions", "Protocol versions", Kind::text, Role::detail},
          {"last_version", "Last version", Kind::text, Role::detail},
          {"best_common", "Best common", Kind::text, Role::detail, "highest version both sides have"},
          {"verdict", "Verdict", Kind::text, Role::detail, "ok, at-risk, breaks, unknown"},
          {"basis", "Basis", Kind::text, Role::detail, "what decided: observed, capability, unknown"},
          {"status", "Status", Kind::text, Role::status},
          {"reason", "Reason", Kind::text, Role::detail},
          {"remediation", "Remediation", Kind::text, Role::detail},
          {"capability", "Capability", Kind::text, Role::detail, "the client capability row used, with its source"}}});
    auto p = [](const std::string& s) { return Cell(mbx::out::printable(s)); };
    for (const auto& [d, j] : report.rows)
        sink->row(std::vector<Cell>{p(d.user), p(d.device_id), p(d.family), p(d.client_version), p(joined(d.versions)),
                                    p(d.last_version), j.best_common, std::string(audit::verdict_name(j.verdict)),
                                    std::string(audit::basis_name(j.basis)),
                                    std::string(mbx::out::status_word(audit::exit_of(j.verdict))), p(j.reason),
                                    p(j.remediation), p(j.capability)});
    const mbx::ExitCode worst = report.worst;
    auto totals = report.totals;
    const auto& by_client = report.by_client;
    // Per client family and version: "iOS 9.3: 12 ok, 2 at-risk".
    std::string per_client;
    for (const auto& [client, counts] : by_client) {
        std::string parts;
        for (const auto& [v, n] : counts)
            parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", n, audit::verdict_name(v));
        per_client += fmt::format("{}{}: {}", per_client.empty() ? "" : "; ", mbx::out::printable(client), parts);
    }
    auto count = [&](audit::Verdict v) { return Cell(totals[v]); };
    sink->finish(
        {worst,
         fmt::format("target {} ({}): {} devices: {} ok, {} at risk, {} break, {} unknown{}{}",
                     joined(target.info.versions), mbx::out::printable(source), loaded.devices.size(),
                     totals[audit::Verdict::ok], totals[audit::Verdict::at_risk], totals[audit::Verdict::breaks],
                     totals[audit::Verdict::unknown], per_client.empty() ? "" : "; by client: ", per_client),
         {{"target_versions", Cell(joined(target.info.versions))},
          {"target", Cell(mbx::out::printable(source))},
          {"devices", Cell(static_cast<std::int64_t>(loaded.devices.size()))},
          {"ok", count(audit::Verdict::ok)},
          {"at_risk", count(audit::Verdict::at_risk)},
          {"breaks", count(audit::Verdict::breaks)},
          {"unknown", count(audit::Verdict::unknown)},
          {"by_client", Cell(per_client)},
          {"from_run", loaded.from_run ? Cell(loaded.from_run) : Cell()}}});
    return worst;
}

} // namespace mbx_audit
