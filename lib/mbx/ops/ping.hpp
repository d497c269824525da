#pragma once
// `mbx ping`: can mbxkit reach and log in to the servers its configuration names? The first
// thing to run on a new installation, and what `mbx diagnose` builds on (MIS_5: is the
// server unavailable, or is it this account?).

#include "mbx/core/error.hpp"
#include "mbx/core/session.hpp"
#include "mbx/ops/fwd.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mbx::ops {

struct PingRequest {
    /// The user the IMAP master login is tried for; empty: the first user the directory
    /// search returns (or, without [ldap], the check is reported as not run).
    std::string user;
};

/// One check: a server and what happened.
struct PingCheck {
    std::string service; ///< "ldap", "imap"
    std::string uri;
    std::string step; ///< "bind", "search", "login"
    bool ok = false;
    std::chrono::milliseconds latency{0};
    std::string detail; ///< bind DN, entries found, capabilities; or the error
    std::optional<ErrorCategory> failure;
};

struct PingReport {
    std::vector<PingCheck> checks;
    ExitCode exit_code = ExitCode::ok; ///< combined failures of all checks (docs/exit-codes.md)
};

/// Runs the checks for every configured service ([ldap] when uri is set, [imap] when uri is
/// set; at least one must be). Never stops at the first failure. When the session has a journal and a run,
/// each check is journaled as an action (`ldap.bind`, `ldap.search`, `imap.login`).
/// Throws Error(config) when nothing is configured. Network.
PingReport ping(const Session& session, const PingRequest& request);

} // namespace mbx::ops
