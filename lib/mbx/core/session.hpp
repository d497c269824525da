#pragma once
// What every operation works with, handed to it in one piece: the configuration, how to get a
// secret, the journal and the run its actions go to, progress, and whether this is a dry run.
// The tool runner builds it (cli::Context::session()); tests build their own.

#include "mbx/core/config.hpp"
#include "mbx/core/progress.hpp"
#include "mbx/core/secret.hpp"

#include <cstdint>
#include <functional>
#include <optional>

namespace mbx::journal {
class Journal;
}

namespace mbx {

/// Gives a secret for a source (the tool's Context::secret: file, environment or prompt).
using SecretProvider = std::function<Secret(const SecretSource&)>;

struct Session {
    const config::Config& config;
    SecretProvider secrets;
    journal::Journal* journal = nullptr;      ///< nullptr: nothing is journaled
    std::optional<std::int64_t> run_id = {};  ///< the journal run actions go to
    Progress& progress;
    bool dry_run = false;
};

} // namespace mbx
