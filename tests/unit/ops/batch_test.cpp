#include "mbx/ops/batch.hpp"

#include "mbx/journal/journal.hpp"
#include "../test_support.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

using mbx::Error;
using mbx::ErrorCategory;
using mbx::ExitCode;
using mbx::ops::SubjectContext;
using mbx::test::TempDir;

namespace {

// A journal in a temporary directory and a session on it.
struct Setup {
    TempDir tmp;
    mbx::journal::Journal journal = mbx::journal::Journal::open(tmp / "j.sqlite");
    mbx::NullProgress progress;
    mbx::config::Config cfg;
    mbx::Session session{.config = cfg, .secrets = {}, .journal = &journal, .progress = progress};
};

} // namespace

TEST_CASE("run_batch: every subject once, outcomes in order, one subject's failure kept to it", "[batch]") {
    Setup setup;
    auto& journal = setup.journal;
    const auto& session = setup.session;
    for (unsigned parallel : {1u, 3u, 50u}) {
        std::mutex m;
        std::multiset<std::size_t> seen;
        std::set<const mbx::journal::Journal*> handles;
        const auto outcomes = mbx::ops::run_batch(session, 10, parallel, [&](SubjectContext& s) {
            {
                const std::lock_guard lock(m);
                seen.insert(s.index);
                handles.insert(s.session.journal);
            }
            // Each subject writes a run through its own handle: the journal is one thread's.
            const auto run = s.session.journal->begin_run({.tool = "batchtest"});
            s.session.journal->finish_run(run, mbx::journal::RunStatus::ok, 0);
            if (s.index == 4) throw Error(ErrorCategory::unavailable, "subject 4 cannot reach its server");
            return s.index == 7 ? ExitCode::warning : ExitCode::ok;
        });
        INFO("parallel " << parallel);
        REQUIRE(outcomes.size() == 10);
        CHECK(seen == std::multiset<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        for (std::size_t i = 0; i < 10; ++i) {
            const ExitCode want = i == 4 ? ExitCode::unavailable : i == 7 ? ExitCode::warning : ExitCode::ok;
            CHECK(outcomes[i].exit == want);
            CHECK(outcomes[i].error.has_value() == (i == 4));
        }
        CHECK(std::string(outcomes[4].error->what()) == "subject 4 cannot reach its server");
        if (parallel == 1) CHECK(handles == std::set<const mbx::journal::Journal*>{&journal});
        else CHECK_FALSE(handles.contains(&journal)); // workers open their own
    }
    CHECK(journal.list_runs({.tool = "batchtest"}).size() == 30);
}

TEST_CASE("run_batch: an exception that is not an mbx::Error stops the batch and propagates", "[batch]") {
    Setup setup;
    const auto& session = setup.session;
    for (unsigned parallel : {1u, 4u}) {
        CHECK_THROWS_AS(mbx::ops::run_batch(session, 20, parallel,
                                            [&](SubjectContext& s) -> ExitCode {
                                                if (s.index == 2) throw std::logic_error("a bug");
                                                return ExitCode::ok;
                                            }),
                        std::logic_error);
    }
    CHECK(mbx::ops::run_batch(session, 0, 4, [](SubjectContext&) { return ExitCode::ok; }).empty());
    // Not journaled: the workers open no journal either.
    const mbx::Session bare{.config = setup.cfg, .secrets = {}, .progress = setup.progress};
    CHECK(mbx::ops::run_batch(bare, 5, 3, [](SubjectContext& s) {
              return s.session.journal == nullptr ? ExitCode::ok : ExitCode::internal;
          }).size() == 5);
}

TEST_CASE("subject_argv: the batch's own options go, the subject's come first", "[batch]") {
    using V = std::vector<std::string>;
    CHECK(mbx::ops::subject_argv({"--users-file", "pairs.csv", "--parallel=4", "--format", "json", "-n"},
                                 {"--users-file", "--parallel"}, {"--from", "a", "--to", "b"}) ==
          V{"--from", "a", "--to", "b", "--format", "json", "-n"});
    CHECK(mbx::ops::subject_argv({"--parallel", "2", "--users-file=x", "--users-files-are-not-this"},
                                 {"--users-file", "--parallel"}, {}) == V{"--users-files-are-not-this"});
    CHECK(mbx::ops::subject_argv({"-F", "pairs.csv", "-v", "-Fother.csv", "-n"}, {"-F", "--users-file"}, {"x"}) ==
          V{"x", "-v", "-n"});
}

TEST_CASE("run_status_of: one rule from exit code to run status", "[batch]") {
    using mbx::journal::run_status_of;
    using mbx::journal::RunStatus;
    CHECK(run_status_of(0) == RunStatus::ok);
    CHECK(run_status_of(1) == RunStatus::warning);
    CHECK(run_status_of(2) == RunStatus::critical);
    CHECK(run_status_of(130) == RunStatus::interrupted);
    for (int code : {64, 65, 69, 70, 74, 75, 77, 78}) CHECK(run_status_of(code) == RunStatus::failed);
}

TEST_CASE("run_batch: once the session is asked to stop, no further subject is begun", "[batch]") {
    for (unsigned parallel : {1u, 4u}) {
        Setup setup;
        std::atomic<int> begun{0};
        std::atomic<int> begun_after_stop{0};
        std::atomic<bool> stop{false};
        mbx::Session session = setup.session;
        session.stop_requested = [&] { return stop.load(); };
        const auto outcomes = mbx::ops::run_batch(session, 20, parallel, [&](SubjectContext& s) {
            if (stop) ++begun_after_stop;
            ++begun;
            if (s.index == 2) {
                stop = true; // as SIGINT would: this subject notices at its next check
                s.session.throw_if_stopped();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            return ExitCode::ok;
        });
        INFO("parallel " << parallel);
        REQUIRE(outcomes.size() == 20);
        CHECK(outcomes[2].exit == ExitCode::interrupted);
        // A worker that had already looked before the stop may still begin its subject; no
        // other subject begins after it.
        CHECK(begun_after_stop.load() <= static_cast<int>(parallel) - 1);
        if (parallel == 1) CHECK(begun.load() == 3);
        CHECK(begun.load() < 20);
        int not_started = 0;
        for (const auto& o : outcomes)
            if (o.error && std::string(o.error->what()).starts_with("not started")) {
                ++not_started;
                CHECK(o.exit == ExitCode::interrupted);
            }
        CHECK(not_started == 20 - begun.load());
    }
}

TEST_CASE("Session::throw_if_stopped: throws interrupted only when asked, and not without a check", "[batch]") {
    Setup setup;
    mbx::Session session = setup.session;
    bool stop = false;
    session.stop_requested = [&] { return stop; };
    CHECK_NOTHROW(session.throw_if_stopped());
    stop = true;
    CHECK(session.should_stop());
    CHECK(mbx::test::error_of([&] { session.throw_if_stopped(); }).category() == ErrorCategory::interrupted);
    session.stop_requested = {};
    CHECK_FALSE(session.should_stop());
    CHECK_NOTHROW(session.throw_if_stopped());
}
