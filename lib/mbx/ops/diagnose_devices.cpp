// mbx diagnose: the devices checks.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose::detail {

void Diagnosis::devices() {
    step("devices");
    std::optional<audit::Loaded> loaded;
    std::string source;
    if (!req_.logs.empty()) {
        loaded = audit::load_logs({.logs = req_.logs, .format = req_.log_format});
        source = req_.logs.size() == 1 ? p(req_.logs.front().string()) : fmt::format("{} logs", req_.logs.size());
    } else if (journal_) {
        loaded = audit::load_journal(*journal_);
        if (loaded)
            source = fmt::format("`mbx audit clients` run {} of {}", loaded->from_run, loaded->from_run_started);
    }
    if (!loaded) {
        add({.area = "devices", .check = req_.device.value_or("devices"), .status = Status::skipped,
             .detail = "no device data: the journal has no `mbx audit clients` run",
             .remedy = "give the ActiveSync access logs with --log FILE, or run `mbx audit clients --log FILE...`"});
        return;
    }
    std::vector<const audit::DeviceRow*> mine;
    std::set<std::string> seen_ids;
    for (const auto& d : loaded->devices) {
        if (!audit::same_user(d.user, uid(), report_.mail)) continue;
        seen_ids.insert(d.device_id);
        if (req_.device && !iequals(d.device_id, *req_.device)) continue;
        mine.push_back(&d);
    }
    if (mine.empty()) {
        if (req_.device) {
            const std::string ids = joined(seen_ids, ", ");
            add({.area = "devices", .check = p(*req_.device), .status = Status::warning,
                 .detail = fmt::format("device {} of '{}' is not in {}{}", p(*req_.device), p(uid()), source,
                                       ids.empty() ? "" : " (its devices there: " + ids + ")"),
                 .remedy = "check the device id (the phone's ActiveSync settings), or give logs that cover its "
                           "last attempt with --log"});
        } else {
            add({.area = "devices", .check = "devices", .status = Status::skipped,
                 .detail = fmt::format("no ActiveSync device of '{}' in {}", p(uid()), source)});
        }
        return;
    }
    journal_server_versions();
    const std::string server = joined(server_versions_, ",");
    for (const auto* d : mine) {
        const std::string versions = joined(d->versions, ",");
        const std::string who = fmt::format("{} ({}), {} requests, last seen {}", p(audit::client_name(*d)),
                                            p(d->device_type), d->requests,
                                            d->last_seen ? mbx::audit::iso8601(d->last_seen) : "-");
        if (server_versions_.empty()) {
            add({.area = "devices", .check = p(d->device_id), .status = Status::skipped,
                 .detail = fmt::format("{}; versions {}; the server's versions are unknown", who,
                                       versions.empty() ? "-" : versions),
                 .remedy = "set [activesync] url and user (or run `mbx audit server`) to compare versions"});
            continue;
        }
        const auto j = mbx::audit::judge({.seen = {d->versions.begin(), d->versions.end()},
                                          .last = d->last_version,
                                          .family = d->family,
                                          .client_version = d->client_version,
                                          .client = audit::client_name(*d)},
                                         {.versions = server_versions_});
        Finding f{.area = "devices", .check = p(d->device_id),
                  .detail = fmt::format("{}; uses {}, server offers {} (from {}): {}", who,
                                        d->last_version.empty() ? "-" : p(d->last_version), server,
                                        versions_from_, p(j.reason)),
                  .remedy = p(j.remediation)};
        // Unlike compat's question (what happens after a change), diagnose asks what fails
        // now: a device still sending a version the server does not offer is failing today,
        // whatever it could fall back to.
        const bool offered = d->last_version.empty() ||
                             std::any_of(server_versions_.begin(), server_versions_.end(), [&](const auto& v) {
                                 return mbx::audit::compare_versions(v, d->last_version) == 0;
                             });
        if (!offered) {
            f.status = Status::failed;
            f.mis = "MIS_2";
            if (!j.best_common.empty())
                f.remedy = fmt::format("re-create the device partnership on the phone: it keeps the versions of "
                                       "an earlier OPTIONS answer; it will then negotiate {}",
                                       j.best_common);
            add(std::move(f));
            continue;
        }
        switch (j.verdict) {
        case mbx::audit::Verdict::ok: f.status = Status::ok; break;
        case mbx::audit::Verdict::at_risk: f.status = Status::warning; f.mis = "MIS_2"; break;
        case mbx::audit::Verdict::breaks: f.status = Status::failed; f.mis = "MIS_2"; break;
        case mbx::audit::Verdict::unknown:
            f.status = Status::skipped;
            f.remedy = "log the MS-ASProtocolVersion header ($http_ms_asprotocolversion in nginx) to see it";
            break;
        }
        add(std::move(f));
    }
}

} // namespace mbx::ops::diagnose::detail
