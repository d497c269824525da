#include "mbx/cli/tool.hpp"

#include "mbx/core/interrupt.hpp"
#include "mbx/core/version.hpp"
#include "mbx/journal/journal.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iostream>
#include <sstream>

namespace mbx::cli {
namespace {

std::string program(const ToolSpec& spec) { return "mbx " + spec.name; }

bool uses_journal(const ToolSpec& spec) {
    return spec.journaled || std::find(spec.sections.begin(), spec.sections.end(), "journal") != spec.sections.end();
}

po::options_description common_options(const ToolSpec& spec) {
    std::string formats;
    for (auto f : spec.formats) formats += (formats.empty() ? "" : "|") + std::string(out::format_name(f));
    po::options_description d("Common options");
    // One option a line, as --help lists them.
    // clang-format off
    d.add_options()
        ("help,h", "show this help and exit")
        ("version", "show the version and exit")
        ("config", po::value<std::string>()->value_name("FILE"),
         "configuration file (default: $MBX_CONFIG, then /etc/mbxkit/mbxkit.conf)")
        ("format", po::value<std::string>()->value_name(formats)->default_value("table"), "output format")
        ("quiet,q", "no progress and no warnings on stderr")
        ("verbose,v", "explain what is being done on stderr");
    // clang-format on
    if (spec.changes_state) d.add_options()("dry-run,n", "show (and journal) the plan; change nothing");
    if (uses_journal(spec))
        d.add_options()("journal", po::value<std::string>()->value_name("PATH"),
                        "journal database (overrides [journal] path)");
    return d;
}

// The one user-selection group (ToolSpec::users).
po::options_description user_options(const ToolSpec& spec) {
    po::options_description d("Users");
    if (spec.users.user)
        d.add_options()("user,u", po::value<std::vector<std::string>>()->value_name("USER"), "a user (repeatable)");
    if (spec.users.all) d.add_options()("all,A", "every user [ldap] user-filter selects");
    if (!spec.users.file.empty())
        d.add_options()("users-file,F", po::value<std::string>()->value_name("FILE"), spec.users.file.c_str());
    return d;
}

// Flags for settings are spelled --SECTION-KEY; their values go to Config::load as flags.
po::options_description settings_options(const ToolSpec& spec) {
    po::options_description d("Settings (override the configuration file and MBX_* variables)");
    for (const auto& s : config::all_settings()) {
        if (std::find(spec.sections.begin(), spec.sections.end(), s.section) == spec.sections.end()) continue;
        std::string name = fmt::format("{}-{}", s.section, s.key);
        d.add_options()(name.c_str(), po::value<std::string>()->value_name("VALUE"), std::string(s.help).c_str());
    }
    return d;
}

void print_help(const ToolSpec& spec, const po::options_description& visible) {
    std::cout << "usage: " << spec.usage << "\n\n" << spec.summary << "\n";
    if (!spec.description.empty()) std::cout << "\n" << spec.description << "\n";
    std::cout << "\n" << visible << "\n";
    if (!spec.examples.empty()) std::cout << "Examples:\n" << spec.examples << "\n";
    std::cout << "Exit codes: 0 ok, 1 warning, 2 critical, 64 usage, 65 bad data, 69 unavailable, 75 temporary,\n"
                 "77 auth, 78 config (docs/exit-codes.md). Docs: docs/commands/"
              << spec.name << ".md\n";
}

std::map<std::string, std::string> setting_flags(const ToolSpec& spec, const po::variables_map& vm) {
    std::map<std::string, std::string> flags;
    for (const auto& s : config::all_settings()) {
        std::string name = fmt::format("{}-{}", s.section, s.key);
        if (vm.count(name)) flags[fmt::format("{}.{}", s.section, s.key)] = vm[name].as<std::string>();
    }
    if (uses_journal(spec) && vm.count("journal")) flags["journal.path"] = vm["journal"].as<std::string>();
    return flags;
}

// Nagios reads stdout, not stderr: under --format nagios a failure is also an UNKNOWN line.
void report_failure(const ToolSpec& spec, const Error& e, bool nagios) {
    std::cerr << program(spec) << ": " << out::printable(e.one_line()) << std::endl;
    if (nagios) {
        std::string upper = spec.name;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        std::cout << "MBX " << upper << " UNKNOWN - " << out::printable(e.one_line()) << std::endl;
    }
}

std::vector<std::string> words_of(const ToolSpec& spec, const po::variables_map& vm) {
    if (spec.positional.empty() || !vm.count(spec.positional.front().first)) return {};
    return vm[spec.positional.front().first].as<std::vector<std::string>>();
}

// The subcommand the words name, checked against the options given: one rule for every command
// with subcommands, so that `mbx quota sweep --to 2G` is refused, not silently ignored.
const Subcommand& chosen_subcommand(const ToolSpec& spec, const po::options_description& own,
                                    const po::variables_map& vm) {
    std::string names;
    for (const auto& s : spec.subcommands) names += (names.empty() ? "" : ", ") + s.name;
    const auto words = words_of(spec, vm);
    if (words.empty()) throw Error(ErrorCategory::usage, "missing subcommand", "use " + names);
    const auto sub = std::find_if(spec.subcommands.begin(), spec.subcommands.end(),
                                  [&](const Subcommand& s) { return s.name == words.front(); });
    if (sub == spec.subcommands.end())
        throw Error(ErrorCategory::usage, fmt::format("unknown subcommand '{}'", out::printable(words.front())),
                    "use " + names);
    for (const auto& option : own.options()) {
        const std::string& name = option->long_name();
        if (!vm.count(name) || vm[name].defaulted()) continue;
        if (std::find(sub->options.begin(), sub->options.end(), name) != sub->options.end()) continue;
        std::string takers;
        for (const auto& s : spec.subcommands)
            if (std::find(s.options.begin(), s.options.end(), name) != s.options.end())
                takers += fmt::format("{}'mbx {} {}'", takers.empty() ? "" : ", ", spec.name, s.name);
        throw Error(ErrorCategory::usage, fmt::format("--{} does not apply to 'mbx {} {}'", name, spec.name, sub->name),
                    takers.empty() ? fmt::format("see 'mbx {} --help'", spec.name)
                                   : fmt::format("it is an option of {}; see 'mbx {} --help'", takers, spec.name));
    }
    return *sub;
}

// `sub`: the subcommand chosen_subcommand() checked, or nullptr for a command without them.
ExitCode run_parsed(const ToolSpec& spec, Context& ctx, const Subcommand* sub) {
    if (spec.journaled) ctx.begin_journal_run();
    ExitCode code = ExitCode::internal;
    try {
        if (sub) {
            const auto words = words_of(spec, ctx.args());
            code = sub->run(ctx, std::vector<std::string>(words.begin() + 1, words.end()));
        } else {
            code = spec.run(ctx);
        }
        ctx.progress().finish();
        std::cout.flush();
        if (!std::cout)
            throw Error(ErrorCategory::io, "cannot write output to stdout", "check free disk space or the pipe reader");
    } catch (...) {
        ctx.progress().finish();
        try {
            throw;
        } catch (const Error& e) {
            ctx.finish_journal_run(e.exit_code());
        } catch (...) {
            ctx.finish_journal_run(ExitCode::internal);
        }
        throw;
    }
    ctx.finish_journal_run(code);
    return code;
}

} // namespace

Context::Context(const ToolSpec& spec, po::variables_map args, config::Config config, std::vector<std::string> argv)
    : spec_(spec), args_(std::move(args)), config_(std::move(config)), argv_(std::move(argv)) {
    format_ = out::parse_format(args_["format"].as<std::string>(), spec_.formats);
    dry_run_ = spec_.changes_state && args_.count("dry-run");
    quiet_ = args_.count("quiet") > 0;
    verbose_ = args_.count("verbose") > 0;
    progress_ = make_progress(quiet_);
}

Context::~Context() = default;

std::ostream& Context::out() { return std::cout; }

std::unique_ptr<out::Sink> Context::sink() { return out::make_sink(format_, std::cout); }

Progress& Context::progress() { return *progress_; }

UserSelection Context::users(const std::vector<std::string>& operands) const {
    UserSelection s{.users = operands};
    if (args_.count("user") && !args_["user"].empty())
        for (const auto& u : args_["user"].as<std::vector<std::string>>()) s.users.push_back(u);
    s.all = args_.count("all") > 0;
    if (args_.count("users-file")) s.file = args_["users-file"].as<std::string>();
    return s;
}

void Context::warn(std::string_view message) {
    if (quiet_) return;
    progress_->finish();
    std::cerr << "mbx " << spec_.name << ": warning: " << out::printable(message) << '\n';
}

void Context::note(std::string_view message) {
    if (!verbose_) return;
    progress_->finish();
    std::cerr << "mbx " << spec_.name << ": " << out::printable(message) << '\n';
}

journal::Journal& Context::journal() {
    if (!journal_) {
        std::filesystem::path path = config_.has("journal.path") ? std::filesystem::path(config_.get("journal.path"))
                                                                 : journal::default_journal_path();
        journal_ = std::make_unique<journal::Journal>(journal::Journal::open(path));
    }
    return *journal_;
}

Secret Context::secret(const SecretSource& source) const { return resolve_secret(config_, source, true); }

const Session& Context::session() {
    if (!session_)
        session_.emplace(Session{.config = config_,
                                 .secrets = [this](const SecretSource& s) { return secret(s); },
                                 .journal = &journal(),
                                 .run_id = run_id_,
                                 .progress = *progress_,
                                 .dry_run = dry_run_});
    return *session_;
}

void Context::begin_journal_run() {
    run_id_ = journal().begin_run(
        {.tool = spec_.name, .args = argv_, .dry_run = dry_run_, .mbx_version = std::string(mbx::version())});
    if (session_) session_->run_id = run_id_;
}

void Context::finish_journal_run(ExitCode code) noexcept {
    if (!run_id_) return;
    try {
        journal_->finish_run(*run_id_, journal::run_status_of(static_cast<int>(code)), static_cast<int>(code));
    } catch (const std::exception& e) {
        std::cerr << "mbx " << spec_.name << ": warning: cannot record the end of run " << *run_id_
                  << " in the journal: " << out::printable(e.what()) << '\n';
    }
}

namespace {

// No argument mbxkit takes is longer than an option with a path (PATH_MAX is 4096) or a line
// of a users file: a longer one is a mistake (a file pasted for a name) that would otherwise
// reach LDAP, IMAP and SQLite and fail there with their limits' messages (SQLite's "LIKE or
// GLOB pattern too complex" was exit 70).
constexpr std::size_t kMaxArgument = 8u << 10;

void check_argument_lengths(const std::vector<std::string>& args, const ToolSpec& spec) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() <= kMaxArgument) continue;
        // An option's value is never shown (it may be a pasted secret); a plain word, briefly.
        const std::string shown =
            a.starts_with("-")
                ? fmt::format("option '{}'", out::printable(a.substr(0, std::min(a.find('='), std::size_t{40}))))
                : fmt::format("argument {} ('{}...')", i + 1, out::printable(a.substr(0, 20)));
        throw Error(
            ErrorCategory::usage,
            fmt::format("{} is {} bytes long; mbxkit takes at most {} bytes in one argument", shown, a.size(),
                        kMaxArgument),
            fmt::format("check the command line; a list of users goes in a file (see 'mbx {} --help')", spec.name));
    }
}

// The hidden --list-options (tool.hpp): the command's options, formats, subcommands and
// positionals, one tab-separated record a line, from the very descriptions the parser uses.
// Option records: "option", --LONG, -S or empty, the value's name or empty (a flag), the
// group (own: the command's own, which a subcommand takes only when it names it; users; common;
// settings), the help text. Help text never holds a tab or a newline (they become spaces).
std::string listing_field(std::string s) {
    std::replace_if(
        s.begin(), s.end(), [](char c) { return c == '\t' || c == '\n'; }, ' ');
    return s;
}

void print_listing(const ToolSpec& spec,
                   const std::vector<std::pair<std::string_view, const po::options_description*>>& groups) {
    std::cout << "command\t" << spec.name << '\t' << listing_field(spec.summary) << '\n';
    for (auto f : spec.formats) std::cout << "format\t" << out::format_name(f) << '\n';
    for (const auto& [kind, group] : groups) {
        for (const auto& o : group->options()) {
            std::string shorter = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
            if (shorter.size() != 2 || shorter[0] != '-' || shorter[1] == '-') shorter.clear();
            std::string value;
            if (o->semantic()->max_tokens() > 0) {
                value = o->semantic()->name();
                value = value.substr(0, value.find(" (="));
            }
            std::cout << "option\t--" << o->long_name() << '\t' << shorter << '\t' << listing_field(value) << '\t'
                      << kind << '\t' << listing_field(o->description()) << '\n';
        }
    }
    for (const auto& sub : spec.subcommands) {
        std::cout << "subcommand\t" << sub.name << '\t';
        for (std::size_t i = 0; i < sub.options.size(); ++i) std::cout << (i ? " " : "") << "--" << sub.options[i];
        std::cout << '\n';
    }
    for (const auto& [name, count] : spec.positional) std::cout << "positional\t" << name << '\t' << count << '\n';
}

} // namespace

int run_tool(int argc, char** argv, const ToolSpec& spec) {
    install_interrupt_handlers();
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    bool nagios = false;
    try {
        po::options_description own(spec.name + " options");
        if (spec.options) spec.options(own);
        po::options_description visible;
        // The command's own options and its user selection: what a subcommand may take.
        po::options_description commands_own;
        commands_own.add(own);
        visible.add(own);
        po::options_description users = user_options(spec);
        if (!users.options().empty()) {
            visible.add(users);
            commands_own.add(users);
        }
        po::options_description common = common_options(spec);
        visible.add(common);
        po::options_description settings = settings_options(spec);
        if (!settings.options().empty()) visible.add(settings);
        if (args.size() == 1 && args.front() == "--list-options") {
            print_listing(spec, {{"own", &own}, {"users", &users}, {"common", &common}, {"settings", &settings}});
            return 0;
        }
        po::options_description all;
        all.add(visible);
        po::positional_options_description positional;
        for (const auto& [name, count] : spec.positional) {
            if (!all.find_nothrow(name, false)) all.add_options()(name.c_str(), po::value<std::vector<std::string>>());
            positional.add(name.c_str(), count);
        }
        check_argument_lengths(args, spec);
        po::variables_map vm;
        try {
            // No abbreviations: Boost would take `--ldap-password=X` for `--ldap-password-file=X`,
            // print X ("cannot read secret file 'X'") and journal it. An option is spelled whole.
            const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
            po::store(po::command_line_parser(argc, argv).options(all).positional(positional).style(style).run(), vm);
            po::notify(vm);
        } catch (const po::unknown_option& e) {
            // The token as typed may carry a value (`--ldap-password=X`): never echo it.
            std::string name = e.get_option_name();
            name = name.substr(0, name.find('='));
            throw Error(ErrorCategory::usage, fmt::format("unknown option '{}'", out::printable(name)),
                        fmt::format("options are spelled in full, never abbreviated; see 'mbx {} --help'", spec.name));
        } catch (const po::error& e) {
            throw Error(ErrorCategory::usage, e.what(), fmt::format("see 'mbx {} --help'", spec.name));
        }
        if (vm.count("help")) {
            print_help(spec, visible);
            return 0;
        }
        if (vm.count("version")) {
            std::cout << "mbx " << spec.name << " (mbxkit) " << mbx::version() << '\n';
            return 0;
        }
        nagios = vm["format"].as<std::string>() == "nagios";
        const Subcommand* sub = spec.subcommands.empty() ? nullptr : &chosen_subcommand(spec, commands_own, vm);
        std::optional<std::filesystem::path> file;
        if (vm.count("config")) file = vm["config"].as<std::string>();
        Context ctx(spec, vm, config::Config::load(file, setting_flags(spec, vm)), args);
        ExitCode code = run_parsed(spec, ctx, sub);
        return nagios ? nagios_exit_status(code) : static_cast<int>(code);
    } catch (const Error& e) {
        report_failure(spec, e, nagios);
        return nagios ? nagios_exit_status(e.exit_code()) : static_cast<int>(e.exit_code());
    } catch (const std::exception& e) {
        Error internal(ErrorCategory::internal, fmt::format("internal error: {}", e.what()),
                       "please report this with the command line (secrets are never on it)");
        report_failure(spec, internal, nagios);
        return nagios ? 3 : static_cast<int>(ExitCode::internal);
    }
}

} // namespace mbx::cli
