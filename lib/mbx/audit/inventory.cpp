#include "mbx/audit/inventory.hpp"

#include "mbx/core/text.hpp"

#include <algorithm>

namespace mbx::audit {
namespace {

template <typename Set>
void insert_capped(Set& set, const std::string& value) {
    if (!value.empty() && (set.size() < kMaxDistinctPerDevice || set.count(value) != 0)) set.insert(value);
}

template <typename Map, typename Key>
void count_capped(Map& map, const Key& key, const Key& other) {
    auto it = map.find(key);
    if (it == map.end() && map.size() >= kMaxDistinctPerDevice) it = map.try_emplace(other, 0).first;
    else if (it == map.end()) it = map.try_emplace(key, 0).first;
    ++it->second;
}

} // namespace

void Inventory::add(LineKind kind, const Request& r) {
    ++totals_.lines;
    switch (kind) {
    case LineKind::directive: ++totals_.directives; return;
    case LineKind::skipped: ++totals_.skipped; return;
    case LineKind::malformed: ++totals_.malformed; return;
    case LineKind::request: break;
    }
    ++totals_.requests;
    if (r.probe) {
        ++totals_.probes;
        return;
    }
    if (r.device_id.empty()) {
        ++totals_.no_device;
        return;
    }
    // Users and device ids compare ASCII case-insensitively (Exchange and SOGo treat them so).
    // The user's length goes first so that no pair of values can make the same key.
    const std::string user = ascii_lower(r.user);
    std::string key = std::to_string(user.size()) + ":" + user + ascii_lower(r.device_id);
    auto [it, fresh] = devices_.try_emplace(std::move(key));
    Device& d = it->second;
    if (fresh) {
        d.user = r.user;
        d.device_id = r.device_id;
    }
    bool reclassify = fresh;
    if (!r.device_type.empty() && r.device_type != d.device_type) {
        d.device_type = r.device_type;
        reclassify = true;
    }
    if (!r.user_agent.empty() && r.user_agent != d.user_agent) {
        d.user_agent = r.user_agent;
        insert_capped(d.user_agents, r.user_agent);
        reclassify = true;
    }
    if (reclassify) d.client = classifier_.classify(d.user_agent, d.device_type, d.device_id);
    insert_capped(d.protocol_versions, r.protocol_version);
    // The version of the newest request (logs are in time order; a line without a time counts
    // as newer than those before it).
    if (!r.protocol_version.empty() && (r.time == 0 || r.time >= d.last_version_time)) {
        d.last_version = r.protocol_version;
        if (r.time != 0) d.last_version_time = r.time;
    }
    if (r.version_source != VersionSource::none) d.version_sources.insert(r.version_source);
    count_capped(d.commands, r.command.empty() ? (r.method.empty() ? std::string("-") : r.method) : r.command,
                 std::string("(other)"));
    count_capped(d.statuses, r.http_status, -1);
    if (r.time != 0) {
        if (d.first_seen == 0 || r.time < d.first_seen) d.first_seen = r.time;
        if (r.time > d.last_seen) d.last_seen = r.time;
    }
    ++d.requests;
}

std::vector<const Device*> Inventory::devices() const {
    std::vector<const Device*> list;
    list.reserve(devices_.size());
    for (const auto& entry : devices_) list.push_back(&entry.second);
    std::sort(list.begin(), list.end(), [](const Device* a, const Device* b) {
        const auto ua = ascii_lower(a->user), ub = ascii_lower(b->user);
        if (ua != ub) return ua < ub;
        return ascii_lower(a->device_id) < ascii_lower(b->device_id);
    });
    return list;
}

ScanResult scan_access_log(const std::filesystem::path& path, LogFormat format, Inventory& inventory) {
    ScanResult result;
    AccessLogParser parser(format);
    Request request;
    result.read = read_log_lines(path, [&](const LogLine& line) {
        LineKind kind = LineKind::malformed;
        std::string_view reason = "line too long";
        if (!line.overlong) {
            kind = parser.parse_line(line.text, request);
            reason = parser.reason();
        }
        if (kind == LineKind::malformed && result.malformed.size() < kMaxMalformedSamples)
            result.malformed.push_back({line.number, std::string(reason)});
        inventory.add(kind, request);
    });
    result.format = parser.format();
    return result;
}

} // namespace mbx::audit
