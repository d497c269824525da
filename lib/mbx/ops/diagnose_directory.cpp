// mbx diagnose: the directory checks. Gathering (the searches) in the Diagnosis; the judge over
// the facts (diagnose_judge.hpp) below it.
#include "mbx/ops/diagnose_impl.hpp"

#include "mbx/directory/ad.hpp"
#include "mbx/directory/directory.hpp"
#include "mbx/directory/entry.hpp"

#include "mbx/directory/kind.hpp"
#include "mbx/ops/user_schema.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace mbx::ops::diagnose {

using detail::joined;
using detail::p;

const directory::Entry* chosen_entry(const DirectoryFacts& facts) {
    const auto& same_uid = facts.same_uid;
    if (same_uid.empty()) return nullptr;
    const std::string rdn = facts.uid_attribute + "=" + directory::escape_dn_value(facts.user) + ",";
    auto chosen = std::find_if(same_uid.begin(), same_uid.end(), [&](const auto& e) {
        return facts.filtered.contains(e.dn) && e.dn.size() > rdn.size() && iequals(e.dn.substr(0, rdn.size()), rdn);
    });
    if (chosen == same_uid.end())
        chosen = std::find_if(same_uid.begin(), same_uid.end(),
                              [&](const auto& e) { return facts.filtered.contains(e.dn); });
    return chosen == same_uid.end() ? &same_uid.front() : &*chosen;
}

namespace {

std::vector<std::string> address_attributes(const DirectoryFacts& facts) {
    std::vector<std::string> attrs{facts.mail_attribute};
    attrs.insert(attrs.end(), facts.alias_attributes.begin(), facts.alias_attributes.end());
    return attrs;
}

} // namespace

std::vector<std::string> entry_addresses(const directory::Entry& entry, const DirectoryFacts& facts) {
    // The addresses, not the values: proxyAddresses' "SMTP:a@x" is a@x, its "X500:..." none.
    std::vector<std::string> addresses;
    for (const auto& a : address_attributes(facts))
        for (const auto& v : entry.values(a)) {
            const auto address = directory::ad::address_in(a, v);
            if (address && addresses.size() < 20 &&
                std::none_of(addresses.begin(), addresses.end(),
                             [&](const std::string& x) { return iequals(x, *address); }))
                addresses.push_back(*address);
        }
    return addresses;
}

std::optional<std::string> mail_address(const directory::Entry& entry, const DirectoryFacts& facts) {
    const auto mails = entry.values(facts.mail_attribute);
    if (mails.empty() || mails.front().find('@') == std::string::npos) return std::nullopt;
    return mails.front();
}

namespace {

Finding search_failed(const Error& e) {
    return {.area = "directory",
            .check = "entry",
            .status = Status::failed,
            .mis = "MIS_5",
            .detail = "directory search failed: " + e.one_line(),
            .remedy = "retry; if it persists, check the directory server's log"};
}

Finding entry_finding(const DirectoryFacts& facts, const directory::Entry& entry) {
    if (facts.filtered.contains(entry.dn))
        return {.area = "directory", .check = "entry", .status = Status::ok, .detail = p(entry.dn)};
    return {.area = "directory",
            .check = "entry",
            .status = Status::failed,
            .mis = "MIS_5",
            .detail = fmt::format("{} has {} '{}' but does not match [ldap] user-filter {}: it is not a mail "
                                  "user for mbxkit (nor, likely, for the mail server)",
                                  p(entry.dn), facts.uid_attribute, p(facts.user), p(facts.user_filter)),
            .remedy = "give the entry back what the filter needs (objectClass, attributes); if its provisioning "
                      "is damaged beyond that, create a fresh account: `mbx reprovision " +
                      p(facts.user) + " --new-uid NEWUID`"};
}

Finding uid_unique_finding(const DirectoryFacts& facts) {
    if (facts.same_uid.size() <= 1)
        return {.area = "directory",
                .check = "uid-unique",
                .status = Status::ok,
                .detail = fmt::format("one entry has {} '{}'", facts.uid_attribute, p(facts.user))};
    std::vector<std::string> dn_list;
    for (const auto& e : facts.same_uid) dn_list.push_back(e.dn);
    return {.area = "directory",
            .check = "uid-unique",
            .status = Status::failed,
            .mis = "MIS_5",
            .detail = fmt::format("{} '{}' is on {} entries: {}", facts.uid_attribute, p(facts.user),
                                  facts.same_uid.size(), joined(dn_list, "; ")),
            .remedy = "a corrupted provisioning: keep the entry the mailbox belongs to, remove or rename the "
                      "other (save it first: ldapsearch -LLL ... > saved.ldif), then `mbx diagnose " +
                      p(facts.user) + "` again"};
}

// How to enable or unlock an account, in the words of the server's own tools.
std::string enable_advice(const DirectoryFacts& facts, AccountProblem problem = AccountProblem::disabled) {
    const std::string who = p(facts.user);
    switch (facts.kind) {
    case directory::DirectoryKind::active_directory:
        if (problem == AccountProblem::locked)
            return fmt::format("if it should sync again: `samba-tool user unlock {0}` (Samba) or `Unlock-ADAccount "
                               "{0}` (Windows), and find what keeps sending a wrong password (a phone with the old "
                               "one often does)",
                               who);
        if (problem == AccountProblem::password_expired)
            return fmt::format("the user sets a new password (a phone cannot do it): `samba-tool user setpassword "
                               "{0}` (Samba) or `Set-ADAccountPassword {0} -Reset` (Windows), then the new "
                               "password on the device",
                               who);
        return fmt::format("if it should sync again: `samba-tool user enable {0}` (Samba) or `Enable-ADAccount {0}` "
                           "(Windows)",
                           who);
    case directory::DirectoryKind::ds389:
        return "if it should sync again: `dsidm INSTANCE account unlock DN`, or remove nsAccountLock";
    case directory::DirectoryKind::openldap:
        return "if it should sync again: remove pwdAccountLockedTime (ldapmodify, as the directory's admin)";
    case directory::DirectoryKind::other: break;
    }
    return "if it should sync again: enable or unlock it with the directory's own tools";
}

bool is_state_attribute(std::string_view attribute) {
    return std::any_of(std::begin(kAccountStateAttributes), std::end(kAccountStateAttributes),
                       [&](std::string_view a) { return iequals(a, attribute); });
}

} // namespace

std::optional<AccountState> account_state(const directory::Entry& entry) {
    auto number = [&](std::string_view attribute) -> std::optional<std::uint64_t> {
        const auto v = entry.first(attribute);
        if (!v) return std::nullopt;
        std::uint64_t n = 0;
        const std::string_view text = trim(*v);
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc() || end != text.data() + text.size()) {
            // userAccountControl is a signed 32-bit integer: flags with the top bit come negative.
            std::int64_t s = 0;
            const auto [end2, ec2] = std::from_chars(text.data(), text.data() + text.size(), s);
            if (ec2 != std::errc() || end2 != text.data() + text.size()) return std::nullopt;
            n = static_cast<std::uint32_t>(s);
        }
        return n;
    };
    using P = AccountProblem;
    constexpr std::uint64_t kAccountDisable = 0x2, kLockout = 0x10, kPasswordExpired = 0x800000;
    if (const auto uac = number("userAccountControl"); uac && (*uac & kAccountDisable))
        return AccountState{
            P::disabled, fmt::format("the account is disabled: userAccountControl {} has ACCOUNTDISABLE (0x2)", *uac)};
    // The computed flags say whether a lockout is still in force (lockoutTime stays set after
    // the lockout duration ends, until the next good logon); lockoutTime alone where they are
    // not offered.
    const auto computed = number("msDS-User-Account-Control-Computed");
    if (computed ? (*computed & kLockout) != 0 : number("lockoutTime").value_or(0) > 0)
        return AccountState{P::locked, "the account is locked out (too many failed logons: lockoutTime is set)"};
    if (computed && (*computed & kPasswordExpired))
        return AccountState{P::password_expired,
                            entry.first("pwdLastSet") && trim(*entry.first("pwdLastSet")) == "0"
                                ? "the account's password must be changed before the next logon (pwdLastSet: 0)"
                                : "the account's password has expired"};
    if (const auto lock = entry.first("nsAccountLock"); lock && iequals(trim(*lock), "true"))
        return AccountState{P::locked, "the account is locked: nsAccountLock: true"};
    if (const auto locked = entry.first("pwdAccountLockedTime"))
        return AccountState{P::locked,
                            fmt::format("the account is locked: pwdAccountLockedTime: {}{}", p(*locked),
                                        trim(*locked) == "000001010000Z" ? " (by an administrator, for good)" : "")};
    return std::nullopt;
}

std::optional<std::string> account_state_problem(const directory::Entry& entry) {
    const auto state = account_state(entry);
    return state ? std::optional<std::string>(state->detail) : std::nullopt;
}

namespace {

Finding enabled_finding(const DirectoryFacts& facts, const directory::Entry& entry) {
    if (const auto state = account_state(entry))
        return {.area = "directory",
                .check = "enabled",
                .status = Status::failed,
                .mis = "MIS_5",
                .detail = state->detail,
                .remedy = enable_advice(facts, state->problem) +
                          (state->problem == AccountProblem::disabled
                               ? "; if `mbx reprovision` disabled it, the user has a new account (see the history)"
                               : "")};
    if (facts.disable_method == "attribute" && !is_state_attribute(facts.disable_attribute)) {
        const std::string& attr = facts.disable_attribute;
        if (auto v = entry.first(attr))
            return {.area = "directory",
                    .check = "enabled",
                    .status = Status::failed,
                    .mis = "MIS_5",
                    .detail = fmt::format("the account is disabled: {}: {}", attr, p(*v)),
                    .remedy = fmt::format("if it should sync again, remove {} from the entry; if `mbx reprovision` "
                                          "disabled it, the user has a new account (see the history)",
                                          attr)};
        return {.area = "directory",
                .check = "enabled",
                .status = Status::ok,
                .detail = fmt::format("no {} on the entry", attr)};
    }
    if (facts.disable_method == "attribute")
        return {.area = "directory",
                .check = "enabled",
                .status = Status::ok,
                .detail = fmt::format("enabled: {} says so", facts.disable_attribute)};
    if (facts.disable_method == "move") {
        const std::string& disabled = facts.disabled_base;
        const std::string& dn = entry.dn;
        const bool under = !disabled.empty() && dn.size() > disabled.size() &&
                           iequals(std::string_view(dn).substr(dn.size() - disabled.size()), disabled) &&
                           dn[dn.size() - disabled.size() - 1] == ',';
        return {.area = "directory",
                .check = "enabled",
                .status = under ? Status::failed : Status::ok,
                .mis = under ? "MIS_5" : "",
                .detail = under ? fmt::format("the entry is under [reprovision] disabled-base {}", p(disabled))
                                : fmt::format("not under [reprovision] disabled-base {}", p(disabled)),
                .remedy = under ? "move it back if it should sync again; if `mbx reprovision` moved it, the user "
                                  "has a new account (see the history)"
                                : ""};
    }
    return {.area = "directory",
            .check = "enabled",
            .status = Status::ok,
            .detail = "no disabled or locked state on the entry ([reprovision] disable-method is none)"};
}

Finding mail_finding(const DirectoryFacts& facts, const directory::Entry& entry) {
    const std::string& mail_attr = facts.mail_attribute;
    if (auto mail = mail_address(entry, facts))
        return {.area = "directory", .check = "mail", .status = Status::ok, .detail = p(*mail)};
    const auto mails = entry.values(mail_attr);
    return {.area = "directory",
            .check = "mail",
            .status = Status::failed,
            .mis = "MIS_5",
            .detail = mails.empty() ? fmt::format("the entry has no {}", mail_attr)
                                    : fmt::format("{} '{}' is not a mail address", mail_attr, p(mails.front())),
            .remedy = fmt::format("give the entry its address ({}); ActiveSync provisions a device by it", mail_attr)};
}

Finding mail_unique_finding(const DirectoryFacts& facts, const std::vector<std::string>& addresses) {
    if (facts.others.empty())
        return {.area = "directory",
                .check = "mail-unique",
                .status = Status::ok,
                .detail = fmt::format("{} address{} on this entry only", addresses.size(),
                                      addresses.size() == 1 ? "" : "es")};
    std::string clash;
    for (const auto& o : facts.others)
        for (const auto& a : address_attributes(facts))
            for (const auto& v : o.values(a))
                if (const auto address = directory::ad::address_in(a, v);
                    address && std::any_of(addresses.begin(), addresses.end(),
                                           [&](const std::string& x) { return iequals(x, *address); }))
                    clash += fmt::format("{}{} is also on {}", clash.empty() ? "" : "; ", p(*address), p(o.dn));
    return {.area = "directory",
            .check = "mail-unique",
            .status = Status::failed,
            .mis = "MIS_5",
            .detail = clash,
            .remedy = "an address on two entries: remove it from the one that should not have it (a cutover that "
                      "stopped halfway leaves it on both: see the history)"};
}

} // namespace

std::vector<Finding> judge_directory(const DirectoryFacts& facts) {
    if (!facts.reachable)
        return {{.area = "directory",
                 .check = "entry",
                 .status = Status::skipped,
                 .detail = "the directory could not be reached"}};
    if (facts.error) return {search_failed(*facts.error)};
    const directory::Entry* entry = chosen_entry(facts);
    if (!entry)
        return {
            {.area = "directory",
             .check = "entry",
             .status = Status::failed,
             .detail = fmt::format("no entry with {} '{}' under {}", facts.uid_attribute, p(facts.user), p(facts.base)),
             .remedy = "check the spelling and [ldap] base; the history below shows whether mbxkit renamed or "
                       "replaced the account"}};
    std::vector<Finding> found{entry_finding(facts, *entry), uid_unique_finding(facts), enabled_finding(facts, *entry),
                               mail_finding(facts, *entry)};
    const auto addresses = entry_addresses(*entry, facts);
    if (addresses.empty()) return found;
    found.push_back(facts.others_error ? search_failed(*facts.others_error) : mail_unique_finding(facts, addresses));
    return found;
}

} // namespace mbx::ops::diagnose

namespace mbx::ops::diagnose::detail {

void Diagnosis::directory_checks() {
    step("directory");
    DirectoryFacts facts{.reachable = dir_.has_value(), .user = req_.user};
    if (dir_) {
        try {
            directory_facts(facts);
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::config) throw;
            facts.error = e;
        }
    }
    add_all(judge_directory(facts));
    if (!dir_ || facts.error) return;
    user_missing_ = facts.same_uid.empty();
    if (const directory::Entry* entry = chosen_entry(facts)) {
        entry_ = *entry;
        report_.dn = entry_->dn;
        uid_ = entry_->first(facts.uid_attribute).value_or(req_.user);
        report_.mail = mail_address(*entry_, facts).value_or("");
    }
}

std::vector<std::string> Diagnosis::entry_attributes() const {
    std::vector<std::string> attrs = quota_attributes(cfg_);
    for (const auto& a : split_list(cfg_.get("ldap.alias-attributes"))) attrs.push_back(a);
    if (cfg_.get("reprovision.disable-method") == "attribute")
        attrs.push_back(cfg_.get("reprovision.disable-attribute"));
    // The server's own account state (operational on some servers: asked for by name; a server
    // ignores the names it does not know, RFC 4511 §4.5.1.8).
    for (auto a : kAccountStateAttributes) attrs.emplace_back(a);
    return attrs;
}

void Diagnosis::directory_facts(DirectoryFacts& facts) {
    facts.base = cfg_.require("ldap.base");
    facts.uid_attribute = cfg_.get("ldap.uid-attribute");
    // One user by login: Active Directory's default filter would leave a disabled user out.
    facts.user_filter = user_schema(cfg_).lookup_filter;
    facts.mail_attribute = cfg_.get("ldap.mail-attribute");
    facts.alias_attributes = split_list(cfg_.get("ldap.alias-attributes"));
    facts.disable_method = cfg_.get("reprovision.disable-method");
    try {
        facts.kind = directory::directory_kind(*dir_, cfg_.get("ldap.kind"));
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::config) throw; // a root DSE it may not read: advice stays generic
    }
    facts.disable_attribute = cfg_.get("reprovision.disable-attribute");
    facts.disabled_base = cfg_.get("reprovision.disabled-base");
    // Every entry with this uid, whatever the user filter says: a second one is the classic
    // sign of a provisioning that went wrong.
    dir_->search(facts.base, directory::Scope::subtree, directory::user_filter("", facts.uid_attribute, req_.user),
                 entry_attributes(), [&](const directory::Entry& e) {
                     if (facts.same_uid.size() < 20) facts.same_uid.push_back(e);
                 });
    dir_->search(facts.base, directory::Scope::subtree,
                 directory::user_filter(facts.user_filter, facts.uid_attribute, req_.user), {"1.1"},
                 [&](const directory::Entry& e) { facts.filtered.insert(e.dn); });
    std::sort(facts.same_uid.begin(), facts.same_uid.end(), [](const auto& a, const auto& b) { return a.dn < b.dn; });
    const directory::Entry* entry = chosen_entry(facts);
    if (!entry) return;
    // Every address of the entry (main and aliases), on no other entry.
    const auto addresses = entry_addresses(*entry, facts);
    if (addresses.empty()) return;
    std::vector<std::string> attrs{facts.mail_attribute};
    attrs.insert(attrs.end(), facts.alias_attributes.begin(), facts.alias_attributes.end());
    std::string filter = "(|";
    for (const auto& v : addresses)
        for (const auto& a : attrs)
            filter +=
                "(" + a + "=" + (iequals(a, "proxyAddresses") ? "smtp:" : "") + directory::escape_filter_value(v) + ")";
    filter += ")";
    const std::string dn = entry->dn;
    try {
        dir_->search(facts.base, directory::Scope::subtree, filter, attrs, [&](const directory::Entry& e) {
            if (e.dn != dn && facts.others.size() < 20) facts.others.push_back(e);
        });
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::config) throw;
        facts.others_error = e;
    }
}

} // namespace mbx::ops::diagnose::detail
