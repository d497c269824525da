// mbx audit server URL...: what each ActiveSync (or IMAP) server announces, and what it means.
#include "subcommands.hpp"

#include "mbx/ops/audit_run.hpp"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mbx_audit {
namespace {

using namespace mbx::cli::names;

std::string printable_joined(const std::vector<std::string>& items, std::string_view sep) {
    std::vector<std::string> shown;
    for (const auto& i : items) shown.push_back(printable(i));
    return joined(shown, sep);
}

} // namespace

mbx::ExitCode server(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    std::vector<std::string> urls(operands);
    if (urls.empty()) urls.push_back(""); // [activesync] url
    const std::optional<std::string> user =
        ctx.args().count("user") ? std::optional(ctx.args()["user"].as<std::string>()) : std::nullopt;

    auto sink = ctx.sink();
    sink->begin({"audit_server",
                 {{"url", "URL", Kind::text, Role::label},
                  {"kind", "Kind", Kind::text, Role::detail},
                  {"http_status", "HTTP", Kind::integer, Role::detail},
                  {"server_version", "Server version", Kind::text, Role::detail},
                  {"http_server", "HTTP server", Kind::text, Role::detail},
                  {"versions", "Versions", Kind::text, Role::detail},
                  {"commands", "Commands", Kind::text, Role::detail},
                  {"seconds", "Seconds", Kind::number, Role::value, "time of the OPTIONS requests"},
                  {"status", "Status", Kind::text, Role::status},
                  {"findings", "Findings", Kind::text, Role::detail},
                  {"error", "Error", Kind::text, Role::detail}}});
    mbx::ExitCode code = mbx::ExitCode::ok;
    int with_findings = 0, failed = 0;
    for (const auto& url : urls) {
        const auto r = mbx::ops::audit::audit_server(ctx.session(), url, user);
        code = mbx::combine_exit_codes(code, r.status);
        if (r.error) ++failed, ctx.warn(r.error->one_line());
        else if (!r.findings.empty()) ++with_findings;
        const std::string status = r.error ? "unknown" : std::string(mbx::out::status_word(r.status));
        sink->row(
            std::vector<Cell>{printable(r.url), r.kind, r.http_status ? Cell(std::int64_t{r.http_status}) : Cell(),
                              printable(r.server_version), printable(r.http_server), printable_joined(r.versions, ","),
                              printable_joined(r.commands, ","), std::round(r.seconds * 1000) / 1000, status,
                              printable_joined(r.findings, "; "), r.error ? printable(r.error->one_line()) : ""});
    }
    const auto n = static_cast<std::int64_t>(urls.size());
    sink->finish(
        {code,
         fmt::format("{} server{} audited, {} with findings, {} failed", n, n == 1 ? "" : "s", with_findings, failed),
         {{"servers", n}, {"with_findings", std::int64_t{with_findings}}, {"failed", std::int64_t{failed}}}});
    return code;
}

} // namespace mbx_audit
