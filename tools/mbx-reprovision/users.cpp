#include "users.hpp"

#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/ops/batch.hpp"
#include "mbx/ops/reprovision.hpp"
#include "mbx/ops/users.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iostream>

namespace mbx_reprovision {

using namespace mbx::cli::names;
namespace rp = mbx::ops::reprovision;

namespace {

std::string arg(mbx::cli::Context& ctx, const char* name) {
    return ctx.args().count(name) ? ctx.args()[name].as<std::string>() : std::string();
}

// --users-file, or --from-file, its name before every command took users files alike.
std::string users_file(mbx::cli::Context& ctx) {
    if (ctx.args().count("users-file") && ctx.args().count("from-file"))
        throw Error(ErrorCategory::usage, "give --users-file once (--from-file is its old name)");
    return ctx.args().count("users-file") ? arg(ctx, "users-file") : arg(ctx, "from-file");
}

std::optional<std::int64_t> resume_of(mbx::cli::Context& ctx) {
    const std::string text = arg(ctx, "resume");
    if (text.empty()) return std::nullopt;
    return mbx::ops::resume_run_of(ctx.journal(), text, "reprovision");
}

mbx::out::ReportSpec report_spec(bool with_ldif) {
    mbx::out::ReportSpec spec{"reprovision",
                              {{"user", "User", Kind::text, Role::label},
                               {"new_uid", "New uid", Kind::text, Role::label},
                               {"run", "Run", Kind::integer, Role::detail},
                               {"step", "Step", Kind::text, Role::label},
                               {"subject", "Subject", Kind::text, Role::detail},
                               {"status", "Status", Kind::text, Role::detail},
                               {"detail", "Detail", Kind::text, Role::detail}}};
    if (with_ldif)
        spec.columns.push_back({"ldif", "LDIF", Kind::text, Role::detail, "what is written to the directory"});
    return spec;
}

Cell optional_run(std::int64_t id) {
    if (id == 0) return Cell();
    return Cell(id);
}

} // namespace

std::vector<Pair> pairs_of(mbx::cli::Context& ctx) {
    const std::vector<std::string> positional = ctx.users().users;
    if (positional.size() > 1)
        throw Error(ErrorCategory::usage, "'mbx reprovision' takes one USER", "give more users with --users-file FILE");
    const std::string new_uid = arg(ctx, "new-uid"), file = users_file(ctx);
    if (!file.empty()) {
        if (!positional.empty() || !new_uid.empty() || ctx.args().count("resume") || ctx.args().count("password-file"))
            throw Error(ErrorCategory::usage,
                        "--users-file cannot be combined with USER, --new-uid, --resume or --password-file",
                        "put every user in the file, one 'user,new_uid' per line");
        std::vector<Pair> pairs;
        for (auto& p : mbx::ops::read_pairs_file(file, "--users-file", "alice,alice2"))
            pairs.push_back({std::move(p.first), std::move(p.second)});
        return pairs;
    }
    if (const auto run = resume_of(ctx); run && positional.empty() && new_uid.empty()) {
        auto [user, uid] = rp::request_of_run(ctx.journal(), *run);
        return {{user, uid}};
    }
    if (positional.empty() || new_uid.empty())
        throw Error(ErrorCategory::usage, positional.empty() ? "missing USER" : "missing --new-uid NEWUID",
                    "e.g. mbx reprovision alice --new-uid alice2 (or --from-file FILE, or --resume RUN)");
    return {{positional.front(), new_uid}};
}

ExitCode reprovision_all(mbx::cli::Context& ctx, const std::vector<Pair>& pairs) {
    rp::UsersRequest req{.pairs = pairs, .each = {}, .batch = !users_file(ctx).empty()};
    if (const auto f = arg(ctx, "password-file"); !f.empty()) req.each.password_file = f;
    req.each.cutover = ctx.args().count("no-cutover") == 0;
    req.each.force = ctx.args().count("force") > 0;
    req.each.resume_run = req.batch ? std::nullopt : resume_of(ctx);
    req.each.argv = ctx.argv();
    const std::vector<rp::Result> results = rp::run_users(ctx.session(), req);

    // Tables are for people: the LDIF follows the table as text instead of a column.
    const bool table = ctx.format() == mbx::out::Format::table;
    auto sink = ctx.sink();
    sink->begin(report_spec(!table));
    ExitCode worst = ExitCode::ok;
    std::size_t ok = 0;
    std::string ldif_text;
    for (const auto& r : results) {
        worst = mbx::combine_exit_codes(worst, r.exit);
        if (r.exit == ExitCode::ok) ++ok;
        for (const auto& s : r.steps) {
            const std::string status(rp::step_status_name(s.status));
            std::vector<Cell> row{r.user, r.new_uid, optional_run(r.run_id), s.step, s.subject, status, s.detail};
            if (!table) row.emplace_back(s.ldif);
            sink->row(row);
            if (!s.ldif.empty()) ldif_text += fmt::format("# {} {} ({})\n{}", s.step, r.user, status, s.ldif);
        }
        if (r.error)
            std::cerr << "mbx reprovision: " << r.user << " -> " << r.new_uid << ": "
                      << mbx::out::printable(r.error->one_line()) << '\n';
        const bool changed =
            std::any_of(r.steps.begin(), r.steps.end(), [](const auto& s) { return s.status == rp::StepStatus::done; });
        if (r.error && r.run_id && !ctx.dry_run() && (changed || r.resumed))
            std::cerr << "mbx reprovision: run " << r.run_id << " stopped; fix the cause, then run the same command "
                      << "again (or `mbx reprovision --resume " << r.run_id << "`); `mbx journal undo " << r.run_id
                      << "` reverts it\n";
        if (r.password_file && !r.password_file->empty() && !ctx.dry_run() && !ctx.quiet())
            std::cerr << "mbx reprovision: the password of " << r.new_uid << " is in "
                      << mbx::out::printable(r.password_file->string()) << " (mode 0600)\n";
    }
    std::string text;
    if (ctx.dry_run())
        text = fmt::format("dry run: {} of {} users can be reprovisioned; nothing written", ok, results.size());
    else text = fmt::format("{} of {} users reprovisioned", ok, results.size());
    const auto& first = results.front();
    std::vector<std::pair<std::string, Cell>> fields{{"users", Cell(static_cast<std::int64_t>(results.size()))},
                                                     {"users_ok", Cell(static_cast<std::int64_t>(ok))},
                                                     {"dry_run", Cell(ctx.dry_run())}};
    if (results.size() == 1) {
        fields.emplace_back("run", optional_run(first.run_id));
        fields.emplace_back("old_dn", Cell(first.old_dn));
        fields.emplace_back("new_dn", Cell(first.new_dn));
        fields.emplace_back("password_file",
                            first.password_file && !ctx.dry_run() ? Cell(first.password_file->string()) : Cell());
    }
    sink->finish({worst, text, fields});
    if (table && !ldif_text.empty()) ctx.out() << '\n' << ldif_text;
    return worst;
}

} // namespace mbx_reprovision
