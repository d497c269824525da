// Several processes on one journal file, and a writer killed mid-way. Children are forked and
// leave with _exit so they never return into Catch2; they open their own Journal (an SQLite
// connection must not cross fork).
#include "mbx/journal/journal.hpp"

#include "../test_support.hpp"

#include <csignal>
#include <cstdio>
#include <exception>

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

using namespace mbx::journal;
using mbx::test::TempDir;

namespace {

bool write_value(int fd, std::int64_t value) {
    return write(fd, &value, sizeof value) == static_cast<ssize_t>(sizeof value);
}

bool read_value(int fd, std::int64_t& value) {
    std::size_t got = 0;
    auto* bytes = reinterpret_cast<char*>(&value);
    while (got < sizeof value) {
        ssize_t n = read(fd, bytes + got, sizeof value - got);
        if (n <= 0) return false;
        got += static_cast<std::size_t>(n);
    }
    return true;
}

// Runs `body` in a child process; its exit status is 0 when body returns, 1 when it throws.
template <class F> pid_t spawn(F&& body) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    try {
        body();
        _exit(0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "journal test child %d: %s\n", getpid(), e.what());
        _exit(1);
    } catch (...) {
        _exit(1);
    }
}

int exit_status_of(pid_t pid) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

TEST_CASE("two processes append 500 actions each to one journal at once", "[journal]") {
    TempDir tmp;
    auto path = tmp / "shared/journal.sqlite";
    int go[2];
    REQUIRE(pipe(go) == 0);
    auto writer = [&] {
        close(go[1]);
        char c;
        (void)!read(go[0], &c, 1); // returns 0 when the parent closes its end: start together
        // Both children open the fresh file at once, so schema creation races too.
        auto journal = Journal::open(path);
        auto run = journal.begin_run({"quota", {"sweep"}, false, "0.1.0"});
        for (int i = 1; i <= 500; ++i)
            journal.add_action(run, {"quota.check", "user" + std::to_string(i), {}, {}, ActionStatus::done, {}});
        journal.finish_run(run, RunStatus::ok, 0);
    };
    pid_t a = spawn(writer);
    pid_t b = spawn(writer);
    close(go[0]);
    close(go[1]);
    CHECK(exit_status_of(a) == 0);
    CHECK(exit_status_of(b) == 0);

    auto journal = Journal::open(path);
    auto runs = journal.list_runs({});
    REQUIRE(runs.size() == 2);
    std::size_t total = 0;
    for (const auto& run : runs) {
        CHECK(run.status == RunStatus::ok);
        auto actions = journal.actions_of(run.id);
        REQUIRE(actions.size() == 500);
        bool contiguous = true;
        for (std::size_t i = 0; i < actions.size(); ++i)
            contiguous = contiguous && actions[i].seq == static_cast<std::int64_t>(i + 1) &&
                         actions[i].subject == "user" + std::to_string(i + 1);
        CHECK(contiguous);
        total += actions.size();
    }
    CHECK(total == 1000);
    CHECK(runs[0].pid != runs[1].pid);
    CHECK(journal.integrity_problems().empty());
}

TEST_CASE("a writer killed mid-run leaves a consistent journal and an interrupted run", "[journal]") {
    constexpr std::int64_t kBatch = 7;
    TempDir tmp;
    auto path = tmp / "journal.sqlite";
    int report[2];
    REQUIRE(pipe(report) == 0);
    pid_t child = spawn([&] {
        close(report[0]);
        auto journal = Journal::open(path);
        auto run = journal.begin_run({"merge", {"alice", "alice.new"}, false, "0.1.0"});
        if (!write_value(report[1], run)) return;
        for (std::int64_t committed = 0;;) {
            auto batch = journal.batch();
            for (std::int64_t i = 0; i < kBatch; ++i)
                journal.add_action(run, {"imap.append", "alice.new/INBOX", {}, {}, ActionStatus::done, {}});
            batch.commit();
            committed += kBatch;
            if (!write_value(report[1], committed)) return; // parent gone
        }
    });
    close(report[1]);

    std::int64_t run_id = 0;
    REQUIRE(read_value(report[0], run_id));
    std::int64_t reported = 0;
    for (std::int64_t value = 0; reported < 300 && read_value(report[0], value);) reported = value;
    REQUIRE(kill(child, SIGKILL) == 0);
    CHECK(exit_status_of(child) == 128 + SIGKILL);
    for (std::int64_t value = 0; read_value(report[0], value);) reported = value; // drain
    close(report[0]);
    REQUIRE(reported >= 300);

    auto journal = Journal::open(path);
    CHECK(journal.integrity_problems().empty());
    auto run = journal.find_run(run_id);
    REQUIRE(run);
    CHECK(run->status == RunStatus::interrupted);
    CHECK(run->stale);
    CHECK_FALSE(run->ended_at);

    auto actions = journal.actions_of(run_id);
    const auto n = static_cast<std::int64_t>(actions.size());
    // Every reported batch is there; at most one more batch committed before its report was
    // written; never a partial batch.
    CHECK((n == reported || n == reported + kBatch));
    CHECK(n % kBatch == 0);
    bool contiguous = true;
    for (std::int64_t i = 0; i < n; ++i) contiguous = contiguous && actions[static_cast<std::size_t>(i)].seq == i + 1;
    CHECK(contiguous);
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("SELECT count(*) FROM actions").getInt64() == n);
    CHECK(raw.execAndGet("SELECT count(*) FROM runs").getInt() == 1);
}
