#pragma once
// The client inventory: ActiveSync requests folded into one record per (user, device id), with
// memory proportional to the number of devices, never to the number of lines.

#include "mbx/audit/access_log.hpp"
#include "mbx/audit/clients.hpp"
#include "mbx/audit/log_reader.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mbx::audit {

/// Per-device caps: hostile logs cannot grow a device record without bound.
inline constexpr std::size_t kMaxDistinctPerDevice = 16;

/// One device of one user.
struct Device {
    std::string user = {};        ///< as first seen (the key compares ASCII case-insensitively)
    std::string device_id = {};   ///< normalised (normalise_device_id), as first seen
    std::string device_type = {}; ///< latest non-empty
    std::string user_agent = {};  ///< latest non-empty
    std::set<std::string> user_agents = {};       ///< distinct, at most kMaxDistinctPerDevice
    ClientInfo client = {};                        ///< from the latest user agent / type / id
    std::set<std::string> protocol_versions = {};  ///< distinct, at most kMaxDistinctPerDevice
    std::set<VersionSource> version_sources = {};
    std::string last_version = {};      ///< the version of the newest request that had one
    std::int64_t last_version_time = 0; ///< its time (Unix seconds; 0: no time)
    std::map<std::string, std::uint64_t> commands = {}; ///< "(other)" collects past the cap
    std::map<int, std::uint64_t> statuses = {};         ///< HTTP status → count
    std::int64_t first_seen = 0; ///< Unix seconds; 0 when no line had a time
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
class Inventory {
public:
    explicit Inventory(ClientClassifier classifier = ClientClassifier{}) : classifier_(std::move(classifier)) {}

    /// Counts a line of `kind`; for LineKind::request folds `request` into its device (probes
    /// and requests without a device id are only counted). Pure apart from this object.
    void add(LineKind kind, const Request& request);

    /// The devices, sorted by user then device id (ASCII case-insensitive).
    std::vector<const Device*> devices() const;

    const Totals& totals() const { return totals_; }

private:
    ClientClassifier classifier_;
    std::unordered_map<std::string, Device> devices_;
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
