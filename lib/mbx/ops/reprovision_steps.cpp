// mbx reprovision's steps: inspect, account, mailbox, merge, logon, cutover. Each journals its
// action planned before it changes anything and done after, and is skipped when an earlier run
// of the same reprovisioning did it.
#include "mbx/ops/reprovision_impl.hpp"

#include "mbx/core/interrupt.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/directory/ldif.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/ops/merge_plan.hpp"
#include "mbx/ops/quota.hpp"

namespace mbx::ops::reprovision::detail {

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
    merge::Request m{endpoint(req_.user), endpoint(req_.new_uid), {},
                     req_.dry_run ? std::nullopt : std::optional<std::int64_t>(res_.run_id)};
    m.options.force = req_.force;
    m.options.target_absent = req_.dry_run;
    const Session in_run{.config = cfg_,
                         .secrets = secrets_,
                         .journal = req_.dry_run ? nullptr : &journal_,
                         .run_id = res_.run_id,
                         .progress = progress_,
                         .dry_run = req_.dry_run};
    action_ = begin(kind, req_.user + " -> " + req_.new_uid, std::nullopt, json::object());
    res_.merge = merge::run(in_run, m);
    const auto& r = *res_.merge;
    if (req_.dry_run) {
        for (const auto& f : r.folders)
            report(step, f.plan.source, "would-do",
                   fmt::format("-> {}{}: {} messages, {} to copy", out::printable(f.plan.target),
                               f.created ? " (created)" : "", f.to_copy,
                               out::human_bytes(static_cast<std::int64_t>(f.bytes_to_copy))));
        if (r.stopped) throw *r.stopped; // the pre-flight would refuse: say so now
        return;
    }
    const merge::Totals t = merge::totals_of(r);
    const json after{{"copied", t.copied}, {"failed", t.failed}, {"missing", t.missing}, {"seconds", r.seconds}};
    if (r.exit != ExitCode::ok) {
        if (action_) journal_.update_action(action_, journal::ActionStatus::failed, after,
                                            r.stopped ? r.stopped->one_line() : std::string("incomplete"));
        action_ = 0;
        if (r.stopped) throw *r.stopped;
        throw Error(ErrorCategory::data,
                    fmt::format("the merge into {} is incomplete: {} rejected, {} missing", in_quotes(req_.new_uid),
                                t.failed, t.missing),
                    "see the merge report (`mbx journal show RUN`), fix the cause and run the same command again");
    }
    done(action_, after);
    action_ = 0;
    report(step, req_.user + " -> " + req_.new_uid, "done",
           fmt::format("{} of {} messages copied ({}), verified: nothing missing", t.copied, t.to_copy,
                       out::human_bytes(static_cast<std::int64_t>(t.bytes_to_copy))));
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

} // namespace mbx::ops::reprovision::detail
