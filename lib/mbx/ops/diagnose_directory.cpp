// mbx diagnose: the directory checks.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose::detail {

void Diagnosis::directory_checks() {
    step("directory");
    if (!dir_) {
        add({.area = "directory", .check = "entry", .status = Status::skipped,
             .detail = "the directory could not be reached"});
        return;
    }
    try {
        directory_entry();
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::config) throw;
        add({.area = "directory", .check = "entry", .status = Status::failed, .mis = "MIS_5",
             .detail = "directory search failed: " + e.one_line(),
             .remedy = "retry; if it persists, check the directory server's log"});
    }
}

std::vector<std::string> Diagnosis::entry_attributes() const {
    std::vector<std::string> attrs = quota_attributes(cfg_);
    for (const auto& a : split_list(cfg_.get("ldap.alias-attributes"))) attrs.push_back(a);
    if (cfg_.get("reprovision.disable-method") == "attribute") attrs.push_back(cfg_.get("reprovision.disable-attribute"));
    return attrs;
}

void Diagnosis::directory_entry() {
    const std::string base = cfg_.require("ldap.base");
    const std::string uid_attr = cfg_.get("ldap.uid-attribute");
    // Every entry with this uid, whatever the user filter says: a second one is the classic
    // sign of a provisioning that went wrong.
    std::vector<directory::Entry> same_uid;
    dir_->search(base, directory::Scope::subtree, directory::user_filter("", uid_attr, req_.user),
                 entry_attributes(), [&](const directory::Entry& e) {
                     if (same_uid.size() < 20) same_uid.push_back(e);
                 });
    std::set<std::string> users;
    dir_->search(base, directory::Scope::subtree,
                 directory::user_filter(cfg_.get("ldap.user-filter"), uid_attr, req_.user), {"1.1"},
                 [&](const directory::Entry& e) { users.insert(e.dn); });
    std::sort(same_uid.begin(), same_uid.end(), [](const auto& a, const auto& b) { return a.dn < b.dn; });
    if (same_uid.empty()) {
        user_missing_ = true;
        add({.area = "directory", .check = "entry", .status = Status::failed,
             .detail = fmt::format("no entry with {} '{}' under {}", uid_attr, p(req_.user), p(base)),
             .remedy = "check the spelling and [ldap] base; the history below shows whether mbxkit renamed or "
                       "replaced the account"});
        return;
    }
    // The entry to diagnose: the one the user filter selects (the one the mail server uses);
    // of several, the one named by its uid (uid=USER,...), as provisioning names them.
    const std::string rdn = uid_attr + "=" + directory::escape_dn_value(req_.user) + ",";
    auto chosen = std::find_if(same_uid.begin(), same_uid.end(), [&](const auto& e) {
        return users.contains(e.dn) && e.dn.size() > rdn.size() && iequals(e.dn.substr(0, rdn.size()), rdn);
    });
    if (chosen == same_uid.end())
        chosen = std::find_if(same_uid.begin(), same_uid.end(), [&](const auto& e) { return users.contains(e.dn); });
    if (chosen == same_uid.end()) {
        entry_ = same_uid.front();
        add({.area = "directory", .check = "entry", .status = Status::failed, .mis = "MIS_5",
             .detail = fmt::format("{} has {} '{}' but does not match [ldap] user-filter {}: it is not a mail "
                                   "user for mbxkit (nor, likely, for the mail server)",
                                   p(entry_->dn), uid_attr, p(req_.user), p(cfg_.get("ldap.user-filter"))),
             .remedy = "give the entry back what the filter needs (objectClass, attributes); if its provisioning "
                       "is damaged beyond that, create a fresh account: `mbx reprovision " + p(req_.user) +
                       " --new-uid NEWUID`"});
    } else {
        entry_ = *chosen;
        add({.area = "directory", .check = "entry", .status = Status::ok, .detail = p(entry_->dn)});
    }
    report_.dn = entry_->dn;
    uid_ = entry_->first(uid_attr).value_or(req_.user);
    if (same_uid.size() > 1) {
        std::vector<std::string> dn_list;
        for (const auto& e : same_uid) dn_list.push_back(e.dn);
        const std::string dns = joined(dn_list, "; ");
        add({.area = "directory", .check = "uid-unique", .status = Status::failed, .mis = "MIS_5",
             .detail = fmt::format("{} '{}' is on {} entries: {}", uid_attr, p(req_.user), same_uid.size(), dns),
             .remedy = "a corrupted provisioning: keep the entry the mailbox belongs to, remove or rename the "
                       "other (save it first: ldapsearch -LLL ... > saved.ldif), then `mbx diagnose " +
                       p(req_.user) + "` again"});
    } else {
        add({.area = "directory", .check = "uid-unique", .status = Status::ok,
             .detail = fmt::format("one entry has {} '{}'", uid_attr, p(req_.user))});
    }
    enabled_check();
    mail_checks(base);
}

void Diagnosis::enabled_check() {
    const std::string method = cfg_.get("reprovision.disable-method");
    if (method == "attribute") {
        const std::string attr = cfg_.get("reprovision.disable-attribute");
        if (auto v = entry_->first(attr)) {
            add({.area = "directory", .check = "enabled", .status = Status::failed, .mis = "MIS_5",
                 .detail = fmt::format("the account is disabled: {}: {}", attr, p(*v)),
                 .remedy = fmt::format("if it should sync again, remove {} from the entry; if `mbx reprovision` "
                                       "disabled it, the user has a new account (see the history)",
                                       attr)});
            return;
        }
        add({.area = "directory", .check = "enabled", .status = Status::ok,
             .detail = fmt::format("no {} on the entry", attr)});
    } else if (method == "move") {
        const std::string disabled = cfg_.get("reprovision.disabled-base");
        const std::string dn = entry_->dn;
        const bool under = !disabled.empty() && dn.size() > disabled.size() &&
                           iequals(std::string_view(dn).substr(dn.size() - disabled.size()), disabled) &&
                           dn[dn.size() - disabled.size() - 1] == ',';
        add({.area = "directory", .check = "enabled", .status = under ? Status::failed : Status::ok,
             .mis = under ? "MIS_5" : "",
             .detail = under ? fmt::format("the entry is under [reprovision] disabled-base {}", p(disabled))
                             : fmt::format("not under [reprovision] disabled-base {}", p(disabled)),
             .remedy = under ? "move it back if it should sync again; if `mbx reprovision` moved it, the user "
                               "has a new account (see the history)"
                             : ""});
    } else {
        add({.area = "directory", .check = "enabled", .status = Status::skipped,
             .detail = "[reprovision] disable-method is none: no account state to check"});
    }
}

void Diagnosis::mail_checks(const std::string& base) {
    const std::string mail_attr = cfg_.get("ldap.mail-attribute");
    const auto mails = entry_->values(mail_attr);
    if (mails.empty() || mails.front().find('@') == std::string::npos) {
        add({.area = "directory", .check = "mail", .status = Status::failed, .mis = "MIS_5",
             .detail = mails.empty() ? fmt::format("the entry has no {}", mail_attr)
                                     : fmt::format("{} '{}' is not a mail address", mail_attr, p(mails.front())),
             .remedy = fmt::format("give the entry its address ({}); ActiveSync provisions a device by it",
                                   mail_attr)});
    } else {
        report_.mail = mails.front();
        add({.area = "directory", .check = "mail", .status = Status::ok, .detail = p(mails.front())});
    }
    // Every address of the entry (main and aliases), on no other entry.
    std::vector<std::string> attrs{mail_attr};
    for (const auto& a : split_list(cfg_.get("ldap.alias-attributes"))) attrs.push_back(a);
    std::vector<std::string> addresses;
    for (const auto& a : attrs)
        for (const auto& v : entry_->values(a))
            if (addresses.size() < 20 && std::find(addresses.begin(), addresses.end(), v) == addresses.end())
                addresses.push_back(v);
    if (addresses.empty()) return;
    std::string filter = "(|";
    for (const auto& v : addresses)
        for (const auto& a : attrs) filter += "(" + a + "=" + directory::escape_filter_value(v) + ")";
    filter += ")";
    std::vector<directory::Entry> others;
    dir_->search(base, directory::Scope::subtree, filter, attrs, [&](const directory::Entry& e) {
        if (e.dn != entry_->dn && others.size() < 20) others.push_back(e);
    });
    if (others.empty()) {
        add({.area = "directory", .check = "mail-unique", .status = Status::ok,
             .detail = fmt::format("{} address{} on this entry only", addresses.size(),
                                   addresses.size() == 1 ? "" : "es")});
        return;
    }
    std::string clash;
    for (const auto& o : others)
        for (const auto& a : attrs)
            for (const auto& v : o.values(a))
                if (std::find(addresses.begin(), addresses.end(), v) != addresses.end())
                    clash += fmt::format("{}{} is also on {}", clash.empty() ? "" : "; ", p(v), p(o.dn));
    add({.area = "directory", .check = "mail-unique", .status = Status::failed, .mis = "MIS_5",
         .detail = clash,
         .remedy = "an address on two entries: remove it from the one that should not have it (a cutover that "
                   "stopped halfway leaves it on both: see the history)"});
}

} // namespace mbx::ops::diagnose::detail
