#pragma once
// What every operation works with, handed to it in one piece: the configuration, how to get a
// secret, the journal and the run its actions go to, progress, whether this is a dry run, and
// whether the run has been asked to stop. The tool runner builds it (cli::Context::session());
// tests build their own.

#include "mbx/core/config.hpp"
#include "mbx/core/interrupt.hpp"
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
    journal::Journal* journal = nullptr;     ///< nullptr: nothing is journaled
    std::optional<std::int64_t> run_id = {}; ///< the journal run actions go to
    Progress& progress;
    bool dry_run = false;
    /// True once the run should stop between units of work, its journal left consistent and the
    /// run resumable. By default SIGINT/SIGTERM (the tool runner installs the handlers); a test
    /// or a program embedding the operations sets its own.
    std::function<bool()> stop_requested = interrupt_requested;

    /// stop_requested(), false when it is empty.
    bool should_stop() const { return stop_requested && stop_requested(); }
    /// Throws Error(interrupted) once should_stop(): call between units of work.
    void throw_if_stopped() const;
};

} // namespace mbx
