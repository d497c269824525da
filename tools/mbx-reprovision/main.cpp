// mbx reprovision: a new account and mailbox for a corrupted user, merged, verified, cut over
// (MIS_5; docs/commands/reprovision.md).
#include "users.hpp"

namespace {

namespace po = mbx::cli::po;

mbx::ExitCode reprovision(mbx::cli::Context& ctx) {
    return mbx_reprovision::reprovision_all(ctx, mbx_reprovision::pairs_of(ctx));
}

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(
        argc, argv,
        {
            .name = "reprovision",
            .summary = "Replace a corrupted account: new account and mailbox, merge, verify logon, cut over.",
            .usage = "mbx reprovision USER --new-uid NEWUID [options]\n"
                     "       mbx reprovision --users-file FILE [options]\n"
                     "       mbx reprovision --resume RUN",
            .description =
                "MIS_5's fix as one journaled plan: (1) inspect the old entry, (2) create a new entry NEWUID next\n"
                "to it with [reprovision] copy-attributes and a new random password (written to a 0600 file whose\n"
                "path is printed; never shown or journaled), (3) log in as NEWUID so the server makes the mailbox,\n"
                "and create the old folder tree and the standard folders, (4) merge the old mailbox into it\n"
                "(`mbx merge`: exact, no duplicates, verified), (5) log in as NEWUID with the new password,\n"
                "(6) cut over: move the mail addresses ([ldap] mail-attribute, alias-attributes) to the new entry\n"
                "and disable the old one ([reprovision] disable-method), (7) merge once more for mail that reached\n"
                "the old mailbox during the switch. The old mailbox is never changed.\n"
                "A failed or killed run is continued by the same command (or --resume RUN). `mbx journal undo RUN`\n"
                "reverses the cutover, restores the old entry exactly and disables (or removes) the new entry.",
            .examples = "  mbx reprovision alice --new-uid alice2 --dry-run\n"
                        "  mbx reprovision alice --new-uid alice2\n"
                        "  mbx reprovision --resume 42\n"
                        "  mbx reprovision --users-file broken.csv --format json\n",
            .sections = {"ldap", "imap", "journal", "reprovision"},
            .changes_state = true,
            .journaled = false, // one journal run per user, begun (or reopened) by the operation
            .options =
                [](auto& o) {
                    // One option a line, as --help lists them.
                    // clang-format off
            o.add_options()
                ("new-uid", po::value<std::string>()->value_name("NEWUID"), "login of the new account")
                ("from-file", po::value<std::string>()->value_name("FILE"), "the old name of --users-file")
                ("password-file", po::value<std::string>()->value_name("FILE"),
                 "set the new account's password from this 0600 file instead of generating one")
                ("no-cutover", "stop after the logon check: addresses stay on the old entry")
                ("force", "merge even when the new mailbox's quota cannot hold the old content")
                ("resume", po::value<std::string>()->value_name("RUN"), "continue journal run RUN");
                    // clang-format on
                },
            .users = {.user = true, .file = "CSV lines user,new_uid (# comments)"},
            .positional = {{"user", 1}},
            .run = reprovision,
        });
}
