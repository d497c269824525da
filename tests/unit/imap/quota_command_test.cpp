// What GETQUOTA/SETQUOTA/GETQUOTAROOT put on the wire (RFC 9208), what a pipelined GETQUOTAROOT's
// answer decodes to, and the admin's name for another user's mailbox (RFC 2342).
#include "mbx/imap/mailbox_ops.hpp"

#include "../../common/error_of.hpp"

#include <catch2/catch.hpp>

using namespace mbx::imap;
using mbx::ErrorCategory;
using mbx::test::error_of;

namespace {

ResponseLine line_of(std::string text) {
    ResponseLine line;
    line.segments.push_back(std::move(text));
    return line;
}

Response ok_with(std::vector<std::string> untagged) {
    Response r;
    r.tag = "A1";
    r.status = Status::ok;
    r.text = "Completed";
    for (auto& u : untagged) r.untagged.push_back(line_of(std::move(u)));
    return r;
}

Namespaces cyrus_namespaces() {
    // Debian's Cyrus: (("INBOX." ".")) (("user." ".")) (("" "."))
    return {{{"INBOX.", '.'}}, {{"user.", '.'}}, {{"", '.'}}};
}

} // namespace

TEST_CASE("SETQUOTA: STORAGE in KiB, other limits kept, () removes them", "[imap][quota]") {
    CHECK(set_quota_command("user.alice", 10240).describe() == "SETQUOTA user.alice (STORAGE 10240)");
    CHECK(set_quota_command("user.alice", std::nullopt).describe() == "SETQUOTA user.alice ()");
    CHECK(set_quota_command("user.alice", 2048, {{"MESSAGE", 1000}}).describe() ==
          "SETQUOTA user.alice (STORAGE 2048 MESSAGE 1000)");
    CHECK(set_quota_command("user.alice", std::nullopt, {{"MESSAGE", 5}}).describe() ==
          "SETQUOTA user.alice (MESSAGE 5)");
    // The root is an astring as the server named it: quoted when it must be, never spliced.
    CHECK(set_quota_command("User quota", 1).describe() == "SETQUOTA \"User quota\" (STORAGE 1)");
    CHECK(set_quota_command("", 1).describe() == "SETQUOTA \"\" (STORAGE 1)");
    CHECK(set_quota_command("a\"b) (STORAGE 1", 1).describe() == "SETQUOTA \"a\\\"b) (STORAGE 1\" (STORAGE 1)");
    for (const char* bad : {"", "MES SAGE", "X)", "STORAGE", "storage"}) {
        INFO(bad);
        CHECK(error_of([&] { (void)set_quota_command("r", 1, {{bad, 1}}); }).category() == ErrorCategory::internal);
    }
}

TEST_CASE("GETQUOTA and GETQUOTAROOT commands", "[imap][quota]") {
    CHECK(get_quota_command("user.alice").describe() == "GETQUOTA user.alice");
    CHECK(get_quota_command("User quota").describe() == "GETQUOTA \"User quota\"");
    CHECK(get_quota_root_command("user.alice").describe() == "GETQUOTAROOT user.alice");
    CHECK(get_quota_root_command("user.Entwürfe").describe() == "GETQUOTAROOT user.Entw&APw-rfe");
    CHECK(get_quota_root_command("user.a b").describe() == "GETQUOTAROOT \"user.a b\"");
}

TEST_CASE("quota_root_result decodes a GETQUOTAROOT answer", "[imap][quota]") {
    const auto info = quota_root_result(
        "user.alice",
        ok_with({"* QUOTAROOT user.alice user.alice", "* QUOTA user.alice (STORAGE 8345 10240 MESSAGE 8 1000)"}));
    REQUIRE(info.roots == std::vector<std::string>{"user.alice"});
    REQUIRE(info.quotas.size() == 1);
    const auto* s = info.quotas[0].find("STORAGE");
    REQUIRE(s);
    CHECK(s->usage == 8345u * 1024);
    CHECK(s->limit == 10240u * 1024);
    CHECK(info.quotas[0].find("MESSAGE")->limit == 1000u);

    const auto none = quota_root_result("user.bob", ok_with({"* QUOTAROOT user.bob"}));
    CHECK(none.roots.empty());
    CHECK(none.quotas.empty());

    Response no;
    no.status = Status::no;
    no.text = "Mailbox does not exist";
    const auto e = error_of([&] { (void)quota_root_result("user.nosuch", no); });
    CHECK(e.category() == ErrorCategory::data);
    CHECK(std::string(e.what()) ==
          "cannot get the quota of mailbox 'user.nosuch': the server said 'NO Mailbox does not exist'");
    CHECK(error_of([] { (void)quota_root_result("x", ok_with({"* QUOTA x (STORAGE 1)"})); }).category() ==
          ErrorCategory::data);
}

TEST_CASE("other_user_mailbox: the admin's name for a user's mailbox", "[imap][quota]") {
    CHECK(other_user_mailbox(cyrus_namespaces(), "alice") == "user.alice");
    Namespaces slash{{{"", '/'}}, {{"Other Users/", '/'}, {"#users/", '/'}}, {}};
    CHECK(other_user_mailbox(slash, "bob") == "Other Users/bob"); // the first one
    CHECK(error_of([] { (void)other_user_mailbox(cyrus_namespaces(), "john.doe"); }).category() == ErrorCategory::data);
    CHECK(error_of([] { (void)other_user_mailbox(cyrus_namespaces(), ""); }).category() == ErrorCategory::data);
    Namespaces dovecot{{{"", '/'}}, {}, {}};
    const auto e = error_of([&] { (void)other_user_mailbox(dovecot, "alice"); });
    CHECK(e.category() == ErrorCategory::config);
    CHECK(std::string(e.what()).find("no other users' namespace") != std::string::npos);
}
