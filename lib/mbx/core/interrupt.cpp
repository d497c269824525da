#include "mbx/core/interrupt.hpp"

#include "mbx/core/error.hpp"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace mbx {
namespace {

// Lock-free atomics are async-signal-safe; a volatile sig_atomic_t cannot be incremented in C++20.
std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_signal(int) {
    if (g_signals.fetch_add(1) > 0) ::_exit(static_cast<int>(ExitCode::interrupted));
}

} // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // A peer that closes a socket must be an error of the call that wrote to it, not the end of
    // the process: libldap's TLS writes have no MSG_NOSIGNAL, and a killed process leaves its
    // journal run unfinished. Output to a closed pipe then fails the flush (exit 74).
    signal(SIGPIPE, SIG_IGN);
}

bool interrupt_requested() noexcept { return g_signals.load() > 0; }

} // namespace mbx
