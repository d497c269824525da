#include "mbx/ops/reprovision.hpp"
#include "mbx/ops/reprovision_impl.hpp"

#include "mbx/core/interrupt.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/core/version.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/directory/ldif.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/merge_plan.hpp"
#include "mbx/ops/quota.hpp"

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
namespace {

using json = nlohmann::json;

constexpr std::string_view kTool = "reprovision";
constexpr std::string_view kInspect = "reprovision.inspect";
constexpr std::string_view kAccount = "reprovision.account";
constexpr std::string_view kMailbox = "reprovision.mailbox";
constexpr std::string_view kMerge = "reprovision.merge";
constexpr std::string_view kLogon = "reprovision.logon";
constexpr std::string_view kCutover = "reprovision.cutover";
constexpr std::string_view kFinal = "reprovision.final-merge";
constexpr std::string_view kResume = "reprovision.resume";

using detail::kSecretAttributes;

// The standard folders a device expects (MIS_8), made when neither mailbox has that use.
constexpr std::pair<std::string_view, std::string_view> kStandardFolders[] = {
    {"\\Drafts", "Drafts"}, {"\\Sent", "Sent"}, {"\\Trash", "Trash"}, {"\\Junk", "Junk"}};

std::string in_quotes(std::string_view s) { return out::quoted(s); }
using detail::consistent;
using detail::holds;
using detail::replace_all;
using detail::sorted;
using detail::str;
using detail::strings;

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
        throw Error(ErrorCategory::io, fmt::format("cannot create {}: {}", in_quotes(path.parent_path().string()), ec.message()),
                    "set [reprovision] password-dir to a directory you can write");
    ::chmod(path.parent_path().c_str(), 0700);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        throw Error(ErrorCategory::io, fmt::format("cannot create {}: {}", in_quotes(path.string()), std::strerror(errno)),
                    "check [reprovision] password-dir");
    const std::string line = password.reveal() + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) {
        std::filesystem::remove(path, ec);
        throw Error(ErrorCategory::io, fmt::format("cannot write {}: {}", in_quotes(path.string()), std::strerror(err)));
    }
}

// Test hook (docs/development.md): with MBXKIT_TEST_STOP_BEFORE=STEP in the environment the
// process stops itself (SIGSTOP) as that step begins, so a test can stop a server, kill -9 the
// process, or let it go on (SIGCONT) at an exact point. Unset in production: a getenv.
void stop_if_asked(std::string_view step) {
    const char* at = std::getenv("MBXKIT_TEST_STOP_BEFORE");
    if (at && step == at) ::raise(SIGSTOP);
}

// The actions of an earlier run, by kind: the last of each.
struct Journaled {
    std::map<std::string, journal::ActionRecord, std::less<>> last;

    const journal::ActionRecord* find(std::string_view kind) const {
        auto it = last.find(kind);
        return it == last.end() ? nullptr : &it->second;
    }
    bool done(std::string_view kind) const {
        const auto* a = find(kind);
        return a && a->status == journal::ActionStatus::done;
    }
    bool undone() const {
        return std::any_of(last.begin(), last.end(),
                           [](const auto& kv) { return kv.second.status == journal::ActionStatus::undone; });
    }
};

Journaled journaled(journal::Journal& journal, std::int64_t run_id) {
    Journaled j;
    for (auto& a : journal.actions_of(run_id))
        if (a.kind.starts_with("reprovision.")) j.last[a.kind] = std::move(a);
    return j;
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

class Reprovisioner {
public:
    Reprovisioner(const config::Config& cfg, const SecretProvider& secrets, const Request& req,
                  journal::Journal& journal, Progress& progress, Result& res)
        : cfg_(cfg), secrets_(secrets), req_(req), journal_(journal), progress_(progress), res_(res),
          settings_(settings_of(cfg, journal.path())) {}

    void run(const Journaled& earlier);

private:
    directory::Directory& dir() {
        if (!dir_) dir_.emplace(directory::Directory::connect(ldap_config(cfg_, secrets_)));
        return *dir_;
    }
    std::int64_t begin(std::string_view kind, std::string subject, std::optional<json> before, json after) {
        if (req_.dry_run) return 0;
        return journal_.add_action(res_.run_id, {.kind = std::string(kind),
                                                 .subject = std::move(subject),
                                                 .before = std::move(before),
                                                 .after = std::move(after),
                                                 .status = journal::ActionStatus::planned});
    }
    void done(std::int64_t action, std::optional<json> after = std::nullopt) {
        if (action) journal_.update_action(action, journal::ActionStatus::done, std::move(after));
    }
    void report(std::string step, std::string subject, std::string status, std::string detail, std::string ldif = {}) {
        res_.steps.push_back({std::move(step), std::move(subject), std::move(status), std::move(detail), std::move(ldif)});
    }
    void phase(std::string_view step) {
        stop_if_asked(step);
        step_ = step;
        throw_if_interrupted();
        progress_.update(fmt::format("{} -> {}: {}", req_.user, req_.new_uid, step), 0, 0);
    }
    merge::Endpoint endpoint(const std::string& user) {
        return {user, imap_master_config(cfg_, secrets_, user)};
    }

    void inspect(const Journaled& earlier);
    void account(const Journaled& earlier);
    void mailbox();
    void merge_pass(std::string_view kind, const char* step);
    void logon();
    void cutover(const Journaled& earlier);
    std::vector<directory::Attribute> new_entry_attributes(const directory::Entry& old) const;

    const config::Config& cfg_;
    const SecretProvider& secrets_;
    const Request& req_;
    journal::Journal& journal_;
    Progress& progress_;
    Result& res_;
    Settings settings_;
    std::optional<directory::Directory> dir_;
    json snapshot_;                 // the old entry as inspected: dn, ldif, addresses, disable values
    std::optional<Secret> password_;
    std::int64_t action_ = 0;       // the action of the step under way (marked failed on error)
    std::string step_ = "inspect";  // the step under way (reported failed on error)
};

std::vector<directory::Attribute> Reprovisioner::new_entry_attributes(const directory::Entry& old) const {
    std::vector<directory::Attribute> attrs;
    attrs.push_back({"objectClass", old.values("objectClass")});
    attrs.push_back({settings_.uid_attribute, {req_.new_uid}});
    for (const auto& a : settings_.copy_attributes)
        if (auto v = old.values(a); !v.empty()) attrs.push_back({a, std::move(v)});
    return attrs;
}

void Reprovisioner::inspect(const Journaled& earlier) {
    phase("inspect");
    if (const auto* a = earlier.find(kInspect); a && a->status == journal::ActionStatus::done && a->after) {
        snapshot_ = a->after->value("old", json::object());
        res_.old_dn = str(snapshot_, "dn");
        res_.new_dn = str(*a->after, "new_dn");
        report("inspect", res_.old_dn, "already", "as inspected when the run began");
        return;
    }
    action_ = begin(kInspect, req_.user, std::nullopt, json{{"new_uid", req_.new_uid}});
    const auto old = find_user(dir(), cfg_, req_.user, {});
    res_.old_dn = old.dn;
    const auto [rdn, parent] = directory::split_rdn(old.dn);
    res_.new_dn = settings_.uid_attribute + "=" + directory::escape_dn_value(req_.new_uid) + "," +
                  (settings_.base.empty() ? parent : settings_.base);

    // NEWUID must be free: no entry of that login anywhere under the base, nothing at the DN.
    std::size_t taken = 0;
    std::string taken_dn;
    dir().search(cfg_.require("ldap.base"), directory::Scope::subtree,
                 directory::user_filter("", settings_.uid_attribute, req_.new_uid), {"1.1"},
                 [&](const directory::Entry& e) {
                     if (taken++ == 0) taken_dn = e.dn;
                 });
    if (!taken && dir().read_entry(res_.new_dn)) {
        taken_dn = res_.new_dn;
        taken = 1;
    }
    if (taken)
        throw Error(ErrorCategory::data,
                    fmt::format("the new uid {} is taken: {} exists", in_quotes(req_.new_uid), in_quotes(taken_dn)),
                    "choose another --new-uid (an earlier reprovision's run is continued with --resume RUN; see "
                    "`mbx journal list --tool reprovision`)");

    std::vector<std::string> addresses;
    for (const auto& a : settings_.address_attributes)
        if (old.has(a)) addresses.push_back(a);
    snapshot_ = json{{"dn", old.dn},
                     {"ldif", directory::ldif_entry(old, kSecretAttributes)},
                     {"addresses", values_of(&old, addresses)}};
    if (settings_.disable == DisableMethod::attribute)
        snapshot_["disable"] = values_of(&old, {settings_.disable_attribute});
    done(action_, json{{"new_uid", req_.new_uid}, {"new_dn", res_.new_dn}, {"old", snapshot_}});
    action_ = 0;
    std::string mail;
    for (const auto& [attr, values] : snapshot_["addresses"].items())
        for (const auto& v : values) mail += (mail.empty() ? "" : ", ") + v.get<std::string>();
    report("inspect", old.dn, req_.dry_run ? "would-do" : "done",
           mail.empty() ? "no mail address to move" : "addresses to move: " + out::printable(mail));
}

void Reprovisioner::account(const Journaled& earlier) {
    phase("account");
    const auto* a = earlier.find(kAccount);
    if (a && a->status == journal::ActionStatus::done) {
        res_.password_file = str(a->after.value_or(json{}), "login_file");
        report("account", res_.new_dn, "already", "created when the run began");
        return;
    }
    const auto old = dir().read_entry(res_.old_dn);
    if (!old)
        throw Error(ErrorCategory::data, fmt::format("the old entry {} no longer exists", in_quotes(res_.old_dn)),
                    "restore it, or start over with another --new-uid");
    const auto attrs = new_entry_attributes(*old);
    const std::string ldif = directory::ldif_add(res_.new_dn, attrs);

    // The password: the file of the interrupted attempt, the admin's file, or a new one.
    std::filesystem::path file;
    if (a && !str(a->after.value_or(json{}), "login_file").empty()) {
        file = str(*a->after, "login_file");
        password_ = read_secret_file(file);
    } else if (req_.password_file) {
        file = *req_.password_file;
        password_ = read_secret_file(file);
    } else {
        file = settings_.password_dir / fmt::format("{}-run{}.password", safe_file_part(req_.new_uid), res_.run_id);
        if (req_.dry_run) {
            report("account", res_.new_dn, "would-do",
                   "a new random password would be written to a 0600 file in " +
                       out::printable(settings_.password_dir.string()),
                   ldif);
            return;
        }
        password_ = generate_password();
        write_password_file(file, *password_);
    }
    res_.password_file = file;
    if (req_.dry_run) {
        report("account", res_.new_dn, "would-do", "password from " + out::printable(file.string()), ldif);
        return;
    }
    action_ = a ? a->id
                : begin(kAccount, req_.new_uid, json{{"dn", res_.new_dn}, {"exists", false}},
                        json{{"dn", res_.new_dn}, {"login_file", file.string()}, {"ldif", ldif}});
    if (dir().read_entry(res_.new_dn)) {
        if (!a)
            throw Error(ErrorCategory::data, fmt::format("{} exists already", in_quotes(res_.new_dn)),
                        "choose another --new-uid");
        // Made by this run before it stopped: only the password may be missing.
    } else {
        dir().add(res_.new_dn, attrs);
    }
    dir().set_password(res_.new_dn, *password_);
    done(action_);
    action_ = 0;
    report("account", res_.new_dn, "done", "password in " + out::printable(file.string()) + " (mode 0600)", ldif);
}

void Reprovisioner::mailbox() {
    phase("mailbox");
    if (req_.dry_run) {
        report("mailbox", req_.new_uid, "would-do",
               "log in as the new user (the server makes INBOX), create the folders the merge plan marks "
               "(created) and any missing standard folder (Drafts, Sent, Trash, Junk)");
        return;
    }
    action_ = begin(kMailbox, req_.new_uid, std::nullopt, json::object());
    auto target = imap::Connection::open(imap_master_config(cfg_, secrets_, req_.new_uid));
    imap::select(target, "INBOX", true); // the server creates the mailbox at the first login
    auto source = imap::Connection::open(imap_master_config(cfg_, secrets_, req_.user));
    const auto source_folders = merge::folders_of(imap::list_mailboxes(source), imap::subscribed_mailboxes(source));
    source.logout();
    auto target_folders = merge::folders_of(imap::list_mailboxes(target), imap::subscribed_mailboxes(target));
    std::vector<std::string> created, subscribed;
    for (const auto& p : merge::plan_folders(source_folders, target_folders, {})) {
        if (p.create) {
            imap::create_mailbox(target, p.target, p.special_use);
            created.push_back(p.target);
        }
        if (p.subscribe) {
            imap::subscribe(target, p.target);
            subscribed.push_back(p.target);
        }
    }
    target_folders = merge::folders_of(imap::list_mailboxes(target), imap::subscribed_mailboxes(target));
    auto has_use = [](const std::vector<merge::Folder>& fs, std::string_view use) {
        return std::any_of(fs.begin(), fs.end(), [&](const merge::Folder& f) { return iequals(f.special_use, use); });
    };
    auto has_name = [](const std::vector<merge::Folder>& fs, std::string_view name) {
        return std::any_of(fs.begin(), fs.end(), [&](const merge::Folder& f) { return f.name == name; });
    };
    for (auto [use, name] : kStandardFolders) {
        if (has_use(target_folders, use) || has_name(target_folders, name)) continue;
        imap::create_mailbox(target, name, use);
        imap::subscribe(target, name);
        created.emplace_back(name);
        subscribed.emplace_back(name);
    }
    target.logout();
    done(action_, json{{"created", created}, {"subscribed", subscribed}});
    action_ = 0;
    std::string list;
    for (const auto& c : created) list += (list.empty() ? "" : ", ") + out::printable(c);
    report("mailbox", req_.new_uid, "done",
           created.empty() ? "every folder exists" : fmt::format("created {} folders: {}", created.size(), list));
}

void Reprovisioner::merge_pass(std::string_view kind, const char* step) {
    phase(step);
    // The run's own earlier merge passes (an interrupted attempt, the first pass before the
    // cutover's last one) tell which target messages this run copied: their flags follow the
    // source's.
    merge::Request m{endpoint(req_.user), endpoint(req_.new_uid), {}, req_.dry_run ? nullptr : &journal_, res_.run_id,
                     req_.dry_run ? std::nullopt : std::optional<std::int64_t>(res_.run_id)};
    m.options.force = req_.force;
    m.options.dry_run = req_.dry_run;
    m.options.target_absent = req_.dry_run;
    action_ = begin(kind, req_.user + " -> " + req_.new_uid, std::nullopt, json::object());
    res_.merge = merge::run(m, progress_);
    const auto& r = *res_.merge;
    std::uint64_t copied = 0, to_copy = 0, bytes = 0, failed = 0, missing = 0;
    for (const auto& f : r.folders) {
        copied += f.copied;
        to_copy += f.to_copy;
        bytes += f.bytes_to_copy;
        failed += f.failed;
        missing += f.missing.value_or(0);
        if (req_.dry_run)
            report(step, f.plan.source,
                   "would-do", fmt::format("-> {}{}: {} messages, {} to copy", out::printable(f.plan.target),
                                           f.created ? " (created)" : "", f.to_copy,
                                           out::human_bytes(static_cast<std::int64_t>(f.bytes_to_copy))));
    }
    if (req_.dry_run) {
        if (r.stopped) throw *r.stopped; // the pre-flight would refuse: say so now
        return;
    }
    const json after{{"copied", copied}, {"failed", failed}, {"missing", missing}, {"seconds", r.seconds}};
    if (r.exit != ExitCode::ok) {
        if (action_) journal_.update_action(action_, journal::ActionStatus::failed, after,
                                            r.stopped ? r.stopped->one_line() : std::string("incomplete"));
        action_ = 0;
        if (r.stopped) throw *r.stopped;
        throw Error(ErrorCategory::data,
                    fmt::format("the merge into {} is incomplete: {} rejected, {} missing", in_quotes(req_.new_uid),
                                failed, missing),
                    "see the merge report (`mbx journal show RUN`), fix the cause and run the same command again");
    }
    done(action_, after);
    action_ = 0;
    report(step, req_.user + " -> " + req_.new_uid, "done",
           fmt::format("{} of {} messages copied ({}), verified: nothing missing", copied, to_copy,
                       out::human_bytes(static_cast<std::int64_t>(bytes))));
}

void Reprovisioner::logon() {
    phase("logon");
    if (req_.dry_run) {
        report("logon", req_.new_uid, "would-do", "log in as the new user with the new password, SELECT INBOX");
        return;
    }
    action_ = begin(kLogon, req_.new_uid, std::nullopt, json::object());
    if (!res_.password_file || res_.password_file->empty())
        throw Error(ErrorCategory::data, "the run has no record of the new password's file",
                    "set a password on the new entry and log in by hand");
    imap::ImapConfig config;
    try {
        config = imap_section_config(cfg_, secrets_, "imap", req_.new_uid, *res_.password_file);
    } catch (const Error& e) {
        throw Error(ErrorCategory::data, fmt::format("cannot read the new password: {}", e.what()),
                    fmt::format("restore {} (mode 0600), or set a new password on {} and resume",
                                in_quotes(res_.password_file->string()), in_quotes(res_.new_dn)));
    }
    std::uint64_t messages = 0;
    try {
        auto conn = imap::Connection::open(config);
        messages = imap::select(conn, "INBOX", true).exists;
        conn.logout();
    } catch (const Error& e) {
        if (e.category() != ErrorCategory::auth) throw;
        throw Error(ErrorCategory::auth,
                    fmt::format("the new user {} cannot log in with its new password", in_quotes(req_.new_uid)),
                    "check that the IMAP server reads passwords from this directory entry, then resume");
    }
    done(action_, json{{"login", "ok"}, {"inbox_messages", messages}});
    action_ = 0;
    report("logon", req_.new_uid, "done", fmt::format("logged in with the new password; INBOX holds {} messages", messages));
}

void Reprovisioner::cutover(const Journaled& earlier) {
    phase("cutover");
    json before, after;
    std::string moved_dn = res_.old_dn;
    const auto* a = earlier.find(kCutover);
    if (a && a->status == journal::ActionStatus::planned && a->before && a->after) {
        before = *a->before; // an interrupted cutover: finish the very same change
        after = *a->after;
        action_ = a->id;
    } else {
        const json addresses = snapshot_.value("addresses", json::object());
        std::vector<std::string> attrs;
        for (const auto& [attr, values] : addresses.items()) attrs.push_back(attr);
        const auto now_new = req_.dry_run ? std::optional<directory::Entry>(directory::Entry{res_.new_dn, {}})
                                          : dir().read_entry(res_.new_dn);
        if (!now_new)
            throw Error(ErrorCategory::data, fmt::format("the new entry {} no longer exists", in_quotes(res_.new_dn)),
                        "the run cannot cut over to it; start over with another --new-uid");
        json old_before = addresses, old_after = json::object();
        for (const auto& attr : attrs) old_after[attr] = json::array();
        if (settings_.disable == DisableMethod::attribute) {
            const auto was = snapshot_.value("disable", json::object());
            old_before[settings_.disable_attribute] = was.value(settings_.disable_attribute, json::array());
            old_after[settings_.disable_attribute] = json::array({settings_.disable_value});
        }
        if (settings_.disable == DisableMethod::move)
            moved_dn = directory::split_rdn(res_.old_dn).first + "," + settings_.disabled_base;
        before = json{{"old_dn", res_.old_dn}, {"new_dn", res_.new_dn}, {"old", old_before},
                      {"new", values_of(&*now_new, attrs)}};
        after = json{{"old_dn", moved_dn}, {"new_dn", res_.new_dn}, {"old", old_after}, {"new", addresses}};
    }
    moved_dn = str(after, "old_dn");
    const auto new_changes = replace_all(after["new"]);
    const auto old_changes = replace_all(after["old"]);
    std::string ldif;
    if (!new_changes.empty()) ldif += directory::ldif_modify(res_.new_dn, new_changes);
    if (!old_changes.empty()) ldif += directory::ldif_modify(res_.old_dn, old_changes);
    const auto [rdn, parent] = directory::split_rdn(res_.old_dn);
    if (moved_dn != res_.old_dn) ldif += directory::ldif_modrdn(res_.old_dn, rdn, directory::split_rdn(moved_dn).second);
    std::string what;
    for (const auto& [attr, values] : after["new"].items())
        what += fmt::format("{}{} ({} value{})", what.empty() ? "" : ", ", attr, values.size(), values.size() == 1 ? "" : "s");
    const std::string how = settings_.disable == DisableMethod::attribute
                                ? fmt::format("{}: {}", settings_.disable_attribute, settings_.disable_value)
                                : settings_.disable == DisableMethod::move ? "moved to " + out::printable(moved_dn)
                                                                            : std::string("left enabled");
    const std::string detail = fmt::format("{} move to {}; old account {}",
                                           what.empty() ? std::string("no addresses") : what,
                                           out::printable(req_.new_uid), how);
    if (req_.dry_run) {
        report("cutover", res_.old_dn, "would-do", detail, ldif);
        return;
    }
    if (!action_) {
        after["ldif"] = ldif;
        action_ = journal_.add_action(res_.run_id, {.kind = std::string(kCutover),
                                                    .subject = req_.user,
                                                    .before = before,
                                                    .after = after,
                                                    .status = journal::ActionStatus::planned});
    }
    // The new entry gets the addresses first: for a moment both entries have them (mail is
    // delivered, not bounced), then the old one loses them and is disabled.
    if (!new_changes.empty()) dir().modify(res_.new_dn, new_changes);
    std::string at = res_.old_dn;
    if (!dir().read_entry(at)) {
        if (moved_dn != res_.old_dn && dir().read_entry(moved_dn)) at = moved_dn;
        else throw Error(ErrorCategory::data, fmt::format("the old entry {} no longer exists", in_quotes(res_.old_dn)));
    }
    if (!old_changes.empty()) dir().modify(at, old_changes);
    if (at != moved_dn) dir().rename(at, rdn, directory::split_rdn(moved_dn).second);
    done(action_);
    action_ = 0;
    report("cutover", res_.old_dn, "done", detail, ldif);
}

void Reprovisioner::run(const Journaled& earlier) {
    try {
        inspect(earlier);
        account(earlier);
        const bool merged = earlier.done(kMerge);
        if (earlier.done(kMailbox) || merged) report("mailbox", req_.new_uid, "already", "made when the run began");
        else mailbox();
        if (merged) report("merge", req_.user + " -> " + req_.new_uid, "already", "copied and verified earlier in the run");
        else merge_pass(kMerge, "merge");
        if (earlier.done(kLogon)) report("logon", req_.new_uid, "already", "checked earlier in the run");
        else logon();
        if (!req_.cutover) {
            report("cutover", res_.old_dn, "skipped",
                   "--no-cutover: the addresses stay on the old entry; run again without it to cut over");
            return;
        }
        if (earlier.done(kCutover)) report("cutover", res_.old_dn, "already", "cut over earlier in the run");
        else cutover(earlier);
        if (earlier.done(kFinal)) report("final", req_.user + " -> " + req_.new_uid, "already", "done earlier in the run");
        else if (!req_.dry_run) merge_pass(kFinal, "final");
    } catch (const Error& e) {
        res_.error = e;
        res_.exit = e.exit_code();
        if (action_) {
            try {
                journal_.update_action(action_, journal::ActionStatus::failed, std::nullopt, e.one_line());
            } catch (const Error&) {
            }
        }
        report(step_, "", "failed", e.one_line());
    }
}

} // namespace

Settings settings_of(const config::Config& cfg, const std::filesystem::path& journal_path) {
    Settings s;
    s.uid_attribute = cfg.get("ldap.uid-attribute");
    s.address_attributes.push_back(cfg.get("ldap.mail-attribute"));
    for (auto& a : split_list(cfg.get("ldap.alias-attributes")))
        if (!contains_name(s.address_attributes, a)) s.address_attributes.push_back(std::move(a));
    std::vector<std::string> never{"objectClass", s.uid_attribute};
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
    s.disable_attribute = cfg.get("reprovision.disable-attribute");
    s.disable_value = cfg.get("reprovision.disable-value");
    s.disabled_base = cfg.get("reprovision.disabled-base");
    if (s.disable == DisableMethod::attribute && (s.disable_attribute.empty() || s.disable_value.empty()))
        throw Error(ErrorCategory::config, "[reprovision] disable-method = attribute needs disable-attribute and disable-value",
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

std::int64_t resume_run_of(journal::Journal& journal, std::string_view reference) {
    const auto run = journal.find_run_by_reference(reference);
    if (!run || run->tool != kTool)
        throw Error(ErrorCategory::usage, fmt::format("no reprovision run '{}' in the journal", out::printable(reference)),
                    "list them with `mbx journal list --tool reprovision`");
    return run->id;
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

Result run(const Session& session, const Request& req) {
    const config::Config& cfg = session.config;
    const SecretProvider& secrets = session.secrets;
    if (!session.journal) throw Error(ErrorCategory::internal, "mbx reprovision runs with a journal");
    journal::Journal& journal = *session.journal;
    Progress& progress = session.progress;
    Result res{.user = req.user, .new_uid = req.new_uid};
    if (req.user.empty() || req.new_uid.empty())
        throw Error(ErrorCategory::usage, "give the user and --new-uid NEWUID", "e.g. mbx reprovision alice --new-uid alice2");
    if (req.user == req.new_uid)
        throw Error(ErrorCategory::usage, "--new-uid must differ from the user", "e.g. mbx reprovision alice --new-uid alice2");
    // A bad setting or password file stops before a run is begun.
    (void)settings_of(cfg, journal.path());
    if (req.password_file && !req.dry_run) (void)read_secret_file(*req.password_file);

    std::optional<journal::RunRecord> earlier_run;
    if (req.resume_run) {
        const auto [user, new_uid] = request_of_run(journal, *req.resume_run);
        if (user != req.user || new_uid != req.new_uid)
            throw Error(ErrorCategory::usage,
                        fmt::format("run {} reprovisions {} as {}, not {} as {}", *req.resume_run, in_quotes(user),
                                    in_quotes(new_uid), in_quotes(req.user), in_quotes(req.new_uid)),
                        "give the run's own user and --new-uid, or --resume alone");
        earlier_run = journal.find_run(*req.resume_run);
    } else if (!req.dry_run) {
        earlier_run = previous_run(journal, req.user, req.new_uid);
    }
    Journaled earlier;
    if (earlier_run && !req.dry_run) {
        earlier = journaled(journal, earlier_run->id);
        const bool complete = earlier.done(kLogon) && (!req.cutover || earlier.done(kFinal));
        if (earlier_run->status == journal::RunStatus::running && !earlier_run->stale)
            throw Error(ErrorCategory::temporary,
                        fmt::format("run {} is reprovisioning {} now (pid {} on {})", earlier_run->id, in_quotes(req.user),
                                    earlier_run->pid, earlier_run->host),
                        "wait for it to finish");
        if (earlier.undone()) {
            if (req.resume_run)
                throw Error(ErrorCategory::usage, fmt::format("run {} was undone", earlier_run->id),
                            "start a new reprovision with another --new-uid");
            earlier_run.reset(); // a new attempt: the undone run stays as it is
            earlier = {};
        } else if (complete) {
            res.run_id = earlier_run->id;
            res.old_dn = earlier.find(kInspect) && earlier.find(kInspect)->after
                             ? str(earlier.find(kInspect)->after->value("old", json::object()), "dn")
                             : std::string();
            res.new_dn = str(earlier.find(kInspect)->after.value_or(json{}), "new_dn");
            if (const auto* acct = earlier.find(kAccount))
                res.password_file = str(acct->after.value_or(json{}), "login_file");
            res.steps.push_back({"all", res.old_dn, "already",
                                 fmt::format("{} was reprovisioned as {} by run {}", req.user, req.new_uid,
                                             earlier_run->id)});
            return res;
        }
    }
    if (earlier_run) {
        res.run_id = earlier_run->id;
        res.resumed = true;
        journal.reopen_run(res.run_id);
        journal.add_action(res.run_id, {.kind = std::string(kResume),
                                        .subject = req.user,
                                        .after = json{{"pid", static_cast<std::int64_t>(::getpid())},
                                                      {"previous_status", std::string(journal::to_string(earlier_run->status))}},
                                        .status = journal::ActionStatus::done});
    } else {
        res.run_id = journal.begin_run(
            {.tool = std::string(kTool), .args = req.argv, .dry_run = req.dry_run, .mbx_version = std::string(version())});
    }
    try {
        Reprovisioner r(cfg, secrets, req, journal, progress, res);
        r.run(earlier);
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

} // namespace detail

} // namespace mbx::ops::reprovision
