#include "mbx/audit/inventory.hpp"
#include "mbx/audit/access_log_parser.hpp"
#include "mbx/audit/scan.hpp"

#include "mbx/core/text.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>

namespace mbx::audit {
using scan::after_last;
using scan::find_byte;
using scan::find_either;
namespace {

// 64 × 64 → 128-bit multiply, folded: the mixing step of the wyhash family.
__extension__ typedef unsigned __int128 Uint128; // GCC and Clang on 64-bit targets
std::uint64_t fold_multiply(std::uint64_t a, std::uint64_t b) {
    const Uint128 r = static_cast<Uint128>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

std::uint64_t load64(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// A seeded hash of a device key (user and device id come from clients: std::hash's fixed
// seed would let a log be written whose devices all collide). 8 bytes a step.
std::uint64_t hash_of(std::string_view s, std::uint64_t seed) {
    constexpr std::uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull;
    std::uint64_t h = seed ^ (s.size() * k1);
    const char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) h = fold_multiply(h ^ load64(p) ^ k2, k1 ^ seed);
    std::uint64_t tail = 0;
    if (n > 0 && s.size() >= 8) { // the last 8 bytes, shifted to the n not yet hashed: one load
        tail = load64(s.data() + s.size() - 8) >> (64 - 8 * n);
    } else {
        for (std::size_t i = 0; i < n; ++i)
            tail |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    }
    return fold_multiply(h ^ tail ^ k1, seed ^ k2);
}

// Adds `id` to the first `n` entries of `ids` unless it is there or they are full.
template <std::size_t N> void insert_capped(std::array<std::uint32_t, N>& ids, std::uint8_t& n, std::uint32_t id) {
    for (std::uint8_t i = 0; i < n; ++i)
        if (ids[i] == id) return;
    if (n < N) ids[n++] = id;
}

// Counts `key`; past the cap a new key counts as `other` (which takes the extra entry).
template <typename Counts> void count_capped(Counts& counts, std::uint8_t& n, std::uint32_t key, std::uint32_t other) {
    for (std::uint8_t i = 0; i < n; ++i)
        if (counts[i].key == key) {
            ++counts[i].n;
            return;
        }
    if (n >= kMaxDistinctPerDevice) {
        for (std::uint8_t i = 0; i < n; ++i)
            if (counts[i].key == other) {
                ++counts[i].n;
                return;
            }
        key = other;
    }
    counts[n].key = key;
    counts[n++].n = 1;
}

} // namespace

std::string_view account_name(std::string_view user) {
    // One search for `alice`, two for `EXAMPLE\alice` or `alice@example.org`.
    std::size_t start = 0, at = find_either(user, '\\', '@');
    for (; at != std::string_view::npos && user[at] == '\\'; at = find_either(user, '\\', '@', start)) start = at + 1;
    if (at == std::string_view::npos) return user.substr(start);
    if (find_byte(user, '\\', at + 1) == std::string_view::npos) return user.substr(start, at - start);
    user.remove_prefix(after_last(user, '\\')); // `a@b\c`: a backslash after the `@`
    return user.substr(0, find_byte(user, '@'));
}

std::uint32_t Inventory::Pool::find(std::string_view s) const {
    const auto it = ids_.find(s);
    return it == ids_.end() ? kNone : it->second;
}

std::uint32_t Inventory::Pool::add(std::string_view s) {
    if (const std::uint32_t id = find(s); id != kNone) return id;
    const auto id = static_cast<std::uint32_t>(strings_.size());
    const std::string_view stored = strings_.emplace_back(s);
    views_.push_back(stored);
    ids_.emplace(stored, id);
    return id;
}

Inventory::Inventory(ClientClassifier classifier) : classifier_(std::move(classifier)) {
    other_ = pool_.add("(other)");
    slots_.resize(1024);
    std::random_device random;
    seed_ = (static_cast<std::uint64_t>(random()) << 32) ^ random();
}

std::uint32_t Inventory::find_or_insert(std::string_view key, const Request& r) {
    const std::uint64_t h = hash_of(key, seed_);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot slot = slots_[i];
        if (slot.index == 0) break;
        if (slot.tag != tag) continue;
        const Record& found = records_[slot.index - 1];
        if (found.key_size != 0 ? std::string_view(found.key.data(), found.key_size) == key
                                : spills_[slot.index - 1].key == key)
            return slot.index - 1;
    }
    const auto index = static_cast<std::uint32_t>(records_.size());
    Record& record = records_.emplace_back();
    if (key.size() <= record.key.size()) {
        std::copy(key.begin(), key.end(), record.key.begin());
        record.key_size = static_cast<std::uint8_t>(key.size());
    }
    spills_.push_back(
        Spill{.key = std::string(key), .user = std::string(r.user), .device_id = std::string(r.device_id)});
    if (2 * records_.size() > slots_.size()) { // grow: re-place every record
        slots_.assign(slots_.size() * 2, Slot{});
        mask = slots_.size() - 1;
        for (std::uint32_t k = 0; k < records_.size(); ++k) {
            const std::uint64_t kh = hash_of(spills_[k].key, seed_);
            std::size_t i = kh & mask;
            while (slots_[i].index != 0) i = (i + 1) & mask;
            slots_[i] = {static_cast<std::uint32_t>(kh >> 32), k + 1};
        }
        return index;
    }
    std::size_t i = h & mask;
    while (slots_[i].index != 0) i = (i + 1) & mask;
    slots_[i] = {tag, index + 1};
    return index;
}

// The id of `command`: from a small table of the commands seen (a log holds a few dozen names;
// a name of up to 8 bytes compares as one word), else from the pool; past the device's cap, a
// command new to the pool is "(other)". A slot is only a shortcut: a collision costs a pool
// lookup, never a wrong id.
std::uint32_t Inventory::command_id(const Record& d, std::string_view command) {
    std::uint64_t word = 0;
    if (!command.empty()) std::memcpy(&word, command.data(), std::min<std::size_t>(command.size(), sizeof word));
    CommandSlot& slot = command_slots_[((word ^ command.size()) * 0x9E3779B97F4A7C15ull) >> 58];
    if (slot.id != kNone && slot.word == word && slot.size == command.size() &&
        (command.size() <= sizeof word || pool_.at(slot.id) == command))
        return slot.id;
    std::uint32_t id = pool_.find(command);
    if (id == kNone) {
        if (d.n_commands >= kCap) return other_;
        id = pool_.add(command);
    }
    slot = {word, command.size(), id};
    return id;
}

// The id of `value`: interned when it is new and `room` (this device's count for the field)
// is below the cap, else kOverflow (the caller keeps the value in the device's Spill).
std::uint32_t Inventory::intern(std::string_view value, std::uint8_t& room) {
    std::uint32_t id = pool_.find(value);
    if (id == kNone && room < kCap) {
        id = pool_.add(value);
        ++room;
    }
    return id == kNone ? kOverflow : id;
}

// True when the field (`id`, or `spill` for kOverflow) holds `value`: nearly every request
// repeats its device's latest values, and this costs one compare, no lookup.
bool Inventory::holds(std::uint32_t id, const std::string& spill, std::string_view value) const {
    return id != kNone && (id == kOverflow ? spill : pool_.at(id)) == value;
}

std::string Inventory::text(std::uint32_t id, const std::string& spill) const {
    if (id == kNone) return {};
    return id == kOverflow ? spill : std::string(pool_.at(id));
}

namespace {

// The key of a device in `buffer` (grown to the longest key, never shrunk): users (by account
// name) and device ids compare ASCII case-insensitively (Exchange and SOGo treat them so), and
// the account's length goes first so that no pair of values can make the same key.
std::string_view device_key(std::string& buffer, std::string_view account, std::string_view device_id) {
    char length[24];
    const auto [end, ec] = std::to_chars(length, length + sizeof length, account.size());
    (void)ec;
    const auto digits = static_cast<std::size_t>(end - length);
    const std::size_t size = digits + 1 + account.size() + device_id.size();
    if (buffer.size() < size) buffer.resize(size);
    char* const k = buffer.data();
    std::memcpy(k, length, digits);
    k[digits] = ':';
    // char_traits::copy, not memcpy: an empty view may have no data (a 401 line has no user).
    std::char_traits<char>::copy(k + digits + 1, account.data(), account.size());
    std::char_traits<char>::copy(k + digits + 1 + account.size(), device_id.data(), device_id.size());
    ascii_lower_in_place(k, size);
    return {k, size};
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
    const std::string_view account = account_name(r.user);
    const std::uint32_t index = find_or_insert(device_key(key_, account, r.device_id), r);
    Record& d = records_[index];

    Spill& spill = spills_[index];
    if (!d.user_qualified && account.size() != r.user.size()) { // the first spelling with a domain
        spill.user.assign(r.user);
        d.user_qualified = true;
    }
    if (!r.device_type.empty() && !holds(d.device_type, spill.device_type, r.device_type)) {
        d.device_type = intern(r.device_type, d.n_types);
        if (d.device_type == kOverflow) spill.device_type.assign(r.device_type);
    }
    if (!r.user_agent.empty() && !holds(d.user_agent, spill.user_agent, r.user_agent)) {
        // Interned only while the device's list has room: every interned agent is in a list.
        std::uint8_t room = d.n_agents;
        d.user_agent = intern(r.user_agent, room);
        if (d.user_agent == kOverflow) spill.user_agent.assign(r.user_agent);
        else insert_capped(d.agents, d.n_agents, d.user_agent);
    }
    if (!r.protocol_version.empty()) {
        std::uint8_t room = d.n_versions;
        const bool same = holds(d.last_version, spill.last_version, r.protocol_version);
        const std::uint32_t version = same ? d.last_version : intern(r.protocol_version, room);
        // The latest version is in the list already (or the list is full): no need to look.
        if (!same && version != kOverflow) insert_capped(d.versions, d.n_versions, version);
        // The version of the newest request (logs are in time order; a line without a time
        // counts as newer than those before it).
        if (r.time == 0 || r.time >= d.last_version_time) {
            if (!same && version == kOverflow) spill.last_version.assign(r.protocol_version);
            d.last_version = version;
            if (r.time != 0) d.last_version_time = r.time;
        }
    }
    if (r.version_source != VersionSource::none)
        d.sources |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(r.version_source));

    const std::string_view command = !r.command.empty()  ? std::string_view(r.command)
                                     : !r.method.empty() ? std::string_view(r.method)
                                                         : std::string_view("-");
    count_capped(d.commands, d.n_commands, command_id(d, command), other_);
    count_capped(d.statuses, d.n_statuses, static_cast<std::uint32_t>(r.http_status), static_cast<std::uint32_t>(-1));
    if (r.time != 0) {
        if (d.first_seen == 0 || r.time < d.first_seen) d.first_seen = r.time;
        if (r.time > d.last_seen) d.last_seen = r.time;
    }
    ++d.requests;
}

namespace {

// Adds `from`'s counts to `into` and keeps at most kMaxDistinctPerDevice keys besides
// `other`: the smallest counts past the cap go to `other`.
template <typename Key>
void merge_counts(std::map<Key, std::uint64_t>& into, const std::map<Key, std::uint64_t>& from, const Key& other) {
    for (const auto& [key, n] : from) into[key] += n;
    std::vector<std::pair<std::uint64_t, Key>> by_count;
    for (const auto& [key, n] : into)
        if (key != other) by_count.emplace_back(n, key);
    if (by_count.size() <= kMaxDistinctPerDevice) return;
    std::sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = kMaxDistinctPerDevice; i < by_count.size(); ++i) {
        into[other] += by_count[i].first;
        into.erase(by_count[i].second);
    }
}

template <typename Set> void merge_capped(Set& into, const Set& from) {
    for (const auto& v : from)
        if (into.size() < kMaxDistinctPerDevice) into.insert(v);
}

// `from` (requests without any user) into `into` (the same device of its one user).
void merge_device(Device& into, const Device& from) {
    merge_capped(into.user_agents, from.user_agents);
    merge_capped(into.protocol_versions, from.protocol_versions);
    into.version_sources.insert(from.version_sources.begin(), from.version_sources.end());
    if (!from.last_version.empty() && (into.last_version.empty() || from.last_version_time > into.last_version_time)) {
        into.last_version = from.last_version;
        into.last_version_time = from.last_version_time;
    }
    merge_counts(into.commands, from.commands, std::string("(other)"));
    merge_counts(into.statuses, from.statuses, -1);
    if (from.first_seen != 0 && (into.first_seen == 0 || from.first_seen < into.first_seen))
        into.first_seen = from.first_seen;
    into.last_seen = std::max(into.last_seen, from.last_seen);
    into.requests += from.requests;
    if (into.device_type.empty()) into.device_type = from.device_type;
    if (into.user_agent.empty()) into.user_agent = from.user_agent;
}

} // namespace

// Requests that name no user at all (a 401 line with a base64 query without User) belong to
// the device of the one user whose device has the same id; with no such user, or several,
// they stay a device with an empty user.
void Inventory::fold_userless(std::vector<Device>& list) const {
    std::unordered_map<std::string, std::vector<std::size_t>> by_id; // lower-case id → users' devices
    bool any_userless = false;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (list[i].user.empty()) any_userless = true;
        else by_id[ascii_lower(list[i].device_id)].push_back(i);
    }
    if (!any_userless) return;
    std::vector<bool> folded(list.size(), false);
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (!list[i].user.empty()) continue;
        const auto it = by_id.find(ascii_lower(list[i].device_id));
        if (it == by_id.end() || it->second.size() != 1) continue;
        Device& into = list[it->second.front()];
        merge_device(into, list[i]);
        // The latest user agent or device type may have come from the folded requests.
        into.client = classifier_.classify(into.user_agent, into.device_type, into.device_id);
        folded[i] = true;
    }
    // Moved down over the folded ones; never onto itself (a self-move-assignment leaves a
    // std::string or std::set in an unspecified state: libstdc++ empties them).
    std::size_t kept = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (folded[i]) continue;
        if (kept != i) list[kept] = std::move(list[i]);
        ++kept;
    }
    list.resize(kept);
}

std::vector<Device> Inventory::devices() const {
    // The lower-case sort keys once per device, not twice per comparison.
    struct Entry {
        std::string user, device_id;
        std::uint32_t index;
    };
    std::vector<Entry> entries;
    entries.reserve(records_.size());
    for (std::uint32_t i = 0; i < records_.size(); ++i)
        entries.push_back({ascii_lower(spills_[i].user), ascii_lower(spills_[i].device_id), i});
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        if (a.user != b.user) return a.user < b.user;
        return a.device_id < b.device_id;
    });
    std::vector<Device> list;
    list.reserve(entries.size());
    for (const auto& e : entries) {
        const Record& r = records_[e.index];
        const Spill& s = spills_[e.index];
        Device& d = list.emplace_back();
        d.user = s.user;
        d.device_id = s.device_id;
        d.device_type = text(r.device_type, s.device_type);
        d.user_agent = text(r.user_agent, s.user_agent);
        for (std::uint8_t i = 0; i < r.n_agents; ++i) d.user_agents.emplace(pool_.at(r.agents[i]));
        // The classification of the latest user agent and device type.
        d.client = classifier_.classify(d.user_agent, d.device_type, d.device_id);
        for (std::uint8_t i = 0; i < r.n_versions; ++i) d.protocol_versions.emplace(pool_.at(r.versions[i]));
        for (unsigned v = 0; v < 8; ++v)
            if ((r.sources & (1u << v)) != 0) d.version_sources.insert(static_cast<VersionSource>(v));
        d.last_version = text(r.last_version, s.last_version);
        d.last_version_time = r.last_version_time;
        for (std::uint8_t i = 0; i < r.n_commands; ++i)
            d.commands[std::string(pool_.at(r.commands[i].key))] = r.commands[i].n;
        for (std::uint8_t i = 0; i < r.n_statuses; ++i)
            d.statuses[static_cast<int>(r.statuses[i].key)] = r.statuses[i].n;
        d.first_seen = r.first_seen;
        d.last_seen = r.last_seen;
        d.requests = r.requests;
    }
    fold_userless(list);
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
