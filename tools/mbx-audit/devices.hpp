#pragma once
// The device inventory that `mbx audit clients` reports and `mbx audit compat` judges: read
// from access logs (--log), or from the devices the latest clients run journaled (--from-journal).
// The work is in mbx/ops/audit_devices.hpp; these read the options.
#include "mbx/cli/tool.hpp"
#include "mbx/ops/audit_run.hpp"

namespace mbx_audit {

using mbx::ops::audit::client_name;
using mbx::ops::audit::DeviceRow;
using mbx::ops::audit::FileRow;
using mbx::ops::audit::Loaded;

/// The --log files (each read with --log-format, auto by default) and --rules (client rules
/// before the built-in ones), with progress. Throws Error(usage) for a bad --log-format.
mbx::ops::audit::LogSource log_source(mbx::cli::Context& ctx);

/// The devices of the --log files (each read with --log-format, auto by default; --rules adds
/// client rules before the built-in ones). Throws Error(usage) without --log, Error(io/data) for
/// an unreadable or corrupt file.
Loaded load_logs(mbx::cli::Context& ctx);

/// The devices journaled by the newest `mbx audit clients` run that recorded any. Throws
/// Error(data) when there is none.
Loaded load_journal(mbx::cli::Context& ctx);

} // namespace mbx_audit
