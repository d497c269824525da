// mbx audit compat --target-versions LIST | --server URL: which devices keep syncing after an
// upgrade (docs/commands/audit.md).
#include "devices.hpp"
#include "subcommands.hpp"

#include "mbx/audit/compat.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/audit_server.hpp"

#include <fmt/format.h>
#include <map>

namespace mbx_audit {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;
namespace audit = mbx::audit;

namespace {

// The versions the target keeps: a named target, the list, or the live server's OPTIONS.
audit::TargetInfo target_versions(mbx::cli::Context& ctx, std::string& source) {
    const auto& a = ctx.args();
    if (a.count("target-versions") + a.count("server") + a.count("target") != 1)
        throw mbx::Error(mbx::ErrorCategory::usage,
                         "give exactly one of --target NAME, --target-versions LIST and --server URL",
                         "e.g. --target exchange-online or --target-versions 14.1,16.0,16.1");
    if (a.count("target")) {
        const auto& named = audit::find_named_target(a["target"].as<std::string>());
        source = fmt::format("{}: {}", named.name, named.description);
        return {.versions = audit::parse_versions(named.versions), .fixed = true};
    }
    if (a.count("target-versions")) {
        source = "--target-versions";
        return {.versions = audit::parse_versions(a["target-versions"].as<std::string>())};
    }
    const std::string url = a["server"].as<std::string>();
    auto secrets = [&](const mbx::SecretSource& s) { return ctx.secret(s); };
    const std::optional<std::string> user =
        a.count("user") ? std::optional<std::string>(a["user"].as<std::string>()) : std::nullopt;
    const auto report = mbx::ops::audit::audit_server(ctx.config(), secrets, url, user);
    if (report.error) throw *report.error;
    if (report.versions.empty())
        throw mbx::Error(mbx::ErrorCategory::data,
                         fmt::format("'{}' announced no MS-ASProtocolVersions", mbx::out::printable(url)),
                         "check the URL with `mbx audit server URL`, or give --target-versions");
    source = url;
    return {.versions = audit::parse_versions(joined(report.versions))};
}

mbx::ExitCode exit_of(audit::Verdict v) {
    switch (v) {
    case audit::Verdict::ok: return mbx::ExitCode::ok;
    case audit::Verdict::breaks: return mbx::ExitCode::critical;
    case audit::Verdict::at_risk:
    case audit::Verdict::unknown: break;
    }
    return mbx::ExitCode::warning;
}

} // namespace

mbx::ExitCode compat(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    if (!operands.empty())
        throw mbx::Error(mbx::ErrorCategory::usage, "'mbx audit compat' takes no operands",
                         "give --target NAME, --target-versions LIST or --server URL, and --log FILE... or --from-journal");
    const bool from_journal = ctx.args().count("from-journal") > 0;
    if (from_journal == (ctx.args().count("log") > 0))
        throw mbx::Error(mbx::ErrorCategory::usage, "give --log FILE... or --from-journal (one of them)",
                         "--from-journal uses the devices of the latest `mbx audit clients` run");
    std::string source;
    const auto target = target_versions(ctx, source);
    const auto capabilities = mbx::ops::audit::load_rules(
        ctx.args().count("rules") ? std::optional<std::filesystem::path>(ctx.args()["rules"].as<std::string>())
                                  : std::nullopt).capabilities;
    const Loaded loaded = from_journal ? load_journal(ctx) : load_logs(ctx);
    ctx.progress().finish();

    auto sink = ctx.sink();
    sink->begin({"audit_compat",
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
    mbx::ExitCode worst = mbx::ExitCode::ok;
    std::map<audit::Verdict, std::int64_t> totals;
    // family + client version -> verdict -> count, for the change ticket's summary
    std::map<std::string, std::map<audit::Verdict, std::int64_t>> by_client;
    std::optional<mbx::journal::Journal::Batch> batch;
    if (ctx.run_id()) batch.emplace(ctx.journal().batch());
    for (const auto& d : loaded.devices) {
        const auto j = audit::judge({.seen = {d.versions.begin(), d.versions.end()},
                                     .last = d.last_version,
                                     .family = d.family,
                                     .client_version = d.client_version,
                                     .client = client_name(d)},
                                    target, capabilities);
        worst = mbx::combine_exit_codes(worst, exit_of(j.verdict));
        ++totals[j.verdict];
        ++by_client[client_name(d)][j.verdict];
        sink->row(std::vector<Cell>{p(d.user), p(d.device_id), p(d.family), p(d.client_version), p(joined(d.versions)),
                                    p(d.last_version), j.best_common, std::string(audit::verdict_name(j.verdict)),
                                    std::string(audit::basis_name(j.basis)),
                                    std::string(mbx::out::status_word(exit_of(j.verdict))), p(j.reason),
                                    p(j.remediation), p(j.capability)});
        if (ctx.run_id())
            ctx.journal().add_action(*ctx.run_id(),
                                     {.kind = "audit.compat",
                                      .subject = d.user + "/" + d.device_id,
                                      .after = nlohmann::json{{"verdict", std::string(audit::verdict_name(j.verdict))},
                                                              {"basis", std::string(audit::basis_name(j.basis))},
                                                              {"best_common", j.best_common},
                                                              {"target", target.versions}},
                                      .status = mbx::journal::ActionStatus::done});
    }
    if (batch) batch->commit();
    // Per client family and version: "iOS 9.3: 12 ok, 2 at-risk".
    std::string per_client;
    for (const auto& [client, counts] : by_client) {
        std::string parts;
        for (const auto& [v, n] : counts)
            parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", n, audit::verdict_name(v));
        per_client += fmt::format("{}{}: {}", per_client.empty() ? "" : "; ", mbx::out::printable(client), parts);
    }
    auto count = [&](audit::Verdict v) { return Cell(totals[v]); };
    sink->finish({worst,
                  fmt::format("target {} ({}): {} devices: {} ok, {} at risk, {} break, {} unknown{}{}", joined(target.versions),
                              mbx::out::printable(source), loaded.devices.size(), totals[audit::Verdict::ok],
                              totals[audit::Verdict::at_risk], totals[audit::Verdict::breaks],
                              totals[audit::Verdict::unknown], per_client.empty() ? "" : "; by client: ", per_client),
                  {{"target_versions", Cell(joined(target.versions))},
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
