#pragma once
// INTERNAL to mbx::journal: the state behind Journal (pimpl), shared by journal.cpp (open and
// writes) and journal_read.cpp (queries). Includes SQLiteCpp.

#include "mbx/journal/journal.hpp"
#include "mbx/journal/schema.hpp"

#include <optional>
#include <string>
#include <utility>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

namespace mbx::journal {

struct Journal::Impl {
    Impl(std::filesystem::path path, SQLite::Database db) : path_(std::move(path)), db_(std::move(db)) {}

    std::filesystem::path path_;
    SQLite::Database db_; // declared before the cached statements, so it outlives them
    std::string host_;    // this host, to tell whether a `running` run's pid can be checked
    bool in_batch_ = false;
    std::optional<SQLite::Statement> insert_action_;
    std::optional<SQLite::Statement> update_action_;

    /// Runs `f`, turning SQLite::Exception into mbx::Error "<doing> '<path>': <sqlite message>".
    template <class F> auto guarded(std::string_view doing, F&& f) {
        try {
            return f();
        } catch (const SQLite::Exception& e) {
            detail::throw_sqlite_error(e, fmt::format("{} '{}'", doing, path_.string()));
        }
    }

    /// Runs `f` inside the open Batch, or else in its own BEGIN IMMEDIATE transaction:
    /// IMMEDIATE takes the write lock up front, so a concurrent writer waits in busy_timeout
    /// instead of failing with SQLITE_BUSY when a read transaction tries to upgrade (WAL
    /// cannot wait on that upgrade: the snapshot would be stale).
    template <class F> auto write(F&& f) {
        if (in_batch_) return f();
        SQLite::Transaction txn(db_, SQLite::TransactionBehavior::IMMEDIATE);
        auto result = f();
        txn.commit();
        return result;
    }

    RunRecord read_run(const SQLite::Statement& row) const;
    ActionRecord read_action(const SQLite::Statement& row) const;
};

/// Resets a cached statement however the scope is left, so it can be reused.
class StatementReset {
public:
    explicit StatementReset(SQLite::Statement& statement) : statement_(statement) {}
    StatementReset(const StatementReset&) = delete;
    StatementReset& operator=(const StatementReset&) = delete;
    ~StatementReset() { statement_.tryReset(); }

private:
    SQLite::Statement& statement_;
};

} // namespace mbx::journal
