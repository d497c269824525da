// mbx merge: copy one mailbox into another, IMAP to IMAP (MIS_5's ExMerge step;
// docs/commands/merge.md).
#include "pairs.hpp"

namespace {

namespace po = mbx::cli::po;

mbx::ExitCode merge(mbx::cli::Context& ctx) {
    const auto pairs = mbx_merge::pairs_of(ctx);
    const auto options = mbx_merge::options_of(ctx);
    return mbx_merge::merge_all(ctx, pairs, options);
}

} // namespace

int main(int argc, char** argv) {
    return mbx::cli::run_tool(
        argc, argv,
        {
            .name = "merge",
            .summary = "Copy a mailbox into another, IMAP to IMAP: every folder, flag and date, no duplicates.",
            .usage = "mbx merge --from USER[@NAME] --to USER[@NAME] [options]\n"
                     "       mbx merge --users-file FILE [--parallel N] [options]",
            .description =
                "Copies the messages of the source mailbox that the target lacks (Message-ID + size; without\n"
                "a Message-ID: Date, From, Subject + size), with their exact bytes, flags, keywords and\n"
                "internal dates; creates missing folders (special-use folders go to the target's folder of the\n"
                "same use) and subscribes them as on the source. The source is only read (EXAMINE, BODY.PEEK).\n"
                "Folder names follow each server's personal namespace (NAMESPACE: 'INBOX.a.b' on Cyrus is 'a/b'\n"
                "on Dovecot); other users' and shared folders are left out unless --include-shared. A folder\n"
                "the target refuses fails alone, with its own error; the others go on.\n"
                "NAME is an [imap.NAME] section of the configuration (another server); default [imap].\n"
                "Any stop (kill, network, [OVERQUOTA]) is resumed by running the same command again.\n"
                "Exit 0 only when every selected source message was verified on the target.",
            .examples = "  mbx merge --from alice --to alice2 --dry-run\n"
                        "  mbx merge --from alice@old --to alice --exclude 'Junk' --map 'Sent Items=Sent'\n"
                        "  mbx merge --users-file moves.csv --parallel 4 --format json\n",
            .sections = {"imap", "journal"},
            .changes_state = true,
            .journaled = false, // one journal run per pair, begun by the driver
            .options =
                [](auto& o) {
                    // One option a line, as --help lists them.
                    // clang-format off
            o.add_options()
                ("from", po::value<std::string>()->value_name("USER[@NAME]"), "the mailbox to copy from")
                ("to", po::value<std::string>()->value_name("USER[@NAME]"), "the mailbox to copy into")
                ("parallel", po::value<unsigned>()->value_name("N"), "--users-file: N pairs at once (default 1)")
                ("from-password-file", po::value<std::string>()->value_name("FILE"),
                 "log in to the source as USER with this password instead of the master user")
                ("to-password-file", po::value<std::string>()->value_name("FILE"),
                 "log in to the target as USER with this password instead of the master user")
                ("include", po::value<std::vector<std::string>>()->value_name("GLOB"),
                 "only source folders matching GLOB (repeatable; * and ?)")
                ("exclude", po::value<std::vector<std::string>>()->value_name("GLOB"),
                 "skip source folders matching GLOB (repeatable)")
                ("map", po::value<std::vector<std::string>>()->value_name("OLD=NEW"),
                 "source folder OLD (and below) goes to target folder NEW (repeatable)")
                ("include-shared", "also merge other users' and shared folders the source user sees (NAMESPACE)")
                ("mode", po::value<std::string>()->value_name("MODE"),
                 "missing (default): skip messages the target has; always: copy all")
                ("since", po::value<std::string>()->value_name("DATE"), "only messages from DATE (YYYY-MM-DD)")
                ("before", po::value<std::string>()->value_name("DATE"), "only messages before DATE (YYYY-MM-DD)")
                ("max-size", po::value<std::string>()->value_name("SIZE"), "skip messages larger than SIZE")
                ("include-deleted", "also copy messages flagged \\Deleted")
                ("max-messages-per-second", po::value<double>()->value_name("N"), "throttle appends")
                ("max-bytes-per-second", po::value<std::string>()->value_name("SIZE"), "throttle appends")
                ("errors-max", po::value<unsigned>()->value_name("N"),
                 "stop after N messages rejected by the target (default 50)")
                ("no-verify", "skip the final comparison of both sides")
                ("force", "copy even when the target's quota cannot hold it")
                ("resume", po::value<std::string>()->value_name("RUN"), "continue journal run RUN");
                    // clang-format on
                },
            .users = {.file = "CSV lines from,to (# comments)"},
            .run = merge,
        });
}
