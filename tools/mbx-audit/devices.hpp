#pragma once
// The device inventory that `mbx audit clients` reports and `mbx audit compat` judges: read
// from access logs (--log), or from the devices the latest clients run journaled (--from-journal).
// The work is in mbx/ops/audit_devices.hpp; these read the options.
#include "mbx/cli/tool.hpp"
#include "mbx/ops/audit_devices.hpp"

namespace mbx_audit {

using mbx::ops::audit::client_name;
using mbx::ops::audit::DeviceRow;
using mbx::ops::audit::FileRow;
using mbx::ops::audit::Loaded;

/// The devices of the --log files (each read with --log-format, auto by default; --rules adds
/// client rules before the built-in ones). Throws Error(usage) without --log, Error(io/data) for
/// an unreadable or corrupt file.
Loaded load_logs(mbx::cli::Context& ctx);

/// The devices journaled by the newest `mbx audit clients` run that recorded any. Throws
/// Error(data) when there is none.
Loaded load_journal(mbx::cli::Context& ctx);

/// Journals the devices and files to this run (when it has one).
void journal_devices(mbx::cli::Context& ctx, const Loaded& loaded);

} // namespace mbx_audit
