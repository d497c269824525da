#include "mbx/journal/journal.hpp"

#include "mbx/core/error.hpp"
#include "mbx/journal/system_info.hpp"
#include "../test_support.hpp"

#include <array>
#include <fmt/format.h>
#include <fstream>
#include <regex>

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mbx::journal;
using mbx::test::error_of;
using mbx::test::TempDir;
using nlohmann::json;

namespace {

RunStart start_of(std::string tool, std::vector<std::string> args = {}) {
    return RunStart{std::move(tool), std::move(args), false, "0.1.0"};
}

mode_t mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// Rewrites one column of a run behind the library's back, to set up times, pids and hosts.
void set_run_column(const std::filesystem::path& db_path, std::int64_t run_id, const std::string& column,
                    const std::string& value) {
    SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
    SQLite::Statement update(db, "UPDATE runs SET " + column + " = ? WHERE id = ?");
    update.bind(1, value);
    update.bind(2, run_id);
    REQUIRE(update.exec() == 1);
}

pid_t dead_pid() {
    pid_t child = fork();
    if (child == 0) _exit(0);
    int status = 0;
    waitpid(child, &status, 0);
    return child;
}

// A journal in a throwaway directory, and the path of its file for reading it and rewriting
// runs behind the library's back: what most of these tests start from.
struct JournalFile {
    TempDir tmp;
    std::filesystem::path path = tmp / "j.sqlite";
    Journal journal = Journal::open(path);

    // One run begun for each of `tools`, in order; their ids.
    template <std::size_t N> std::array<std::int64_t, N> begin_runs(const char* const (&tools)[N]) {
        std::array<std::int64_t, N> ids{};
        for (std::size_t i = 0; i < N; ++i) ids[i] = journal.begin_run(start_of(tools[i]));
        return ids;
    }
};

} // namespace

TEST_CASE("open creates private directories and file, WAL, current schema", "[journal]") {
    TempDir tmp;
    auto path = tmp / "state/mbxkit/journal.sqlite";
    auto journal = Journal::open(path);
    CHECK(journal.path() == path);
    CHECK(mode_of(tmp / "state") == 0700);
    CHECK(mode_of(tmp / "state/mbxkit") == 0700);
    CHECK(mode_of(path) == 0600);
    CHECK(journal.schema_version() == Journal::current_schema_version());
    CHECK(journal.integrity_problems().empty());

    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "wal");
    CHECK(raw.tableExists("runs"));
    CHECK(raw.tableExists("actions"));

    // Reopening an existing journal keeps it and its data.
    auto id = journal.begin_run(start_of("quota"));
    auto again = Journal::open(path);
    CHECK(again.find_run(id).has_value());
}

TEST_CASE("open refuses a file that is not a database, as a data error", "[journal]") {
    TempDir tmp;
    auto path = tmp / "notes.sqlite";
    std::ofstream(path) << std::string(4096, 'x');
    auto e = error_of([&] { Journal::open(path); });
    CHECK(e.category() == mbx::ErrorCategory::data);
    CHECK(std::string(e.what()).starts_with("cannot open journal '" + path.string() + "': "));
    CHECK((e.library_code() & 0xff) == 26); // SQLITE_NOTADB
    CHECK_FALSE(e.hint().empty());
}

TEST_CASE("open reports an uncreatable directory as an io error", "[journal]") {
    TempDir tmp;
    std::ofstream(tmp / "file") << "x";
    auto e = error_of([&] { Journal::open(tmp / "file/sub/journal.sqlite"); });
    CHECK(e.category() == mbx::ErrorCategory::io);
    CHECK(std::string(e.what()).find("'" + (tmp / "file/sub").string() + "'") != std::string::npos);
}

TEST_CASE_METHOD(JournalFile, "begin_run records who, what, where and when, with redacted args", "[journal]") {
    auto id = journal.begin_run(RunStart{"quota", {"sweep", "--imap-password", "pw", "imaps://a:b@h"}, true, "9.8.7"});
    auto run = journal.find_run(id);
    REQUIRE(run);
    CHECK(run->id == id);
    CHECK(std::regex_match(run->uuid, std::regex("[0-9a-f]{32}")));
    CHECK(run->tool == "quota");
    CHECK(run->args == std::vector<std::string>{"sweep", "--imap-password", "***", "imaps://a:***@h"});
    CHECK(run->operator_name == detail::operator_login_name());
    CHECK(run->operator_uid == static_cast<std::int64_t>(getuid()));
    CHECK(run->host == detail::host_name());
    CHECK(run->pid == getpid());
    CHECK(run->mbx_version == "9.8.7");
    CHECK(run->dry_run);
    CHECK(std::regex_match(run->started_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    CHECK_FALSE(run->ended_at);
    CHECK(run->status == RunStatus::running);
    CHECK_FALSE(run->stale);
    CHECK_FALSE(run->exit_code);

    // Nothing secret reached the file at all, not just the parsed view.
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("SELECT count(*) FROM runs WHERE args LIKE '%pw%' OR args LIKE '%:b@%'").getInt() == 0);

    CHECK(journal.begin_run(start_of("quota")) != id);
    CHECK(journal.find_run(id)->uuid != journal.find_run(id + 1)->uuid);
    CHECK_FALSE(journal.find_run(id + 100));
}

TEST_CASE_METHOD(JournalFile, "finish_run stores the outcome; bad calls are refused", "[journal]") {
    auto id = journal.begin_run(start_of("merge"));
    journal.finish_run(id, RunStatus::critical, 2);
    auto run = journal.find_run(id);
    REQUIRE(run);
    CHECK(run->status == RunStatus::critical);
    CHECK(run->exit_code == 2);
    REQUIRE(run->ended_at);
    CHECK(*run->ended_at >= run->started_at);

    CHECK(error_of([&] { journal.finish_run(id + 1, RunStatus::ok, 0); }).category() == mbx::ErrorCategory::data);
    CHECK(error_of([&] { journal.finish_run(id, RunStatus::running, 0); }).category() == mbx::ErrorCategory::usage);
}

TEST_CASE_METHOD(JournalFile, "reopen_run makes a finished run running again in this process", "[journal]") {
    auto id = journal.begin_run(start_of("reprovision"));
    journal.add_action(id, {"reprovision.inspect", "alice", {}, {}, ActionStatus::done, {}});
    // A live run cannot be taken over.
    CHECK(error_of([&] { journal.reopen_run(id); }).category() == mbx::ErrorCategory::usage);
    journal.finish_run(id, RunStatus::failed, 69);
    set_run_column(path, id, "pid", "999999999");
    journal.reopen_run(id);
    auto run = journal.find_run(id);
    REQUIRE(run);
    CHECK(run->status == RunStatus::running);
    CHECK_FALSE(run->stale);
    CHECK(run->pid == static_cast<std::int64_t>(getpid()));
    CHECK_FALSE(run->ended_at);
    CHECK_FALSE(run->exit_code);
    // Its actions stay, and new ones continue the seq.
    journal.add_action(id, {"reprovision.resume", "alice", {}, {}, ActionStatus::done, {}});
    CHECK(journal.actions_of(id).back().seq == 2);
    journal.finish_run(id, RunStatus::ok, 0);
    CHECK(journal.find_run(id)->status == RunStatus::ok);
    CHECK(error_of([&] { journal.reopen_run(id + 7); }).category() == mbx::ErrorCategory::data);
}

TEST_CASE_METHOD(JournalFile, "actions get seq 1, 2, 3 per run and keep scrubbed before/after", "[journal]") {
    const auto [run_a, run_b] = begin_runs({"quota", "quota"});
    auto a1 = journal.add_action(run_a, {"ldap.modify", "alice", json{{"quota", 10}, {"userPassword", "x"}},
                                         std::nullopt, ActionStatus::planned, std::nullopt});
    journal.add_action(run_b, {"quota.check", "bob", {}, {}, ActionStatus::done, {}});
    journal.add_action(run_a, {"imap.expunge", "alice/INBOX:UID 42", {}, {}, ActionStatus::failed, "NO [OVERQUOTA]"});

    auto actions = journal.actions_of(run_a);
    REQUIRE(actions.size() == 2);
    CHECK(actions[0].id == a1);
    CHECK(actions[0].seq == 1);
    CHECK(actions[1].seq == 2);
    CHECK(actions[0].run_id == run_a);
    CHECK(actions[0].kind == "ldap.modify");
    CHECK(actions[0].subject == "alice");
    CHECK(actions[0].before == json{{"quota", 10}, {"userPassword", "[redacted]"}});
    CHECK_FALSE(actions[0].after);
    CHECK(actions[0].status == ActionStatus::planned);
    CHECK_FALSE(actions[0].ended_at);
    CHECK(actions[1].subject == "alice/INBOX:UID 42");
    CHECK(actions[1].status == ActionStatus::failed);
    CHECK(actions[1].error == "NO [OVERQUOTA]");
    CHECK(actions[1].ended_at); // recorded already settled
    REQUIRE(journal.actions_of(run_b).size() == 1);
    CHECK(journal.actions_of(run_b)[0].seq == 1);

    journal.update_action(a1, ActionStatus::done, json{{"quota", 20}, {"token", "t"}});
    auto done = journal.actions_of(run_a)[0];
    CHECK(done.status == ActionStatus::done);
    CHECK(done.after == json{{"quota", 20}, {"token", "[redacted]"}});
    CHECK(done.ended_at);
    CHECK_FALSE(done.error);

    // Undo keeps after and sets no error when none is given.
    journal.update_action(a1, ActionStatus::undone);
    auto undone = journal.actions_of(run_a)[0];
    CHECK(undone.status == ActionStatus::undone);
    CHECK(undone.after == done.after);

    CHECK(error_of([&] { journal.update_action(a1 + 100, ActionStatus::done); }).category() ==
          mbx::ErrorCategory::data);
    auto no_run = error_of([&] { journal.add_action(run_b + 100, {"k", "s", {}, {}, {}, {}}); });
    CHECK(no_run.category() == mbx::ErrorCategory::data);
    CHECK(std::string(no_run.what()).find("no such run") != std::string::npos);
    CHECK(journal.actions_of(run_b + 100).empty());
}

TEST_CASE_METHOD(JournalFile, "a Batch commits together, rolls back when dropped, and does not nest", "[journal]") {
    auto run = journal.begin_run(start_of("merge"));
    {
        auto batch = journal.batch();
        journal.add_action(run, {"imap.append", "m1", {}, {}, {}, {}});
        journal.add_action(run, {"imap.append", "m2", {}, {}, {}, {}});
        CHECK(error_of([&] { journal.batch(); }).category() == mbx::ErrorCategory::internal);
        // no commit: dropped
    }
    CHECK(journal.actions_of(run).empty());
    {
        auto batch = journal.batch();
        journal.add_action(run, {"imap.append", "m1", {}, {}, {}, {}});
        // A failing write inside a batch fails alone; the batch goes on.
        CHECK_THROWS_AS(journal.add_action(run + 1, {"k", "s", {}, {}, {}, {}}), mbx::Error);
        journal.add_action(run, {"imap.append", "m2", {}, {}, {}, {}});
        batch.commit();
        CHECK(error_of([&] { batch.commit(); }).category() == mbx::ErrorCategory::internal);
    }
    auto actions = journal.actions_of(run);
    REQUIRE(actions.size() == 2);
    CHECK(actions[1].subject == "m2");
    CHECK(actions[1].seq == 2);
    // After the batch, writes go back to their own transactions.
    journal.add_action(run, {"imap.append", "m3", {}, {}, {}, {}});
    CHECK(Journal::open(path).actions_of(run).size() == 3);
}

TEST_CASE_METHOD(JournalFile, "10,000 actions in one Batch are all kept in order", "[journal]") {
    auto run = journal.begin_run(start_of("merge"));
    {
        auto batch = journal.batch();
        for (int i = 0; i < 10'000; ++i)
            journal.add_action(
                run,
                {"imap.append", "alice/INBOX:UID " + std::to_string(i), json{{"uid", i}}, {}, ActionStatus::done, {}});
        batch.commit();
    }
    std::int64_t expected_seq = 1;
    bool ordered = true;
    journal.for_each_action_of_run(run, [&](const ActionRecord& a) {
        ordered = ordered && a.seq == expected_seq && a.before == json{{"uid", expected_seq - 1}};
        ++expected_seq;
    });
    CHECK(ordered);
    CHECK(expected_seq == 10'001);
}

TEST_CASE_METHOD(JournalFile, "list_runs filters by tool, status, since and limit, newest first", "[journal]") {
    const auto [r1, r2, r3, r4] = begin_runs({"quota", "merge", "quota", "quota"});
    set_run_column(path, r1, "started_at", "2026-01-01T00:00:00.000Z");
    set_run_column(path, r2, "started_at", "2026-02-01T00:00:00.000Z");
    set_run_column(path, r3, "started_at", "2026-03-01T00:00:00.000Z");
    set_run_column(path, r4, "started_at", "2026-03-01T00:00:00.000Z"); // tie: id decides
    journal.finish_run(r1, RunStatus::ok, 0);
    journal.finish_run(r3, RunStatus::warning, 1);

    auto ids = [](const std::vector<RunRecord>& runs) {
        std::vector<std::int64_t> out;
        for (const auto& r : runs) out.push_back(r.id);
        return out;
    };
    using Ids = std::vector<std::int64_t>;
    CHECK(ids(journal.list_runs({})) == Ids{r4, r3, r2, r1});
    CHECK(ids(journal.list_runs({.tool = "quota"})) == Ids{r4, r3, r1});
    CHECK(ids(journal.list_runs({.status = RunStatus::warning})) == Ids{r3});
    CHECK(ids(journal.list_runs({.status = RunStatus::running})) == Ids{r4, r2});
    CHECK(ids(journal.list_runs({.limit = 2})) == Ids{r4, r3});
    CHECK(ids(journal.list_runs({.since = parse_timestamp("2026-02-01")})) == Ids{r4, r3, r2});
    CHECK(ids(journal.list_runs({.since = parse_timestamp("2026-02-01T00:00:00.001Z"),
                                 .tool = "quota",
                                 .status = RunStatus::running,
                                 .limit = 5})) == Ids{r4});
    CHECK(journal.list_runs({.tool = "audit"}).empty());
}

TEST_CASE_METHOD(JournalFile, "a running run whose process is gone is reported interrupted and stale", "[journal]") {
    const auto [alive, dead, elsewhere, finished] = begin_runs({"quota", "quota", "quota", "quota"});
    const auto gone = std::to_string(dead_pid());
    set_run_column(path, dead, "pid", gone);
    set_run_column(path, elsewhere, "pid", gone);
    set_run_column(path, elsewhere, "host", "some-other-host.invalid");
    set_run_column(path, finished, "pid", gone);
    journal.finish_run(finished, RunStatus::ok, 0);

    auto dead_run = journal.find_run(dead);
    CHECK(dead_run->status == RunStatus::interrupted);
    CHECK(dead_run->stale);
    CHECK(journal.find_run(alive)->status == RunStatus::running);
    CHECK(journal.find_run(elsewhere)->status == RunStatus::running); // cannot check its pid
    CHECK_FALSE(journal.find_run(finished)->stale);

    auto interrupted = journal.list_runs({.status = RunStatus::interrupted});
    REQUIRE(interrupted.size() == 1);
    CHECK(interrupted[0].id == dead);
    CHECK(journal.list_runs({.status = RunStatus::running}).size() == 2);
    // The database itself is not rewritten by a reader.
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("SELECT status FROM runs WHERE id = " + std::to_string(dead)).getString() == "running");
}

TEST_CASE_METHOD(JournalFile, "find_run_by_uuid takes a unique prefix", "[journal]") {
    const auto [a, b] = begin_runs({"quota", "quota"});
    set_run_column(path, a, "uuid", "abcd0000000000000000000000000001");
    set_run_column(path, b, "uuid", "abcd1000000000000000000000000002");
    CHECK(journal.find_run_by_uuid("ABCD0")->id == a);
    CHECK(journal.find_run_by_uuid("abcd1000000000000000000000000002")->id == b);
    CHECK_FALSE(journal.find_run_by_uuid("ffff"));
    CHECK(error_of([&] { journal.find_run_by_uuid("abcd"); }).category() == mbx::ErrorCategory::usage);
    CHECK(error_of([&] { journal.find_run_by_uuid("abc"); }).category() == mbx::ErrorCategory::usage);
    CHECK(error_of([&] { journal.find_run_by_uuid("abcz"); }).category() == mbx::ErrorCategory::usage);
    // What people type: an id, or a uuid prefix.
    CHECK(journal.find_run_by_reference(std::to_string(b))->id == b);
    CHECK(journal.find_run_by_reference("abcd0")->id == a);
    CHECK_FALSE(journal.find_run_by_reference("999"));
    CHECK(error_of([&] { journal.find_run_by_reference(""); }).category() == mbx::ErrorCategory::usage);
}

TEST_CASE_METHOD(JournalFile, "for_each_action walks the filtered runs' actions in order", "[journal]") {
    auto q = journal.begin_run(start_of("quota"));
    auto m = journal.begin_run(start_of("merge"));
    journal.begin_run(start_of("quota")); // no actions: not visited
    for (int i = 0; i < 3; ++i) {
        journal.add_action(q, {"quota.check", "u" + std::to_string(i), {}, {}, {}, {}});
        journal.add_action(m, {"imap.append", "m" + std::to_string(i), {}, {}, {}, {}});
    }
    std::vector<std::string> seen;
    journal.for_each_action({.tool = "quota"}, [&](const RunRecord& r, const ActionRecord& a) {
        CHECK(a.run_id == r.id);
        seen.push_back(a.subject);
    });
    CHECK(seen == std::vector<std::string>{"u0", "u1", "u2"});

    seen.clear();
    journal.for_each_action({}, [&](const RunRecord&, const ActionRecord& a) { seen.push_back(a.subject); });
    CHECK(seen.size() == 6);

    struct Stop {};
    int calls = 0;
    CHECK_THROWS_AS(journal.for_each_action({},
                                            [&](const RunRecord&, const ActionRecord&) {
                                                ++calls;
                                                throw Stop{};
                                            }),
                    Stop);
    CHECK(calls == 1);
}

TEST_CASE("the default journal path follows root, XDG_STATE_HOME, then HOME", "[journal]") {
    using detail::default_journal_path_for;
    CHECK(default_journal_path_for(0, "/x", "/root") == "/var/lib/mbxkit/journal.sqlite");
    CHECK(default_journal_path_for(1000, "/home/a/.st", "/home/a") == "/home/a/.st/mbxkit/journal.sqlite");
    CHECK(default_journal_path_for(1000, std::nullopt, "/home/a") == "/home/a/.local/state/mbxkit/journal.sqlite");
    CHECK(default_journal_path_for(1000, "relative", "/home/a") == "/home/a/.local/state/mbxkit/journal.sqlite");
    CHECK(error_of([] { default_journal_path_for(1000, std::nullopt, ""); }).category() == mbx::ErrorCategory::config);
    CHECK(default_journal_path().filename() == "journal.sqlite");
}

TEST_CASE("runs_about: the runs with actions about one subject, newest first, by prefix and merge target",
          "[journal]") {
    TempDir dir;
    auto j = Journal::open(dir.path() / "j.sqlite");
    auto action = [&](std::int64_t run, std::string kind, std::string subject) {
        j.add_action(run,
                     NewAction{.kind = std::move(kind), .subject = std::move(subject), .status = ActionStatus::done});
    };
    const auto check = j.begin_run(start_of("quota", {"check", "alice"}));
    action(check, "quota.check", "alice");
    action(check, "quota.check", "alicea"); // another user whose name starts with alice's
    const auto cleanup = j.begin_run(start_of("quota", {"cleanup", "alice"}));
    action(cleanup, "imap.expunge", "alice/Trash:4");
    action(cleanup, "imap.expunge", "alice/Trash:5");
    const auto merge = j.begin_run(start_of("merge", {"old", "alice"}));
    action(merge, "merge.folder", "old -> alice");
    const auto probe = j.begin_run(start_of("audit", {"probe"}));
    action(probe, "audit.probe", "alice@https://eas.example.org");
    const auto other = j.begin_run(start_of("quota", {"check", "bob"}));
    action(other, "quota.check", "bob");
    action(other, "quota.check", "alice_"); // LIKE wildcards in names are literal
    const auto merge_like = j.begin_run(start_of("merge", {"x", "alice_"}));
    action(merge_like, "merge.folder", "x -> alicex");

    const auto runs = j.runs_about("alice", std::chrono::system_clock::now() - std::chrono::hours(1), 0);
    std::vector<std::int64_t> ids;
    for (const auto& r : runs) ids.push_back(r.run.id);
    CHECK(ids == std::vector<std::int64_t>{probe, merge, cleanup, check});
    CHECK(runs[2].actions == 2);
    CHECK(runs[2].kinds == std::vector<std::string>{"imap.expunge"});
    CHECK(runs[3].actions == 1); // alicea is somebody else
    CHECK(j.runs_about("alice", std::chrono::system_clock::now() - std::chrono::hours(1), 2).size() == 2);
    // The window: nothing started after now + 1 h.
    CHECK(j.runs_about("alice", std::chrono::system_clock::now() + std::chrono::hours(1), 0).empty());
    CHECK(j.runs_about("nobody", std::chrono::system_clock::now() - std::chrono::hours(1), 0).empty());
}

TEST_CASE_METHOD(JournalFile, "claim_mailbox: one live run changes a mailbox at a time", "[journal]") {
    const auto [first, second] = begin_runs({"quota", "quota"});
    const auto claim = journal.claim_mailbox(first, "alice");
    CHECK(journal.actions_of(first).back().kind == "mailbox.claim");
    CHECK(journal.actions_of(first).back().status == ActionStatus::planned);

    // Held by a live run (this process): refused, naming the holder; another user is free.
    try {
        journal.claim_mailbox(second, "alice");
        FAIL("a second claim on alice was granted");
    } catch (const mbx::Error& e) {
        CHECK(e.category() == mbx::ErrorCategory::temporary);
        CHECK_THAT(e.what(),
                   Catch::Contains(fmt::format("mailbox of 'alice': run {} (mbx quota, pid {}", first, getpid())));
    }
    CHECK(journal.actions_of(second).empty()); // the refusal wrote nothing
    CHECK_NOTHROW(journal.claim_mailbox(second, "bob"));
    CHECK_NOTHROW(journal.claim_mailbox(first, "alice")); // a run's own claim never blocks it

    // Released: free again.
    journal.update_action(claim, ActionStatus::done);
    auto again = journal.actions_of(first).back().id; // the second claim of `first`
    journal.update_action(again, ActionStatus::done);
    const auto held = journal.claim_mailbox(second, "alice");

    // A holder whose process is gone, or that has ended, holds nothing.
    const auto third = journal.begin_run(start_of("quota"));
    set_run_column(path, second, "pid", std::to_string(dead_pid()));
    CHECK_NOTHROW(journal.claim_mailbox(third, "alice"));
    const auto fourth = journal.begin_run(start_of("quota"));
    CHECK_THROWS_AS(journal.claim_mailbox(fourth, "alice"), mbx::Error); // third holds it now
    journal.finish_run(third, RunStatus::failed, 69);
    CHECK_NOTHROW(journal.claim_mailbox(fourth, "alice"));
    (void)held;
}
