#include "mbx/journal/journal.hpp"

#include "mbx/core/error.hpp"
#include "mbx/journal/schema.hpp"
#include "../test_support.hpp"

#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>

using namespace mbx::journal;
using mbx::test::TempDir;

namespace {

// The current steps plus `extra`, numbered on from them, as a later mbxkit would ship them.
std::vector<detail::Migration> steps_plus(std::initializer_list<detail::Migration> extra) {
    auto current = detail::schema_migrations();
    std::vector<detail::Migration> steps(current.begin(), current.end());
    steps.insert(steps.end(), extra);
    return steps;
}

int count(SQLite::Database& db, const std::string& sql) { return db.execAndGet(sql).getInt(); }

bool has_column(SQLite::Database& db, const std::string& table, const std::string& column) {
    SQLite::Statement q(db, "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?");
    q.bind(1, table);
    q.bind(2, column);
    q.executeStep();
    return q.getColumn(0).getInt() == 1;
}

} // namespace

TEST_CASE("a fresh database is migrated to the current version", "[journal]") {
    TempDir tmp;
    SQLite::Database db(tmp / "fresh.sqlite", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    CHECK(detail::read_user_version(db) == 0);
    detail::apply_migrations(db, detail::schema_migrations());
    CHECK(detail::read_user_version(db) == detail::current_schema_version());
    CHECK(detail::current_schema_version() == 1);
    CHECK(has_column(db, "runs", "uuid"));
    CHECK(has_column(db, "actions", "before"));
    // Applying again is a no-op, not an error ("table runs already exists").
    detail::apply_migrations(db, detail::schema_migrations());
    CHECK(detail::read_user_version(db) == 1);
}

TEST_CASE("a v1 journal with data is migrated to v2 without losing rows", "[journal]") {
    TempDir tmp;
    auto path = tmp / "j.sqlite";
    std::int64_t run = 0;
    {
        auto journal = Journal::open(path);
        run = journal.begin_run({"quota", {"check"}, false, "0.1.0"});
        for (int i = 0; i < 50; ++i) journal.add_action(run, {"quota.check", "u" + std::to_string(i), {}, {}, {}, {}});
        journal.finish_run(run, RunStatus::ok, 0);
    }
    // How docs/journal.md says undo links will arrive: a new nullable column.
    auto steps = steps_plus({{2, "undo links",
                              "ALTER TABLE actions ADD COLUMN undo_of INTEGER "
                              "REFERENCES actions (id);"
                              "CREATE INDEX actions_by_undo_of ON actions (undo_of);"}});
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    detail::apply_migrations(db, steps);
    CHECK(detail::read_user_version(db) == 2);
    CHECK(has_column(db, "actions", "undo_of"));
    CHECK(count(db, "SELECT count(*) FROM runs WHERE status = 'ok'") == 1);
    CHECK(count(db, "SELECT count(*) FROM actions WHERE undo_of IS NULL") == 50);
    CHECK(count(db, "SELECT max(seq) FROM actions") == 50);

    // This build only knows v1: it must refuse the v2 file rather than write to it.
    try {
        Journal::open(path);
        FAIL("a newer journal was opened");
    } catch (const mbx::Error& e) {
        CHECK(e.category() == mbx::ErrorCategory::config);
        CHECK(std::string(e.what()) ==
              "journal '" + path.string() + "' has schema version 2, newer than this mbxkit (1)");
        CHECK(e.hint().starts_with("upgrade mbxkit"));
    }
}

TEST_CASE("a failing migration step leaves the previous version intact", "[journal]") {
    TempDir tmp;
    auto path = tmp / "j.sqlite";
    Journal::open(path).begin_run({"quota", {}, false, "0.1.0"});
    auto steps = steps_plus({{2, "half-written step",
                              "CREATE TABLE checkpoints (run_id INTEGER, key TEXT, value TEXT);"
                              "INSERT INTO no_such_table VALUES (1);"}});
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    CHECK_THROWS_AS(detail::apply_migrations(db, steps), mbx::Error);
    CHECK(detail::read_user_version(db) == 1);
    CHECK_FALSE(db.tableExists("checkpoints"));
    CHECK(count(db, "SELECT count(*) FROM runs") == 1);
    // And the journal still opens and works with this build.
    CHECK(Journal::open(path).list_runs({}).size() == 1);
}

TEST_CASE("migration steps must be numbered 1, 2, 3", "[journal]") {
    TempDir tmp;
    SQLite::Database db(tmp / "j.sqlite", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    std::vector<detail::Migration> gap{{1, "a", "CREATE TABLE a (x);"}, {3, "c", "CREATE TABLE c (x);"}};
    CHECK_THROWS_AS(detail::apply_migrations(db, gap), mbx::Error);
    CHECK(detail::read_user_version(db) == 0);
}

TEST_CASE("a database with someone else's tables is refused, not migrated", "[journal]") {
    TempDir tmp;
    {
        SQLite::Database db(tmp / "other.sqlite", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE runs (x); INSERT INTO runs VALUES (1)"); // a name mbxkit uses too
    }
    const auto e = mbx::test::error_of([&] { Journal::open(tmp / "other.sqlite"); });
    CHECK(e.category() == mbx::ErrorCategory::config);
    CHECK(std::string(e.what()).find("not an mbxkit journal") != std::string::npos);
    SQLite::Database db(tmp / "other.sqlite", SQLite::OPEN_READONLY);
    CHECK(count(db, "SELECT count(*) FROM sqlite_master") == 1); // nothing added
    CHECK(detail::read_user_version(db) == 0);
}
