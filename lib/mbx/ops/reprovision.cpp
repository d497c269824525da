#include "mbx/ops/reprovision.hpp"
#include "mbx/ops/reprovision_impl.hpp"

#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/core/version.hpp"
#include "mbx/directory/ad.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/directory/ldif.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/batch.hpp"
#include "mbx/ops/merge_plan.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/ops/user_schema.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <map>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mbx::ops::reprovision {

std::string_view step_status_name(StepStatus s) {
    switch (s) {
    case StepStatus::done: return "done";
    case StepStatus::already: return "already";
    case StepStatus::would_do: return "would-do";
    case StepStatus::skipped: return "skipped";
    case StepStatus::failed: return "failed";
    }
    return "failed";
}
namespace detail {

std::string in_quotes(std::string_view s) { return out::quoted(s); }

bool same_name(std::string_view a, std::string_view b) { return iequals(a, b); }

bool contains_name(const std::vector<std::string>& names, std::string_view n) {
    return std::any_of(names.begin(), names.end(), [&](const auto& x) { return same_name(x, n); });
}

// A value we journal must be printable text (addresses, flags); binary values stay out.
std::vector<std::string> text_values(const directory::Entry& e, const std::string& attr) {
    auto values = e.values(attr);
    for (const auto& v : values)
        if (out::printable(v) != v)
            throw Error(ErrorCategory::data,
                        fmt::format("{} of {} holds a value that is not printable text", attr, in_quotes(e.dn)),
                        "mbx reprovision moves text attributes only: fix the value by hand first");
    return values;
}

json values_of(const directory::Entry* e, const std::vector<std::string>& attrs) {
    json j = json::object();
    for (const auto& a : attrs) j[a] = e ? text_values(*e, a) : std::vector<std::string>{};
    return j;
}

std::string safe_file_part(std::string_view s) {
    std::string out;
    for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
    return out.empty() ? "user" : out;
}

// Writes the password to a new 0600 file (O_EXCL: never over another file) and syncs it, so
// the secret is on disk before the directory is told about it.
void write_password_file(const std::filesystem::path& path, const Secret& password) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
        throw Error(ErrorCategory::io,
                    fmt::format("cannot create {}: {}", in_quotes(path.parent_path().string()), ec.message()),
                    "set [reprovision] password-dir to a directory you can write");
    ::chmod(path.parent_path().c_str(), 0700);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        throw Error(ErrorCategory::io,
                    fmt::format("cannot create {}: {}", in_quotes(path.string()), std::strerror(errno)),
                    "check [reprovision] password-dir");
    // The bare secret, no newline, like every secret file of the project (`ldapwhoami -y FILE`
    // sends the file's bytes as they are).
    const std::string line = password.reveal();
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) {
        std::filesystem::remove(path, ec);
        throw Error(ErrorCategory::io,
                    fmt::format("cannot write {}: {}", in_quotes(path.string()), std::strerror(err)));
    }
}

// Test hook (docs/development.md): with MBXKIT_TEST_STOP_BEFORE=STEP in the environment the
// process stops itself (SIGSTOP) as that step begins, so a test can stop a server, kill -9 the
// process, or let it go on (SIGCONT) at an exact point. Unset in production: a getenv.
void stop_if_asked(std::string_view step) {
    const char* at = std::getenv("MBXKIT_TEST_STOP_BEFORE");
    if (at && step == at) ::raise(SIGSTOP);
}

// The reprovision run of USER -> NEWUID most recently begun, if any (dry runs do not count).
std::optional<journal::RunRecord> previous_run(journal::Journal& journal, const std::string& user,
                                               const std::string& new_uid) {
    for (const auto& run : journal.list_runs({.tool = std::string(kTool), .limit = 500})) {
        if (run.dry_run) continue;
        for (const auto& a : journal.actions_of(run.id)) {
            if (a.kind != kInspect) continue;
            if (a.subject == user && a.after && str(*a.after, "new_uid") == new_uid) return run;
            break;
        }
    }
    return std::nullopt;
}

void Reprovisioner::run() {
    try {
        (void)dir(); // the directory's kind decides how the steps name, enable and disable accounts
        inspect();
        account();
        // The merge went into the mailbox: a run continued after it has one.
        if (earlier_.done(kMerge, pair()))
            report("mailbox", req_.new_uid, StepStatus::already, "made when the run began");
        else mailbox();
        merge_pass(kind::kReprovisionMerge, "merge");
        logon();
        if (!req_.cutover) {
            report("cutover", res_.old_dn, StepStatus::skipped,
                   "--no-cutover: the addresses stay on the old entry; run again without it to cut over");
            return;
        }
        cutover();
        // What reached the old mailbox during the cutover: a dry run cuts nothing over.
        if (!req_.dry_run) merge_pass(kind::kReprovisionFinalMerge, "final");
    } catch (const Error& e) {
        res_.error = e;
        res_.exit = e.exit_code();
        if (action_) {
            try {
                journal_.update_action(action_, journal::ActionStatus::failed, std::nullopt, e.one_line());
            } catch (const Error&) {
            }
        }
        report(step_, "", StepStatus::failed, e.one_line());
    }
}

} // namespace detail

using namespace detail; // the run and its helpers (reprovision_impl.hpp)

Settings settings_of(const config::Config& cfg, const std::filesystem::path& journal_path) {
    Settings s;
    const UserSchema schema = user_schema(cfg); // the directory's attributes, as its kind has them
    s.kind = directory::directory_kind_name(schema.kind);
    s.active_directory = schema.kind == directory::DirectoryKind::active_directory;
    const bool ad = s.active_directory;
    s.uid_attribute = schema.uid_attribute;
    s.rdn_attribute = ad ? "cn" : s.uid_attribute;
    s.address_attributes.push_back(schema.mail_attribute);
    for (const auto& a : schema.alias_attributes)
        if (!contains_name(s.address_attributes, a)) s.address_attributes.push_back(a);
    std::vector<std::string> never{"objectClass", s.uid_attribute, s.rdn_attribute};
    // What Active Directory keeps itself, or mbx sets on the new entry.
    if (ad)
        for (const char* a : {"name", "sAMAccountName", "userPrincipalName", "userAccountControl", "objectSid",
                              "objectGUID", "distinguishedName", "pwdLastSet", "lockoutTime", "memberOf"})
            never.emplace_back(a);
    never.insert(never.end(), kSecretAttributes.begin(), kSecretAttributes.end());
    never.insert(never.end(), s.address_attributes.begin(), s.address_attributes.end());
    auto copy = split_list(cfg.get("reprovision.copy-attributes"));
    if (const auto q = cfg.get("ldap.quota-attribute"); !q.empty()) copy.push_back(q);
    for (auto& a : copy)
        if (!contains_name(never, a) && !contains_name(s.copy_attributes, a)) s.copy_attributes.push_back(std::move(a));
    s.base = cfg.get("reprovision.base");
    s.password_dir = cfg.get("reprovision.password-dir");
    if (s.password_dir.empty()) s.password_dir = journal_path.parent_path() / "passwords";
    const std::string method = cfg.get("reprovision.disable-method");
    if (method == "attribute") s.disable = DisableMethod::attribute;
    else if (method == "move") s.disable = DisableMethod::move;
    else if (method == "none") s.disable = DisableMethod::none;
    else
        throw Error(ErrorCategory::config, fmt::format("invalid [reprovision] disable-method {}", in_quotes(method)),
                    "use attribute, move or none");
    s.disable_attribute = schema.disable_attribute;
    s.disable_value = schema.disable_value;
    // userAccountControl holds every flag of the account: only its ACCOUNTDISABLE bit changes.
    if (schema.disable_by_account_control()) s.disable = DisableMethod::account_control;
    s.disabled_base = cfg.get("reprovision.disabled-base");
    if (s.disable == DisableMethod::attribute && (s.disable_attribute.empty() || s.disable_value.empty()))
        throw Error(ErrorCategory::config,
                    "[reprovision] disable-method = attribute needs disable-attribute and disable-value",
                    "e.g. disable-attribute = nsAccountLock and disable-value = true");
    if (s.disable == DisableMethod::move && s.disabled_base.empty())
        throw Error(ErrorCategory::config, "[reprovision] disable-method = move needs disabled-base",
                    "e.g. disabled-base = ou=disabled,dc=example,dc=org");
    const std::string undo = cfg.get("reprovision.undo-new-entry");
    if (undo != "disable" && undo != "remove")
        throw Error(ErrorCategory::config, fmt::format("invalid [reprovision] undo-new-entry {}", in_quotes(undo)),
                    "use disable or remove");
    s.undo_removes_new_entry = undo == "remove";
    return s;
}

Secret generate_password() {
    static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string pw;
    while (pw.size() < 24) {
        unsigned char bytes[64];
        const ssize_t got = ::getrandom(bytes, sizeof bytes, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorCategory::internal, fmt::format("cannot generate a password: {}", std::strerror(errno)));
        }
        for (ssize_t i = 0; i < got && pw.size() < 24; ++i)
            if (bytes[i] < 248) pw += kAlphabet[bytes[i] % 62]; // 248 = 4 * 62: no modulo bias
    }
    return Secret(std::move(pw));
}

std::pair<std::string, std::string> request_of_run(journal::Journal& journal, std::int64_t run_id) {
    const auto run = journal.find_run(run_id);
    if (!run || run->tool != kTool)
        throw Error(ErrorCategory::usage, fmt::format("run {} is not a reprovision run", run_id),
                    "list them with `mbx journal list --tool reprovision`");
    for (const auto& a : journal.actions_of(run_id))
        if (a.kind == kInspect && a.after && !str(*a.after, "new_uid").empty())
            return {a.subject, str(*a.after, "new_uid")};
    throw Error(ErrorCategory::usage, fmt::format("run {} did not get as far as inspecting its user", run_id),
                "run the command with USER --new-uid NEWUID again");
}

namespace {

// Refuses what cannot be a reprovision before any run is begun: a missing or equal user, a bad
// setting, an unreadable password file.
void check_request(const config::Config& cfg, journal::Journal& journal, const RunRequest& req) {
    if (req.user.empty() || req.new_uid.empty())
        throw Error(ErrorCategory::usage, "give the user and --new-uid NEWUID",
                    "e.g. mbx reprovision alice --new-uid alice2");
    if (req.user == req.new_uid)
        throw Error(ErrorCategory::usage, "--new-uid must differ from the user",
                    "e.g. mbx reprovision alice --new-uid alice2");
    (void)settings_of(cfg, journal.path());
    if (req.password_file && !req.dry_run) (void)read_secret_file(*req.password_file);
}

// The run this one continues: --resume's (which must be of the same user), or the pair's
// latest; none in a dry run.
std::optional<journal::RunRecord> earlier_run_of(journal::Journal& journal, const RunRequest& req) {
    if (req.resume_run) {
        const auto [user, new_uid] = request_of_run(journal, *req.resume_run);
        if (user != req.user || new_uid != req.new_uid)
            throw Error(ErrorCategory::usage,
                        fmt::format("run {} reprovisions {} as {}, not {} as {}", *req.resume_run, in_quotes(user),
                                    in_quotes(new_uid), in_quotes(req.user), in_quotes(req.new_uid)),
                        "give the run's own user and --new-uid, or --resume alone");
        return journal.find_run(*req.resume_run);
    }
    if (req.dry_run) return std::nullopt;
    return previous_run(journal, req.user, req.new_uid);
}

// An earlier run that got to the end: the result says so, and nothing is done again.
Result already_done(const Request& req, const journal::RunRecord& run, const Resumed& earlier) {
    Result res{.user = req.user, .new_uid = req.new_uid, .run_id = run.id};
    const auto* inspect = earlier.find(kInspect, req.user);
    res.old_dn = inspect && inspect->after ? str(inspect->after->value("old", json::object()), "dn") : std::string();
    res.new_dn = str(inspect ? inspect->after.value_or(json{}) : json{}, "new_dn");
    if (const auto* acct = earlier.find(kAccount, req.new_uid))
        res.password_file = str(acct->after.value_or(json{}), "login_file");
    res.steps.push_back({"all", res.old_dn, StepStatus::already,
                         fmt::format("{} was reprovisioned as {} by run {}", req.user, req.new_uid, run.id)});
    return res;
}

// The run's id: the earlier run reopened (journaled as a resume), or a new run.
std::int64_t begin_or_reopen(journal::Journal& journal, const RunRequest& req,
                             const std::optional<journal::RunRecord>& earlier_run) {
    if (!earlier_run)
        return journal.begin_run({.tool = std::string(kTool),
                                  .args = req.argv,
                                  .dry_run = req.dry_run,
                                  .mbx_version = std::string(version())});
    journal.reopen_run(earlier_run->id);
    journal.add_action(earlier_run->id,
                       {.kind = std::string(kResume),
                        .subject = req.user,
                        .after = json{{"pid", static_cast<std::int64_t>(::getpid())},
                                      {"previous_status", std::string(journal::to_string(earlier_run->status))}},
                        .status = journal::ActionStatus::done});
    return earlier_run->id;
}

} // namespace

Result run(const Session& session, const Request& request) {
    if (!session.journal) throw Error(ErrorCategory::internal, "mbx reprovision runs with a journal");
    const RunRequest req{request, session.dry_run};
    journal::Journal& journal = *session.journal;
    check_request(session.config, journal, req);

    std::optional<journal::RunRecord> earlier_run = earlier_run_of(journal, req);
    Resumed earlier;
    if (earlier_run && !req.dry_run) {
        const std::int64_t runs[] = {earlier_run->id};
        earlier = Resumed::of_runs(journal, runs);
        if (earlier_run->status == journal::RunStatus::running && !earlier_run->stale)
            throw Error(ErrorCategory::temporary,
                        fmt::format("run {} is reprovisioning {} now (pid {} on {})", earlier_run->id,
                                    in_quotes(req.user), earlier_run->pid, earlier_run->host),
                        "wait for it to finish");
        if (earlier.undone()) {
            if (req.resume_run)
                throw Error(ErrorCategory::usage, fmt::format("run {} was undone", earlier_run->id),
                            "start a new reprovision with another --new-uid");
            earlier_run.reset(); // a new attempt: the undone run stays as it is
            earlier = {};
        } else if (earlier.done(kLogon, req.new_uid) &&
                   (!req.cutover || earlier.done(kFinal, req.user + " -> " + req.new_uid))) {
            return already_done(req, *earlier_run, earlier);
        }
    }
    Result res{.user = req.user, .new_uid = req.new_uid};
    res.run_id = begin_or_reopen(journal, req, earlier_run);
    res.resumed = earlier_run.has_value();
    try {
        Reprovisioner r(session, req, journal, res, earlier);
        r.run();
    } catch (const Error& e) {
        res.error = e;
        res.exit = e.exit_code();
    }
    try {
        journal.finish_run(res.run_id, journal::run_status_of(static_cast<int>(res.exit)), static_cast<int>(res.exit));
    } catch (const Error&) {
        if (res.exit == ExitCode::ok) throw;
    }
    return res;
}

namespace detail {

std::vector<std::string> strings(const json& j) {
    std::vector<std::string> out;
    if (!j.is_array()) return out;
    for (const auto& v : j)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

std::string str(const json& j, const char* key) {
    return j.is_object() && j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>() : std::string();
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

// True when `entry` holds, for every attribute of `want`, exactly those values (as a set).
bool holds(const directory::Entry& entry, const json& want) {
    if (!want.is_object()) return false;
    for (const auto& [attr, values] : want.items())
        if (sorted(entry.values(attr)) != sorted(strings(values))) return false;
    return true;
}

// True when every attribute of `before` holds either its before- or its after-values.
bool consistent(const directory::Entry& entry, const json& before, const json& after) {
    if (!before.is_object()) return false;
    for (const auto& [attr, values] : before.items()) {
        const auto now = sorted(entry.values(attr));
        if (now != sorted(strings(values)) && now != sorted(strings(after.value(attr, json::array())))) return false;
    }
    return true;
}

std::vector<directory::Modification> replace_all(const json& values) {
    std::vector<directory::Modification> mods;
    if (!values.is_object()) return mods;
    for (const auto& [attr, v] : values.items())
        mods.push_back({directory::Modification::Op::replace, attr, strings(v)});
    return mods;
}

std::vector<directory::Modification> changes_from(const json& was, const json& want) {
    std::vector<directory::Modification> mods;
    if (!want.is_object()) return mods;
    for (const auto& [attr, v] : want.items()) {
        const auto before = strings(was.is_object() ? was.value(attr, json::array()) : json::array());
        if (sorted(before) == sorted(strings(v))) continue; // holds it already
        if (iequals(attr, "userAccountControl") && before.size() == 1 && strings(v).size() == 1) {
            mods.push_back({directory::Modification::Op::remove, attr, before});
            mods.push_back({directory::Modification::Op::add, attr, strings(v)});
        } else {
            mods.push_back({directory::Modification::Op::replace, attr, strings(v)});
        }
    }
    return mods;
}

std::string with_disable_bit(const std::string& flags, bool disabled, const std::string& dn) {
    const auto n = directory::ad::parse_account_control(flags);
    if (!n)
        throw Error(ErrorCategory::data,
                    fmt::format("userAccountControl of {} is not a number: {}", in_quotes(dn), in_quotes(flags)),
                    "fix the entry with Active Directory's own tools first");
    return directory::ad::account_control_text(disabled ? (*n | directory::ad::kAccountDisable)
                                                        : (*n & ~directory::ad::kAccountDisable));
}

} // namespace detail

namespace {

// A batch user's run journals the command as if that user had been given alone.
std::vector<std::string> argv_alone(const Pair& p, const std::vector<std::string>& argv) {
    std::vector<std::string> alone{p.user, "--new-uid", p.new_uid};
    for (const char* flag : {"--no-cutover", "--force", "--dry-run", "-n"})
        if (std::find(argv.begin(), argv.end(), flag) != argv.end()) alone.emplace_back(flag);
    return alone;
}

} // namespace

std::vector<Result> run_users(const Session& session, const UsersRequest& req) {
    std::vector<std::optional<Result>> done(req.pairs.size());
    const auto ends = run_batch(session, req.pairs.size(), 1, [&](SubjectContext& s) {
        const Pair& p = req.pairs[s.index];
        Request one = req.each;
        one.user = p.user;
        one.new_uid = p.new_uid;
        if (req.batch) one.argv = argv_alone(p, req.each.argv);
        done[s.index] = run(s.session, one);
        return done[s.index]->exit;
    });
    std::vector<Result> results;
    for (std::size_t i = 0; i < req.pairs.size(); ++i) {
        if (const auto& e = ends[i].error) {
            if (!req.batch) throw *e;
            Result r{.user = req.pairs[i].user, .new_uid = req.pairs[i].new_uid, .exit = e->exit_code(), .error = *e};
            r.steps.push_back({"inspect", "", StepStatus::failed, e->one_line()});
            results.push_back(std::move(r));
        } else {
            results.push_back(std::move(*done[i]));
        }
    }
    return results;
}

} // namespace mbx::ops::reprovision
