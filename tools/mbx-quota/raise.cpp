// mbx quota raise (being written; see issue 3).
#include "subcommands.hpp"

namespace mbx_quota {

mbx::ExitCode raise(mbx::cli::Context&, const std::vector<std::string>&) {
    throw mbx::Error(mbx::ErrorCategory::usage, "'mbx quota raise' is not implemented yet",
                     "only 'mbx quota check USER...' is available in this version");
}

} // namespace mbx_quota
