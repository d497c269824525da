#include "devices.hpp"

#include "mbx/audit/compat.hpp"
#include "mbx/core/output.hpp"
#include "mbx/journal/journal.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace mbx_audit {

using mbx::Error;
using mbx::ErrorCategory;
using json = nlohmann::json;

namespace {

template <class Map> std::string counts(const Map& m) {
    std::string s;
    for (const auto& [k, n] : m) s += fmt::format("{}{}:{}", s.empty() ? "" : ",", k, n);
    return s;
}

DeviceRow row_of(const mbx::audit::Device& d) {
    DeviceRow r{.user = d.user,
                .device_id = d.device_id,
                .device_type = d.device_type,
                .family = d.client.family,
                .client_version = d.client.version,
                .model = d.client.model,
                .user_agent = d.user_agent,
                .versions = {d.protocol_versions.begin(), d.protocol_versions.end()},
                .last_version = d.last_version,
                .commands = counts(d.commands),
                .first_seen = d.first_seen,
                .last_seen = d.last_seen,
                .requests = d.requests};
    std::erase_if(r.versions, [](const auto& v) { return v.empty(); });
    std::sort(r.versions.begin(), r.versions.end(),
              [](const auto& a, const auto& b) { return mbx::audit::compare_versions(a, b) < 0; });
    for (auto s : d.version_sources)
        r.version_sources += (r.version_sources.empty() ? "" : ",") + std::string(mbx::audit::version_source_name(s));
    std::map<std::string, std::uint64_t> statuses;
    for (const auto& [code, n] : d.statuses) statuses[code < 0 ? std::string("other") : std::to_string(code)] = n;
    r.statuses = counts(statuses);
    return r;
}

json to_json(const DeviceRow& d) {
    return {{"user", d.user},           {"device_id", d.device_id},
            {"device_type", d.device_type}, {"family", d.family},
            {"client_version", d.client_version}, {"model", d.model},
            {"user_agent", d.user_agent}, {"versions", d.versions},
            {"last_version", d.last_version}, {"version_sources", d.version_sources},
            {"commands", d.commands},   {"statuses", d.statuses},
            {"first_seen", d.first_seen}, {"last_seen", d.last_seen},
            {"requests", d.requests}};
}

DeviceRow from_json(const json& j) {
    DeviceRow d;
    auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
    auto number = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<std::int64_t>() : 0; };
    d.user = text("user");
    d.device_id = text("device_id");
    d.device_type = text("device_type");
    d.family = text("family");
    d.client_version = text("client_version");
    d.model = text("model");
    d.user_agent = text("user_agent");
    if (j.contains("versions") && j["versions"].is_array())
        for (const auto& v : j["versions"])
            if (v.is_string()) d.versions.push_back(v.get<std::string>());
    d.last_version = text("last_version");
    d.version_sources = text("version_sources");
    d.commands = text("commands");
    d.statuses = text("statuses");
    d.first_seen = number("first_seen");
    d.last_seen = number("last_seen");
    d.requests = static_cast<std::uint64_t>(number("requests"));
    return d;
}

} // namespace

Loaded load_logs(mbx::cli::Context& ctx) {
    const auto& a = ctx.args();
    if (!a.count("log"))
        throw Error(ErrorCategory::usage, "give at least one --log FILE", "e.g. --log /var/log/nginx/eas-access.log");
    const auto format = mbx::audit::parse_log_format(a.count("log-format") ? a["log-format"].as<std::string>() : "auto");
    std::vector<mbx::audit::ClientRule> rules;
    if (a.count("rules")) {
        const std::string path = a["rules"].as<std::string>();
        std::ifstream in(path);
        if (!in)
            throw Error(ErrorCategory::usage, fmt::format("cannot read --rules '{}'", mbx::out::printable(path)),
                        "check the path and its permissions");
        std::stringstream text;
        text << in.rdbuf();
        rules = mbx::audit::parse_client_rules(text.str(), path);
    }
    const auto& defaults = mbx::audit::default_client_rules();
    rules.insert(rules.end(), defaults.begin(), defaults.end());
    mbx::audit::Inventory inventory{mbx::audit::ClientClassifier(std::move(rules))};
    Loaded loaded;
    for (const auto& path : a["log"].as<std::vector<std::string>>()) {
        ctx.progress().update("read " + path, 0, 0);
        const auto before = inventory.totals().malformed;
        const auto scan = mbx::audit::scan_access_log(path, format, inventory);
        FileRow f{.path = path,
                  .format = std::string(mbx::audit::log_format_name(scan.format)),
                  .gzip = scan.read.gzip,
                  .lines = scan.read.lines,
                  .malformed = inventory.totals().malformed - before};
        if (!scan.malformed.empty())
            f.first_malformed = fmt::format("line {}: {}", scan.malformed.front().line, scan.malformed.front().reason);
        loaded.files.push_back(std::move(f));
    }
    for (const auto* d : inventory.devices()) loaded.devices.push_back(row_of(*d));
    loaded.totals = inventory.totals();
    return loaded;
}

Loaded load_journal(mbx::cli::Context& ctx) {
    auto& journal = ctx.journal();
    for (const auto& run : journal.list_runs({.tool = "audit", .limit = 200})) {
        if (run.args.empty() || run.args.front() != "clients" || run.status != mbx::journal::RunStatus::ok) continue;
        Loaded loaded;
        loaded.from_run = run.id;
        journal.for_each_action_of_run(run.id, [&](const mbx::journal::ActionRecord& a) {
            if (a.kind == "audit.device" && a.after) loaded.devices.push_back(from_json(*a.after));
        });
        if (!loaded.devices.empty()) return loaded;
    }
    throw Error(ErrorCategory::data, "the journal has no devices from `mbx audit clients`",
                "run `mbx audit clients --log FILE...` first, or give --log here");
}

void journal_devices(mbx::cli::Context& ctx, const Loaded& loaded) {
    if (!ctx.run_id()) return;
    auto& journal = ctx.journal();
    auto batch = journal.batch();
    for (const auto& f : loaded.files)
        journal.add_action(*ctx.run_id(), {.kind = "audit.log",
                                           .subject = f.path,
                                           .after = json{{"format", f.format}, {"gzip", f.gzip}, {"lines", f.lines},
                                                         {"malformed", f.malformed}},
                                           .status = mbx::journal::ActionStatus::done});
    for (const auto& d : loaded.devices)
        journal.add_action(*ctx.run_id(), {.kind = "audit.device",
                                           .subject = d.user + "/" + d.device_id,
                                           .after = to_json(d),
                                           .status = mbx::journal::ActionStatus::done});
    batch.commit();
}

std::string client_name(const DeviceRow& d) {
    if (d.family.empty() || d.family == "unknown") return d.device_type.empty() ? "an unknown client" : d.device_type;
    return d.client_version.empty() ? d.family : d.family + " " + d.client_version;
}

} // namespace mbx_audit
