#include "mbx/ops/journal_view.hpp"

#include "mbx/journal/journal.hpp"

#include <fmt/format.h>

namespace mbx::ops::journal_view {
namespace {

using out::Cell;
using out::Kind;
using out::Role;

Cell opt(const std::optional<std::string>& s) { return s ? Cell(*s) : Cell(std::monostate{}); }
Cell opt_json(const std::optional<nlohmann::json>& j) { return j ? Cell(j->dump()) : Cell(std::monostate{}); }

std::string joined(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
}

std::vector<out::Column> run_columns(const std::string& prefix) {
    return {{prefix + "id", "Run", Kind::integer, Role::label},
            {prefix + "uuid", "UUID", Kind::text, Role::detail},
            {prefix + "started_at", "Started", Kind::timestamp, Role::detail},
            {prefix + "ended_at", "Ended", Kind::timestamp, Role::detail},
            {"tool", "Tool", Kind::text, Role::detail},
            {prefix + "status", "Status", Kind::text, Role::detail},
            {"exit_code", "Exit", Kind::integer, Role::detail},
            {"dry_run", "Dry run", Kind::boolean, Role::detail},
            {"operator", "Operator", Kind::text, Role::detail},
            {"host", "Host", Kind::text, Role::detail},
            {"args", "Arguments", Kind::text, Role::detail}};
}

std::vector<Cell> run_cells(const journal::RunRecord& r) {
    return {r.id,
            r.uuid,
            r.started_at,
            opt(r.ended_at),
            r.tool,
            std::string(journal::to_string(r.status)),
            r.exit_code ? Cell(std::int64_t(*r.exit_code)) : Cell(std::monostate{}),
            r.dry_run,
            r.operator_name,
            r.host,
            joined(r.args)};
}

std::vector<out::Column> action_columns() {
    return {{"seq", "Seq", Kind::integer, Role::label},
            {"kind", "Kind", Kind::text, Role::detail},
            {"subject", "Subject", Kind::text, Role::detail},
            {"status", "Status", Kind::text, Role::detail},
            {"started_at", "Started", Kind::timestamp, Role::detail},
            {"ended_at", "Ended", Kind::timestamp, Role::detail},
            {"error", "Error", Kind::text, Role::detail},
            {"before", "Before", Kind::json, Role::detail},
            {"after", "After", Kind::json, Role::detail}};
}

std::vector<Cell> action_cells(const journal::ActionRecord& a) {
    return {a.seq,
            a.kind,
            a.subject,
            std::string(journal::to_string(a.status)),
            a.started_at,
            opt(a.ended_at),
            opt(a.error),
            opt_json(a.before),
            opt_json(a.after)};
}

journal::RunFilter filter_of(const Request& req, bool with_limit) {
    journal::RunFilter f;
    if (req.since) f.since = journal::parse_timestamp(*req.since);
    f.tool = req.tool;
    if (req.status) f.status = journal::parse_run_status(*req.status);
    if (with_limit) f.limit = req.limit;
    return f;
}

} // namespace

namespace {

journal::RunRecord find_run(journal::Journal& j, const std::string& text) {
    const auto run = j.find_run_by_reference(text);
    if (!run)
        throw Error(ErrorCategory::data,
                    fmt::format("no run '{}' in journal '{}'", out::printable(text), j.path().string()),
                    "see 'mbx journal list'");
    return *run;
}

ExitCode list(journal::Journal& j, const Request& req, out::Sink& sink) {
    auto runs = j.list_runs(filter_of(req, true));
    sink.begin({"journal_runs", run_columns("run_")});
    for (const auto& r : runs) sink.row(run_cells(r));
    sink.finish({ExitCode::ok, fmt::format("{} run{}", runs.size(), runs.size() == 1 ? "" : "s")});
    return ExitCode::ok;
}

ExitCode show(journal::Journal& j, const Request& req, out::Sink& sink) {
    if (req.operands.size() != 1)
        throw Error(ErrorCategory::usage, "'mbx journal show' takes one run", "e.g. mbx journal show 42");
    auto run = find_run(j, req.operands.front());
    sink.begin({"journal_actions", action_columns()});
    std::int64_t n = 0;
    j.for_each_action_of_run(run.id, [&](const journal::ActionRecord& a) {
        sink.row(action_cells(a));
        ++n;
    });
    auto cells = run_cells(run);
    auto columns = run_columns("run_");
    std::vector<std::pair<std::string, Cell>> fields;
    for (std::size_t i = 0; i < columns.size(); ++i) fields.emplace_back(columns[i].key, cells[i]);
    fields.emplace_back("actions", n);
    sink.finish({ExitCode::ok,
                 fmt::format("run {} ({}) {} {} by {}@{} started {}, {} action{}: {}", run.id, run.uuid.substr(0, 8),
                             run.tool, journal::to_string(run.status), run.operator_name, run.host, run.started_at, n,
                             n == 1 ? "" : "s", joined(run.args)),
                 fields});
    return ExitCode::ok;
}

ExitCode export_all(journal::Journal& j, const Request& req, out::Sink& sink) {
    auto columns = run_columns("run_");
    auto actions = action_columns();
    columns.insert(columns.end(), actions.begin(), actions.end());
    sink.begin({"journal_export", columns});
    std::int64_t n = 0;
    j.for_each_action(filter_of(req, false), [&](const journal::RunRecord& r, const journal::ActionRecord& a) {
        auto cells = run_cells(r);
        auto more = action_cells(a);
        cells.insert(cells.end(), more.begin(), more.end());
        sink.row(cells);
        ++n;
    });
    sink.finish({ExitCode::ok, fmt::format("{} action{}", n, n == 1 ? "" : "s")});
    return ExitCode::ok;
}

} // namespace

ExitCode run(journal::Journal& journal, const Request& req, out::Sink& sink) {
    if (req.action == "list") return list(journal, req, sink);
    if (req.action == "show") return show(journal, req, sink);
    if (req.action == "export") return export_all(journal, req, sink);
    throw Error(ErrorCategory::usage, fmt::format("unknown journal command '{}'", out::printable(req.action)),
                "use: list, show RUN or export");
}

RunRef resolve_run(journal::Journal& journal, const std::string& text) {
    const auto run = find_run(journal, text);
    return {run.id, run.tool};
}

} // namespace mbx::ops::journal_view
