// mbx quota check USER...: the named mailboxes, one after the other.
#include "subcommands.hpp"

#include <fmt/format.h>

namespace mbx_quota {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;

QuotaReport::QuotaReport(mbx::cli::Context& ctx) : sink_(ctx.sink()) {
    sink_->begin({"quota",
                  {{"user", "User", Kind::text, Role::label},
                   {"mail", "Mail", Kind::text, Role::detail},
                   {"used_bytes", "Used", Kind::bytes, Role::value, "mailbox usage in bytes"},
                   {"limit_bytes", "Limit", Kind::bytes, Role::value, "mailbox limit in bytes"},
                   {"percent", "Percent", Kind::percent, Role::value, "usage in percent of the limit"},
                   {"messages", "Messages", Kind::integer, Role::value, "messages in the mailbox"},
                   {"tier", "Tier", Kind::text, Role::detail},
                   {"status", "Status", Kind::text, Role::status},
                   {"source", "Source", Kind::text, Role::detail},
                   {"error", "Error", Kind::text, Role::detail}}});
}

void QuotaReport::row(const mbx::ops::QuotaRow& r) {
    const auto severity = mbx::ops::tier_severity(r.tier);
    const std::string status =
        r.tier == mbx::ops::Tier::unknown ? "unknown" : std::string(mbx::out::status_word(severity));
    ++users_;
    (status == "ok" ? ok_ : status == "warning" ? warning_ : status == "critical" ? critical_ : unknown_) += 1;
    sink_->row(std::vector<Cell>{r.user, r.mail, cell(r.used_bytes), cell(r.limit_bytes), cell(r.percent),
                                 cell(r.messages), std::string(mbx::ops::tier_name(r.tier)), status, r.source,
                                 r.error});
}

void QuotaReport::finish(mbx::ExitCode code, const std::vector<std::pair<std::string, Cell>>& extra) {
    std::string text =
        fmt::format("{} of {} mailboxes at prohibit-send or above, {} at warning", critical_, users_, warning_);
    if (unknown_) text += fmt::format(", {} could not be checked", unknown_);
    std::vector<std::pair<std::string, Cell>> fields{
        {"users", users_}, {"ok", ok_}, {"warning", warning_}, {"critical", critical_}, {"unknown", unknown_}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    sink_->finish({code, text, fields});
}

mbx::ExitCode check(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    mbx::cli::UserSelection selection = ctx.users(operands);
    if (selection.all) {
        // Every user: what a sweep does, in the same report.
        if (!selection.users.empty() || !selection.file.empty())
            throw mbx::Error(mbx::ErrorCategory::usage, "--all cannot be combined with USER, -u or --users-file",
                             "give --all alone, or name the users");
        return sweep(ctx, {});
    }
    std::vector<std::string> users = std::move(selection.users);
    if (!selection.file.empty())
        for (auto& u : mbx::ops::read_users_file(selection.file)) users.push_back(std::move(u));
    if (users.empty())
        throw mbx::Error(mbx::ErrorCategory::usage, "no user to check",
                         "give USER..., -u USER, --users-file FILE or --all");
    QuotaReport report(ctx);
    const auto code = mbx::ops::check_users(ctx.session(), users, [&](const mbx::ops::QuotaRow& r) { report.row(r); });
    report.finish(code);
    return code;
}

} // namespace mbx_quota
