// ops::apply_batch: changes made by one call (quota cleanup's UID EXPUNGE of many messages),
// each journaled on its own before the call and after.
#include "mbx/ops/actions.hpp"
#include "mbx/ops/plan.hpp"

#include "mbx/journal/journal.hpp"
#include "journal_fixture.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using mbx::ops::BatchApplied;
using mbx::ops::PlannedBatch;
namespace kind = mbx::ops::kind;

namespace {

// Three messages, the second of which vanished before the batch.
PlannedBatch three_messages() {
    PlannedBatch batch;
    for (const char* subject : {"alice/Trash:1", "alice/Trash:2", "alice/Trash:3"})
        batch.actions.push_back({.kind = kind::kQuotaCleanupMessage,
                                 .subject = subject,
                                 .before = nlohmann::json{{"uid", subject}},
                                 .after = nlohmann::json{{"file", "f"}}});
    batch.actions[1].after.reset();
    batch.actions[1].skipped = "the message vanished";
    return batch;
}

// The journal of three_messages(): the first and the third with these statuses, the vanished
// second skipped.
std::vector<std::string> three_statuses(const std::string& first, const std::string& third) {
    return {"alice/Trash:1 " + first, "alice/Trash:2 skipped: the message vanished", "alice/Trash:3 " + third};
}

struct Batching : mbx::test::JournalFixture {
    std::int64_t run = journal.begin_run({.tool = "test"});
    PlannedBatch batch = three_messages();
    int calls = 0; // the batch's calls, once count_calls() made it the call

    mbx::Session session(bool dry_run) { return session_in(run, dry_run); }
    // "SUBJECT STATUS", and ": ERROR" when the action has one.
    std::vector<std::string> statuses() { return JournalFixture::statuses(run, false, true); }
    // Makes the batch's call one that makes everything and counts itself in `calls`.
    void count_calls() {
        batch.apply = [this] {
            ++calls;
            return PlannedBatch::Unmade{};
        };
    }
    // The category of the error apply_batch throws for `b` in a real run.
    mbx::ErrorCategory refusal(const PlannedBatch& b) {
        return mbx::test::error_of([&] { mbx::ops::apply_batch(session(false), b); }).category();
    }
};

} // namespace

TEST_CASE("apply_batch: every action journaled before the one call, done after", "[plan]") {
    Batching t;
    auto& batch = t.batch;
    std::vector<std::vector<std::string>> seen; // the journal at each call
    batch.apply = [&] {
        seen.push_back(t.statuses());
        return PlannedBatch::Unmade{};
    };
    CHECK(mbx::ops::apply_batch(t.session(false), batch) ==
          std::vector{BatchApplied::done, BatchApplied::skipped, BatchApplied::done});
    CHECK(seen == std::vector<std::vector<std::string>>{three_statuses("planned", "planned")});
    CHECK(t.statuses() == three_statuses("done", "done"));
    const auto actions = t.journal.actions_of(t.run);
    CHECK(actions.front().kind == kind::kQuotaCleanupMessage);
    CHECK(actions.front().before == nlohmann::json{{"uid", "alice/Trash:1"}});
    CHECK(actions.front().after == nlohmann::json{{"file", "f"}});
    CHECK_FALSE(actions[1].after.has_value());
}

TEST_CASE("apply_batch: what the call could not make is failed, the rest done", "[plan]") {
    Batching t;
    auto& batch = t.batch;
    // Index 1 was skipped and 7 names no action: neither changes anything.
    batch.apply = [] { return PlannedBatch::Unmade{{2, "the server kept it"}, {1, "ignored"}, {7, "ignored"}}; };
    CHECK(mbx::ops::apply_batch(t.session(false), batch) ==
          std::vector{BatchApplied::done, BatchApplied::skipped, BatchApplied::failed});
    CHECK(t.statuses() == three_statuses("done", "failed: the server kept it"));
}

TEST_CASE("apply_batch: a failed call marks the batch failed and is rethrown", "[plan]") {
    Batching t;
    auto& batch = t.batch;
    batch.apply = []() -> PlannedBatch::Unmade {
        throw mbx::Error(mbx::ErrorCategory::data, "the server refused the expunge");
    };
    CHECK(t.refusal(batch) == mbx::ErrorCategory::data);
    CHECK(t.statuses() ==
          three_statuses("failed: the server refused the expunge", "failed: the server refused the expunge"));
}

TEST_CASE("apply_batch: an error after which the outcome is unknown leaves the actions planned", "[plan]") {
    Batching t;
    auto& batch = t.batch;
    batch.apply = []() -> PlannedBatch::Unmade {
        throw mbx::Error(mbx::ErrorCategory::unavailable, "connection lost");
    };
    batch.outcome_unknown = [](const mbx::Error& e) { return e.category() == mbx::ErrorCategory::unavailable; };
    CHECK(t.refusal(batch) == mbx::ErrorCategory::unavailable);
    CHECK(t.statuses() == three_statuses("planned", "planned"));
}

TEST_CASE("apply_batch: a dry run, or nothing to change, journals the plan and makes no call", "[plan]") {
    Batching t;
    auto& batch = t.batch;
    t.count_calls();
    CHECK(mbx::ops::apply_batch(t.session(true), batch) ==
          std::vector{BatchApplied::planned, BatchApplied::skipped, BatchApplied::planned});
    CHECK(t.calls == 0);
    CHECK(t.statuses() == three_statuses("planned", "planned"));

    Batching u;
    PlannedBatch gone{.actions = {batch.actions[1]}, .apply = batch.apply};
    CHECK(mbx::ops::apply_batch(u.session(false), gone) == std::vector{BatchApplied::skipped});
    CHECK(t.calls == 0);
    CHECK(u.statuses() == std::vector<std::string>{"alice/Trash:2 skipped: the message vanished"});
}

TEST_CASE("apply_batch: a kind the registry does not name is refused before anything happens", "[plan]") {
    Batching t;
    auto& batch = t.batch;
    t.count_calls();
    batch.actions[2].kind = "quota.cleanup.everything";
    CHECK(t.refusal(batch) == mbx::ErrorCategory::internal);
    batch.actions[2].kind = nullptr;
    CHECK(t.refusal(batch) == mbx::ErrorCategory::internal);
    // So is a batch without the call that makes it.
    auto uncallable = three_messages();
    CHECK(t.refusal(uncallable) == mbx::ErrorCategory::internal);
    CHECK(t.calls == 0);
    CHECK(t.journal.actions_of(t.run).empty());

    // Without a journal run the batch is made, and nothing is journaled.
    batch.actions[2].kind = kind::kQuotaCleanupMessage;
    mbx::Session unjournaled = t.session(false);
    unjournaled.run_id.reset();
    CHECK(mbx::ops::apply_batch(unjournaled, batch) ==
          std::vector{BatchApplied::done, BatchApplied::skipped, BatchApplied::done});
    CHECK(t.calls == 1);
    CHECK(t.journal.actions_of(t.run).empty());
}
