#pragma once
// `mbx journal list|show|export`: the journal read into reports (rows for the output sinks).

#include "mbx/core/output.hpp"
#include "mbx/ops/fwd.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mbx::ops::journal_view {

struct Request {
    std::string action;                ///< list, show, export
    std::vector<std::string> operands; ///< show: the run
    std::optional<std::string> since, tool, status;
    std::size_t limit = 50;
};

/// A run as a command names it.
struct RunRef {
    std::int64_t id = 0;
    std::string tool = {};
};

/// The run named by `text`: a run id, or at least 4 hex digits of its uuid. Throws
/// Error(data) when there is none, Error(usage) for an ambiguous prefix.
RunRef resolve_run(journal::Journal& journal, const std::string& text);

/// Carries out `req` on `journal`, writing one report to `sink`. Throws Error(usage) for an
/// unknown action or bad operands, Error(data) for a run that does not exist.
ExitCode run(journal::Journal& journal, const Request& req, out::Sink& sink);

} // namespace mbx::ops::journal_view
