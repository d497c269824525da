#include "mbx/ops/audit_devices.hpp"
#include "mbx/ops/actions.hpp"

#include "mbx/audit/compat.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/input_file.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/journal/journal.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

namespace mbx::ops::audit {

using json = nlohmann::json;

namespace {

// "Sync:12,Ping:3": appended, not formatted (a device has a dozen counts, an inventory
// thousands of devices).
template <class Map> std::string counts(const Map& m) {
    std::string s;
    char number[24];
    for (const auto& [k, n] : m) {
        if (!s.empty()) s += ',';
        s += k;
        s += ':';
        const auto [end, ec] = std::to_chars(number, number + sizeof number, n);
        (void)ec;
        s.append(number, end);
    }
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

} // namespace

json to_json(const DeviceRow& d) {
    return {{"user", d.user},
            {"device_id", d.device_id},
            {"device_type", d.device_type},
            {"family", d.family},
            {"client_version", d.client_version},
            {"model", d.model},
            {"user_agent", d.user_agent},
            {"versions", d.versions},
            {"last_version", d.last_version},
            {"version_sources", d.version_sources},
            {"commands", d.commands},
            {"statuses", d.statuses},
            {"first_seen", d.first_seen},
            {"last_seen", d.last_seen},
            {"requests", d.requests}};
}

DeviceRow from_json(const json& j) {
    DeviceRow d;
    auto text = [&](const char* k) {
        return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
    };
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

namespace {

// The columns of an `audit.devices` action's rows, in order (the keys of to_json).
constexpr std::array<const char*, 15> kDeviceColumns = {"user",           "device_id",       "device_type", "family",
                                                        "client_version", "model",           "user_agent",  "versions",
                                                        "last_version",   "version_sources", "commands",    "statuses",
                                                        "first_seen",     "last_seen",       "requests"};

json device_row_json(const DeviceRow& d) {
    return json::array({d.user, d.device_id, d.device_type, d.family, d.client_version, d.model, d.user_agent,
                        d.versions, d.last_version, d.version_sources, d.commands, d.statuses, d.first_seen,
                        d.last_seen, d.requests});
}

// The devices of an `audit.devices` action: its rows, read through its own column list (so
// a later version may add columns).
void read_device_rows(const json& after, std::vector<DeviceRow>& out) {
    if (!after.is_object() || !after.contains("columns") || !after.contains("rows")) return;
    const json& columns = after["columns"];
    const json& rows = after["rows"];
    if (!columns.is_array() || !rows.is_array()) return;
    for (const json& row : rows) {
        if (!row.is_array()) continue;
        json object = json::object();
        for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i)
            if (columns[i].is_string()) object[columns[i].get<std::string>()] = row[i];
        out.push_back(from_json(object));
    }
}

} // namespace

mbx::audit::Rules load_rules(const std::optional<std::filesystem::path>& path) {
    mbx::audit::Rules rules;
    if (path) {
        const std::string text = read_input_file(
            *path,
            {.what = "--rules", .unreadable = ErrorCategory::usage, .max_bytes = 4u << 20, .max_line = 4u << 10});
        rules = mbx::audit::parse_rules(text, path->string());
    }
    const auto& clients = mbx::audit::default_client_rules();
    rules.clients.insert(rules.clients.end(), clients.begin(), clients.end());
    const auto& rows = mbx::audit::default_capabilities();
    rules.capabilities.insert(rules.capabilities.end(), rows.begin(), rows.end());
    return rules;
}

Loaded load_logs(const LogSource& source) {
    if (source.logs.empty())
        throw Error(ErrorCategory::usage, "give at least one --log FILE", "e.g. --log /var/log/nginx/eas-access.log");
    auto rules = load_rules(source.rules).clients;
    Loaded loaded;
    std::vector<mbx::audit::Device> devices;
    { // the inventory's records go before the rows are made: the peak is the devices and their rows
        mbx::audit::Inventory inventory{mbx::audit::ClientClassifier(std::move(rules))};
        for (const auto& path : source.logs) {
            if (source.on_file) source.on_file(path);
            const auto before = inventory.totals().malformed;
            const auto scan = mbx::audit::scan_access_log(path, source.format, inventory);
            FileRow f{.path = path.string(),
                      .format = std::string(mbx::audit::log_format_name(scan.format)),
                      .gzip = scan.read.gzip,
                      .lines = scan.read.lines,
                      .malformed = inventory.totals().malformed - before};
            if (!scan.malformed.empty())
                f.first_malformed =
                    fmt::format("line {}: {}", scan.malformed.front().line, scan.malformed.front().reason);
            loaded.files.push_back(std::move(f));
        }
        devices = inventory.devices();
        loaded.totals = inventory.totals();
    }
    loaded.devices.reserve(devices.size());
    for (auto& d : devices) {
        loaded.devices.push_back(row_of(d));
        d = mbx::audit::Device{}; // freed as its row is made
    }
    return loaded;
}

std::optional<Loaded> load_journal(journal::Journal& journal) {
    for (const auto& run : journal.list_runs({.tool = "audit", .limit = 200})) {
        if (run.args.empty() || run.args.front() != "clients" || run.status != journal::RunStatus::ok) continue;
        Loaded loaded;
        loaded.from_run = run.id;
        loaded.from_run_started = run.started_at;
        journal.for_each_action_of_run(run.id, [&](const journal::ActionRecord& a) {
            if (a.kind == kind::kAuditDevices && a.after) read_device_rows(*a.after, loaded.devices);
            // One action per device: journals of mbxkit before 2026-11-25.
            if (a.kind == kind::kAuditDevice && a.after) loaded.devices.push_back(from_json(*a.after));
        });
        if (!loaded.devices.empty()) return loaded;
    }
    return std::nullopt;
}

void journal_devices(journal::Journal& journal, std::int64_t run, const Loaded& loaded) {
    auto batch = journal.batch();
    for (const auto& f : loaded.files)
        journal.add_action(
            run, {.kind = kind::kAuditLog,
                  .subject = f.path,
                  .after = json{{"format", f.format}, {"gzip", f.gzip}, {"lines", f.lines}, {"malformed", f.malformed}},
                  .status = journal::ActionStatus::done});
    // Devices in actions of kDevicesPerAction rows: an action per device cost ~100,000
    // instructions each (the JSON object, its text, the row and its three index entries), more
    // than reading the log lines of a device for most logs.
    const auto& devices = loaded.devices;
    for (std::size_t first = 0; first < devices.size(); first += kDevicesPerAction) {
        const std::size_t last = std::min(devices.size(), first + kDevicesPerAction);
        json rows = json::array();
        for (std::size_t i = first; i < last; ++i) rows.push_back(device_row_json(devices[i]));
        journal.add_action(run, {.kind = kind::kAuditDevices,
                                 .subject = fmt::format("devices {}-{} of {}", first + 1, last, devices.size()),
                                 .after = json{{"columns", kDeviceColumns}, {"rows", std::move(rows)}},
                                 .status = journal::ActionStatus::done});
    }
    batch.commit();
}

std::string client_name(const DeviceRow& d) {
    if (d.family.empty() || d.family == "unknown") return d.device_type.empty() ? "an unknown client" : d.device_type;
    return d.client_version.empty() ? d.family : d.family + " " + d.client_version;
}

bool same_user(std::string_view log_user, std::string_view uid, std::string_view mail) {
    if (log_user.empty()) return false;
    if (iequals(log_user, uid) || (!mail.empty() && iequals(log_user, mail))) return true;
    // DOMAIN\uid (NTLM style) and uid@domain (UPN style) as clients send them.
    if (const auto slash = log_user.rfind('\\'); slash != std::string_view::npos)
        return iequals(log_user.substr(slash + 1), uid);
    if (const auto at = log_user.find('@'); at != std::string_view::npos) return iequals(log_user.substr(0, at), uid);
    return false;
}

} // namespace mbx::ops::audit
