#pragma once
// mbx reprovision's driver: which users (one, or a --from-file batch), running each as its
// own journal run, and the report.
#include "mbx/cli/tool.hpp"
#include "mbx/ops/reprovision.hpp"

#include <string>
#include <vector>

namespace mbx_reprovision {

using Pair = mbx::ops::reprovision::Pair;

/// The pairs from USER --new-uid NEWUID, --resume RUN, or --from-file FILE (CSV user,new_uid;
/// # comments). Throws Error(usage) for a bad combination, Error(data) for a bad file line.
std::vector<Pair> pairs_of(mbx::cli::Context& ctx);

/// Runs every pair in turn (a failure is reported and the batch goes on) and writes the report.
mbx::ExitCode reprovision_all(mbx::cli::Context& ctx, const std::vector<Pair>& pairs);

} // namespace mbx_reprovision
