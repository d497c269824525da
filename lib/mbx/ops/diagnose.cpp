#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose {

using detail::Clock;
using detail::Diagnosis;
using detail::json;

std::string_view status_name(Status s) {
    switch (s) {
    case Status::ok: return "ok";
    case Status::warning: return "warning";
    case Status::failed: return "failed";
    case Status::skipped: return "skipped";
    }
    return "unknown";
}

ExitCode worst_status(const std::vector<Finding>& findings) {
    ExitCode worst = ExitCode::ok;
    for (const auto& f : findings) {
        if (f.status == Status::failed) return ExitCode::critical;
        if (f.status == Status::warning) worst = ExitCode::warning;
    }
    return worst;
}

std::int64_t bytes_to_free(std::int64_t used, std::int64_t limit, double warning_percent) {
    if (limit <= 0 || used <= 0) return 0;
    // The tier starts at the threshold itself (classify(): equal is in the tier), so the most
    // that stays below it is one byte under limit * warning / 100.
    const double threshold = static_cast<double>(limit) * warning_percent / 100.0;
    const auto below = static_cast<std::int64_t>(std::ceil(threshold)) - 1;
    return std::max<std::int64_t>(0, used - below);
}

std::int64_t limit_for(std::int64_t used, double warning_percent) {
    constexpr std::int64_t kMiB = 1 << 20;
    if (warning_percent <= 0) return kMiB;
    // used < limit * warning / 100  <=>  limit > used * 100 / warning
    const auto least = static_cast<std::int64_t>(std::floor(static_cast<double>(used) * 100.0 / warning_percent)) + 1;
    return std::max<std::int64_t>(kMiB, (least + kMiB - 1) / kMiB * kMiB);
}

Report diagnose(const Session& session, const Request& request) {
    const config::Config& cfg = session.config;
    const SecretProvider& secrets = session.secrets;
    journal::Journal* journal = session.journal;
    if (request.user.empty())
        throw Error(ErrorCategory::usage, "no user to diagnose", "give the login: mbx diagnose USER");
    if (!cfg.has("ldap.uri") && !cfg.has("imap.uri"))
        throw Error(ErrorCategory::config, "nothing to check: neither [ldap] uri nor [imap] uri is set",
                    "write a configuration file (docs/configuration.md) and pass it with --config");
    Report report = Diagnosis(cfg, secrets, request, journal).run();
    if (journal && session.run_id) journal_findings(*journal, *session.run_id, report);
    return report;
}

void journal_findings(journal::Journal& journal, std::int64_t run, const Report& report) {
    auto batch = journal.batch();
    for (const auto& f : report.findings) {
        json after{{"area", f.area}, {"check", f.check},   {"status", std::string(status_name(f.status))},
                   {"mis", f.mis},   {"detail", f.detail}, {"remedy", f.remedy}};
        if (f.latency_ms) after["latency_ms"] = *f.latency_ms;
        journal.add_action(
            run, {.kind = kind::kDiagnoseCheck,
                  .subject = report.user,
                  .after = std::move(after),
                  .status = f.status == Status::failed ? journal::ActionStatus::failed : journal::ActionStatus::done,
                  .error = f.status == Status::failed ? std::optional(f.detail) : std::nullopt});
    }
    batch.commit();
}

} // namespace mbx::ops::diagnose
