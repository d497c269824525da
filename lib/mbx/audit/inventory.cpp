#include "mbx/audit/inventory.hpp"

#include "mbx/core/text.hpp"

#include <algorithm>

namespace mbx::audit {
namespace {

// One lookup when the value is already there (nearly every request), no copy of it then.
template <typename Set>
void insert_capped(Set& set, const std::string& value) {
    if (value.empty() || set.size() >= kMaxDistinctPerDevice) return;
    const auto it = set.lower_bound(value);
    if (it == set.end() || *it != value) set.emplace_hint(it, value);
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
    // Built in a reused buffer and looked up first: a known device costs no allocation.
    std::string& key = key_;
    key.assign(std::to_string(r.user.size())).append(":").append(r.user).append(r.device_id);
    for (char& c : key)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a'); // as ascii_lower()
    auto it = devices_.find(key);
    const bool fresh = it == devices_.end();
    if (fresh) it = devices_.try_emplace(key).first;
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
    static const std::string kDash = "-", kOther = "(other)";
    count_capped(d.commands, !r.command.empty() ? r.command : !r.method.empty() ? r.method : kDash, kOther);
    count_capped(d.statuses, r.http_status, -1);
    if (r.time != 0) {
        if (d.first_seen == 0 || r.time < d.first_seen) d.first_seen = r.time;
        if (r.time > d.last_seen) d.last_seen = r.time;
    }
    ++d.requests;
}

std::vector<const Device*> Inventory::devices() const {
    // The lower-case sort keys once per device, not twice per comparison.
    struct Entry {
        std::string user, device_id;
        const Device* device;
    };
    std::vector<Entry> entries;
    entries.reserve(devices_.size());
    for (const auto& entry : devices_)
        entries.push_back({ascii_lower(entry.second.user), ascii_lower(entry.second.device_id), &entry.second});
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        if (a.user != b.user) return a.user < b.user;
        return a.device_id < b.device_id;
    });
    std::vector<const Device*> list;
    list.reserve(entries.size());
    for (const auto& e : entries) list.push_back(e.device);
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
