#include "mbx/ops/audit_compat.hpp"
#include "mbx/ops/actions.hpp"

#include "mbx/core/output.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/audit_server.hpp"

#include <fmt/format.h>

namespace mbx::ops::audit {

CompatTarget compat_target(const config::Config& cfg, const SecretProvider& secrets, const CompatTargetRequest& req) {
    if (req.name.has_value() + req.versions.has_value() + req.server.has_value() != 1)
        throw Error(ErrorCategory::usage, "give exactly one of --target NAME, --target-versions LIST and --server URL",
                    "e.g. --target exchange-online or --target-versions 14.1,16.0,16.1");
    if (req.name) {
        const auto& named = mbx::audit::find_named_target(*req.name);
        return {{.versions = mbx::audit::parse_versions(named.versions), .fixed = true},
                fmt::format("{}: {}", named.name, named.description)};
    }
    if (req.versions) return {{.versions = mbx::audit::parse_versions(*req.versions)}, "--target-versions"};
    const auto report = audit_server(cfg, secrets, *req.server, req.user);
    if (report.error) throw *report.error;
    if (report.versions.empty())
        throw Error(ErrorCategory::data,
                    fmt::format("'{}' announced no MS-ASProtocolVersions", out::printable(*req.server)),
                    "check the URL with `mbx audit server URL`, or give --target-versions");
    std::string list;
    for (const auto& v : report.versions) list += (list.empty() ? "" : ",") + v;
    return {{.versions = mbx::audit::parse_versions(list)}, *req.server};
}

ExitCode exit_of(Verdict v) {
    switch (v) {
    case Verdict::ok: return ExitCode::ok;
    case Verdict::breaks: return ExitCode::critical;
    case Verdict::at_risk:
    case Verdict::unknown: break;
    }
    return ExitCode::warning;
}

CompatReport judge_devices(const Loaded& loaded, const TargetInfo& target,
                           const std::vector<mbx::audit::Capability>& capabilities) {
    CompatReport report;
    for (const auto& d : loaded.devices) {
        auto j = mbx::audit::judge({.seen = {d.versions.begin(), d.versions.end()},
                                    .last = d.last_version,
                                    .family = d.family,
                                    .client_version = d.client_version,
                                    .client = client_name(d)},
                                   target, capabilities);
        report.worst = combine_exit_codes(report.worst, exit_of(j.verdict));
        ++report.totals[j.verdict];
        ++report.by_client[client_name(d)][j.verdict];
        report.rows.push_back({d, std::move(j)});
    }
    return report;
}

void journal_compat(journal::Journal& journal, std::int64_t run, const CompatReport& report, const TargetInfo& target) {
    auto batch = journal.batch();
    for (const auto& [d, j] : report.rows)
        journal.add_action(run, {.kind = kind::kAuditCompat,
                                 .subject = d.user + "/" + d.device_id,
                                 .after = nlohmann::json{{"verdict", std::string(verdict_name(j.verdict))},
                                                         {"basis", std::string(basis_name(j.basis))},
                                                         {"best_common", j.best_common},
                                                         {"target", target.versions}},
                                 .status = journal::ActionStatus::done});
    batch.commit();
}

} // namespace mbx::ops::audit
