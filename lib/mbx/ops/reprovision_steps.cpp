// mbx reprovision's steps: inspect, account, mailbox, merge, logon, cutover. Each step after the
// inspection plans its change (a PlannedAction: kind, subject, before, after, and how to make it)
// and make() hands it to ops::apply, which journals it planned before it is made and done after,
// only journals it in a dry run, and does not make again what an earlier attempt of the run made.
// A step whose planning reads what its change alters (the old entry, the addresses) asks the
// earlier attempts first and reports what they did.
#include "mbx/ops/reprovision_impl.hpp"

#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/directory/ad.hpp"
#include "mbx/directory/directory.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/directory/kind.hpp"
#include "mbx/directory/ldif.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/ops/merge_plan.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/ops/quota_server.hpp"

namespace mbx::ops::reprovision::detail {

std::vector<directory::Attribute> Reprovisioner::new_entry_attributes(const directory::Entry& old) const {
    std::vector<directory::Attribute> attrs;
    attrs.push_back({"objectClass", old.values("objectClass")});
    if (settings_.rdn_attribute != settings_.uid_attribute) attrs.push_back({settings_.rdn_attribute, {req_.new_uid}});
    attrs.push_back({settings_.uid_attribute, {req_.new_uid}});
    if (active_directory()) {
        if (!new_upn_.empty()) attrs.push_back({"userPrincipalName", {new_upn_}});
        // Added disabled: Active Directory takes an enabled account only with a password, which
        // comes next (unicodePwd, over TLS); the account step enables it after.
        attrs.push_back(
            {"userAccountControl",
             {directory::ad::account_control_text(directory::ad::kNormalAccount | directory::ad::kAccountDisable)}});
    }
    for (const auto& a : settings_.copy_attributes)
        if (auto v = old.values(a); !v.empty()) attrs.push_back({a, std::move(v)});
    return attrs;
}

// The new userPrincipalName: NEWUID at the old one's suffix, else at the domain's DNS name
// (the DC= parts of the directory's default naming context).
std::string new_user_principal_name(const directory::Entry& old, const directory::Entry& root_dse,
                                    const std::string& new_uid) {
    if (const auto upn = old.first("userPrincipalName"); upn && upn->find('@') != std::string::npos)
        return new_uid + upn->substr(upn->rfind('@'));
    std::string domain;
    for (const auto& part : split_list(root_dse.first("defaultNamingContext").value_or("")))
        if (part.size() > 3 && iequals(part.substr(0, 3), "dc="))
            domain += (domain.empty() ? "" : ".") + part.substr(3);
    return domain.empty() ? std::string() : new_uid + "@" + domain;
}

// NEWUID must be free: no entry of that login anywhere under the base, nothing at the DN, and
// on Active Directory no entry with the new userPrincipalName.
void Reprovisioner::check_new_uid_free() {
    std::size_t taken = 0;
    std::string taken_dn;
    auto count = [&](const directory::Entry& e) {
        if (taken++ == 0) taken_dn = e.dn;
    };
    dir().search(cfg_.require("ldap.base"), directory::Scope::subtree,
                 directory::user_filter("", settings_.uid_attribute, req_.new_uid), {"1.1"}, count);
    if (!taken && !new_upn_.empty())
        dir().search(cfg_.require("ldap.base"), directory::Scope::subtree,
                     directory::user_filter("", "userPrincipalName", new_upn_), {"1.1"}, count);
    if (!taken && dir().read_entry(res_.new_dn)) {
        taken_dn = res_.new_dn;
        taken = 1;
    }
    if (taken)
        throw Error(ErrorCategory::data,
                    fmt::format("the new uid {} is taken: {} exists", in_quotes(req_.new_uid), in_quotes(taken_dn)),
                    "choose another --new-uid (an earlier reprovision's run is continued with --resume RUN; see "
                    "`mbx journal list --tool reprovision`)");
}

// What the account step needs, checked before anything is changed (in a dry run too): the
// password mechanism of the directory's kind, and on Active Directory an encrypted connection,
// a valid sAMAccountName and the right to create users in `container`. Returns how the
// password will be set, for the report.
std::string Reprovisioner::preflight(const std::string& container) {
    if (!active_directory()) {
        std::vector<std::string> extensions; // none known where the root DSE cannot be read
        try {
            extensions = dir().root_dse().values("supportedExtension");
        } catch (const Error& e) {
            if (e.category() != ErrorCategory::data && e.category() != ErrorCategory::auth) throw;
        }
        if (!extensions.empty() && std::none_of(extensions.begin(), extensions.end(), [](const std::string& e) {
                return trim(e) == directory::kPasswordModifyOid;
            }))
            throw Error(ErrorCategory::config,
                        "the directory does not offer Password Modify (RFC 3062), which sets the new password",
                        "if it is Active Directory, set [ldap] kind = active-directory");
        return "Password Modify (RFC 3062)";
    }
    if (const auto problem = directory::ad::sam_account_name_problem(req_.new_uid))
        throw Error(ErrorCategory::usage,
                    fmt::format("--new-uid {} cannot be a sAMAccountName: {}", in_quotes(req_.new_uid), *problem),
                    "choose another --new-uid");
    if (!dir().encrypted())
        throw Error(ErrorCategory::config, "Active Directory takes a new password only over an encrypted connection",
                    "use an ldaps:// [ldap] uri, or ldap:// with [ldap] starttls = true");
    // allowedChildClassesEffective: the classes this bind may create under the container.
    std::vector<std::string> may_create;
    dir().search(container, directory::Scope::base, "(objectClass=*)", {"allowedChildClassesEffective"},
                 [&](const directory::Entry& e) { may_create = e.values("allowedChildClassesEffective"); });
    if (!contains_name(may_create, "user"))
        throw Error(ErrorCategory::auth,
                    fmt::format("the bind DN may not create users in {} (its allowedChildClassesEffective has no user)",
                                in_quotes(container)),
                    "delegate \"Create, delete and manage user accounts\" on that container to [ldap] bind-dn, or set "
                    "[reprovision] base to a container where it may");
    return "unicodePwd over TLS; the bind DN may create users in " + out::printable(container);
}

void Reprovisioner::inspect() {
    phase("inspect");
    if (const auto* a = earlier_.find(kInspect, req_.user); a && a->status == journal::ActionStatus::done && a->after) {
        snapshot_ = a->after->value("old", json::object());
        res_.old_dn = str(snapshot_, "dn");
        res_.new_dn = str(*a->after, "new_dn");
        new_upn_ = str(*a->after, "new_upn");
        report("inspect", res_.old_dn, StepStatus::already, "as inspected when the run began");
        return;
    }
    action_ = begin(kInspect, req_.user, std::nullopt, json{{"new_uid", req_.new_uid}});
    // Every user attribute, and the disable attribute by name (389-DS's nsAccountLock is
    // operational): the snapshot records whether the old account was locked already.
    std::vector<std::string> read{"*"};
    if (!settings_.disable_attribute.empty()) read.push_back(settings_.disable_attribute);
    const auto old = find_user(dir(), cfg_, req_.user, read);
    res_.old_dn = old.dn;
    const auto [rdn, parent] = directory::split_rdn(old.dn);
    const std::string container = settings_.base.empty() ? parent : settings_.base;
    // Active Directory writes its RDNs "CN=": the new entry is named as its neighbours are.
    res_.new_dn = (active_directory() ? std::string("CN") : settings_.rdn_attribute) + "=" +
                  directory::escape_dn_value(req_.new_uid) + "," + container;
    if (active_directory()) new_upn_ = new_user_principal_name(old, dir().root_dse(), req_.new_uid);
    const std::string password_how = preflight(container);
    check_new_uid_free();

    std::vector<std::string> addresses;
    for (const auto& a : settings_.address_attributes)
        if (old.has(a)) addresses.push_back(a);
    snapshot_ = json{{"dn", old.dn},
                     {"ldif", directory::ldif_entry(old, kSecretAttributes)},
                     {"addresses", values_of(&old, addresses)}};
    if (settings_.disable == DisableMethod::attribute || settings_.disable == DisableMethod::account_control)
        snapshot_["disable"] = values_of(&old, {settings_.disable_attribute});
    json after{{"new_uid", req_.new_uid}, {"new_dn", res_.new_dn}, {"kind", settings_.kind}, {"old", snapshot_}};
    if (!new_upn_.empty()) after["new_upn"] = new_upn_;
    done(action_, after);
    action_ = 0;
    std::string mail;
    for (const auto& [attr, values] : snapshot_["addresses"].items())
        for (const auto& v : values) mail += (mail.empty() ? "" : ", ") + v.get<std::string>();
    report("inspect", old.dn, req_.dry_run ? StepStatus::would_do : StepStatus::done,
           fmt::format("{} directory; password by {}; {}", settings_.kind, password_how,
                       mail.empty() ? "no mail address to move" : "addresses to move: " + out::printable(mail)));
}

void Reprovisioner::account() {
    phase("account");
    // Its planning reads the old entry, which the cutover changes: an attempt that made the
    // account is only reported.
    const auto* a = earlier_.find(kAccount, req_.new_uid);
    if (a && a->status == journal::ActionStatus::done) {
        res_.password_file = str(a->after.value_or(json{}), "login_file");
        report("account", res_.new_dn, StepStatus::already, "created when the run began");
        return;
    }
    const auto old = dir().read_entry(res_.old_dn);
    if (!old)
        throw Error(ErrorCategory::data, fmt::format("the old entry {} no longer exists", in_quotes(res_.old_dn)),
                    "restore it, or start over with another --new-uid");
    const auto attrs = new_entry_attributes(*old);
    const std::string ldif = directory::ldif_add(res_.new_dn, attrs);
    // The new entry exists when an attempt of this run made it before it stopped (only the
    // password may be missing); anyone else's is not ours, and nothing is journaled for it.
    const bool exists = dir().read_entry(res_.new_dn).has_value();
    if (exists && !a)
        throw Error(ErrorCategory::data, fmt::format("{} exists already", in_quotes(res_.new_dn)),
                    "choose another --new-uid");

    // The password: the file of the interrupted attempt, the admin's file, or a new one, written
    // as the account is made. An attempt stopped before it wrote its new file never told the
    // directory that password: a new one goes to the same file.
    const std::filesystem::path fresh =
        settings_.password_dir / fmt::format("{}-run{}.password", safe_file_part(req_.new_uid), res_.run_id);
    const std::string attempt_file = a ? str(a->after.value_or(json{}), "login_file") : std::string();
    // A --password-file given now wins over the attempt's file: the attempt's password may be
    // the one the directory refused.
    const std::filesystem::path file = req_.password_file      ? *req_.password_file
                                       : !attempt_file.empty() ? std::filesystem::path(attempt_file)
                                                               : fresh;
    std::error_code ec;
    const bool generated = file == fresh && !std::filesystem::exists(file, ec);
    if (!generated) password_ = read_secret_file(file);
    PlannedAction add{.kind = kind::kReprovisionAccount,
                      .subject = req_.new_uid,
                      .before = json{{"dn", res_.new_dn}, {"exists", false}},
                      .after = json{{"dn", res_.new_dn}, {"login_file", file.string()}, {"ldif", ldif}}};
    add.apply = [&] { make_account(attrs, file, generated, exists); };
    const Applied applied = make(std::move(add));
    if (applied == Applied::planned && generated) {
        report("account", res_.new_dn, StepStatus::would_do,
               "a new random password would be written to a 0600 file in " +
                   out::printable(settings_.password_dir.string()),
               ldif);
        return;
    }
    res_.password_file = file;
    if (applied == Applied::planned)
        report("account", res_.new_dn, StepStatus::would_do, "password from " + out::printable(file.string()), ldif);
    else
        report("account", res_.new_dn, StepStatus::done,
               "password in " + out::printable(file.string()) + " (mode 0600)", ldif);
}

void Reprovisioner::make_account(const std::vector<directory::Attribute>& attrs, const std::filesystem::path& file,
                                 bool generated, bool exists) {
    if (generated) {
        password_ = generate_password();
        write_password_file(file, *password_);
    }
    if (!exists) dir().add(res_.new_dn, attrs);
    try {
        set_new_password();
    } catch (const Error& e) {
        if (e.category() != ErrorCategory::data) throw;
        // The entry is there without a password: a retry with the same password meets the same
        // refusal, so say what can change the outcome.
        throw Error(ErrorCategory::data, e.what(),
                    fmt::format("the entry was added without a password: give one the directory's policy accepts "
                                "with --password-file FILE and run the same command again, or take the entry back "
                                "with `mbx journal undo {}`",
                                res_.run_id));
    }
    if (!active_directory()) return;
    // Enabled once it has its password: ACCOUNTDISABLE cleared, the old flags the precondition.
    const auto entry = dir().read_entry(res_.new_dn);
    const std::string flags = entry ? entry->first("userAccountControl").value_or("") : std::string();
    const std::string enabled = with_disable_bit(flags, false, res_.new_dn);
    if (enabled != flags)
        dir().modify(res_.new_dn,
                     changes_from(json{{"userAccountControl", {flags}}}, json{{"userAccountControl", {enabled}}}));
}

void Reprovisioner::set_new_password() {
    if (active_directory()) dir().set_unicode_password(res_.new_dn, *password_);
    else dir().set_password(res_.new_dn, *password_);
}

void Reprovisioner::mailbox() {
    phase("mailbox");
    json made; // what create_folders made, once it has
    PlannedAction create{.kind = kind::kReprovisionMailbox, .subject = req_.new_uid, .after = json::object()};
    create.apply = [&] { made = create_folders(); };
    create.made = [&] { return made.is_null() ? std::nullopt : std::optional<json>(made); };
    const Applied applied = make(std::move(create));
    if (applied == Applied::planned) {
        report("mailbox", req_.new_uid, StepStatus::would_do,
               "log in as the new user (the server makes INBOX), create the folders the merge plan marks "
               "(created) and any missing folder a device needs (Drafts, Sent, Trash), under the "
               "server's personal prefix; where limits live on the server, give it the old mailbox's limit");
        return;
    }
    if (applied == Applied::already) {
        const std::string carried = carry_limit();
        report("mailbox", req_.new_uid, StepStatus::already,
               "made when the run began" + (carried.empty() ? "" : "; " + carried));
        return;
    }
    const auto created = strings(made["created"]);
    std::string list;
    for (const auto& c : created) list += (list.empty() ? "" : ", ") + out::printable(c);
    std::string detail =
        created.empty() ? "every folder exists" : fmt::format("created {} folders: {}", created.size(), list);
    if (made.contains("user_mailbox"))
        detail = fmt::format("the admin created the mailbox {} (the server makes none at login); {}",
                             out::printable(made["user_mailbox"].get<std::string>()), detail);
    if (const std::string carried = carry_limit(); !carried.empty()) detail += "; " + carried;
    report("mailbox", req_.new_uid, StepStatus::done, detail);
}

// Where limits live on the IMAP server ([quota] limits: Cyrus keeps its own), the new mailbox
// gets the old one's STORAGE limit, as a `quota.raise-server` action of this run (so the run's
// undo takes it back). Again on a resumed run: setting the same limit changes nothing. Returns
// a line for the report; empty where limits live in the directory (the account step copied the
// quota attribute).
std::string Reprovisioner::carry_limit() {
    if (limits_location(cfg_, secrets_) != LimitsLocation::server) return {};
    std::optional<std::int64_t> limit;
    auto read_limit = [&](imap::Connection& conn, const std::string& mailbox) {
        for (const auto& q : imap::get_quota_root(conn, mailbox).quotas)
            if (const auto* s = q.find("STORAGE"); s && s->limit > 0 && !limit)
                limit = static_cast<std::int64_t>(s->limit);
        conn.logout();
    };
    // As the admin (Cyrus); a server whose admin only logs in as others (a Dovecot master user)
    // shows the old user's limit to the master login as that user.
    bool admin_login = true;
    try {
        auto conn = imap::Connection::open(imap_admin_config(cfg_, secrets_));
        read_limit(conn, imap::other_user_mailbox(imap::namespaces(conn), req_.user));
    } catch (const Error& e) {
        if (e.category() != ErrorCategory::auth) throw;
        admin_login = false;
        auto conn = imap::Connection::open(imap_master_config(cfg_, secrets_, req_.user));
        read_limit(conn, "INBOX");
    }
    if (!limit) return "the old mailbox has no STORAGE limit on the server: none to carry";
    if (!admin_login)
        return fmt::format("the old mailbox's limit {} was not carried: the server's admin cannot log in as itself "
                           "to SETQUOTA (Dovecot's master users log in only as others); give the new mailbox that "
                           "limit with the server's own tools",
                           out::human_bytes(*limit));
    const RaiseRow row = raise_server_quota(in_run(true), RaiseRequest{.user = req_.new_uid, .to = *limit});
    return fmt::format("its limit {} set as the old mailbox's (SETQUOTA {}: {})", out::human_bytes(*limit),
                       out::printable(row.quota_root), raise_result_name(row.result));
}

// The new user's mailbox, made by the admin on a server that makes none at the first login
// (Cyrus without autocreate): the admin logs in as itself and creates it in the other-users
// namespace ("user.alice2"). Returns its name.
std::string Reprovisioner::create_user_mailbox() {
    auto conn = imap::Connection::open(imap_admin_config(cfg_, secrets_));
    const std::string name = imap::other_user_mailbox(imap::namespaces(conn), req_.new_uid);
    imap::create_mailbox(conn, name);
    conn.logout();
    return name;
}

json Reprovisioner::create_folders() {
    auto target = imap::Connection::open(imap_master_config(cfg_, secrets_, req_.new_uid));
    std::string user_mailbox;
    try {
        imap::select(target, "INBOX", true); // the server creates the mailbox at the first login
    } catch (const Error& e) {
        if (e.category() != ErrorCategory::data) throw;
        user_mailbox = create_user_mailbox();
        target = imap::Connection::open(imap_master_config(cfg_, secrets_, req_.new_uid));
        imap::select(target, "INBOX", true);
    }
    auto source = imap::Connection::open(imap_master_config(cfg_, secrets_, req_.user));
    const merge::Hierarchy source_folders{
        merge::folders_of(imap::list_mailboxes(source), imap::subscribed_mailboxes(source)),
        merge::namespaces_of(imap::namespaces(source))};
    source.logout();
    merge::Hierarchy target_folders{merge::folders_of(imap::list_mailboxes(target), imap::subscribed_mailboxes(target)),
                                    merge::namespaces_of(imap::namespaces(target))};
    std::vector<std::string> created, subscribed;
    for (const auto& p : merge::plan_folders(source_folders, target_folders, {}).folders) {
        if (p.create) {
            imap::create_mailbox(target, p.target, p.special_use);
            created.push_back(p.target);
        }
        if (p.subscribe) {
            imap::subscribe(target, p.target);
            subscribed.push_back(p.target);
        }
    }
    target_folders.folders = merge::folders_of(imap::list_mailboxes(target), imap::subscribed_mailboxes(target));
    // A standard folder is made in the user's own namespace: "INBOX.Sent" on Cyrus, "Sent" on Dovecot.
    const std::string prefix = merge::namespace_of("INBOX", target_folders.namespaces).prefix;
    auto has_use = [](const std::vector<merge::Folder>& fs, std::string_view use) {
        return std::any_of(fs.begin(), fs.end(), [&](const merge::Folder& f) { return iequals(f.special_use, use); });
    };
    auto has_name = [](const std::vector<merge::Folder>& fs, std::string_view name) {
        return std::any_of(fs.begin(), fs.end(), [&](const merge::Folder& f) { return f.name == name; });
    };
    for (auto [use, base] : kStandardFolders) {
        const std::string name = prefix + std::string(base);
        if (has_use(target_folders.folders, use) || has_name(target_folders.folders, name)) continue;
        imap::create_mailbox(target, name, use);
        imap::subscribe(target, name);
        created.push_back(name);
        subscribed.push_back(name);
    }
    target.logout();
    json made{{"created", created}, {"subscribed", subscribed}};
    if (!user_mailbox.empty()) made["user_mailbox"] = user_mailbox; // made by the admin
    return made;
}

merge::Request Reprovisioner::merge_request() {
    // The run's own earlier merge passes (an interrupted attempt, the first pass before the
    // cutover's last one) tell which target messages this run copied: their flags follow the
    // source's.
    merge::Request m{endpoint(req_.user), endpoint(req_.new_uid), {}, res_.run_id};
    m.options.force = req_.force;
    return m;
}

void Reprovisioner::merge_pass(const char* action_kind, const char* step) {
    phase(step);
    std::optional<json> after; // the pass's totals, once the merge has run
    PlannedAction pass{.kind = action_kind, .subject = pair(), .after = json::object()};
    pass.apply = [&] {
        res_.merge = merge::run(in_run(true), merge_request());
        const auto& r = *res_.merge;
        const merge::Totals t = merge::totals_of(r);
        after = json{{"copied", t.copied}, {"failed", t.failed}, {"missing", t.missing}, {"seconds", r.seconds}};
        if (r.exit == ExitCode::ok) return;
        if (r.stopped) throw *r.stopped;
        throw Error(ErrorCategory::data,
                    fmt::format("the merge into {} is incomplete: {} rejected, {} missing", in_quotes(req_.new_uid),
                                t.failed, t.missing),
                    "see the merge report (`mbx journal show RUN`), fix the cause and run the same command again");
    };
    pass.made = [&] { return after; };
    const Applied applied = make(std::move(pass));
    if (applied == Applied::planned) {
        report_merge_plan(step);
        return;
    }
    if (applied == Applied::already) {
        report(step, pair(), StepStatus::already,
               std::string_view(action_kind) == kMerge ? "copied and verified earlier in the run"
                                                       : "done earlier in the run");
        return;
    }
    const merge::Totals t = merge::totals_of(*res_.merge);
    report(step, pair(), StepStatus::done,
           fmt::format("{} of {} messages copied ({}), verified: nothing missing", t.copied, t.to_copy,
                       out::human_bytes(static_cast<std::int64_t>(t.bytes_to_copy))));
}

// A dry run's merge pass: the merge's own dry run, folder by folder, into a target that does not
// exist yet, and nothing journaled.
void Reprovisioner::report_merge_plan(const char* step) {
    merge::Request m = merge_request();
    m.resume_run.reset();
    m.options.target_absent = true;
    res_.merge = merge::run(in_run(false), m);
    const auto& r = *res_.merge;
    for (const auto& f : r.folders)
        report(step, f.plan.source, StepStatus::would_do,
               fmt::format("-> {}{}: {} messages, {} to copy", out::printable(f.plan.target),
                           f.created ? " (created)" : "", f.to_copy,
                           out::human_bytes(static_cast<std::int64_t>(f.bytes_to_copy))));
    if (r.stopped) throw *r.stopped; // the pre-flight would refuse: say so now
}

void Reprovisioner::logon() {
    phase("logon");
    std::optional<std::uint64_t> messages; // in INBOX, once logged in
    PlannedAction check{.kind = kind::kReprovisionLogon, .subject = req_.new_uid, .after = json::object()};
    check.apply = [&] { messages = log_in_as_new(); };
    check.made = [&] {
        return messages ? std::optional<json>(json{{"login", "ok"}, {"inbox_messages", *messages}}) : std::nullopt;
    };
    const Applied applied = make(std::move(check));
    if (applied == Applied::planned)
        report("logon", req_.new_uid, StepStatus::would_do,
               "log in as the new user with the new password, SELECT INBOX");
    else if (applied == Applied::already)
        report("logon", req_.new_uid, StepStatus::already, "checked earlier in the run");
    else
        report("logon", req_.new_uid, StepStatus::done,
               fmt::format("logged in with the new password; INBOX holds {} messages", messages.value_or(0)));
}

// A real login as the new user with the new password; the messages INBOX holds.
std::uint64_t Reprovisioner::log_in_as_new() {
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
    try {
        auto conn = imap::Connection::open(config);
        const std::uint64_t messages = imap::select(conn, "INBOX", true).exists;
        conn.logout();
        return messages;
    } catch (const Error& e) {
        if (e.category() != ErrorCategory::auth) throw;
        throw Error(ErrorCategory::auth,
                    fmt::format("the new user {} cannot log in with its new password", in_quotes(req_.new_uid)),
                    "check that the IMAP server reads passwords from this directory entry, then resume");
    }
}

void Reprovisioner::cutover() {
    phase("cutover");
    // Its planning reads the addresses it moves: an attempt that cut over is only reported.
    if (earlier_.done(kCutover, req_.user)) {
        report("cutover", res_.old_dn, StepStatus::already, "cut over earlier in the run");
        return;
    }
    json before, after;
    const auto* a = earlier_.find(kCutover, req_.user);
    const bool interrupted = a && a->status == journal::ActionStatus::planned && a->before && a->after;
    if (interrupted) {
        before = *a->before; // finish the very same change (make() finishes its record)
        after = *a->after;
    } else {
        std::tie(before, after) = plan_cutover();
    }
    const std::string moved_dn = str(after, "old_dn");
    const auto new_changes = replace_all(after["new"]);
    const auto old_changes = replace_all(after["old"]);
    std::string ldif;
    if (!new_changes.empty()) ldif += directory::ldif_modify(res_.new_dn, new_changes);
    if (!old_changes.empty()) ldif += directory::ldif_modify(res_.old_dn, old_changes);
    const auto [rdn, parent] = directory::split_rdn(res_.old_dn);
    if (moved_dn != res_.old_dn)
        ldif += directory::ldif_modrdn(res_.old_dn, rdn, directory::split_rdn(moved_dn).second);
    std::string what;
    for (const auto& [attr, values] : after["new"].items())
        what += fmt::format("{}{} ({} value{})", what.empty() ? "" : ", ", attr, values.size(),
                            values.size() == 1 ? "" : "s");
    std::string how = "left enabled";
    if (settings_.disable == DisableMethod::attribute)
        how = fmt::format("{}: {}", settings_.disable_attribute, settings_.disable_value);
    else if (settings_.disable == DisableMethod::move) how = "moved to " + out::printable(moved_dn);
    else if (settings_.disable == DisableMethod::account_control)
        how = fmt::format(
            "disabled: {} {} -> {} (ACCOUNTDISABLE set, the other flags kept)", settings_.disable_attribute,
            out::printable(strings(before["old"].value(settings_.disable_attribute, json::array())).front()),
            out::printable(strings(after["old"].value(settings_.disable_attribute, json::array())).front()));
    const std::string detail =
        fmt::format("{} move to {}; old account {}", what.empty() ? std::string("no addresses") : what,
                    out::printable(req_.new_uid), how);
    if (!interrupted) after["ldif"] = ldif;
    PlannedAction cut{.kind = kind::kReprovisionCutover, .subject = req_.user, .before = before, .after = after};
    cut.apply = [&] { cut_over(moved_dn, new_changes, old_changes); };
    report("cutover", res_.old_dn, make(std::move(cut)) == Applied::planned ? StepStatus::would_do : StepStatus::done,
           detail, ldif);
}

// The cutover's before and after: the addresses from the old entry as inspected to the new one,
// the old one disabled ([reprovision] disable-method).
std::pair<json, json> Reprovisioner::plan_cutover() {
    const json addresses = snapshot_.value("addresses", json::object());
    std::vector<std::string> attrs;
    for (const auto& [attr, values] : addresses.items()) attrs.push_back(attr);
    // A dry run made no new entry: it would hold none of them.
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
    if (settings_.disable == DisableMethod::account_control) {
        // The flags as they are now (the change is made with them as its precondition).
        const auto old_now = dir().read_entry(res_.old_dn);
        if (!old_now)
            throw Error(ErrorCategory::data, fmt::format("the old entry {} no longer exists", in_quotes(res_.old_dn)));
        const std::string flags = old_now->first(settings_.disable_attribute).value_or("");
        old_before[settings_.disable_attribute] = json::array({flags});
        old_after[settings_.disable_attribute] = json::array({with_disable_bit(flags, true, res_.old_dn)});
    }
    std::string moved_dn = res_.old_dn;
    if (settings_.disable == DisableMethod::move)
        moved_dn = directory::split_rdn(res_.old_dn).first + "," + settings_.disabled_base;
    return {json{{"old_dn", res_.old_dn},
                 {"new_dn", res_.new_dn},
                 {"old", old_before},
                 {"new", values_of(&*now_new, attrs)}},
            json{{"old_dn", moved_dn}, {"new_dn", res_.new_dn}, {"old", old_after}, {"new", addresses}}};
}

void Reprovisioner::cut_over(const std::string& moved_dn, const std::vector<directory::Modification>& new_changes,
                             const std::vector<directory::Modification>& old_changes) {
    // The new entry gets the addresses first: for a moment both entries have them (mail is
    // delivered, not bounced), then the old one loses them and is disabled.
    if (!new_changes.empty()) dir().modify(res_.new_dn, new_changes);
    std::string at = res_.old_dn;
    if (!dir().read_entry(at)) {
        if (moved_dn != res_.old_dn && dir().read_entry(moved_dn)) at = moved_dn;
        else throw Error(ErrorCategory::data, fmt::format("the old entry {} no longer exists", in_quotes(res_.old_dn)));
    }
    // Against what the entry holds now: a resumed cutover does not make its change twice, and
    // userAccountControl is changed only from the value the run read.
    if (!old_changes.empty()) {
        std::vector<std::string> names;
        for (const auto& c : old_changes) names.push_back(c.attribute);
        const auto old_now = dir().read_entry(at, names); // by name: nsAccountLock is operational
        json want = json::object(), now = json::object();
        for (const auto& c : old_changes) {
            want[c.attribute] = c.values;
            now[c.attribute] = old_now ? old_now->values(c.attribute) : std::vector<std::string>{};
        }
        const auto mods = changes_from(now, want);
        try {
            if (!mods.empty()) dir().modify(at, mods);
        } catch (const Error& e) {
            const bool flags = std::any_of(mods.begin(), mods.end(), [](const directory::Modification& m) {
                return m.op == directory::Modification::Op::remove && iequals(m.attribute, "userAccountControl");
            });
            if (e.category() != ErrorCategory::data || !flags) throw;
            // The precondition: the flags changed between the read and the write.
            throw Error(ErrorCategory::temporary,
                        fmt::format("userAccountControl of {} changed while the cutover disabled it ({})",
                                    in_quotes(at), e.what()),
                        "run the same command again: the cutover reads the flags anew");
        }
    }
    if (at != moved_dn)
        dir().rename(at, directory::split_rdn(res_.old_dn).first, directory::split_rdn(moved_dn).second);
}

} // namespace mbx::ops::reprovision::detail
