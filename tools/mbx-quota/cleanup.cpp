// mbx quota cleanup (being written; see issue 3).
#include "subcommands.hpp"

namespace mbx_quota {

mbx::ExitCode cleanup(mbx::cli::Context&, const std::vector<std::string>&) {
    throw mbx::Error(mbx::ErrorCategory::usage, "'mbx quota cleanup' is not implemented yet",
                     "only 'mbx quota check USER...' is available in this version");
}

} // namespace mbx_quota
