// ops::begin and ops::finish: a change journaled before it is made and finished later, several
// in flight (merge's batches).
#include "mbx/ops/actions.hpp"
#include "mbx/ops/plan.hpp"

#include "journal_fixture.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace kind = mbx::ops::kind;

TEST_CASE("begin/finish: planned when begun, done with its after when finished, in any order", "[plan]") {
    mbx::test::JournalFixture t;
    const auto run = t.journal.begin_run({.tool = "test"});
    const auto session = t.session_in(run);
    const auto first = mbx::ops::begin(
        session, {.kind = kind::kMergeBatch, .subject = "bob/INBOX", .after = nlohmann::json{{"sending", "1:3"}}});
    const auto second = mbx::ops::begin(
        session, {.kind = kind::kMergeBatch, .subject = "bob/INBOX", .after = nlohmann::json{{"sending", "4:6"}}});
    CHECK(t.statuses(run) ==
          std::vector<std::string>{"merge.batch bob/INBOX planned", "merge.batch bob/INBOX planned"});
    mbx::ops::finish(session, second, nlohmann::json{{"copied", 3}});
    // The first never finishes (the run died with it in flight): it stays planned, in doubt.
    CHECK(t.statuses(run) == std::vector<std::string>{"merge.batch bob/INBOX planned", "merge.batch bob/INBOX done"});
    const auto actions = t.journal.actions_of(run);
    CHECK(actions[0].after == nlohmann::json{{"sending", "1:3"}});
    CHECK(actions[1].after == nlohmann::json{{"copied", 3}});
    REQUIRE(first.action);
    CHECK(*first.action == actions[0].id);
}

TEST_CASE("begin: a kind the registry does not name is refused; without a journal run nothing is written", "[plan]") {
    mbx::test::JournalFixture t;
    const auto run = t.journal.begin_run({.tool = "test"});
    CHECK(mbx::test::error_of([&] {
              mbx::ops::begin(t.session_in(run), {.kind = "merge.nonsense", .subject = "x"});
          }).category() == mbx::ErrorCategory::internal);
    CHECK(t.journal.actions_of(run).empty());
    mbx::Session unjournaled = t.session_in(run);
    unjournaled.run_id.reset();
    const auto begun = mbx::ops::begin(unjournaled, {.kind = kind::kMergeBatch, .subject = "x"});
    CHECK_FALSE(begun.action);
    mbx::ops::finish(unjournaled, begun);
    CHECK(t.journal.actions_of(run).empty());
}
