#pragma once
// The client inventory: ActiveSync requests folded into one record per (user, device id), with
// memory proportional to the number of devices, never to the number of lines.

#include "mbx/audit/access_log.hpp"
#include "mbx/audit/clients.hpp"
#include "mbx/audit/log_reader.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mbx::audit {

/// Per-device caps: hostile logs cannot grow a device record without bound.
inline constexpr std::size_t kMaxDistinctPerDevice = 16;

/// The account part of a user name as clients and servers log it: after the last `\`
/// (`EXAMPLE\alice`), before the first `@` (`alice@example.org`). The inventory compares users
/// by it (ASCII case-insensitively), so that one device logged as `EXAMPLE\alice`, as
/// `alice@example.org` and as `alice` (the query's User= on a 401 line) is one device. Pure.
std::string_view account_name(std::string_view user);

/// One device of one user.
struct Device {
    /// The first spelling with a domain (`EXAMPLE\alice`, `alice@example.org`), else the first
    /// seen; devices compare users by account_name().
    std::string user = {};
    std::string device_id = {};                   ///< normalised (normalise_device_id), as first seen
    std::string device_type = {};                 ///< latest non-empty
    std::string user_agent = {};                  ///< latest non-empty
    std::set<std::string> user_agents = {};       ///< distinct, at most kMaxDistinctPerDevice
    ClientInfo client = {};                       ///< from the latest user agent / type / id
    std::set<std::string> protocol_versions = {}; ///< distinct, at most kMaxDistinctPerDevice
    std::set<VersionSource> version_sources = {};
    std::string last_version = {};                      ///< the version of the newest request that had one
    std::int64_t last_version_time = 0;                 ///< its time (Unix seconds; 0: no time)
    std::map<std::string, std::uint64_t> commands = {}; ///< "(other)" collects past the cap
    std::map<int, std::uint64_t> statuses = {};         ///< HTTP status → count
    std::int64_t first_seen = 0;                        ///< Unix seconds; 0 when no line had a time
    std::int64_t last_seen = 0;
    std::uint64_t requests = 0;
};

/// Counts over everything read.
struct Totals {
    std::uint64_t lines = 0;      ///< every line read, directives included
    std::uint64_t requests = 0;   ///< ActiveSync requests (probes included)
    std::uint64_t skipped = 0;    ///< well-formed requests that are not ActiveSync
    std::uint64_t malformed = 0;  ///< lines that are not of the format (overlong ones included)
    std::uint64_t probes = 0;     ///< monitoring requests (not in the device list)
    std::uint64_t no_device = 0;  ///< ActiveSync requests without a device id (OPTIONS, ...)
    std::uint64_t directives = 0; ///< IIS `#` lines and empty lines
};

/// Folds requests into devices.
///
/// Built for logs of many GiB: a device is a flat record of string ids (user agents, versions,
/// commands and device types are interned once, not copied per device) in one array, found
/// through an open-addressing table, so that a request touches a few adjacent cache lines. The
/// Device records are only built by devices(). Memory follows the number of devices, never the
/// number of lines: a device interns at most 4 × kMaxDistinctPerDevice strings (user agents,
/// versions, commands, device types); a latest value past its caps is kept in its own record.
class Inventory {
public:
    explicit Inventory(ClientClassifier classifier = ClientClassifier{});

    /// Counts a line of `kind`; for LineKind::request folds `request` into its device (probes
    /// and requests without a device id are only counted). Pure apart from this object.
    void add(LineKind kind, const Request& request);

    /// The devices, sorted by user then device id (ASCII case-insensitive). Builds them. The
    /// requests that name no user (a 401 line with a base64 query without User) are counted in
    /// the device of the one user with the same device id; with none or several, they are a
    /// device with an empty user.
    std::vector<Device> devices() const;

    const Totals& totals() const { return totals_; }

private:
    static constexpr std::uint32_t kNone = 0xFFFFFFFF;     ///< no string
    static constexpr std::uint32_t kOverflow = 0xFFFFFFFE; ///< the string in the record's Spill
    static constexpr std::size_t kCap = kMaxDistinctPerDevice;

    struct Count {
        std::uint32_t key = 0; ///< string id (commands) or HTTP status (-1: "other")
        std::uint64_t n = 0;
    };
    /// What add() touches for every request of a device, laid out so that a request touches
    /// few cache lines (the records of thousands of devices are megabytes: every line a
    /// request touches is a load from L3 or memory): the counters, ids and lookup key in the
    /// first two lines, then the command counts (a device has a handful: one or two lines),
    /// the status counts (most devices have two or three: one line), and last the lists of
    /// user agents and versions, touched only when the device shows a new one.
    struct alignas(64) Record {
        std::uint64_t requests = 0;
        std::int64_t first_seen = 0, last_seen = 0, last_version_time = 0;
        std::uint32_t user_agent = kNone, device_type = kNone, last_version = kNone;
        std::uint8_t n_agents = 0, n_versions = 0, n_commands = 0, n_statuses = 0;
        std::uint8_t n_types = 0;    ///< device types this record interned (capped too)
        std::uint8_t sources = 0;    ///< bit per VersionSource
        std::uint8_t key_size = 0;   ///< the lookup key's size when it fits in `key`, else 0
        bool user_qualified = false; ///< the Spill's user has a domain (is the one to show)
        /// The lookup key, compared here when it fits: the record's cache line is read anyway,
        /// the Spill's heap string would be one more miss per request.
        std::array<char, 76> key{};
        std::array<Count, kCap + 1> commands{}, statuses{}; ///< +1: "(other)"
        std::array<std::uint32_t, kCap> agents{}, versions{};
    };
    static_assert(offsetof(Record, commands) == 128, "the counters and the key fill the first two cache lines");

    /// What add() touches only for a new device or a value past the caps.
    struct Spill {
        std::string key = {}, user = {}, device_id = {};
        std::string user_agent = {}, device_type = {}, last_version = {}; ///< when the id is kOverflow
    };
    /// Interned strings: ids are indexes; a deque keeps the views of the index valid.
    class Pool {
    public:
        std::uint32_t find(std::string_view s) const;
        std::uint32_t add(std::string_view s);
        std::string_view at(std::uint32_t id) const { return views_[id]; }

    private:
        std::deque<std::string> strings_;
        std::vector<std::string_view> views_; ///< of strings_, by id: one load, no deque arithmetic
        std::unordered_map<std::string_view, std::uint32_t> ids_;
    };

    std::uint32_t find_or_insert(std::string_view key, const Request& request);
    std::uint32_t command_id(const Record& record, std::string_view command);
    void fold_userless(std::vector<Device>& list) const;
    std::uint32_t intern(std::string_view value, std::uint8_t& room);
    bool holds(std::uint32_t id, const std::string& spill, std::string_view value) const;
    std::string text(std::uint32_t id, const std::string& spill) const;

    ClientClassifier classifier_;
    Pool pool_;
    std::uint32_t other_ = 0; ///< the id of "(other)"
    std::vector<Record> records_;
    std::vector<Spill> spills_;
    /// Open addressing, linear probing, at most half full: 8 bytes a slot, so that the table of
    /// 16,000 devices stays in the L2 cache (256 KiB) and a lookup costs one miss, the record's.
    struct Slot {
        std::uint32_t tag = 0;   ///< the hash's high 32 bits (the low bits pick the slot)
        std::uint32_t index = 0; ///< record index + 1; 0 = empty
    };
    std::vector<Slot> slots_;
    /// Command ids by name (see command_id()): 64 slots, by a hash of the size and first 8 bytes.
    struct CommandSlot {
        std::uint64_t word = 0; ///< the name's first 8 bytes (zero-padded)
        std::size_t size = 0;
        std::uint32_t id = kNone;
    };
    std::array<CommandSlot, 64> command_slots_{};
    std::uint64_t seed_ = 0; ///< random per Inventory: a log cannot be crafted to collide
    Totals totals_;
    std::string key_; ///< the lookup key of the request being added (reused buffer)
};

/// Where the first malformed lines were, for the report (at most kMaxMalformedSamples).
struct MalformedLine {
    std::uint64_t line = 0;
    std::string reason = {};
};
inline constexpr std::size_t kMaxMalformedSamples = 10;

/// What scanning one file saw.
struct ScanResult {
    LogFormat format = LogFormat::auto_detect; ///< the format used (auto_detect: nothing read)
    ReadStats read = {};
    std::vector<MalformedLine> malformed = {};
};

/// Reads the access log `path` (plain or gzip) in `format` and adds every line to `inventory`.
/// Throws what read_log_lines throws (Error io/data); malformed lines are counted, never
/// thrown. Side effects: reads the file.
ScanResult scan_access_log(const std::filesystem::path& path, LogFormat format, Inventory& inventory);

} // namespace mbx::audit
