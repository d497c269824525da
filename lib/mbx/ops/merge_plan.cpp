#include "mbx/ops/merge_plan.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/text.hpp"

#include <algorithm>
#include <fnmatch.h>
#include <map>
#include <set>

namespace mbx::ops::merge {
namespace {

constexpr std::string_view kSpecialUses[] = {"\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash", "\\All",
                                             "\\Flagged"};

bool is_inbox(std::string_view name) { return iequals(name, "INBOX"); }

bool glob_match(const std::string& pattern, const std::string& name) {
    return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

std::vector<std::string> split(const std::string& name, std::optional<char> delimiter) {
    std::vector<std::string> parts;
    if (!delimiter) return {name};
    std::size_t start = 0;
    for (;;) {
        std::size_t at = name.find(*delimiter, start);
        parts.push_back(name.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) return parts;
        start = at + 1;
    }
}

// The source name in the target's hierarchy.
std::string translate(const std::string& name, std::optional<char> from, std::optional<char> to) {
    if (from == to) return name;
    std::string out;
    for (auto part : split(name, from)) {
        if (to) std::replace(part.begin(), part.end(), *to, '_');
        if (!out.empty()) out += to ? std::string(1, *to) : std::string(1, '_');
        out += part;
    }
    return out;
}

} // namespace

std::vector<Folder> folders_of(const std::vector<imap::ListEntry>& list, const std::vector<std::string>& subscribed) {
    const std::set<std::string> subs(subscribed.begin(), subscribed.end());
    std::vector<Folder> out;
    for (const auto& e : list) {
        Folder f;
        f.name = e.name;
        f.delimiter = e.delimiter;
        for (auto use : kSpecialUses)
            if (e.has_attribute(use)) f.special_use = std::string(use);
        f.selectable = !e.has_attribute("\\Noselect") && !e.has_attribute("\\NonExistent");
        f.subscribed = subs.contains(e.name) || (is_inbox(e.name) && subs.contains("INBOX"));
        out.push_back(std::move(f));
    }
    return out;
}

std::pair<std::string, std::string> parse_map(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
        throw Error(ErrorCategory::usage, "invalid --map '" + std::string(text) + "'",
                    "write --map 'OLD=NEW' with the source folder OLD and the target folder NEW");
    return {std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

std::vector<FolderPlan> plan_folders(const std::vector<Folder>& source, const std::vector<Folder>& target,
                                     const FolderRules& rules) {
    std::optional<char> target_delim;
    std::map<std::string, const Folder*> by_name;
    std::map<std::string, const Folder*> by_use;
    for (const auto& t : target) {
        if (t.delimiter) target_delim = t.delimiter;
        by_name[is_inbox(t.name) ? "INBOX" : t.name] = &t;
        if (!t.special_use.empty() && !by_use.contains(t.special_use)) by_use[t.special_use] = &t;
    }
    std::vector<FolderPlan> plans;
    for (const auto& s : source) {
        if (!s.selectable || s.special_use == "\\All" || s.special_use == "\\Flagged") continue;
        if (!rules.include.empty() &&
            std::none_of(rules.include.begin(), rules.include.end(), [&](const auto& g) { return glob_match(g, s.name); }))
            continue;
        if (std::any_of(rules.exclude.begin(), rules.exclude.end(), [&](const auto& g) { return glob_match(g, s.name); }))
            continue;
        FolderPlan p;
        p.source = s.name;
        p.special_use = s.special_use;
        // --map: the longest OLD that is the folder itself or one of its parents.
        const std::pair<std::string, std::string>* best = nullptr;
        for (const auto& m : rules.map) {
            const bool self = m.first == s.name;
            const bool parent = s.delimiter && s.name.size() > m.first.size() && s.name.starts_with(m.first) &&
                                s.name[m.first.size()] == *s.delimiter;
            if ((self || parent) && (!best || m.first.size() > best->first.size())) best = &m;
        }
        if (best) {
            p.target = best->second;
            if (best->first != s.name)
                p.target += (target_delim ? std::string(1, *target_delim) : std::string("_")) +
                            translate(s.name.substr(best->first.size() + 1), s.delimiter, target_delim);
            p.reason = "map";
        } else if (is_inbox(s.name)) {
            p.target = "INBOX";
            p.reason = "inbox";
        } else if (!s.special_use.empty() && by_use.contains(s.special_use)) {
            p.target = by_use[s.special_use]->name;
            p.reason = "special-use";
        } else {
            p.target = translate(s.name, s.delimiter, target_delim ? target_delim : s.delimiter);
            p.reason = "name";
        }
        auto existing = by_name.find(is_inbox(p.target) ? "INBOX" : p.target);
        p.create = existing == by_name.end();
        p.subscribe = s.subscribed && (p.create || !existing->second->subscribed);
        plans.push_back(std::move(p));
    }
    std::sort(plans.begin(), plans.end(), [](const auto& a, const auto& b) {
        // INBOX first, then by name: the mail that matters most arrives first.
        if (is_inbox(a.source) != is_inbox(b.source)) return is_inbox(a.source);
        return a.source < b.source;
    });
    return plans;
}

std::vector<std::string> settable_flags(const std::vector<std::string>& flags) {
    std::vector<std::string> out;
    for (const auto& f : flags)
        if (!iequals(f, "\\Recent")) out.push_back(f);
    return out;
}

std::uint64_t flags_hash(const std::vector<std::string>& flags) {
    std::vector<std::string> set;
    for (const auto& f : settable_flags(flags)) set.push_back(ascii_lower(f));
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    std::uint64_t h = 14695981039346656037ull; // FNV-1a over "flag\0flag\0..."
    for (const auto& f : set)
        for (const char c : f + '\0') h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
}

Message message_of(const imap::FetchItem& item) {
    if (!item.uid || !item.size || !item.internaldate || !item.flags)
        throw Error(ErrorCategory::data, "the server's FETCH response lacks UID, RFC822.SIZE, INTERNALDATE or FLAGS");
    Message m;
    m.uid = *item.uid;
    m.size = *item.size;
    m.internaldate = *item.internaldate;
    m.deleted = std::any_of(item.flags->begin(), item.flags->end(), [](const auto& f) { return iequals(f, "\\Deleted"); });
    m.flags = flags_hash(*item.flags);
    // The server names the section as asked ("BODY[HEADER.FIELDS (MESSAGE-ID ...)]"); some
    // change the case of the field names, so match the prefix only.
    std::string header;
    for (const auto& [name, value] : item.sections)
        if (name.starts_with("BODY[HEADER") && value) header = *value;
    m.fingerprint = fingerprint_of(header, m.size);
    return m;
}

bool selected(const Message& m, const MessageFilter& f) {
    if (m.deleted && !f.include_deleted) return false;
    if (f.since && m.internaldate < *f.since) return false;
    if (f.before && m.internaldate >= *f.before) return false;
    if (f.max_size && m.size > *f.max_size) return false;
    return true;
}

std::vector<std::size_t> missing_messages(const std::vector<Message>& source, FingerprintCounts& target) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < source.size(); ++i) {
        auto it = target.find(source[i].fingerprint);
        if (it != target.end() && it->second > 0) {
            --it->second;
            continue;
        }
        out.push_back(i);
    }
    return out;
}

} // namespace mbx::ops::merge
