#include "mbx/journal/schema.hpp"

#include "mbx/core/error.hpp"

#include <array>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

namespace mbx::journal::detail {
namespace {

// Schema v1. Rules for every later step (docs/journal.md "Migrations"): add tables, columns
// and indexes, never rename or drop, because scripts query these names directly. AUTOINCREMENT
// keeps ids from ever being reused after rows are pruned, so "run 42" always means one run.
// "before" and "after" are SQLite keywords that are allowed as column names; they are quoted
// here and in every query so a stricter future parser cannot trip on them.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid         TEXT NOT NULL UNIQUE,
    tool         TEXT NOT NULL,
    args         TEXT NOT NULL DEFAULT '[]',
    operator     TEXT NOT NULL,
    operator_uid INTEGER NOT NULL,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    mbx_version  TEXT NOT NULL,
    dry_run      INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    status       TEXT NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'ok', 'warning', 'critical', 'failed', 'interrupted')),
    exit_code    INTEGER
);
CREATE INDEX runs_by_started ON runs (started_at);
CREATE INDEX runs_by_tool ON runs (tool, started_at);
CREATE INDEX runs_by_status ON runs (status, started_at);

CREATE TABLE actions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    "before"   TEXT,
    "after"    TEXT,
    status     TEXT NOT NULL DEFAULT 'planned'
               CHECK (status IN ('planned', 'done', 'failed', 'skipped', 'undone')),
    error      TEXT,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    UNIQUE (run_id, seq)
);
CREATE INDEX actions_by_subject ON actions (subject, run_id);
CREATE INDEX actions_by_kind ON actions (kind, run_id);
)sql";

constexpr std::array<Migration, 1> kMigrations{{
    {1, "runs and actions", kSchemaV1},
}};

void refuse_newer(SQLite::Database& db, int version, int known) {
    if (version <= known) return;
    throw Error(ErrorCategory::config,
                fmt::format("journal '{}' has schema version {}, newer than this mbxkit ({})", db.getFilename(),
                            version, known),
                "upgrade mbxkit, or point [journal] path / --journal at another file");
}

} // namespace

std::span<const Migration> schema_migrations() { return kMigrations; }

int current_schema_version() { return static_cast<int>(kMigrations.size()); }

int read_user_version(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

void apply_migrations(SQLite::Database& db, std::span<const Migration> steps) {
    const int known = static_cast<int>(steps.size());
    for (int i = 0; i < known; ++i)
        if (steps[static_cast<std::size_t>(i)].version != i + 1)
            throw Error(ErrorCategory::internal, fmt::format("journal migration step {} is numbered {}", i + 1,
                                                             steps[static_cast<std::size_t>(i)].version));
    int version = 0;
    try {
        version = read_user_version(db);
    } catch (const SQLite::Exception& e) {
        throw_sqlite_error(e, fmt::format("cannot read journal '{}'", db.getFilename()));
    }
    refuse_newer(db, version, known);
    if (version == 0) {
        // Schema version 0 is an empty database, never one with tables: those are someone
        // else's (mbxkit would add its tables to them, or fail on a table of the same name).
        int tables = 0;
        try {
            tables = db.execAndGet("SELECT count(*) FROM sqlite_master").getInt();
        } catch (const SQLite::Exception& e) {
            throw_sqlite_error(e, fmt::format("cannot read journal '{}'", db.getFilename()));
        }
        if (tables > 0)
            throw Error(
                ErrorCategory::config,
                fmt::format("'{}' is an SQLite database but not an mbxkit journal ({} tables, no journal schema): "
                            "left as it is",
                            db.getFilename(), tables),
                "point --journal (or [journal] path) at an mbxkit journal or a new file");
    }
    for (const Migration& step : steps) {
        if (step.version <= version) continue;
        try {
            // IMMEDIATE takes the write lock before reading user_version again: two processes
            // opening a fresh journal at once must not both create the tables.
            SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
            version = read_user_version(db);
            refuse_newer(db, version, known);
            if (step.version <= version) continue; // ~Transaction rolls back the empty txn
            db.exec(std::string(step.sql));
            db.exec(fmt::format("PRAGMA user_version = {}", step.version));
            txn.commit();
            version = step.version;
        } catch (const SQLite::Exception& e) {
            throw_sqlite_error(e, fmt::format("cannot migrate journal '{}' to schema version {} "
                                              "({})",
                                              db.getFilename(), step.version, step.name));
        }
    }
}

void throw_sqlite_error(const SQLite::Exception& e, const std::string& what) {
    const int extended = e.getExtendedErrorCode();
    const std::string message = what + ": " + e.what();
    switch (extended & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        throw Error(ErrorCategory::temporary, message,
                    "another mbxkit process held the journal for more than 10 s; retry", extended);
    case SQLITE_CANTOPEN:
        throw Error(ErrorCategory::io, message,
                    "check that the directory exists and is writable, or set [journal] path "
                    "or --journal",
                    extended);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        throw Error(ErrorCategory::io, message,
                    "check the permissions of the journal, its -wal and -shm files and their "
                    "directory",
                    extended);
    case SQLITE_FULL: throw Error(ErrorCategory::io, message, "free disk space and retry", extended);
    case SQLITE_IOERR: throw Error(ErrorCategory::io, message, "check the disk holding the journal", extended);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        throw Error(ErrorCategory::data, message,
                    "the file is not an mbxkit journal or is damaged: move it aside (a new one "
                    "is created) or restore a backup",
                    extended);
    default: throw Error(ErrorCategory::internal, message, {}, extended);
    }
}

} // namespace mbx::journal::detail
