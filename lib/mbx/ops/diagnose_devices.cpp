// mbx diagnose: the devices checks. Gathering (access logs or the journal's latest `mbx audit
// clients`, the server's versions) in the Diagnosis; the judge over the facts
// (diagnose_judge.hpp) below it.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose {

using detail::joined;
using detail::p;

std::vector<const audit::DeviceRow*> user_devices(const DevicesFacts& facts) {
    std::vector<const audit::DeviceRow*> mine;
    for (const auto& d : facts.devices) {
        if (!audit::same_user(d.user, facts.uid, facts.mail)) continue;
        if (facts.device && !iequals(d.device_id, *facts.device)) continue;
        mine.push_back(&d);
    }
    return mine;
}

namespace {

// No device of the user in the evidence: a warning when --device named one, else skipped.
Finding no_device(const DevicesFacts& facts) {
    if (!facts.device)
        return {.area = "devices",
                .check = "devices",
                .status = Status::skipped,
                .detail = fmt::format("no ActiveSync device of '{}' in {}", p(facts.uid), facts.source)};
    std::set<std::string> seen_ids;
    for (const auto& d : facts.devices)
        if (audit::same_user(d.user, facts.uid, facts.mail)) seen_ids.insert(d.device_id);
    const std::string ids = joined(seen_ids, ", ");
    return {.area = "devices",
            .check = p(*facts.device),
            .status = Status::warning,
            .detail = fmt::format("device {} of '{}' is not in {}{}", p(*facts.device), p(facts.uid), facts.source,
                                  ids.empty() ? "" : " (its devices there: " + ids + ")"),
            .remedy = "check the device id (the phone's ActiveSync settings), or give logs that cover its "
                      "last attempt with --log"};
}

Finding device_finding(const audit::DeviceRow& d, const DevicesFacts& facts) {
    const auto& server_versions = facts.server_versions;
    const std::string versions = joined(d.versions, ",");
    const std::string who =
        fmt::format("{} ({}), {} requests, last seen {}", p(audit::client_name(d)), p(d.device_type), d.requests,
                    d.last_seen ? mbx::audit::iso8601(d.last_seen) : "-");
    if (server_versions.empty())
        return {.area = "devices",
                .check = p(d.device_id),
                .status = Status::skipped,
                .detail = fmt::format("{}; versions {}; the server's versions are unknown", who,
                                      versions.empty() ? "-" : versions),
                .remedy = "set [activesync] url and user (or run `mbx audit server`) to compare versions"};
    const auto j = mbx::audit::judge({.seen = {d.versions.begin(), d.versions.end()},
                                      .last = d.last_version,
                                      .family = d.family,
                                      .client_version = d.client_version,
                                      .client = audit::client_name(d)},
                                     {.versions = server_versions});
    Finding f{.area = "devices",
              .check = p(d.device_id),
              .detail = fmt::format("{}; uses {}, server offers {} (from {}): {}", who,
                                    d.last_version.empty() ? "-" : p(d.last_version), joined(server_versions, ","),
                                    facts.versions_from, p(j.reason)),
              .remedy = p(j.remediation)};
    // Unlike compat's question (what happens after a change), diagnose asks what fails
    // now: a device still sending a version the server does not offer is failing today,
    // whatever it could fall back to.
    const bool offered =
        d.last_version.empty() || std::any_of(server_versions.begin(), server_versions.end(), [&](const auto& v) {
            return mbx::audit::compare_versions(v, d.last_version) == 0;
        });
    if (!offered) {
        f.status = Status::failed;
        f.mis = "MIS_2";
        if (!j.best_common.empty())
            f.remedy = fmt::format("re-create the device partnership on the phone: it keeps the versions of "
                                   "an earlier OPTIONS answer; it will then negotiate {}",
                                   j.best_common);
        return f;
    }
    switch (j.verdict) {
    case mbx::audit::Verdict::ok: f.status = Status::ok; break;
    case mbx::audit::Verdict::at_risk:
        f.status = Status::warning;
        f.mis = "MIS_2";
        break;
    case mbx::audit::Verdict::breaks:
        f.status = Status::failed;
        f.mis = "MIS_2";
        break;
    case mbx::audit::Verdict::unknown:
        f.status = Status::skipped;
        f.remedy = "log the MS-ASProtocolVersion header ($http_ms_asprotocolversion in nginx) to see it";
        break;
    }
    return f;
}

} // namespace

std::vector<Finding> judge_devices(const DevicesFacts& facts) {
    if (!facts.have_data)
        return {
            {.area = "devices",
             .check = facts.device.value_or("devices"),
             .status = Status::skipped,
             .detail = "no device data: the journal has no `mbx audit clients` run",
             .remedy = "give the ActiveSync access logs with --log FILE, or run `mbx audit clients --log FILE...`"}};
    const auto mine = user_devices(facts);
    if (mine.empty()) return {no_device(facts)};
    std::vector<Finding> found;
    for (const auto* d : mine) found.push_back(device_finding(*d, facts));
    return found;
}

} // namespace mbx::ops::diagnose

namespace mbx::ops::diagnose::detail {

void Diagnosis::devices() {
    step("devices");
    DevicesFacts facts{.device = req_.device, .uid = uid(), .mail = report_.mail};
    std::optional<audit::Loaded> loaded;
    if (!req_.logs.empty()) {
        loaded = audit::load_logs({.logs = req_.logs, .format = req_.log_format});
        facts.source = req_.logs.size() == 1 ? p(req_.logs.front().string()) : fmt::format("{} logs", req_.logs.size());
    } else if (journal_) {
        loaded = audit::load_journal(*journal_);
        if (loaded)
            facts.source = fmt::format("`mbx audit clients` run {} of {}", loaded->from_run, loaded->from_run_started);
    }
    facts.have_data = loaded.has_value();
    if (loaded) facts.devices = std::move(loaded->devices);
    if (!user_devices(facts).empty()) {
        journal_server_versions();
        facts.server_versions = server_versions_;
        facts.versions_from = versions_from_;
    }
    add_all(judge_devices(facts));
}

} // namespace mbx::ops::diagnose::detail
