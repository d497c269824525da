// mbx diagnose USER: which MIS code applies to this user, and the command that fixes it
// (docs/commands/diagnose.md).
#include "mbx/cli/tool.hpp"
#include "mbx/ops/diagnose.hpp"

#include <fmt/format.h>
#include <map>
#include <set>

namespace {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;
namespace dx = mbx::ops::diagnose;

mbx::ExitCode diagnose(mbx::cli::Context& ctx) {
    const auto& a = ctx.args();
    dx::Request req;
    const auto users = ctx.users().users;
    if (users.empty())
        throw mbx::Error(mbx::ErrorCategory::usage, "no user to diagnose", "give the login: mbx diagnose USER");
    if (users.size() > 1)
        throw mbx::Error(mbx::ErrorCategory::usage, "'mbx diagnose' takes one user", "run it once per user");
    req.user = users.front();
    if (a.count("device")) req.device = a["device"].as<std::string>();
    if (a.count("log"))
        for (const auto& path : a["log"].as<std::vector<std::string>>()) req.logs.emplace_back(path);
    req.log_format = mbx::audit::parse_log_format(a.count("log-format") ? a["log-format"].as<std::string>() : "auto");
    req.on_check = [&ctx](std::string_view check) { ctx.progress().update(std::string(check), 0, 0); };
    const dx::Report report = dx::diagnose(ctx.session(), req);
    ctx.progress().finish();

    // For people the remedies go under the table, numbered; machines get them in a column.
    const bool table = ctx.format() == mbx::out::Format::table;
    std::vector<mbx::out::Column> columns{
        {"area", "Area", Kind::text, Role::label, "server, directory, folders, quota, devices, history"},
        {"check", "Check", Kind::text, Role::label},
        {"status", "Status", Kind::text, Role::status, "ok, warning, failed, skipped"},
        {"mis", "MIS", Kind::text, Role::detail, "the MIS code the finding points at"},
        {"latency_ms", "ms", Kind::integer, Role::value, "time the server check took"},
        {"detail", "Detail", Kind::text, Role::detail}};
    if (!table) columns.push_back({"remedy", "Remedy", Kind::text, Role::detail, "the command or step that fixes it"});
    auto sink = ctx.sink();
    sink->begin({"diagnose", columns});
    std::map<dx::Status, std::int64_t> counts;
    std::set<std::string> codes;
    std::vector<std::string> todo;
    for (const auto& f : report.findings) {
        ++counts[f.status];
        if (!f.mis.empty() && (f.status == dx::Status::failed || f.status == dx::Status::warning)) codes.insert(f.mis);
        std::string detail = f.detail;
        if (table && !f.remedy.empty() && f.status != dx::Status::ok) {
            todo.push_back(fmt::format("{}/{}: {}", f.area, f.check, f.remedy));
            detail += fmt::format(" [{}]", todo.size());
        }
        std::vector<Cell> row{
            f.area, f.check, std::string(dx::status_name(f.status)), f.mis, f.latency_ms ? Cell(*f.latency_ms) : Cell(),
            detail};
        if (!table) row.emplace_back(f.remedy);
        sink->row(row);
    }
    std::string mis;
    for (const auto& c : codes) mis += (mis.empty() ? "" : ",") + c;
    const std::string verdict = counts[dx::Status::failed] + counts[dx::Status::warning] == 0
                                    ? "nothing found"
                                    : fmt::format("{} failed, {} warning{}", counts[dx::Status::failed],
                                                  counts[dx::Status::warning], mis.empty() ? "" : "; points at " + mis);
    sink->finish({report.exit_code,
                  fmt::format("{}: {} ({} checks, {} skipped)", mbx::out::printable(report.user), verdict,
                              report.findings.size(), counts[dx::Status::skipped]),
                  {{"user", Cell(report.user)},
                   {"dn", report.dn.empty() ? Cell() : Cell(report.dn)},
                   {"mail", report.mail.empty() ? Cell() : Cell(report.mail)},
                   {"ok", Cell(counts[dx::Status::ok])},
                   {"warning", Cell(counts[dx::Status::warning])},
                   {"failed", Cell(counts[dx::Status::failed])},
                   {"skipped", Cell(counts[dx::Status::skipped])},
                   {"mis", Cell(mis)}}});
    if (table && !todo.empty()) {
        ctx.out() << "\nWhat to do:\n";
        for (std::size_t i = 0; i < todo.size(); ++i) ctx.out() << fmt::format("  [{}] {}\n", i + 1, todo[i]);
    }
    return report.exit_code;
}

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(
        argc, argv,
        {
            .name = "diagnose",
            .summary =
                "Find which MIS code applies to a user whose device fails to sync, and the command that fixes it.",
            .usage = "mbx diagnose USER [--device ID] [--log FILE]... [options]",
            .description =
                "Runs every check and reports each as ok, warning, failed or skipped, with the MIS code it points at\n"
                "and the remediation: the servers (LDAP, IMAP, ActiveSync: latency, TLS certificates), the directory\n"
                "entry (exists, enabled, has a mail address, unique), the folders a sync needs (MIS_8), the quota\n"
                "(MIS_9), the user's ActiveSync devices against the server's protocol versions (MIS_2, from --log or\n"
                "the journal's latest `mbx audit clients`), and recent mbxkit runs about the user. A master login "
                "that\n"
                "fails for USER but works for another user is a broken account (MIS_5: reprovision); a server that "
                "does\n"
                "not answer is MIS_5's other meaning (retry later). Read-only: nothing is changed.\n"
                "Exit: 0 nothing found, 1 a warning, 2 a failed check, 65 no such user.",
            .examples = "  mbx diagnose alice\n"
                        "  mbx diagnose alice --device ApplF17XK2 --log /var/log/nginx/eas-access.log\n"
                        "  mbx diagnose alice --format json | jq '.rows[] | select(.status != \"ok\")'\n",
            .sections = {"ldap", "imap", "activesync", "quota", "reprovision", "diagnose", "journal"},
            .formats = {mbx::out::Format::table, mbx::out::Format::csv, mbx::out::Format::json},
            .journaled = true,
            .options =
                [](auto& o) {
                    o.add_options()("device", mbx::cli::po::value<std::string>()->value_name("ID"),
                                    "only this ActiveSync device id")(
                        "log", mbx::cli::po::value<std::vector<std::string>>()->value_name("FILE"),
                        "an ActiveSync access log (IIS W3C or nginx/Apache combined, plain or .gz); repeatable; "
                        "default: the devices of the journal's latest `mbx audit clients` run")(
                        "log-format", mbx::cli::po::value<std::string>()->value_name("FORMAT"),
                        "auto (default), iis or combined");
                },
            .users = {.user = true},
            .positional = {{"user", 1}},
            .run = diagnose,
        });
}
