// mbx::imap mailbox operations and the response parser against the real Dovecot of
// scripts/testenv.

#include "testenv.hpp"

#include "mbx/core/error.hpp"
#include "mbx/imap/connection.hpp"
#include "mbx/imap/mailbox_ops.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>

using namespace mbx::imap;
using mbx::testing::error_of;
using mbx::testing::testenv;

namespace {

Connection open_as(const std::string& user) {
    ImapConfig c;
    c.uri = testenv("TESTENV_IMAPS_URI");
    c.ca_file = testenv("TESTENV_CA_FILE");
    c.user = user;
    c.password = mbx::testing::secret_from_file(testenv("TESTENV_USER_PASSWORD_FILE"));
    c.timeout = std::chrono::seconds(10);
    return Connection::open(c);
}

const ListEntry* find_with(const std::vector<ListEntry>& list, std::string_view attribute) {
    for (const auto& e : list) {
        if (e.has_attribute(attribute)) return &e;
    }
    return nullptr;
}

} // namespace

TEST_CASE("IMAP ops: alice's mailboxes carry their special-use attributes", "[imap]") {
    Connection c = open_as("alice");
    std::vector<ListEntry> list = list_mailboxes(c);
    CHECK(std::any_of(list.begin(), list.end(), [](const auto& e) { return e.name == "INBOX"; }));
    for (const char* attribute : {"\\Sent", "\\Trash", "\\Junk", "\\Drafts", "\\Archive"}) {
        INFO(attribute);
        const ListEntry* e = find_with(list, attribute);
        REQUIRE(e != nullptr);
        CHECK(e->delimiter.has_value());
    }
    CHECK(find_with(list, "\\Sent")->name == "Sent");
}

TEST_CASE("IMAP ops: GETQUOTAROOT and STATUS of alice's INBOX", "[imap]") {
    Connection c = open_as("alice");
    QuotaRootInfo q = get_quota_root(c, "INBOX");
    REQUIRE_FALSE(q.roots.empty());
    REQUIRE_FALSE(q.quotas.empty());
    const QuotaResource* storage = q.quotas[0].find("STORAGE");
    REQUIRE(storage != nullptr);
    CHECK(storage->limit == 50ull * 1024 * 1024);
    CHECK(storage->usage > 0);

    StatusEntry s = status(c, "INBOX", {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"});
    CHECK(s.mailbox == "INBOX");
    REQUIRE(s.get("MESSAGES"));
    CHECK(*s.get("MESSAGES") > 0);
    CHECK(s.get("UIDNEXT") > s.get("MESSAGES"));
    CHECK(s.get("UIDVALIDITY"));
}

TEST_CASE("IMAP ops: a folder with quotes, backslash, & and umlaut round-trips", "[imap]") {
    Connection c = open_as("dave");
    const std::string name = "Quote \"me\" \\ & Entwürfe " + std::to_string(::getpid());
    c.command(Command("DELETE").mailbox(name)); // left over from an interrupted run
    REQUIRE(c.command(Command("CREATE").mailbox(name)).ok());

    std::vector<ListEntry> list = list_mailboxes(c);
    CHECK(std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.name == name; }));
    StatusEntry s = status(c, name, {"MESSAGES"});
    CHECK(s.mailbox == name);
    CHECK(s.get("MESSAGES") == 0u);
    SelectInfo sel = select(c, name, true);
    CHECK(sel.exists == 0);
    CHECK(sel.uidvalidity > 0);
    CHECK(sel.read_only);
    SelectInfo rw = select(c, name, false);
    CHECK_FALSE(rw.read_only);
    CHECK(uid_search(c, "ALL").empty());
    REQUIRE(c.command("CLOSE").ok());
    CHECK(c.command(Command("DELETE").mailbox(name)).ok());

    auto e = error_of([&] { (void)status(c, name, {"MESSAGES"}); });
    CHECK(e.category() == mbx::ErrorCategory::data);
    // Dovecot 2.3 answers STATUS of a missing mailbox with a plain NO naming it.
    CHECK(std::string(e.what()).find("Entwürfe") != std::string::npos);
}

TEST_CASE("IMAP ops: UID SEARCH and streaming UID FETCH in alice's INBOX", "[imap]") {
    Connection c = open_as("alice");
    SelectInfo sel = select(c, "INBOX", true);
    REQUIRE(sel.exists > 0);
    std::vector<std::uint64_t> uids = uid_search(c, "ALL");
    CHECK(uids.size() == sel.exists);
    std::vector<FetchItem> items;
    uid_fetch(c, "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
              [&](const FetchItem& f) { items.push_back(f); });
    REQUIRE(items.size() == sel.exists);
    for (const auto& f : items) {
        CHECK(f.uid);
        CHECK(f.flags);
        CHECK(f.internaldate);
        CHECK(f.size > 0u);
        REQUIRE(f.sections.count("BODY[HEADER.FIELDS (SUBJECT)]") == 1);
    }
    CHECK(items[0].uid == uids[0]);
    // The connection is still in step after streaming.
    CHECK(c.command("NOOP").ok());
}

TEST_CASE("IMAP ops: hostile and failing commands become errors", "[imap]") {
    Connection c = open_as("bob");
    auto e = error_of([&] { (void)select(c, "no such mailbox", false); });
    CHECK(e.category() == mbx::ErrorCategory::data);
    CHECK(std::string(e.what()).find("no such mailbox") != std::string::npos);
    // No mailbox selected: the server refuses UID FETCH.
    auto f = error_of([&] { uid_fetch(c, "1:*", "(FLAGS)", [](const FetchItem&) {}); });
    CHECK(f.category() == mbx::ErrorCategory::data);
    CHECK(error_of([&] { uid_fetch(c, "1 FLAGS", "(FLAGS)", [](const FetchItem&) {}); }).category() ==
          mbx::ErrorCategory::internal);
    CHECK(error_of([&] { (void)status(c, "INBOX", {"MESSAGES) (X"}); }).category() == mbx::ErrorCategory::internal);
    CHECK(c.command("NOOP").ok());
}
