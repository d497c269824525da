#include "mbx/ops/merge_plan.hpp"
#include "mbx/ops/message.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

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

Message msg(std::uint64_t uid, std::string_view header, std::uint64_t size) {
    Message m;
    m.uid = uid;
    m.size = size;
    m.fingerprint = fingerprint_of(header, size);
    return m;
}

} // namespace

TEST_CASE("fingerprint: Message-ID and size; without one Date, From, Subject and size", "[ops][merge]") {
    const auto a = fingerprint_of("Message-ID: <a@x>\r\nSubject: hi\r\n\r\n", 100);
    CHECK(a == fingerprint_of("Subject: other\r\nMessage-ID:  <a@x> \r\n\r\n", 100)); // subject does not matter
    CHECK(a == fingerprint_of("message-id:\r\n <a@x>\r\n\r\n", 100));                // folded, any case
    CHECK_FALSE(a == fingerprint_of("Message-ID: <a@x>\r\n\r\n", 101));                // size matters
    CHECK_FALSE(a == fingerprint_of("Message-ID: <b@x>\r\n\r\n", 100));
    const auto h = fingerprint_of("Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: a@x\r\nSubject: s\r\n\r\n", 50);
    CHECK(h == fingerprint_of("Subject: s\r\nFrom:  a@x\r\nDate: Mon, 1 Jan 2024\r\n 10:00:00 +0000\r\n\r\n", 50));
    CHECK_FALSE(h == fingerprint_of("Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: a@x\r\nSubject: t\r\n\r\n", 50));
    // A header of a message that has no Message-ID never equals one that has.
    CHECK_FALSE(fingerprint_of("Subject: <a@x>\r\n\r\n", 100) == a);
    CHECK(message_id_of("Message-ID: <a@x>\r\n\r\n") == "<a@x>");
    CHECK(message_id_of("Message-ID: <\x01@x>\r\n\r\n").empty());
}

TEST_CASE("missing_messages is a multiset difference in source order", "[ops][merge]") {
    std::vector<Message> source{msg(1, "Message-ID: <1>\r\n", 10), msg(2, "Message-ID: <2>\r\n", 10),
                                msg(3, "Message-ID: <2>\r\n", 10), msg(4, "Message-ID: <4>\r\n", 10)};
    FingerprintCounts target;
    ++target[source[1].fingerprint]; // the target has one copy of <2>
    ++target[source[0].fingerprint];
    ++target[fingerprint_of("Message-ID: <9>\r\n", 10)]; // extra on the target: irrelevant
    CHECK(missing_messages(source, target) == std::vector<std::size_t>{2, 3});
    FingerprintCounts empty;
    CHECK(missing_messages(source, empty).size() == 4);
    FingerprintCounts all;
    for (const auto& m : source) ++all[m.fingerprint];
    CHECK(missing_messages(source, all).empty()); // a second run copies nothing
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
