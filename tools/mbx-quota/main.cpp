// mbx quota: mailbox usage against its limits, MIS_9 (docs/commands/quota.md)
#include "mbx/cli/tool.hpp"
#include "mbx/ops/quota.hpp"

#include <fmt/format.h>

namespace {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;

template <typename T>
Cell cell(const std::optional<T>& v) {
    return v ? Cell(*v) : Cell();
}

std::vector<std::string> selected_users(mbx::cli::Context& ctx, const std::vector<std::string>& words) {
    std::vector<std::string> users(words.begin() + 1, words.end());
    if (ctx.args().count("users-file"))
        for (auto& u : mbx::ops::read_users_file(ctx.args()["users-file"].as<std::string>())) users.push_back(u);
    if (users.empty())
        throw mbx::Error(mbx::ErrorCategory::usage, "no user to check", "give USER... or --users-file FILE");
    return users;
}

mbx::ExitCode check(mbx::cli::Context& ctx, const std::vector<std::string>& words) {
    const auto users = selected_users(ctx, words);
    auto secrets = [&](const mbx::SecretSource& s) { return ctx.secret(s); };
    auto sink = ctx.sink();
    sink->begin({"quota",
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
    std::int64_t ok = 0, warning = 0, critical = 0, unknown = 0;
    auto on_row = [&](const mbx::ops::QuotaRow& r) {
        const auto severity = mbx::ops::tier_severity(r.tier);
        std::string status = r.tier == mbx::ops::Tier::unknown ? "unknown" : std::string(mbx::out::status_word(severity));
        (status == "ok" ? ok : status == "warning" ? warning : status == "critical" ? critical : unknown) += 1;
        sink->row(std::vector<Cell>{r.user, r.mail, cell(r.used_bytes), cell(r.limit_bytes), cell(r.percent),
                                    cell(r.messages), std::string(mbx::ops::tier_name(r.tier)), status, r.source,
                                    r.error});
    };
    const auto code = mbx::ops::check_users(ctx.config(), secrets, users, &ctx.journal(), ctx.run_id(), on_row);
    std::string text = fmt::format("{} of {} mailboxes at prohibit-send or above, {} at warning", critical,
                                   users.size(), warning);
    if (unknown) text += fmt::format(", {} could not be checked", unknown);
    sink->finish({code, text,
                  {{"users", std::int64_t(users.size())}, {"ok", ok}, {"warning", warning}, {"critical", critical},
                   {"unknown", unknown}}});
    return code;
}

mbx::ExitCode quota(mbx::cli::Context& ctx) {
    const auto words = ctx.args().count("words") ? ctx.args()["words"].as<std::vector<std::string>>()
                                                 : std::vector<std::string>{};
    if (words.empty()) throw mbx::Error(mbx::ErrorCategory::usage, "missing subcommand", "use 'mbx quota check USER...'");
    if (words[0] == "check") return check(ctx, words);
    if (words[0] == "sweep" || words[0] == "cleanup" || words[0] == "raise")
        throw mbx::Error(mbx::ErrorCategory::usage, fmt::format("'mbx quota {}' is not implemented yet", words[0]),
                         "only 'mbx quota check USER...' is available in this version");
    throw mbx::Error(mbx::ErrorCategory::usage, fmt::format("unknown subcommand '{}'", mbx::out::printable(words[0])),
                     "use 'mbx quota check USER...'");
}

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(argc, argv, {
        .name = "quota",
        .summary = "Check mailbox usage against its limits (MIS_9).",
        .usage = "mbx quota check [options] USER... [--users-file FILE]",
        .description = "For each USER: finds the entry in [ldap], logs in to [imap] as the master user, reads\n"
                       "GETQUOTAROOT INBOX (or the LDAP quota attribute when the server has no QUOTA) and\n"
                       "classifies the usage by the [quota] thresholds. Exit 0/1/2 by the worst tier.",
        .examples = "  mbx quota check alice bob\n  mbx quota check dave --format nagios\n",
        .sections = {"ldap", "imap", "quota", "journal"},
        .formats = {mbx::out::Format::table, mbx::out::Format::csv, mbx::out::Format::json, mbx::out::Format::nagios,
                    mbx::out::Format::prometheus},
        .journaled = true,
        .options = [](auto& o) {
            o.add_options()("users-file", mbx::cli::po::value<std::string>()->value_name("FILE"),
                            "also check the uids in FILE (one per line, # comments)");
        },
        .positional = {{"words", -1}},
        .run = quota,
    });
}
