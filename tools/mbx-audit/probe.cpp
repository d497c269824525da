// mbx audit probe URL --user USER --as-version V...: an active sync test as a device of version V.
#include "subcommands.hpp"

#include "mbx/ops/audit_run.hpp"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mbx_audit {
namespace {

using namespace mbx::cli::names;

Cell optional_int(const std::optional<int>& v) { return v ? Cell(std::int64_t{*v}) : Cell(); }

} // namespace

mbx::ExitCode probe(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    if (operands.size() > 1)
        throw mbx::Error(mbx::ErrorCategory::usage, "probe takes one URL", "run it once per server");
    if (!ctx.args().count("as-version"))
        throw mbx::Error(mbx::ErrorCategory::usage, "no version to probe", "give --as-version V (repeatable)");
    const auto& args = ctx.args();
    const std::string url = operands.empty() ? "" : operands.front();
    const auto user = args.count("user") ? std::optional(args["user"].as<std::string>()) : std::nullopt;
    const auto device = args.count("device-id") ? std::optional(args["device-id"].as<std::string>()) : std::nullopt;

    const auto r =
        mbx::ops::audit::probe(ctx.session(), url, user, args["as-version"].as<std::vector<std::string>>(), device);

    auto sink = ctx.sink();
    sink->begin({"audit_probe",
                 {{"version", "Version", Kind::text, Role::label},
                  {"step", "Step", Kind::text, Role::label},
                  {"form", "Form", Kind::text, Role::label},
                  {"http_status", "HTTP", Kind::integer, Role::detail},
                  {"eas_status", "EAS status", Kind::integer, Role::detail},
                  {"folders", "Folders", Kind::integer, Role::value, "folders in the FolderSync answer"},
                  {"seconds", "Seconds", Kind::number, Role::value, "time of the request"},
                  {"verdict", "Verdict", Kind::text, Role::detail},
                  {"detail", "Detail", Kind::text, Role::detail}}});
    int works = 0;
    for (const auto& s : r.steps) {
        if (s.step == "foldersync" && s.verdict == "works") ++works;
        sink->row(std::vector<Cell>{s.version, s.step, s.form,
                                    s.http_status ? Cell(std::int64_t{s.http_status}) : Cell(),
                                    optional_int(s.eas_status), optional_int(s.folders),
                                    std::round(s.seconds * 1000) / 1000, s.verdict, printable(s.detail)});
    }
    std::string findings;
    for (const auto& f : r.findings) {
        findings += (findings.empty() ? "" : "; ") + printable(f);
        ctx.warn(printable(f));
    }
    if (r.error) ctx.warn(r.error->one_line());
    const std::string cleanup = mbx::ops::audit::cleanup_hint(r.user, r.device_id);
    if (r.steps.size() > 1) ctx.warn(cleanup);
    std::string announced;
    for (const auto& v : r.announced) announced += (announced.empty() ? "" : ",") + printable(v);
    sink->finish(
        {r.status,
         fmt::format("{} FolderSync request{} worked as {} with device {}{}", works, works == 1 ? "" : "s",
                     printable(r.user), printable(r.device_id), r.error ? "; " + r.error->one_line() : std::string()),
         {{"url", printable(r.url)},
          {"user", printable(r.user)},
          {"device_id", printable(r.device_id)},
          {"announced_versions", announced},
          {"server_version", printable(r.server_version)},
          {"findings", findings},
          {"cleanup", cleanup},
          {"error", r.error ? printable(r.error->one_line()) : std::string()}}});
    return r.status;
}

} // namespace mbx_audit
