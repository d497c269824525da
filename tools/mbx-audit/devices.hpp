#pragma once
// The device inventory that `mbx audit clients` reports and `mbx audit compat` judges: read
// from access logs (--log), or from the devices the latest clients run journaled (--from-journal).
#include "mbx/audit/inventory.hpp"
#include "mbx/cli/tool.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mbx_audit {

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

struct Loaded {
    std::vector<DeviceRow> devices = {};
    std::vector<FileRow> files = {};
    mbx::audit::Totals totals = {};
    std::int64_t from_run = 0; ///< --from-journal: the clients run the devices come from
};

/// The devices of the --log files (each read with --log-format, auto by default; --rules adds
/// client rules before the built-in ones). Throws Error(usage) without --log, Error(io/data) for
/// an unreadable or corrupt file.
Loaded load_logs(mbx::cli::Context& ctx);

/// The devices journaled by the newest `mbx audit clients` run that recorded any. Throws
/// Error(data) when there is none.
Loaded load_journal(mbx::cli::Context& ctx);

/// Journals one `audit.device` action per device and one `audit.log` per file, in one batch.
void journal_devices(mbx::cli::Context& ctx, const Loaded& loaded);

/// The client as people say it: "iOS 9.3", "Windows Mail", "unknown".
std::string client_name(const DeviceRow& d);

} // namespace mbx_audit
