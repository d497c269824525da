// ops::apply continuing a resumed run: what an earlier attempt made is not made again, what it
// stopped in the middle of is finished under its own record.
#include "mbx/ops/actions.hpp"
#include "mbx/ops/plan.hpp"

#include "mbx/journal/journal.hpp"
#include "journal_fixture.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using mbx::journal::ActionStatus;
using mbx::ops::Applied;
namespace kind = mbx::ops::kind;

namespace {

struct Resuming : mbx::test::JournalFixture {
    mbx::Session session(std::int64_t run, bool dry_run = false) { return session_in(run, dry_run); }
    // The first attempt: alice made, bob stopped while being made (planned), carol failed.
    std::int64_t first_attempt() {
        const auto run = journal.begin_run({.tool = "test"});
        journal.add_action(run, {.kind = kind::kQuotaRaise, .subject = "alice", .status = ActionStatus::done});
        journal.add_action(run, {.kind = kind::kQuotaRaise,
                                 .subject = "bob",
                                 .before = nlohmann::json{{"bytes", 1}},
                                 .after = nlohmann::json{{"bytes", 2}},
                                 .status = ActionStatus::planned});
        journal.add_action(run, {.kind = kind::kQuotaRaise, .subject = "carol", .status = ActionStatus::failed});
        return run;
    }
};

mbx::ops::Plan three(std::vector<std::string>& made) {
    mbx::ops::Plan plan;
    for (const char* user : {"alice", "bob", "carol"})
        plan.push_back({.kind = kind::kQuotaRaise,
                        .subject = user,
                        .before = nlohmann::json{{"bytes", 3}},
                        .after = nlohmann::json{{"bytes", 4}},
                        .apply = [&made, user] { made.emplace_back(user); }});
    return plan;
}

} // namespace

TEST_CASE("apply resumed: the reopened run finishes its planned record and makes nothing twice", "[actions][plan]") {
    Resuming t;
    const auto run = t.first_attempt();
    const std::vector<std::int64_t> runs{run};
    const auto resumed = mbx::ops::Resumed::of_runs(t.journal, runs);
    CHECK(resumed.done(kind::kQuotaRaise, "alice"));
    CHECK_FALSE(resumed.done(kind::kQuotaRaise, "bob"));
    CHECK(resumed.find(kind::kQuotaRaise, "dave") == nullptr);
    CHECK_FALSE(resumed.undone());

    std::vector<std::string> made;
    const auto applied = mbx::ops::apply(t.session(run), three(made), resumed);
    CHECK(applied == std::vector{Applied::already, Applied::done, Applied::done});
    CHECK(made == std::vector<std::string>{"bob", "carol"});
    // alice's record stands; bob's planned one is finished with its own before and after; the
    // failed attempt at carol stays in the journal, and the new one is a record of its own.
    CHECK(t.statuses(run) == std::vector<std::string>{"quota.raise alice done", "quota.raise bob done",
                                                      "quota.raise carol failed", "quota.raise carol done"});
    const auto actions = t.journal.actions_of(run);
    CHECK(actions[1].before == nlohmann::json{{"bytes", 1}});
    CHECK(actions[1].after == nlohmann::json{{"bytes", 2}});
    CHECK(actions[3].before == nlohmann::json{{"bytes", 3}});
}

TEST_CASE("apply resumed: a new run journals what the earlier one made as skipped", "[actions][plan]") {
    Resuming t;
    const std::vector<std::int64_t> runs{t.first_attempt()};
    const auto resumed = mbx::ops::Resumed::of_runs(t.journal, runs);
    const auto run = t.journal.begin_run({.tool = "test"});
    std::vector<std::string> made;
    CHECK(mbx::ops::apply(t.session(run), three(made), resumed) ==
          std::vector{Applied::already, Applied::done, Applied::done});
    CHECK(made == std::vector<std::string>{"bob", "carol"});
    // bob's planned record is another run's: the change is planned again in this one.
    CHECK(t.statuses(run) ==
          std::vector<std::string>{"quota.raise alice skipped", "quota.raise bob done", "quota.raise carol done"});
    CHECK(t.statuses(runs.front()) ==
          std::vector<std::string>{"quota.raise alice done", "quota.raise bob planned", "quota.raise carol failed"});
}

TEST_CASE("apply resumed: a dry run makes nothing and leaves the earlier records alone", "[actions][plan]") {
    Resuming t;
    const auto run = t.first_attempt();
    const std::vector<std::int64_t> runs{run};
    std::vector<std::string> made;
    CHECK(mbx::ops::apply(t.session(run, true), three(made), mbx::ops::Resumed::of_runs(t.journal, runs)) ==
          std::vector{Applied::already, Applied::planned, Applied::planned});
    CHECK(made.empty());
    CHECK(t.statuses(run) == std::vector<std::string>{"quota.raise alice done", "quota.raise bob planned",
                                                      "quota.raise carol failed", "quota.raise bob planned",
                                                      "quota.raise carol planned"});
}

TEST_CASE("apply: what the change made is journaled as its after, done or failed", "[actions][plan]") {
    Resuming t;
    const auto run = t.journal.begin_run({.tool = "test"});
    int copied = 0;
    mbx::ops::PlannedAction copy{.kind = kind::kMergeBatch,
                                 .subject = "alice",
                                 .after = nlohmann::json::object(),
                                 .apply = [&] { copied = 3; },
                                 .made =
                                     [&] {
                                         return std::optional(nlohmann::json{{"copied", copied}});
                                     }};
    mbx::ops::PlannedAction unknown_yet{.kind = kind::kMergeBatch,
                                        .subject = "bob",
                                        .after = nlohmann::json{{"planned", true}},
                                        .apply = [] {},
                                        .made = [] { return std::optional<nlohmann::json>(); }};
    mbx::ops::PlannedAction failing = copy;
    failing.subject = "carol";
    failing.apply = [&] {
        copied = 1;
        throw mbx::Error(mbx::ErrorCategory::temporary, "the server went away");
    };
    CHECK(mbx::test::error_of([&] {
              mbx::ops::apply(t.session(run), {copy, unknown_yet, failing});
          }).category() == mbx::ErrorCategory::temporary);
    const auto actions = t.journal.actions_of(run);
    REQUIRE(actions.size() == 3);
    CHECK(actions[0].status == ActionStatus::done);
    CHECK(actions[0].after == nlohmann::json{{"copied", 3}});
    CHECK(actions[1].after == nlohmann::json{{"planned", true}});
    CHECK(actions[2].status == ActionStatus::failed);
    CHECK(actions[2].after == nlohmann::json{{"copied", 1}});
    CHECK(actions[2].error == std::optional<std::string>("the server went away"));
}
