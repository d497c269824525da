// mbx diagnose: the folders checks.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose::detail {

void Diagnosis::folders() {
    step("folders");
    if (!imap_) {
        add({.area = "folders", .check = "INBOX", .status = Status::skipped, .detail = "no IMAP login"});
        return;
    }
    std::vector<imap::ListEntry> list;
    try {
        list = imap::list_mailboxes(*imap_);
    } catch (const Error& e) {
        add({.area = "folders", .check = "list", .status = Status::failed, .mis = "MIS_8",
             .detail = "LIST failed: " + e.one_line(), .remedy = "check the mail server's log for this user"});
        return;
    }
    auto find_name = [&](std::string_view name) -> const imap::ListEntry* {
        for (const auto& e : list)
            if (e.name == name) return &e;
        return nullptr;
    };
    open_folder("INBOX", find_name("INBOX"), "");
    for (const auto& need : needed_folders()) {
        const imap::ListEntry* found = nullptr;
        for (const auto& e : list)
            if (e.has_attribute(need.use)) {
                found = &e;
                break;
            }
        if (!found)
            for (auto name : need.names)
                if ((found = find_name(name))) break;
        open_folder(std::string(need.use.substr(1)), found, need.use);
    }
}

void Diagnosis::open_folder(const std::string& check, const imap::ListEntry* entry, std::string_view use) {
    const std::string who = p(uid());
    if (!entry) {
        const std::string name = use.empty() ? "INBOX" : std::string(use.substr(1));
        add({.area = "folders", .check = check, .status = Status::failed, .mis = "MIS_8",
             .detail = use.empty() ? "no INBOX"
                                   : fmt::format("no folder marked {} (nor one named {})", use, name),
             .remedy = use.empty()
                           ? "the server cannot open the mailbox: check its storage for this user"
                           : fmt::format("create it with the {} use (IMAP CREATE \"{}\" USE ({}), e.g. `doveadm "
                                         "mailbox create -u {} -s {}`); the device recovers on its next sync",
                                         use, name, use, who, name)});
        return;
    }
    const std::string shown = p(entry->name);
    if (entry->has_attribute("\\Noselect") || entry->has_attribute("\\NonExistent")) {
        add({.area = "folders", .check = check, .status = Status::failed, .mis = "MIS_8",
             .detail = fmt::format("{} cannot be selected (\\Noselect)", shown),
             .remedy = fmt::format("recreate {} as a real folder (it exists only as a parent)", shown)});
        return;
    }
    try {
        const auto info = imap::select(*imap_, entry->name, /*read_only=*/true);
        add({.area = "folders", .check = check, .status = Status::ok,
             .detail = fmt::format("{} opens: {} message{}", shown, info.exists, info.exists == 1 ? "" : "s")});
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::unavailable || e.category() == ErrorCategory::temporary) {
            add({.area = "folders", .check = check, .status = Status::failed, .mis = "MIS_5",
                 .detail = fmt::format("the connection broke while opening {}: {}", shown, e.one_line()),
                 .remedy = "retry; check the mail server (`mbx ping`)"});
            imap_.reset();
            return;
        }
        add({.area = "folders", .check = check, .status = Status::failed, .mis = "MIS_8",
             .detail = fmt::format("{} cannot be opened: {}", shown, e.one_line()),
             .remedy = fmt::format("the server cannot open {}: check its storage and log for {} (permissions, "
                                   "a damaged index: `doveadm force-resync -u {} '{}'` on Dovecot)",
                                   shown, who, who, shown)});
    }
}

} // namespace mbx::ops::diagnose::detail
