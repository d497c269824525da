// mbx audit clients --log FILE...: the ActiveSync device inventory from access logs
// (docs/commands/audit.md).
#include "devices.hpp"
#include "subcommands.hpp"

#include <fmt/format.h>
#include <set>

namespace mbx_audit {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;

namespace {

Cell time_cell(std::int64_t t) {
    if (t == 0) return Cell();
    return Cell(mbx::ops::audit::iso8601(t));
}

} // namespace

mbx::ExitCode clients(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    if (!operands.empty())
        throw mbx::Error(mbx::ErrorCategory::usage, "'mbx audit clients' takes no operands",
                         "name the logs with --log FILE (repeatable)");
    const Loaded loaded = mbx::ops::audit::read_clients(ctx.session(), log_source(ctx));
    ctx.progress().finish();

    auto sink = ctx.sink();
    sink->begin({"audit_clients",
                 {{"user", "User", Kind::text, Role::label},
                  {"device_id", "Device ID", Kind::text, Role::label},
                  {"device_type", "Device type", Kind::text, Role::detail},
                  {"family", "Client", Kind::text, Role::detail},
                  {"client_version", "Client version", Kind::text, Role::detail},
                  {"model", "Model", Kind::text, Role::detail},
                  {"protocol_versions", "Protocol versions", Kind::text, Role::detail, "every version seen, ascending"},
                  {"last_version", "Last version", Kind::text, Role::detail, "the version of the newest request"},
                  {"version_sources", "Version from", Kind::text, Role::detail, "header, base64, log-token"},
                  {"requests", "Requests", Kind::integer, Role::value},
                  {"commands", "Commands", Kind::text, Role::detail},
                  {"statuses", "HTTP statuses", Kind::text, Role::detail},
                  {"first_seen", "First seen", Kind::timestamp, Role::detail},
                  {"last_seen", "Last seen", Kind::timestamp, Role::detail},
                  {"user_agent", "User agent", Kind::text, Role::detail}}});
    // Every value from a log is untrusted: printable() keeps escape sequences off terminals,
    // and the sinks quote for CSV/JSON.
    auto p = [](const std::string& s) { return Cell(mbx::out::printable(s)); };
    std::uint64_t unknown_version = 0;
    for (const auto& d : loaded.devices) {
        if (d.versions.empty()) ++unknown_version;
        sink->row(std::vector<Cell>{p(d.user), p(d.device_id), p(d.device_type), p(d.family), p(d.client_version),
                                    p(d.model), p(joined(d.versions)), p(d.last_version), d.version_sources,
                                    static_cast<std::int64_t>(d.requests), p(d.commands), d.statuses,
                                    time_cell(d.first_seen), time_cell(d.last_seen), p(d.user_agent)});
    }
    const auto& t = loaded.totals;
    for (const auto& f : loaded.files)
        if (f.malformed > 0)
            ctx.warn(fmt::format("{}: {} malformed line{} skipped (first: {})", mbx::out::printable(f.path),
                                 f.malformed, f.malformed == 1 ? "" : "s", mbx::out::printable(f.first_malformed)));
    if (unknown_version > 0)
        ctx.warn(fmt::format("{} device{} without a protocol version in the logs: log the MS-ASProtocolVersion header "
                             "($http_ms_asprotocolversion in nginx) to see them",
                             unknown_version, unknown_version == 1 ? "" : "s"));
    auto n = [](std::uint64_t v) { return Cell(static_cast<std::int64_t>(v)); };
    std::set<std::string> users;
    for (const auto& d : loaded.devices) users.insert(d.user);
    // Malformed lines are reported, never a finding: a truncated last line is normal.
    const mbx::ExitCode status = mbx::ExitCode::ok;
    sink->finish({status,
                  fmt::format("{} device{} of {} user{}; {} ActiveSync requests in {} lines ({} malformed, {} probes, "
                              "{} other requests)",
                              loaded.devices.size(), loaded.devices.size() == 1 ? "" : "s", users.size(),
                              users.size() == 1 ? "" : "s", t.requests, t.lines, t.malformed, t.probes, t.skipped),
                  {{"devices", n(loaded.devices.size())},
                   {"files", n(loaded.files.size())},
                   {"lines", n(t.lines)},
                   {"requests", n(t.requests)},
                   {"malformed", n(t.malformed)},
                   {"skipped", n(t.skipped)},
                   {"probes", n(t.probes)},
                   {"no_device", n(t.no_device)},
                   {"devices_without_version", n(unknown_version)}}});
    return status;
}

} // namespace mbx_audit
