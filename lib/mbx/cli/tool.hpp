#pragma once
// The tool runner: every `mbx-<verb>` main() declares a ToolSpec and calls run_tool(). It owns
// what all commands share: option parsing (Boost.Program_options), the configuration, the
// common flags (-h -q -v -n --format --config --journal), the journal run record, mapping
// errors to exit codes, and flushing output (a failed write is never success).

#include "mbx/core/config.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/progress.hpp"
#include "mbx/core/secret.hpp"
#include "mbx/core/session.hpp"

#include <boost/program_options.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mbx::journal {
class Journal;
}

namespace mbx::cli {

namespace po = boost::program_options;

class Context;

/// A subcommand (`mbx quota sweep`): its name, the command's own options it takes, and what
/// runs it with the words after its name.
struct Subcommand {
    std::string name = {};
    std::vector<std::string> options = {}; ///< long names, without "--"
    std::function<ExitCode(Context&, const std::vector<std::string>& operands)> run = {};
};

/// A command, declared once: the runner builds --help, parsing and dispatch from it.
/// Which of the one user-selection group a command takes, the same in every command that
/// takes users: -u/--user USER (repeatable; beside USER operands, which it adds to), -A/--all
/// (every user [ldap] user-filter selects) and -F/--users-file FILE.
struct UserOptions {
    bool user = false;
    bool all = false;
    std::string file = {}; ///< -F's help (what a line holds); empty: no -F
};

/// The users a command was given: USER operands and -u, in order; -A; -F's file.
struct UserSelection {
    std::vector<std::string> users = {};
    bool all = false;
    std::string file = {};
};

struct ToolSpec {
    std::string name = {};        ///< "explain": the program is mbx-explain, run as `mbx explain`
    std::string summary = {};     ///< one line for `mbx help`
    std::string usage = {};       ///< "mbx explain [options] CODE"
    std::string description = {}; ///< paragraphs shown by --help after the usage
    std::string examples = {};    ///< shown by --help last
    /// Configuration sections whose settings this command uses; their --SECTION-KEY flags
    /// are accepted and listed in --help.
    std::vector<std::string> sections = {};
    std::vector<out::Format> formats = {out::Format::table, out::Format::csv, out::Format::json};
    bool changes_state = false; ///< accepts -n/--dry-run
    bool journaled = false;     ///< records a run (and its actions) in the journal
    /// Adds the command's own options.
    std::function<void(po::options_description&)> options = {};
    /// The user-selection options this command takes (see UserOptions). A positional named
    /// "user" fills -u's list.
    UserOptions users = {};
    /// Positional arguments in order: name and how many (-1: any number, the last one only).
    std::vector<std::pair<std::string, int>> positional = {};
    std::function<ExitCode(Context&)> run = {};
    /// Instead of `run`: subcommands, named by the first word of the first positional. The
    /// runner refuses (64) a missing or unknown subcommand and any of the command's own options
    /// given to a subcommand that does not take it, naming the ones that do, before the
    /// configuration is read or a journal run begins.
    std::vector<Subcommand> subcommands = {};
};

/// What a running command gets from the runner.
class Context {
public:
    Context(const ToolSpec& spec, po::variables_map args, config::Config config, std::vector<std::string> argv);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    const po::variables_map& args() const { return args_; }
    const config::Config& config() const { return config_; }
    out::Format format() const { return format_; }
    bool dry_run() const { return dry_run_; }
    /// The users selected with the user-selection group, `operands` first (a subcommand's
    /// operands; a positional named "user" is already in -u's list).
    UserSelection users(const std::vector<std::string>& operands = {}) const;
    bool verbose() const { return verbose_; }
    bool quiet() const { return quiet_; }
    /// The command line after the program name, as given (journaled redacted).
    const std::vector<std::string>& argv() const { return argv_; }

    /// The machine-output stream (stdout). Nothing else is written there.
    std::ostream& out();
    /// A sink of the chosen --format on out().
    std::unique_ptr<out::Sink> sink();
    /// Progress for long operations: on stderr when it is a terminal and not --quiet.
    Progress& progress();
    /// A warning line on stderr ("mbx NAME: warning: ...") unless --quiet.
    void warn(std::string_view message);
    /// A line on stderr only with --verbose.
    void note(std::string_view message);

    /// The journal, opened on first use (Error(config/io) when it cannot be).
    journal::Journal& journal();
    /// The journal run of this invocation (journaled commands only).
    std::optional<std::int64_t> run_id() const { return run_id_; }

    /// Resolves a secret (file, environment, prompt on a terminal).
    Secret secret(const SecretSource& source) const;

    /// What operations get: the configuration, secret(), the journal (opened here) and this
    /// invocation's run, progress and --dry-run. Built on first use, after the run began.
    const Session& session();

    // For the runner.
    void begin_journal_run();
    void finish_journal_run(ExitCode code) noexcept;

private:
    const ToolSpec& spec_;
    po::variables_map args_;
    config::Config config_;
    std::vector<std::string> argv_;
    out::Format format_ = out::Format::table;
    bool dry_run_ = false, verbose_ = false, quiet_ = false;
    std::unique_ptr<Progress> progress_;
    std::unique_ptr<journal::Journal> journal_;
    std::optional<Session> session_;
    std::optional<std::int64_t> run_id_;
};

/// Runs the command: parses argv, loads the configuration, calls spec.run, maps errors to
/// exit codes and prints them as one line on stderr. Returns the process exit status.
/// `mbx-NAME --list-options` (hidden: not in --help, alone on the command line) prints the
/// command's options, formats, subcommands and positionals machine-readably, one
/// tab-separated record a line, for the shell completion generated at build time
/// (scripts/gen-completion.py, docs/development.md).
int run_tool(int argc, char** argv, const ToolSpec& spec);

/// The names a command's driver writes most, for `using namespace mbx::cli::names;`: errors,
/// exit codes and the report's cells.
namespace names {
using mbx::Error;
using mbx::ErrorCategory;
using mbx::ExitCode;
using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::printable;
using mbx::out::Role;
} // namespace names

} // namespace mbx::cli
