#pragma once
// Cooperative interruption: SIGINT/SIGTERM set a flag that long operations check between
// steps, so a stopped run leaves its journal consistent and can be resumed. A second signal
// ends the process at once (exit 130).

namespace mbx {

/// Installs the SIGINT/SIGTERM handlers and ignores SIGPIPE (a closed socket or pipe is an
/// error of the write, never a silent death) (idempotent). Called by the tool runner.
void install_interrupt_handlers();

/// True once SIGINT or SIGTERM has arrived.
bool interrupt_requested() noexcept;

} // namespace mbx
