#pragma once
// INTERNAL to mbx::journal (and its unit tests): the schema, the forward-migration runner and
// the mapping of SQLite errors to mbx::Error. Includes SQLiteCpp; public headers must not
// include this file.

#include <span>
#include <string>
#include <string_view>

namespace SQLite {
class Database;
class Exception;
} // namespace SQLite

namespace mbx::journal::detail {

/// One forward migration step: takes the schema from `version - 1` to `version`.
struct Migration {
    int version;           ///< user_version after this step; steps are numbered 1, 2, 3, ...
    std::string_view name; ///< one line for people, e.g. "runs and actions"
    std::string_view sql;  ///< statements run inside the step's transaction
};

/// The journal's migration steps, in order; their count is the current schema version.
std::span<const Migration> schema_migrations();

/// The schema version this build of mbxkit writes (the number of schema_migrations()).
int current_schema_version();

/// Reads `PRAGMA user_version`. Failure: throws SQLite::Exception.
int read_user_version(SQLite::Database& db);

/// Brings `db` forward to `steps.size()`: each step whose version is above the database's
/// runs in its own BEGIN IMMEDIATE transaction that also sets user_version, so a crash or an
/// error mid-step leaves the previous version intact; a step another process applied while we
/// waited for the lock is skipped. `steps[i].version` must be `i + 1`.
/// Failure: mbx::Error(config) when the database is newer than `steps`; mbx::Error from
/// throw_sqlite_error when a step fails (the step is rolled back). Side effects: writes `db`.
void apply_migrations(SQLite::Database& db, std::span<const Migration> steps);

/// Throws the mbx::Error for a SQLite failure while doing `what` (e.g. "cannot open journal
/// '/x/j.sqlite'"): busy/locked -> temporary, cannot open/read-only/permission/full/io -> io,
/// corrupt/not a database -> data, anything else -> internal; keeps the extended code.
[[noreturn]] void throw_sqlite_error(const SQLite::Exception& e, const std::string& what);

} // namespace mbx::journal::detail
