#pragma once
// The ActiveSync device inventory as the commands use it: read from access logs, journaled as
// `audit.devices` actions by `mbx audit clients`, read back by `mbx audit compat --from-journal`
// and `mbx diagnose`. One flat record per (user, device id).

#include "mbx/audit/access_log.hpp"
#include "mbx/audit/inventory.hpp"
#include "mbx/ops/fwd.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mbx::ops::audit {

using mbx::audit::iso8601;
using mbx::audit::parse_log_format;

/// One device, flattened for output and for the journal.
struct DeviceRow {
    std::string user = {};
    std::string device_id = {};
    std::string device_type = {};
    std::string family = {};
    std::string client_version = {};
    std::string model = {};
    std::string user_agent = {};
    std::vector<std::string> versions = {}; ///< ascending
    std::string last_version = {};
    std::string version_sources = {}; ///< "header,base64"
    std::string commands = {};        ///< "Sync:120,Ping:30"
    std::string statuses = {};        ///< "200:140,449:2"
    std::int64_t first_seen = 0;
    std::int64_t last_seen = 0;
    std::uint64_t requests = 0;
};

/// One log file read.
struct FileRow {
    std::string path = {};
    std::string format = {};
    bool gzip = false;
    std::uint64_t lines = 0;
    std::uint64_t malformed = 0;
    std::string first_malformed = {}; ///< "line 12: reason", when any
};

/// Devices and where they came from.
struct Loaded {
    std::vector<DeviceRow> devices = {};
    std::vector<FileRow> files = {};
    mbx::audit::Totals totals = {};
    std::int64_t from_run = 0;         ///< from the journal: the clients run the devices come from
    std::string from_run_started = {}; ///< its start time (ISO 8601 UTC)
};

/// How to read access logs.
struct LogSource {
    std::vector<std::filesystem::path> logs = {};
    mbx::audit::LogFormat format = mbx::audit::LogFormat::auto_detect;
    std::optional<std::filesystem::path> rules = {}; ///< client rules tried before the built-in ones
    /// Called before each file is read (progress); may be empty.
    std::function<void(const std::filesystem::path&)> on_file = {};
};

/// The client rules and capability rows of the rules file `path` (when given), followed by the
/// built-in ones. Throws Error(usage) for an unreadable file, Error(data) for a bad line. Reads
/// the file.
mbx::audit::Rules load_rules(const std::optional<std::filesystem::path>& path);

/// The devices of `source.logs`, sorted by user then device id. Throws Error(usage) without a
/// log or for an unreadable rules file, Error(data) for a bad rules file, and what
/// scan_access_log throws (io/data) for an unreadable or corrupt log. Reads the files.
Loaded load_logs(const LogSource& source);

/// The devices journaled by the newest successful `mbx audit clients` run that recorded any
/// (among the newest 200 audit runs), or nullopt. Reads the journal.
std::optional<Loaded> load_journal(journal::Journal& journal);

/// Devices per `audit.devices` action.
inline constexpr std::size_t kDevicesPerAction = 1000;

/// Journals one `audit.log` action per file and the devices in `audit.devices` actions of up to
/// kDevicesPerAction devices each (`after`: {"columns": [names], "rows": [[values], ...]}, the
/// names being to_json's keys), in one batch. Writes the journal.
void journal_devices(journal::Journal& journal, std::int64_t run, const Loaded& loaded);

/// The device as a JSON object and back; from_json tolerates missing or mistyped members (they
/// stay empty). load_journal also reads the `audit.device` actions (one object per device) of
/// older journals. Pure.
nlohmann::json to_json(const DeviceRow& d);
DeviceRow from_json(const nlohmann::json& j);

/// The client as people say it: "iOS 9.3", "Windows Mail", "an unknown client". Pure.
std::string client_name(const DeviceRow& d);

/// True when `log_user`, as a client sent it, names the account `uid` (mail `mail`): equal
/// ignoring ASCII case, or `DOMAIN\uid`, or `uid@domain`, or the mail address. Pure.
bool same_user(std::string_view log_user, std::string_view uid, std::string_view mail);

} // namespace mbx::ops::audit
