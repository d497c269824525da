#include "mbx/core/progress.hpp"

#include "mbx/core/output.hpp"

#include <fmt/format.h>
#include <iostream>
#include <unistd.h>

namespace mbx {
namespace {

using Clock = std::chrono::steady_clock;

class TerminalProgress final : public Progress {
public:
    TerminalProgress(std::ostream& err, std::chrono::milliseconds delay)
        : err_(err), start_(Clock::now()), delay_(delay) {}
    ~TerminalProgress() override { finish(); }

    void update(std::string_view phase, std::uint64_t done, std::uint64_t total, std::string_view detail) override {
        auto now = Clock::now();
        if (now - start_ < delay_ || now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        std::string line = total ? fmt::format("{}: {}/{} ({}%)", phase, done, total, done * 100 / total)
                                 : fmt::format("{}: {}", phase, done);
        if (!detail.empty()) line += fmt::format(", {}", detail);
        // \r + erase-line keeps one line; the text itself is made printable so a folder name
        // cannot inject an escape sequence.
        err_ << "\r\x1b[K" << out::printable(line) << std::flush;
        shown_ = true;
    }

    void finish() override {
        if (shown_) err_ << "\r\x1b[K" << std::flush;
        shown_ = false;
    }

private:
    std::ostream& err_;
    Clock::time_point start_;
    Clock::time_point last_{};
    std::chrono::milliseconds delay_;
    bool shown_ = false;
};

} // namespace

std::unique_ptr<Progress> make_terminal_progress(std::ostream& err, std::chrono::milliseconds delay) {
    return std::make_unique<TerminalProgress>(err, delay);
}

std::unique_ptr<Progress> make_progress(bool quiet) {
    if (quiet || !::isatty(STDERR_FILENO)) return std::make_unique<NullProgress>();
    return make_terminal_progress(std::cerr);
}

} // namespace mbx
