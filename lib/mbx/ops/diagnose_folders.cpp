// mbx diagnose: the folders checks. Gathering (LIST, EXAMINE) in the Diagnosis; the judge over
// the facts (diagnose_judge.hpp) below it.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose {

using detail::p;

bool selectable(const imap::ListEntry& entry) {
    return !entry.has_attribute("\\Noselect") && !entry.has_attribute("\\NonExistent");
}

std::vector<FolderFacts> locate_folders(const std::vector<imap::ListEntry>& list, const std::string& prefix) {
    auto find_name = [&](std::string_view name) -> const imap::ListEntry* {
        for (const auto& e : list)
            if (e.name == name) return &e;
        return nullptr;
    };
    auto facts_of = [](std::string check, std::string use, const imap::ListEntry* found) {
        FolderFacts f{.check = std::move(check), .use = std::move(use)};
        if (found) f.entry = *found;
        return f;
    };
    std::vector<FolderFacts> folders{facts_of("INBOX", "", find_name("INBOX"))};
    for (const auto& need : detail::needed_folders()) {
        const imap::ListEntry* found = nullptr;
        for (const auto& e : list)
            if (e.has_attribute(need.use)) {
                found = &e;
                break;
            }
        if (!found)
            for (auto name : need.names)
                if ((found = find_name(prefix + std::string(name)))) break;
        folders.push_back(facts_of(std::string(need.use.substr(1)), std::string(need.use), found));
    }
    return folders;
}

namespace {

// How to create a missing special-use folder, in the words of the server's own tools.
std::string create_advice(const FoldersFacts& facts, const std::string& use, const std::string& name) {
    const std::string who = p(facts.uid);
    const std::string create = fmt::format("IMAP CREATE \"{}\" USE ({})", name, use);
    switch (facts.server) {
    case imap::ServerKind::dovecot:
        return fmt::format("create it with the {} use ({}, e.g. `doveadm mailbox create -u {} -s '{}'`)", use, create,
                           who, name);
    case imap::ServerKind::cyrus:
        return fmt::format("create it with the {} use ({} as the user; as the admin, cyradm's `createmailbox` "
                           "and the /private/specialuse annotation {})",
                           use, create, use);
    case imap::ServerKind::other: break;
    }
    return fmt::format("create it with the {} use ({} as the user)", use, create);
}

// How to repair a folder the server cannot open.
std::string repair_advice(const FoldersFacts& facts, const std::string& shown) {
    const std::string who = p(facts.uid);
    switch (facts.server) {
    case imap::ServerKind::dovecot:
        return fmt::format("the server cannot open {}: check its storage and log for {} (permissions, a damaged "
                           "index: `doveadm force-resync -u {} '{}'`)",
                           shown, who, who, shown);
    case imap::ServerKind::cyrus:
        return fmt::format("the server cannot open {}: check its log for {} (permissions, a damaged index: "
                           "`reconstruct -r user.{}` as the cyrus user)",
                           shown, who, who);
    case imap::ServerKind::other: break;
    }
    return fmt::format("the server cannot open {}: check its storage and log for {} (permissions, a damaged index)",
                       shown, who);
}

Finding folder_finding(const FolderFacts& f, const FoldersFacts& facts) {
    const std::string& use = f.use;
    if (!f.entry) {
        const std::string name = use.empty() ? "INBOX" : facts.prefix + use.substr(1);
        return {.area = "folders",
                .check = f.check,
                .status = Status::failed,
                .mis = "MIS_8",
                .detail = use.empty() ? "no INBOX" : fmt::format("no folder marked {} (nor one named {})", use, name),
                .remedy = use.empty() ? "the server cannot open the mailbox: check its storage for this user"
                                      : create_advice(facts, use, name) + "; the device recovers on its next sync"};
    }
    const std::string shown = p(f.entry->name);
    if (!selectable(*f.entry))
        return {.area = "folders",
                .check = f.check,
                .status = Status::failed,
                .mis = "MIS_8",
                .detail = fmt::format("{} cannot be selected (\\Noselect)", shown),
                .remedy = fmt::format("recreate {} as a real folder (it exists only as a parent)", shown)};
    if (f.messages)
        return {.area = "folders",
                .check = f.check,
                .status = Status::ok,
                .detail = fmt::format("{} opens: {} message{}", shown, *f.messages, *f.messages == 1 ? "" : "s")};
    if (!f.error)
        return {.area = "folders",
                .check = f.check,
                .status = Status::skipped,
                .detail = fmt::format("{} not opened: the connection broke before it", shown)};
    const Error& e = *f.error;
    if (e.category() == ErrorCategory::unavailable || e.category() == ErrorCategory::temporary)
        return {.area = "folders",
                .check = f.check,
                .status = Status::failed,
                .mis = "MIS_5",
                .detail = fmt::format("the connection broke while opening {}: {}", shown, e.one_line()),
                .remedy = "retry; check the mail server (`mbx ping`)"};
    return {.area = "folders",
            .check = f.check,
            .status = Status::failed,
            .mis = "MIS_8",
            .detail = fmt::format("{} cannot be opened: {}", shown, e.one_line()),
            .remedy = repair_advice(facts, shown)};
}

} // namespace

std::vector<Finding> judge_folders(const FoldersFacts& facts) {
    if (!facts.logged_in)
        return {{.area = "folders", .check = "INBOX", .status = Status::skipped, .detail = "no IMAP login"}};
    if (facts.list_error)
        return {{.area = "folders",
                 .check = "list",
                 .status = Status::failed,
                 .mis = "MIS_8",
                 .detail = "LIST failed: " + facts.list_error->one_line(),
                 .remedy = "check the mail server's log for this user"}};
    std::vector<Finding> found;
    for (const auto& f : facts.folders) found.push_back(folder_finding(f, facts));
    return found;
}

} // namespace mbx::ops::diagnose

namespace mbx::ops::diagnose::detail {

void Diagnosis::folders() {
    step("folders");
    FoldersFacts facts{.logged_in = imap_.has_value(), .uid = uid()};
    if (imap_) {
        try {
            facts.server = imap::server_kind(*imap_, cfg_.get("imap.server-kind"));
            for (const auto& n : imap::namespaces(*imap_).personal) {
                facts.prefix = n.prefix;
                break;
            }
            facts.folders = locate_folders(imap::list_mailboxes(*imap_), facts.prefix);
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::config) throw;
            facts.list_error = e;
        }
        for (auto& f : facts.folders) examine(f);
    }
    add_all(judge_folders(facts));
}

// EXAMINE (read-only) of a folder that can be opened, while the connection holds: a broken
// connection is dropped, and the folders after it are not opened.
void Diagnosis::examine(FolderFacts& folder) {
    if (!imap_ || !folder.entry || !selectable(*folder.entry)) return;
    try {
        folder.messages = imap::select(*imap_, folder.entry->name, /*read_only=*/true).exists;
    } catch (const Error& e) {
        folder.error = e;
        if (e.category() == ErrorCategory::unavailable || e.category() == ErrorCategory::temporary) imap_.reset();
    }
}

} // namespace mbx::ops::diagnose::detail
