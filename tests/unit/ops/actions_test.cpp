#include "mbx/ops/actions.hpp"
#include "mbx/ops/plan.hpp"

#include "mbx/journal/journal.hpp"
#include "journal_fixture.hpp"

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

TEST_CASE("action kinds: the undoable ones are the five with an undo", "[actions]") {
    std::set<std::string_view> undoable;
    for (const auto& k : mbx::ops::action_kinds())
        if (k.undo) undoable.insert(k.name);
    CHECK(undoable == std::set<std::string_view>{kind::kQuotaRaise, kind::kQuotaRaiseServer, kind::kQuotaCleanupMessage,
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
    for (const char* k :
         {"quota.raise", "quota.cleanup.folder", "quota.cleanup.message", "mailbox.claim", "merge.plan", "merge.batch",
          "merge.verify", "reprovision.inspect", "reprovision.cutover", "undo.quota.raise"}) {
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

// ---- plan and apply --------------------------------------------------------------------------

namespace {

struct Applying : mbx::test::JournalFixture {
    std::int64_t run = journal.begin_run({.tool = "test"});

    mbx::Session session(bool dry_run) { return session_in(run, dry_run); }
    std::vector<std::string> statuses() { return JournalFixture::statuses(run); }
};

} // namespace

TEST_CASE("apply: each action journaled planned before it is made, done after", "[actions]") {
    Applying t;
    std::vector<std::string> made;
    // What the journal holds when each change is made: the action is already `planned`.
    const mbx::ops::Plan plan{
        {.kind = kind::kQuotaRaise,
         .subject = "alice",
         .before = nlohmann::json{{"bytes", 1}},
         .after = nlohmann::json{{"bytes", 2}},
         .apply = [&] { made.push_back("alice: " + t.statuses().back()); }},
        {.kind = kind::kQuotaRaise, .subject = "bob"}, // nothing to change
        {.kind = kind::kQuotaRaise, .subject = "carol", .apply = [&] { made.push_back("carol"); }}};
    const auto applied = mbx::ops::apply(t.session(false), plan);
    CHECK(applied == std::vector{mbx::ops::Applied::done, mbx::ops::Applied::skipped, mbx::ops::Applied::done});
    CHECK(made == std::vector<std::string>{"alice: quota.raise alice planned", "carol"});
    CHECK(t.statuses() ==
          std::vector<std::string>{"quota.raise alice done", "quota.raise bob skipped", "quota.raise carol done"});
    const auto actions = t.journal.actions_of(t.run);
    CHECK(actions.front().before == nlohmann::json{{"bytes", 1}});
    CHECK(actions.front().after == nlohmann::json{{"bytes", 2}});
}

TEST_CASE("apply: a dry run journals the plan and makes nothing; a failure ends the plan", "[actions]") {
    Applying t;
    bool made = false;
    const mbx::ops::Plan plan{{.kind = kind::kQuotaRaise, .subject = "alice", .apply = [&] { made = true; }}};
    CHECK(mbx::ops::apply(t.session(true), plan) == std::vector{mbx::ops::Applied::planned});
    CHECK_FALSE(made);
    CHECK(t.statuses() == std::vector<std::string>{"quota.raise alice planned"});

    const mbx::ops::Plan failing{
        {.kind = kind::kQuotaRaise,
         .subject = "bob",
         .apply = [] { throw mbx::Error(mbx::ErrorCategory::data, "the directory refused the change"); }},
        {.kind = kind::kQuotaRaise, .subject = "carol", .apply = [&] { made = true; }}};
    const auto e = mbx::test::error_of([&] { mbx::ops::apply(t.session(false), failing); });
    CHECK(e.category() == mbx::ErrorCategory::data);
    CHECK_FALSE(made);
    const auto actions = t.journal.actions_of(t.run);
    REQUIRE(actions.size() == 2);
    CHECK(actions.back().status == mbx::journal::ActionStatus::failed);
    CHECK(actions.back().error == std::optional<std::string>("the directory refused the change"));
}

TEST_CASE("apply: a kind the registry does not name is refused before anything happens", "[actions]") {
    Applying t;
    bool made = false;
    const mbx::ops::Plan plan{{.kind = kind::kQuotaRaise, .subject = "alice", .apply = [&] { made = true; }},
                              {.kind = "quota.lower", .subject = "bob", .apply = [&] { made = true; }}};
    CHECK(mbx::test::error_of([&] { mbx::ops::apply(t.session(false), plan); }).category() ==
          mbx::ErrorCategory::internal);
    CHECK_FALSE(made);
    CHECK(t.journal.actions_of(t.run).empty());
    // Without a journal run the plan is carried out, and nothing is journaled.
    mbx::Session unjournaled = t.session(false);
    unjournaled.run_id.reset();
    CHECK(mbx::ops::apply(unjournaled, {plan.front()}) == std::vector{mbx::ops::Applied::done});
    CHECK(made);
    CHECK(t.journal.actions_of(t.run).empty());
}
