#pragma once
// Progress reporting. Library code (ops) reports through this interface and never prints;
// the tool decides where it goes: a one-line display on stderr when stderr is a terminal,
// nothing otherwise (cron, pipes, monitoring).

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace mbx {

class Progress {
public:
    virtual ~Progress() = default;
    /// `done` of `total` units (total 0: unknown) of the current phase, plus a free detail
    /// ("12.3 MB/s, ETA 2m"). Cheap to call often: implementations throttle.
    virtual void update(std::string_view phase, std::uint64_t done, std::uint64_t total,
                        std::string_view detail = {}) = 0;
    /// Clears the display (before the final output).
    virtual void finish() = 0;
};

/// Discards everything.
class NullProgress final : public Progress {
public:
    void update(std::string_view, std::uint64_t, std::uint64_t, std::string_view) override {}
    void finish() override {}
};

/// A progress display on `err`: it appears only after `delay` (short commands stay quiet, as
/// git does), redraws at most ten times a second, and clears its line on finish().
std::unique_ptr<Progress> make_terminal_progress(std::ostream& err,
                                                 std::chrono::milliseconds delay = std::chrono::milliseconds(1000));

/// The progress a tool should use: terminal progress on stderr when stderr is a terminal and
/// not `quiet`; NullProgress otherwise.
std::unique_ptr<Progress> make_progress(bool quiet);

} // namespace mbx
