#include "mbx/ops/merge_plan.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/text.hpp"
#include "mbx/imap/parser.hpp"

#include <algorithm>
#include <fnmatch.h>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace mbx::ops::merge {
namespace {

constexpr std::string_view kSpecialUses[] = {"\\Archive", "\\Drafts", "\\Junk",   "\\Sent",
                                             "\\Trash",   "\\All",    "\\Flagged"};

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

std::string_view namespace_kind_name(NamespaceKind k) {
    switch (k) {
    case NamespaceKind::personal: return "personal";
    case NamespaceKind::other_users: return "other-users";
    case NamespaceKind::shared: return "shared";
    }
    return "personal";
}

std::vector<Namespace> namespaces_of(const imap::Namespaces& n) {
    std::vector<Namespace> out;
    auto add = [&](const std::vector<imap::NamespaceEntry>& group, NamespaceKind kind) {
        for (const auto& e : group) out.push_back({kind, e.prefix, e.delimiter});
    };
    add(n.personal, NamespaceKind::personal);
    add(n.other_users, NamespaceKind::other_users);
    add(n.shared, NamespaceKind::shared);
    return out;
}

namespace {

// The namespaces of a side; a server that said nothing has one personal namespace "" with the
// delimiter its folders show (or `fallback`'s).
std::vector<Namespace> effective_namespaces(const Hierarchy& h, std::optional<char> fallback) {
    if (!h.namespaces.empty()) return h.namespaces;
    Namespace personal;
    personal.delimiter = fallback;
    for (const auto& f : h.folders)
        if (f.delimiter) {
            personal.delimiter = f.delimiter;
            break;
        }
    return {personal};
}

Namespace personal_of(const std::vector<Namespace>& namespaces) {
    for (const auto& n : namespaces)
        if (n.kind == NamespaceKind::personal) return n;
    return Namespace{};
}

// The prefix without its trailing delimiter: the name of the namespace's root ("user").
bool is_root(const std::string& name, const Namespace& n) {
    return n.delimiter && !n.prefix.empty() && n.prefix.back() == *n.delimiter &&
           name == std::string_view(n.prefix).substr(0, n.prefix.size() - 1);
}

} // namespace

Namespace namespace_of(const std::string& name, const std::vector<Namespace>& namespaces) {
    if (is_inbox(name)) return personal_of(namespaces);
    const Namespace* best = nullptr;
    for (const auto& n : namespaces) {
        const bool in = name.starts_with(n.prefix) || is_root(name, n);
        if (in && (!best || n.prefix.size() > best->prefix.size())) best = &n;
    }
    return best ? *best : personal_of(namespaces);
}

std::string translate_name(const std::string& name, const Namespace& ns, const Namespace& to) {
    if (is_inbox(name) && ns.kind == NamespaceKind::personal && to.kind == NamespaceKind::personal) return "INBOX";
    std::string rest = name.starts_with(ns.prefix) ? name.substr(ns.prefix.size()) : is_root(name, ns) ? "" : name;
    if (rest.empty()) // the namespace's root: the target's root
        return to.delimiter && to.prefix.ends_with(*to.delimiter) ? to.prefix.substr(0, to.prefix.size() - 1)
                                                                  : to.prefix;
    std::string out = to.prefix;
    bool first = true;
    for (auto part : split(rest, ns.delimiter)) {
        if (to.delimiter) std::replace(part.begin(), part.end(), *to.delimiter, '_');
        if (!first) out += to.delimiter ? *to.delimiter : '_';
        out += part;
        first = false;
    }
    return out;
}

FolderPlans plan_folders(const Hierarchy& source, const Hierarchy& target, const FolderRules& rules) {
    const auto source_ns = effective_namespaces(source, std::nullopt);
    const auto target_ns = effective_namespaces(target, personal_of(source_ns).delimiter);
    const Namespace target_personal = personal_of(target_ns);
    const std::optional<char> target_delim = target_personal.delimiter;
    std::map<std::string, const Folder*> by_name;
    std::map<std::string, const Folder*> by_use;
    for (const auto& t : target.folders) {
        by_name[is_inbox(t.name) ? "INBOX" : t.name] = &t;
        if (!t.special_use.empty() && !by_use.contains(t.special_use) &&
            namespace_of(t.name, target_ns).kind == NamespaceKind::personal)
            by_use[t.special_use] = &t;
    }
    FolderPlans out;
    for (const auto& s : source.folders) {
        if (!s.selectable || s.special_use == "\\All" || s.special_use == "\\Flagged") continue;
        if (!rules.include.empty() && std::none_of(rules.include.begin(), rules.include.end(),
                                                   [&](const auto& g) { return glob_match(g, s.name); }))
            continue;
        if (std::any_of(rules.exclude.begin(), rules.exclude.end(),
                        [&](const auto& g) { return glob_match(g, s.name); }))
            continue;
        Namespace ns = namespace_of(s.name, source_ns);
        if (s.delimiter) ns.delimiter = s.delimiter; // LIST says it for the folder itself
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
        if (!best && ns.kind != NamespaceKind::personal && !rules.include_shared) {
            out.foreign.push_back({s.name, ns.kind});
            continue;
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
        } else if (ns.kind == NamespaceKind::personal && !s.special_use.empty() && by_use.contains(s.special_use)) {
            p.target = by_use[s.special_use]->name;
            p.reason = "special-use";
        } else if (ns.kind == NamespaceKind::personal) {
            p.target = translate_name(s.name, ns, target_personal);
            p.reason = "name";
        } else {
            // --include-shared: to the target's namespace of the same kind, else under the
            // personal one by the full name.
            const auto same =
                std::find_if(target_ns.begin(), target_ns.end(), [&](const Namespace& n) { return n.kind == ns.kind; });
            if (same != target_ns.end()) {
                p.target = translate_name(s.name, ns, *same);
            } else {
                Namespace whole = ns;
                whole.prefix.clear();
                p.target = translate_name(s.name, whole, target_personal);
            }
            p.reason = std::string(namespace_kind_name(ns.kind));
        }
        auto existing = by_name.find(is_inbox(p.target) ? "INBOX" : p.target);
        p.create = existing == by_name.end();
        p.subscribe = s.subscribed && (p.create || !existing->second->subscribed);
        out.folders.push_back(std::move(p));
    }
    std::sort(out.folders.begin(), out.folders.end(), [](const auto& a, const auto& b) {
        // INBOX first, then by name: the mail that matters most arrives first.
        if (is_inbox(a.source) != is_inbox(b.source)) return is_inbox(a.source);
        return a.source < b.source;
    });
    return out;
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
    m.deleted =
        std::any_of(item.flags->begin(), item.flags->end(), [](const auto& f) { return iequals(f, "\\Deleted"); });
    m.flags = flags_hash(*item.flags);
    // The server names the section as asked ("BODY[HEADER.FIELDS (MESSAGE-ID ...)]"); some
    // change the case of the field names, so match the prefix only.
    std::string header;
    for (const auto& [name, value] : item.sections)
        if (name.starts_with("BODY[HEADER") && value) header = *value;
    m.identity = identity_of(header);
    return m;
}

bool selected(const Message& m, const MessageFilter& f) {
    if (m.deleted && !f.include_deleted) return false;
    if (f.since && m.internaldate < *f.since) return false;
    if (f.before && m.internaldate >= *f.before) return false;
    if (f.max_size && m.size > *f.max_size) return false;
    return true;
}

namespace {

// The pairs of `a` and `b` (sizes) that match min(|a|, |b|) of them with the smallest total
// size difference: in sorted order, which pairs are chosen is a small dynamic programme.
std::vector<std::pair<std::size_t, std::size_t>> closest_sizes(const std::vector<std::uint64_t>& a,
                                                               const std::vector<std::uint64_t>& b) {
    if (a.size() > b.size()) {
        auto swapped = closest_sizes(b, a);
        for (auto& [x, y] : swapped) std::swap(x, y);
        return swapped;
    }
    std::vector<std::size_t> ia(a.size()), ib(b.size());
    for (std::size_t i = 0; i < ia.size(); ++i) ia[i] = i;
    for (std::size_t j = 0; j < ib.size(); ++j) ib[j] = j;
    std::sort(ia.begin(), ia.end(), [&](auto x, auto y) { return std::tie(a[x], x) < std::tie(a[y], y); });
    std::sort(ib.begin(), ib.end(), [&](auto x, auto y) { return std::tie(b[x], x) < std::tie(b[y], y); });
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::pair<std::size_t, std::size_t>> out;
    if (n == m || n * m > (1u << 22)) { // nothing to choose, or too large a group: in order
        for (std::size_t k = 0; k < n; ++k) out.emplace_back(ia[k], ib[k]);
        return out;
    }
    auto diff = [&](std::size_t i, std::size_t j) {
        const auto x = a[ia[i]], y = b[ib[j]];
        return x > y ? x - y : y - x;
    };
    // cost[i][j]: the first i of a matched within the first j of b (i <= j).
    constexpr std::uint64_t kInf = ~std::uint64_t{0};
    std::vector<std::uint64_t> cost((n + 1) * (m + 1), kInf);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint64_t& { return cost[i * (m + 1) + j]; };
    for (std::size_t j = 0; j <= m; ++j) at(0, j) = 0;
    for (std::size_t i = 1; i <= n; ++i)
        for (std::size_t j = i; j <= m; ++j) {
            const std::uint64_t skip = j > i ? at(i, j - 1) : kInf;
            const std::uint64_t take = at(i - 1, j - 1) == kInf ? kInf : at(i - 1, j - 1) + diff(i - 1, j - 1);
            at(i, j) = std::min(skip, take);
        }
    for (std::size_t i = n, j = m; i > 0; --j) {
        if (j > i && at(i, j) == at(i, j - 1)) continue;
        out.emplace_back(ia[i - 1], ib[j - 1]);
        --i;
    }
    return out;
}

} // namespace

Matching match_messages(const std::vector<Message>& source, const std::vector<Message>& target,
                        const KnownCopies& known) {
    Matching r;
    std::vector<bool> paired(source.size()), used(target.size());
    auto pair = [&](std::size_t s, std::size_t t) {
        paired[s] = used[t] = true;
        r.pairs.emplace_back(s, t);
        if (source[s].size != target[t].size) ++r.resized;
    };
    if (!known.empty()) {
        std::unordered_map<std::uint64_t, std::size_t> by_uid;
        for (std::size_t t = 0; t < target.size(); ++t) by_uid.emplace(target[t].uid, t);
        for (std::size_t s = 0; s < source.size(); ++s) {
            const auto k = known.find(source[s].uid);
            if (k == known.end()) continue;
            const auto t = by_uid.find(k->second);
            if (t == by_uid.end() || used[t->second] || target[t->second].deleted != source[s].deleted) continue;
            pair(s, t->second);
            ++r.by_uid;
        }
    }
    // Groups of equal (identity, \Deleted) on both sides, paired by closest sizes.
    auto match_groups = [&](auto source_key, auto target_key) {
        std::map<std::pair<Fingerprint, bool>, std::pair<std::vector<std::size_t>, std::vector<std::size_t>>> groups;
        for (std::size_t s = 0; s < source.size(); ++s)
            if (const auto key = source_key(s)) groups[{*key, source[s].deleted}].first.push_back(s);
        for (std::size_t t = 0; t < target.size(); ++t)
            if (const auto key = target_key(t)) {
                auto g = groups.find({*key, target[t].deleted});
                if (g != groups.end()) g->second.second.push_back(t);
            }
        for (auto& [key, members] : groups) {
            const auto& [ss, ts] = members;
            if (ts.empty()) continue;
            std::vector<std::uint64_t> a, b;
            for (auto s : ss) a.push_back(source[s].size);
            for (auto t : ts) b.push_back(target[t].size);
            for (const auto& [i, j] : closest_sizes(a, b)) pair(ss[i], ts[j]);
        }
    };
    using Key = std::optional<Fingerprint>;
    match_groups(
        [&](std::size_t s) -> Key {
            if (paired[s] || !source[s].identity.has_message_id) return std::nullopt;
            return source[s].identity.message_id;
        },
        [&](std::size_t t) -> Key {
            if (used[t] || !target[t].identity.has_message_id) return std::nullopt;
            return target[t].identity.message_id;
        });
    // Without a Message-ID: by header, against the target messages with none, or with one that
    // no source message has (the target's server added it).
    std::set<Fingerprint> source_ids;
    for (const auto& m : source)
        if (m.identity.has_message_id) source_ids.insert(m.identity.message_id);
    match_groups(
        [&](std::size_t s) -> Key {
            if (paired[s] || source[s].identity.has_message_id) return std::nullopt;
            return source[s].identity.header;
        },
        [&](std::size_t t) -> Key {
            if (used[t] || (target[t].identity.has_message_id && source_ids.contains(target[t].identity.message_id)))
                return std::nullopt;
            return target[t].identity.header;
        });
    for (std::size_t s = 0; s < source.size(); ++s)
        if (!paired[s]) r.missing.push_back(s);
    return r;
}

} // namespace mbx::ops::merge
