#pragma once
// mbx merge's driver pieces: the command line as a merge of pairs (ops::merge::run_pairs runs
// them), and the report.
#include "mbx/cli/tool.hpp"
#include "mbx/ops/merge.hpp"

#include <string>
#include <vector>

namespace mbx_merge {

using Pair = mbx::ops::merge::Pair;

/// The pair of --from/--to, or the pairs of --users-file. Throws mbx::Error(usage/data).
std::vector<Pair> pairs_of(mbx::cli::Context& ctx);

/// Options shared by every pair, from the flags. Throws mbx::Error(usage).
mbx::ops::merge::Options options_of(mbx::cli::Context& ctx);

/// Merges every pair (up to --parallel at once), prints the report, returns the exit code.
mbx::ExitCode merge_all(mbx::cli::Context& ctx, const std::vector<Pair>& pairs,
                        const mbx::ops::merge::Options& options);

} // namespace mbx_merge
