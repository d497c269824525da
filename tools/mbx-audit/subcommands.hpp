#pragma once
// The subcommands of `mbx audit` (MIS_2), each in its own file.
#include "mbx/cli/tool.hpp"

#include <string>
#include <vector>

namespace mbx_audit {

/// `mbx audit server URL...`: OPTIONS on each ActiveSync endpoint (CAPABILITY and ID for imap/imaps URLs).
mbx::ExitCode server(mbx::cli::Context& ctx, const std::vector<std::string>& operands);
/// `mbx audit clients --log FILE...`: the device inventory from access logs.
mbx::ExitCode clients(mbx::cli::Context& ctx, const std::vector<std::string>& operands);
/// `mbx audit compat --target-versions LIST | --server URL`: who breaks after an upgrade.
mbx::ExitCode compat(mbx::cli::Context& ctx, const std::vector<std::string>& operands);
/// `mbx audit probe URL --user USER --as-version V`: an active sync test.
mbx::ExitCode probe(mbx::cli::Context& ctx, const std::vector<std::string>& operands);

} // namespace mbx_audit
