// mbx quota: mailbox usage against its limits, and the fixes for MIS_9 (docs/commands/quota.md)
#include "subcommands.hpp"

namespace {

namespace po = mbx::cli::po;

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(
        argc, argv,
        {
            .name = "quota",
            .summary = "Mailboxes near or over their limits (MIS_9): check, sweep, clean up, raise.",
            .usage = "mbx quota check USER... [-u USER]... [--users-file FILE] | --all\n"
                     "       mbx quota sweep [--filter LDAPFILTER] [--users-file FILE] [--shard K/N] [--parallel N]\n"
                     "                       [--backend imap|admin|doveadm]\n"
                     "       mbx quota cleanup USER --folder Trash,Junk --older-than 30d [--until-below 80%]\n"
                     "                         [--largest-first] [--dry-run]\n"
                     "       mbx quota raise USER --to SIZE | --by SIZE [--dry-run]",
            .description =
                "check: for each USER, the directory entry, an IMAP master login and GETQUOTAROOT INBOX (the\n"
                "LDAP quota attribute when the server has no QUOTA), classified by the [quota] thresholds.\n"
                "sweep: the same for every user the directory search selects, in parallel, as a stream\n"
                "([quota] backend admin: GETQUOTAROOT of each user's mailbox over admin logins, for Cyrus).\n"
                "cleanup: archives old messages of the given folders, then expunges exactly those (undo\n"
                "with `mbx journal undo RUN`). raise: changes the limit where [quota] limits says it lives:\n"
                "the LDAP quota attribute, or SETQUOTA on the server as the admin (Cyrus); undoable.\n"
                "check and sweep exit 0/1/2 by the worst tier; a user that cannot be checked is a row of\n"
                "tier unknown and makes the exit code say so.",
            .examples = "  mbx quota check alice bob\n"
                        "  mbx quota sweep --parallel 16 --format prometheus > /var/lib/node_exporter/mbx_quota.prom\n"
                        "  mbx quota sweep --filter '(departmentNumber=sales)' --shard 1/4 --format csv\n"
                        "  mbx quota cleanup alice --folder Trash,Junk --older-than 30d --until-below 80% --dry-run\n"
                        "  mbx quota raise alice --by 1G\n",
            .sections = {"ldap", "imap", "doveadm", "quota", "journal"},
            .formats = {mbx::out::Format::table, mbx::out::Format::csv, mbx::out::Format::json,
                        mbx::out::Format::nagios, mbx::out::Format::prometheus},
            .changes_state = true, // cleanup and raise
            .journaled = true,
            .options =
                [](auto& o) {
                    // One option a line, as --help lists them.
                    // clang-format off
            o.add_options()
                ("filter", po::value<std::string>()->value_name("LDAPFILTER"),
                 "sweep: only users matching this filter too (ANDed with [ldap] user-filter)")
                ("shard", po::value<std::string>()->value_name("K/N"),
                 "sweep: only the users of shard K of N (stable hash of the uid; K from 1)")
                ("parallel", po::value<unsigned>()->value_name("N"),
                 "sweep: N connections at once (default: [imap] connections)")
                ("backend", po::value<std::string>()->value_name("NAME"),
                 "sweep: how usage is read: imap, admin or doveadm (default: [quota] backend)")
                ("folder", po::value<std::string>()->value_name("LIST"),
                 "cleanup: comma-separated folders to clean (e.g. Trash,Junk)")
                ("older-than", po::value<std::string>()->value_name("AGE"),
                 "cleanup: messages whose internal date is older than AGE (30d, 12w, 6m, 1y)")
                ("until-below", po::value<std::string>()->value_name("PCT"),
                 "cleanup: stop once usage would be below PCT of the limit (e.g. 80%)")
                ("largest-first", "cleanup: remove the largest messages first (default: oldest first)")
                ("to", po::value<std::string>()->value_name("SIZE"), "raise: the new limit (e.g. 2G)")
                ("by", po::value<std::string>()->value_name("SIZE"), "raise: add SIZE to the current limit");
                    // clang-format on
                },
            .users = {.user = true,
                      .all = true,
                      .file = "check, sweep: also the uids in FILE (one per line, # comments)"},
            .positional = {{"words", -1}},
            .subcommands = {{"check", {"user", "all", "users-file"}, mbx_quota::check},
                            {"sweep", {"users-file", "filter", "shard", "parallel", "backend"}, mbx_quota::sweep},
                            {"cleanup",
                             {"user", "folder", "older-than", "until-below", "largest-first"},
                             mbx_quota::cleanup},
                            {"raise", {"user", "to", "by"}, mbx_quota::raise}},
        });
}
