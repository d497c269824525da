#include "mbx/ops/actions.hpp"

#include "mbx/journal/journal.hpp"
#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>

using mbx::ops::Effect;
using mbx::ops::find_action_kind;
using mbx::ops::read_only_kind;
namespace kind = mbx::ops::kind;

TEST_CASE("action kinds: one row per name, and only changes can be undone", "[actions]") {
    std::set<std::string_view> names;
    for (const auto& k : mbx::ops::action_kinds()) {
        INFO(k.name);
        CHECK(names.insert(k.name).second);
        CHECK(find_action_kind(k.name) == &k);
        CHECK(!k.what.empty());
        if (k.undo) CHECK(k.effect == Effect::changes);
    }
    CHECK(names.size() >= 28);
}

TEST_CASE("action kinds: the undoable ones are the four with an undo", "[actions]") {
    std::set<std::string_view> undoable;
    for (const auto& k : mbx::ops::action_kinds())
        if (k.undo) undoable.insert(k.name);
    CHECK(undoable == std::set<std::string_view>{kind::kQuotaRaise, kind::kQuotaCleanupMessage,
                                                 kind::kReprovisionAccount, kind::kReprovisionCutover});
    CHECK(mbx::ops::find_undo_handler(kind::kQuotaRaise) != nullptr);
    CHECK(mbx::ops::is_undoable(kind::kReprovisionCutover));
    CHECK_FALSE(mbx::ops::is_undoable(kind::kReprovisionMailbox));
    // An undo is recorded as a kind of its own, which cannot itself be undone.
    const auto* undo = find_action_kind(std::string(kind::kUndoPrefix) + kind::kQuotaRaise);
    REQUIRE(undo != nullptr);
    CHECK(undo->effect == Effect::changes);
    CHECK_FALSE(mbx::ops::is_undoable("undo.quota.raise"));
}

TEST_CASE("action kinds: what diagnose's history counts as a look, not a change", "[actions]") {
    for (const char* k : {"ldap.bind", "ldap.search", "imap.login", "quota.check", "audit.log", "audit.devices",
                          "audit.device", "audit.compat", "audit.probe", "audit.server", "diagnose.check"}) {
        INFO(k);
        CHECK(read_only_kind(k));
    }
    for (const char* k : {"quota.raise", "quota.cleanup.folder", "quota.cleanup.message", "mailbox.claim",
                          "merge.plan", "merge.batch", "merge.verify", "reprovision.inspect", "reprovision.cutover",
                          "undo.quota.raise"}) {
        INFO(k);
        CHECK_FALSE(read_only_kind(k));
    }
    // Audit and diagnose only ever look, whatever version wrote the kind.
    CHECK(read_only_kind("audit.clients"));
    CHECK(read_only_kind("diagnose.finding"));
    // Any other kind this version never writes (a newer mbx's journal) is taken to have changed
    // something.
    CHECK(find_action_kind("mailbox.rename") == nullptr);
    CHECK_FALSE(read_only_kind("mailbox.rename"));
    CHECK_FALSE(read_only_kind(""));
}

TEST_CASE("action kinds: the journal's own claim is a registered kind", "[actions]") {
    mbx::test::TempDir tmp;
    auto journal = mbx::journal::Journal::open(tmp / "j.sqlite");
    const auto run = journal.begin_run({.tool = "quota"});
    journal.claim_mailbox(run, "alice");
    const auto actions = journal.actions_of(run);
    REQUIRE(actions.size() == 1);
    CHECK(actions.front().kind == kind::kMailboxClaim);
    CHECK(find_action_kind(actions.front().kind) != nullptr);
}
