#pragma once
// The subcommands of `mbx audit` (MIS_2), each in its own file.
#include "mbx/cli/tool.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
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

// Shared by the subcommands (main.cpp).

/// `items` joined by `sep`, each as it is (callers pass printable values where it matters).
std::string joined(const std::vector<std::string>& items, std::string_view sep = ",");

} // namespace mbx_audit
