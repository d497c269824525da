#include "mbx/ops/merge_plan.hpp"
#include "mbx/ops/message.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <set>
#include <random>
#include <map>

using namespace mbx::ops;
using namespace mbx::ops::merge;
using mbx::test::error_of;

namespace {

Folder folder(std::string name, std::string use = {}, bool subscribed = true, char delim = '/') {
    Folder f;
    f.name = std::move(name);
    f.delimiter = delim;
    f.special_use = std::move(use);
    f.subscribed = subscribed;
    return f;
}

const FolderPlan& plan_for(const std::vector<FolderPlan>& plans, const std::string& source) {
    for (const auto& p : plans)
        if (p.source == source) return p;
    FAIL("no plan for " << source);
    throw;
}

// The plan of two sides that said no NAMESPACE (one personal namespace "").
std::vector<FolderPlan> plan_folders(const std::vector<Folder>& source, const std::vector<Folder>& target,
                                     const FolderRules& rules) {
    return merge::plan_folders(Hierarchy{source, {}}, Hierarchy{target, {}}, rules).folders;
}

Namespace ns(NamespaceKind kind, std::string prefix, char delim) { return Namespace{kind, std::move(prefix), delim}; }

// Debian's Cyrus (altnamespace: no, unixhierarchysep: no) and Dovecot's default layout, as
// their NAMESPACE responses say.
const std::vector<Namespace> kCyrus{ns(NamespaceKind::personal, "INBOX.", '.'),
                                    ns(NamespaceKind::other_users, "user.", '.'), ns(NamespaceKind::shared, "", '.')};
const std::vector<Namespace> kDovecot{ns(NamespaceKind::personal, "", '/')};
const std::vector<Namespace> kDovecotShared{ns(NamespaceKind::personal, "", '/'),
                                            ns(NamespaceKind::other_users, "user/", '/'),
                                            ns(NamespaceKind::shared, "shared/", '/')};

Message msg(std::uint64_t uid, std::string_view header, std::uint64_t size) {
    Message m;
    m.uid = uid;
    m.size = size;
    m.identity = identity_of(header);
    return m;
}

std::vector<std::size_t> missing_of(const std::vector<Message>& source, const std::vector<Message>& target,
                                    const KnownCopies& known = {}) {
    return match_messages(source, target, known).missing;
}

} // namespace

TEST_CASE("identity: Message-ID, else Date, From, Subject; never the size or the bytes around them", "[ops][merge]") {
    const auto a = identity_of("Message-ID: <a@x>\r\nSubject: hi\r\n\r\n");
    CHECK(a.has_message_id);
    CHECK(a.message_id ==
          identity_of("Subject: other\r\nMessage-ID:  <a@x> \r\n\r\n").message_id); // subject does not matter
    CHECK(a.message_id == identity_of("message-id:\r\n <a@x>\r\n\r\n").message_id); // folded, any case
    CHECK(a.message_id ==
          identity_of("Message-ID: <a@x>\nX-Added: by the server\n\n").message_id); // bare LF, a field added
    CHECK_FALSE(a.message_id == identity_of("Message-ID: <b@x>\r\n\r\n").message_id);
    const auto h = identity_of("Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: a@x\r\nSubject: s\r\n\r\n");
    CHECK_FALSE(h.has_message_id);
    CHECK(h == identity_of("Subject: s\r\nFrom:  a@x\r\nDate: Mon, 1 Jan 2024\r\n 10:00:00 +0000\r\n\r\n"));
    CHECK_FALSE(h == identity_of("Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: a@x\r\nSubject: t\r\n\r\n"));
    // 8-bit header bytes kept (Dovecot) or munged into X (Cyrus munge8bit): the same identity.
    CHECK(identity_of("Subject: Gr\xc3\xbc\xc3\x9f"
                      "e\r\nFrom: J\xf6rg <j@x>\r\n\r\n") ==
          identity_of("Subject: GrXXXXe\r\nFrom: JXrg <j@x>\r\n\r\n"));
    CHECK_FALSE(identity_of("Subject: Gr\xc3\xbc\xc3\x9f"
                            "e\r\n\r\n") == identity_of("Subject: Grusse\r\n\r\n"));
    CHECK(message_id_of("Message-ID: <a@x>\r\n\r\n") == "<a@x>");
    CHECK(message_id_of("Message-ID: <\x01@x>\r\n\r\n").empty());
}

TEST_CASE("match_messages: a multiset difference in source order", "[ops][merge]") {
    std::vector<Message> source{msg(1, "Message-ID: <1>\r\n", 10), msg(2, "Message-ID: <2>\r\n", 10),
                                msg(3, "Message-ID: <2>\r\n", 10), msg(4, "Message-ID: <4>\r\n", 10)};
    std::vector<Message> target{msg(11, "Message-ID: <2>\r\n", 10), msg(12, "Message-ID: <1>\r\n", 10),
                                msg(13, "Message-ID: <9>\r\n", 10)}; // <9>: extra on the target, irrelevant
    CHECK(missing_of(source, target) == std::vector<std::size_t>{2, 3});
    CHECK(missing_of(source, {}).size() == 4);
    CHECK(missing_of(source, source).empty()); // a second run copies nothing
}

TEST_CASE("match_messages: a copy whose bytes the server changed is present, sizes only break ties", "[ops][merge]") {
    // The target added a header field (+53 bytes) and turned bare LFs into CRLF (+2).
    std::vector<Message> source{msg(1, "Message-ID: <a@x>\r\n", 1000),
                                msg(2, "Date: d\r\nFrom: f\r\nSubject: s\r\n", 300)};
    std::vector<Message> target{msg(7, "Message-ID: <a@x>\r\n", 1055),
                                msg(8, "Date: d\r\nFrom: f\r\nSubject: s\r\n", 302)};
    auto m = match_messages(source, target);
    CHECK(m.missing.empty());
    CHECK(m.resized == 2);
    CHECK(m.by_uid == 0);
    // Two different messages with one Message-ID (a broken client): the one whose size is
    // nearest pairs with the target's copy; the other is missing and gets copied.
    std::vector<Message> twins{msg(1, "Message-ID: <d@x>\r\n", 1000), msg(2, "Message-ID: <d@x>\r\n", 5000)};
    CHECK(missing_of(twins, {msg(9, "Message-ID: <d@x>\r\n", 5060)}) == std::vector<std::size_t>{0});
    CHECK(missing_of(twins, {msg(9, "Message-ID: <d@x>\r\n", 1010)}) == std::vector<std::size_t>{1});
    CHECK(missing_of(twins, {msg(9, "Message-ID: <d@x>\r\n", 1010), msg(10, "Message-ID: <d@x>\r\n", 4000)}).empty());
    // No Message-ID on the source; the target's server added one: the header pairs them.
    std::vector<Message> plain{msg(1, "Date: d\r\nFrom: f\r\nSubject: s\r\n", 300)};
    CHECK(
        missing_of(plain, {msg(5, "Message-ID: <added@server>\r\nDate: d\r\nFrom: f\r\nSubject: s\r\n", 340)}).empty());
    // ... but not against a target message whose Message-ID belongs to another source message.
    std::vector<Message> mixed{msg(1, "Date: d\r\nFrom: f\r\nSubject: s\r\n", 300),
                               msg(2, "Message-ID: <m@x>\r\nDate: d\r\nFrom: f\r\nSubject: s\r\n", 320)};
    CHECK(missing_of(mixed, {msg(5, "Message-ID: <m@x>\r\nDate: d\r\nFrom: f\r\nSubject: s\r\n", 320)}) ==
          std::vector<std::size_t>{0});
}

TEST_CASE("match_messages: copies known by UID, and \\Deleted copies", "[ops][merge]") {
    std::vector<Message> source{msg(1, "Message-ID: <a@x>\r\n", 100), msg(2, "Message-ID: <b@x>\r\n", 100)};
    // The server rewrote the Message-ID of the copy of 1 (UID 40): APPENDUID still knows it.
    std::vector<Message> target{msg(40, "Message-ID: <rewritten@server>\r\n", 180),
                                msg(41, "Message-ID: <b@x>\r\n", 100)};
    auto m = match_messages(source, target, {{1, 40}, {2, 41}});
    CHECK(m.missing.empty());
    CHECK(m.by_uid == 2);
    // A known copy that is gone (expunged) or marked \Deleted (a server that stores a rewritten
    // copy and deletes the original: Dovecot with IMAPSieve editheader) is found by identity.
    target[1].deleted = true;
    target.push_back(msg(42, "Message-ID: <b@x>\r\n", 150));
    m = match_messages(source, target, {{1, 40}, {2, 41}});
    CHECK(m.missing.empty());
    CHECK(m.by_uid == 1);
    REQUIRE(m.pairs.size() == 2);
    CHECK(target[m.pairs[1].second].uid == 42);
    // Only a \Deleted copy: missing (it would go at the next EXPUNGE).
    CHECK(missing_of({source[1]}, {target[1]}) == std::vector<std::size_t>{0});
    Message gone = source[1];
    gone.deleted = true; // --include-deleted: a \Deleted source message pairs with a \Deleted copy
    CHECK(missing_of({gone}, {target[1]}).empty());
}

TEST_CASE("match_messages against a plain count model on random mailboxes", "[ops][merge]") {
    const char* env = std::getenv("MBX_TEST_SEED");
    const std::uint64_t seed = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
    CAPTURE(seed);
    std::mt19937_64 random(seed);
    for (int round = 0; round < 300; ++round) {
        // Identities: a few Message-IDs and a few MID-less headers, shared by several messages.
        std::vector<Message> source, target;
        std::map<std::pair<std::string, bool>, std::pair<int, int>> counts; // (identity, deleted) -> (source, target)
        for (std::uint64_t uid = 1; uid <= 40; ++uid) {
            const int k = static_cast<int>(random() % 12);
            const std::string header = k < 8 ? "Message-ID: <" + std::to_string(k) + "@x>\r\n"
                                             : "Date: d" + std::to_string(k) + "\r\nSubject: s\r\n";
            Message m = msg(uid, header, 1000 + random() % 5000);
            m.deleted = random() % 10 == 0;
            ++counts[{header, m.deleted}].first;
            source.push_back(m);
            if (random() % 3 != 0) { // on the target, perhaps changed by its server
                Message copy = m;
                copy.uid = 1000 + uid;
                copy.size += random() % 4 == 0 ? random() % 200 : 0;
                target.push_back(copy);
                ++counts[{header, m.deleted}].second;
            }
        }
        std::shuffle(target.begin(), target.end(), random);
        const auto m = match_messages(source, target);
        std::size_t want = 0;
        for (const auto& [key, c] : counts) want += static_cast<std::size_t>(std::max(0, c.first - c.second));
        INFO("round " << round);
        CHECK(m.missing.size() == want);
        CHECK(m.pairs.size() + m.missing.size() == source.size());
        std::set<std::size_t> used;
        for (const auto& [s, t] : m.pairs) {
            CHECK(source[s].identity == target[t].identity);
            CHECK(source[s].deleted == target[t].deleted);
            CHECK(used.insert(t).second); // each target message pairs once
        }
        // Copying what is missing leaves nothing missing: re-runs are idempotent.
        for (auto i : m.missing) {
            Message copy = source[i];
            copy.uid = 5000 + i;
            copy.size += 17;
            target.push_back(copy);
        }
        CHECK(missing_of(source, target).empty());
    }
}

TEST_CASE("filters: deleted, dates, size", "[ops][merge]") {
    using namespace std::chrono;
    Message m = msg(1, "Message-ID: <1>\r\n", 1000);
    m.internaldate = sys_days{2024y / 3 / 1};
    CHECK(selected(m, {}));
    m.deleted = true;
    CHECK_FALSE(selected(m, {}));
    CHECK(selected(m, {.include_deleted = true}));
    m.deleted = false;
    CHECK(selected(m, {.since = sys_days{2024y / 3 / 1}}));
    CHECK_FALSE(selected(m, {.since = sys_days{2024y / 3 / 2}}));
    CHECK_FALSE(selected(m, {.before = sys_days{2024y / 3 / 1}}));
    CHECK(selected(m, {.before = sys_days{2024y / 3 / 2}}));
    CHECK(selected(m, {.max_size = 1000}));
    CHECK_FALSE(selected(m, {.max_size = 999}));
}

TEST_CASE("folder plan: INBOX, special use, --map, delimiters, create and subscribe", "[ops][merge]") {
    std::vector<Folder> source{folder("INBOX"),
                               folder("Sent Items", "\\Sent"),
                               folder("Lists.dev", {}, true, '.'),
                               folder("Projects/Old"),
                               folder("Projects/Old/2019", {}, false),
                               folder("All Mail", "\\All"),
                               folder("R&D \"x\" \\ Ärger")};
    source[2].delimiter = '.';
    Folder noselect = folder("Container");
    noselect.selectable = false;
    source.push_back(noselect);
    std::vector<Folder> target{folder("INBOX"), folder("Sent", "\\Sent"), folder("Archive", "\\Archive", false)};
    FolderRules rules;
    rules.map = {parse_map("Projects/Old=Archive")};
    auto plans = plan_folders(source, target, rules);
    REQUIRE(plans.size() == 6); // \All and \Noselect skipped
    CHECK(plans.front().source == "INBOX");
    CHECK(plan_for(plans, "INBOX").target == "INBOX");
    CHECK_FALSE(plan_for(plans, "INBOX").create);
    CHECK(plan_for(plans, "Sent Items").target == "Sent");
    CHECK(plan_for(plans, "Sent Items").reason == "special-use");
    CHECK_FALSE(plan_for(plans, "Sent Items").create);
    CHECK(plan_for(plans, "Lists.dev").target == "Lists/dev"); // delimiter translated
    CHECK(plan_for(plans, "Lists.dev").create);
    CHECK(plan_for(plans, "Lists.dev").subscribe);
    CHECK(plan_for(plans, "Projects/Old").target == "Archive");
    CHECK(plan_for(plans, "Projects/Old").subscribe); // subscribed on the source, not on the target
    CHECK(plan_for(plans, "Projects/Old/2019").target == "Archive/2019");
    CHECK_FALSE(plan_for(plans, "Projects/Old/2019").subscribe);
    CHECK(plan_for(plans, "R&D \"x\" \\ Ärger").target == "R&D \"x\" \\ Ärger");

    rules.include = {"Projects/*"};
    rules.exclude = {"*2019"};
    plans = plan_folders(source, target, rules);
    REQUIRE(plans.size() == 1);
    CHECK(plans[0].source == "Projects/Old");
}

TEST_CASE("folder plan: a name part holding the target delimiter; a special use the target lacks", "[ops][merge]") {
    std::vector<Folder> source{folder("a/b", {}, true, '.'), folder("Spam", "\\Junk")};
    std::vector<Folder> target{folder("INBOX")};
    auto plans = plan_folders(source, target, {});
    CHECK(plan_for(plans, "a/b").target == "a_b");
    CHECK(plan_for(plans, "Spam").target == "Spam");
    CHECK(plan_for(plans, "Spam").special_use == "\\Junk"); // created with USE (\Junk)
    CHECK(plan_for(plans, "Spam").create);
}

TEST_CASE("namespace_of: the longest prefix; INBOX is personal; a namespace's root is in it", "[ops][merge]") {
    CHECK(namespace_of("INBOX", kCyrus).kind == NamespaceKind::personal);
    CHECK(namespace_of("INBOX.Sent", kCyrus).kind == NamespaceKind::personal);
    CHECK(namespace_of("user.bob.Projects", kCyrus).kind == NamespaceKind::other_users);
    CHECK(namespace_of("user", kCyrus).kind == NamespaceKind::other_users);
    CHECK(namespace_of("announcements", kCyrus).kind == NamespaceKind::shared);
    CHECK(namespace_of("Sent", kDovecot).kind == NamespaceKind::personal);
    CHECK(namespace_of("shared/x", kDovecotShared).kind == NamespaceKind::shared);
    CHECK(namespace_of("shared", kDovecotShared).kind == NamespaceKind::shared);
    CHECK(namespace_of("sharedstuff", kDovecotShared).kind == NamespaceKind::personal);
    CHECK(namespace_of("x", {}).kind == NamespaceKind::personal);
}

TEST_CASE("folder plan Cyrus -> Dovecot: the personal prefix goes, the delimiter changes, others' folders stay",
          "[ops][merge]") {
    Hierarchy cyrus{{folder("INBOX", {}, true, '.'), folder("INBOX.Sent", "\\Sent", true, '.'),
                     folder("INBOX.Archive", "\\Archive", true, '.'), folder("INBOX.Projects", {}, true, '.'),
                     folder("INBOX.Projects.2026", {}, true, '.'), folder("INBOX.a/b", {}, false, '.'),
                     folder("INBOX.R&D \"x\" Ärger", {}, true, '.'), folder("user.bob.Projects", {}, true, '.'),
                     folder("announcements", {}, true, '.')},
                    kCyrus};
    Hierarchy dovecot{{folder("INBOX"), folder("Sent", "\\Sent")}, kDovecot};
    auto plans = merge::plan_folders(cyrus, dovecot, {});
    REQUIRE(plans.folders.size() == 7);
    CHECK(plan_for(plans.folders, "INBOX").target == "INBOX");
    CHECK(plan_for(plans.folders, "INBOX.Sent").target == "Sent");
    CHECK(plan_for(plans.folders, "INBOX.Sent").reason == "special-use");
    CHECK(plan_for(plans.folders, "INBOX.Archive").target == "Archive");
    CHECK(plan_for(plans.folders, "INBOX.Archive").create);
    CHECK(plan_for(plans.folders, "INBOX.Projects.2026").target == "Projects/2026");
    CHECK(plan_for(plans.folders, "INBOX.a/b").target == "a_b");
    CHECK(plan_for(plans.folders, "INBOX.R&D \"x\" Ärger").target == "R&D \"x\" Ärger");
    REQUIRE(plans.foreign.size() == 2);
    CHECK(plans.foreign[0].name == "user.bob.Projects");
    CHECK(plans.foreign[0].kind == NamespaceKind::other_users);
    CHECK(plans.foreign[1].name == "announcements");
    CHECK(plans.foreign[1].kind == NamespaceKind::shared);

    // --include-shared: to the namespace of the same kind, else by the full name.
    FolderRules shared;
    shared.include_shared = true;
    plans = merge::plan_folders(cyrus, dovecot, shared);
    CHECK(plans.foreign.empty());
    CHECK(plan_for(plans.folders, "user.bob.Projects").target == "user/bob/Projects");
    CHECK(plan_for(plans.folders, "announcements").target == "announcements");
    plans = merge::plan_folders(cyrus, Hierarchy{dovecot.folders, kDovecotShared}, shared);
    CHECK(plan_for(plans.folders, "user.bob.Projects").target == "user/bob/Projects");
    CHECK(plan_for(plans.folders, "user.bob.Projects").reason == "other-users");
    CHECK(plan_for(plans.folders, "announcements").target == "shared/announcements");
    // --map names folders as the servers show them, whatever their namespace.
    FolderRules map;
    map.map = {parse_map("user.bob.Projects=Bob")};
    plans = merge::plan_folders(cyrus, dovecot, map);
    CHECK(plan_for(plans.folders, "user.bob.Projects").target == "Bob");
}

TEST_CASE("folder plan Dovecot -> Cyrus: under INBOX., in its delimiter, special use found there", "[ops][merge]") {
    Hierarchy dovecot{{folder("INBOX"), folder("Sent Items", "\\Sent"), folder("Drafts", "\\Drafts"),
                       folder("Projects/2026"), folder("Projects.2026"), folder("INBOX/child"),
                       folder("Entwürfe & Co")},
                      kDovecot};
    Hierarchy cyrus{{folder("INBOX", {}, true, '.'), folder("INBOX.Sent", "\\Sent", true, '.')}, kCyrus};
    auto plans = merge::plan_folders(dovecot, cyrus, {});
    CHECK(plans.foreign.empty());
    CHECK(plan_for(plans.folders, "INBOX").target == "INBOX");
    CHECK(plan_for(plans.folders, "Sent Items").target == "INBOX.Sent");
    CHECK_FALSE(plan_for(plans.folders, "Sent Items").create);
    CHECK(plan_for(plans.folders, "Drafts").target == "INBOX.Drafts");
    CHECK(plan_for(plans.folders, "Drafts").create);
    CHECK(plan_for(plans.folders, "Projects/2026").target == "INBOX.Projects.2026");
    CHECK(plan_for(plans.folders, "Projects.2026").target == "INBOX.Projects_2026");
    CHECK(plan_for(plans.folders, "INBOX/child").target == "INBOX.INBOX.child");
    CHECK(plan_for(plans.folders, "Entwürfe & Co").target == "INBOX.Entwürfe & Co");

    // A target not made yet (reprovision's dry run) is planned in the source's namespaces.
    plans = merge::plan_folders(cyrus, Hierarchy{{}, kCyrus}, {});
    CHECK(plan_for(plans.folders, "INBOX.Sent").target == "INBOX.Sent");
    CHECK(plan_for(plans.folders, "INBOX.Sent").create);
}

TEST_CASE("translate_name: there and back is the identity for names without either delimiter", "[ops][merge]") {
    const auto seed = static_cast<unsigned>(std::random_device{}());
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    const std::string alphabet = "abcXYZ09 _-&\"\\~+"
                                 "\xc3\xa4"; // ASCII, quotes, '&', and one 2-byte letter
    const Namespace personal_layouts[] = {ns(NamespaceKind::personal, "INBOX.", '.'),
                                          ns(NamespaceKind::personal, "", '/'), ns(NamespaceKind::personal, "", '.'),
                                          ns(NamespaceKind::personal, "INBOX/", '/')};
    for (int round = 0; round < 2000; ++round) {
        const Namespace& a = personal_layouts[rng() % 4];
        const Namespace& b = personal_layouts[rng() % 4];
        std::vector<std::string> levels(1 + rng() % 4);
        for (auto& level : levels) {
            do {
                level.clear();
                for (std::size_t n = 1 + rng() % 6; n > 0; --n) {
                    const std::size_t i = rng() % (alphabet.size() - 1);
                    level += alphabet[i];
                    if (static_cast<unsigned char>(alphabet[i]) == 0xc3) level += alphabet[i + 1];
                }
            } while (level == "INBOX" || level.back() == '\xc3');
        }
        std::string name = a.prefix;
        for (std::size_t i = 0; i < levels.size(); ++i) name += (i ? std::string(1, *a.delimiter) : "") + levels[i];
        const std::string there = translate_name(name, a, b);
        INFO(name << " -> " << there);
        // The reference: the same levels joined in b's way.
        std::string expected = b.prefix;
        for (std::size_t i = 0; i < levels.size(); ++i) expected += (i ? std::string(1, *b.delimiter) : "") + levels[i];
        CHECK(there == expected);
        CHECK(translate_name(there, b, a) == name);
    }
}

TEST_CASE("parse_map: --map needs OLD=NEW", "[ops][merge]") {
    CHECK(parse_map("a=b") == std::pair<std::string, std::string>{"a", "b"});
    CHECK(parse_map("Sent Items=Sent") == std::pair<std::string, std::string>{"Sent Items", "Sent"});
    CHECK(error_of([] { parse_map("ab"); }).category() == mbx::ErrorCategory::usage);
    CHECK(error_of([] { parse_map("=b"); }).category() == mbx::ErrorCategory::usage);
    CHECK(error_of([] { parse_map("a="); }).category() == mbx::ErrorCategory::usage);
}

TEST_CASE("flags compare as a set: order and case do not count, \\Recent is left out", "[merge]") {
    using V = std::vector<std::string>;
    CHECK(flags_hash({"\\Seen", "$Forwarded"}) == flags_hash({"$forwarded", "\\SEEN"}));
    CHECK(flags_hash({"\\Seen", "\\Recent"}) == flags_hash({"\\Seen"}));
    CHECK(flags_hash({"\\Seen", "\\Seen"}) == flags_hash({"\\Seen"}));
    CHECK(flags_hash({}) == flags_hash({"\\Recent"}));
    CHECK(flags_hash({"\\Seen"}) != flags_hash({}));
    CHECK(flags_hash({"\\Seen", "$Forwarded"}) != flags_hash({"\\Seen", "unknown-0"})); // what a crash leaves
    CHECK(flags_hash({"ab", "c"}) != flags_hash({"a", "bc"}));                          // names are delimited
    CHECK(settable_flags({"\\Recent", "\\Seen", "ProjectX"}) == V{"\\Seen", "ProjectX"});
}
