#include "mbx/ops/audit_run.hpp"

namespace mbx::ops::audit {
namespace {

// The journal and run the session records in, when it records.
template <class F> void record(const Session& session, F&& write) {
    if (session.journal && session.run_id) write(*session.journal, *session.run_id);
}

} // namespace

ServerReport audit_server(const Session& session, const std::string& url, const std::optional<std::string>& user) {
    ServerReport r = audit_server(session.config, session.secrets, url, user);
    record(session, [&](journal::Journal& j, std::int64_t run) { journal_server(j, run, r); });
    return r;
}

ProbeReport probe(const Session& session, const std::string& url, const std::optional<std::string>& user,
                  const std::vector<std::string>& versions, const std::optional<std::string>& device_id) {
    ProbeReport r = probe(session.config, session.secrets, url, user, versions, device_id);
    record(session, [&](journal::Journal& j, std::int64_t run) { journal_probe(j, run, r); });
    return r;
}

Loaded read_clients(const Session& session, const LogSource& source) {
    Loaded loaded = load_logs(source);
    record(session, [&](journal::Journal& j, std::int64_t run) { journal_devices(j, run, loaded); });
    return loaded;
}

CompatReport judge_compat(const Session& session, const Loaded& loaded, const TargetInfo& target,
                          const std::vector<mbx::audit::Capability>& capabilities) {
    CompatReport report = judge_devices(loaded, target, capabilities);
    record(session, [&](journal::Journal& j, std::int64_t run) { journal_compat(j, run, report, target); });
    return report;
}

} // namespace mbx::ops::audit
