#pragma once
// `mbx audit`'s operations as a command runs them: each does its work and journals what it
// found in the session's run (when it has one), so that no tool writes a journal action itself.
// The pieces they are made of (audit_server.hpp, audit_probe.hpp, audit_devices.hpp,
// audit_compat.hpp) stay callable alone: mbx diagnose uses them without journaling them so.

#include "mbx/core/session.hpp"
#include "mbx/ops/audit_compat.hpp"
#include "mbx/ops/audit_devices.hpp"
#include "mbx/ops/audit_probe.hpp"
#include "mbx/ops/audit_server.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mbx::ops::audit {

/// audit_server(), journaled as one `audit.server` action. Network.
ServerReport audit_server(const Session& session, const std::string& url, const std::optional<std::string>& user);

/// probe(), journaled as one `audit.probe` action per step. Network.
ProbeReport probe(const Session& session, const std::string& url, const std::optional<std::string>& user,
                  const std::vector<std::string>& versions, const std::optional<std::string>& device_id);

/// load_logs(), its files and devices journaled (journal_devices). Reads the files.
Loaded read_clients(const Session& session, const LogSource& source);

/// judge_devices(), each verdict journaled as an `audit.compat` action. No network.
CompatReport judge_compat(const Session& session, const Loaded& loaded, const TargetInfo& target,
                          const std::vector<mbx::audit::Capability>& capabilities);

} // namespace mbx::ops::audit
