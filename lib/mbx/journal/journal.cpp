#include "mbx/journal/journal.hpp"

#include "mbx/core/error.hpp"
#include "mbx/journal/journal_impl.hpp"
#include "mbx/journal/redaction.hpp"
#include "mbx/journal/system_info.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <sqlite3.h>
#include <unistd.h>

namespace mbx::journal {
namespace {

constexpr int kBusyTimeoutMs = 10'000;

std::string now_text() { return format_timestamp(std::chrono::system_clock::now()); }

// Arguments can hold any bytes (file names); invalid UTF-8 is replaced rather than failing the
// whole run, since the journal row matters more than a byte-exact copy.
std::string to_json_text(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void bind_optional(SQLite::Statement& statement, int index, const std::optional<std::string>& value) {
    if (value) statement.bind(index, *value);
    else statement.bind(index); // NULL
}

std::optional<std::string> redacted_json_text(const std::optional<nlohmann::json>& value) {
    if (!value) return std::nullopt;
    return to_json_text(needs_redaction(*value) ? redact_json(*value) : *value);
}

SQLite::Database open_database(const std::filesystem::path& path) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, kBusyTimeoutMs);
    db.exec("PRAGMA foreign_keys = ON");
    // journal_mode=WAL reads the header first, so this is where a file that is not a database
    // is noticed (SQLITE_NOTADB). WAL lets readers (mbx journal list) run beside writers and
    // several sweeps append at once; it is persistent in the file once set.
    std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal")
        throw Error(ErrorCategory::io,
                    fmt::format("cannot use WAL mode for journal '{}': SQLite kept '{}'", path.string(), mode),
                    "put the journal on a local file system (WAL needs shared memory; NFS and "
                    "some container volumes do not provide it)");
    // NORMAL is durable across application crashes in WAL mode; only a power loss can drop the
    // last commits, never corrupt the file (sqlite.org/pragma.html#pragma_synchronous).
    db.exec("PRAGMA synchronous = NORMAL");
    return db;
}

// Switching a fresh file to WAL needs an exclusive lock, and SQLite returns SQLITE_BUSY at once,
// without calling the busy handler, when another connection holds a shared lock at that moment
// (waiting could deadlock inside SQLite). Two sweeps started together on a new journal hit
// this, so the whole open is retried here for as long as the busy timeout would have waited.
SQLite::Database open_database_patiently(const std::filesystem::path& path) {
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + milliseconds(kBusyTimeoutMs);
    for (int attempt = 1;; ++attempt) {
        try {
            return open_database(path);
        } catch (const SQLite::Exception& e) {
            const int primary = e.getExtendedErrorCode() & 0xff;
            const bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
            if (!busy || steady_clock::now() >= deadline)
                detail::throw_sqlite_error(e, fmt::format("cannot open journal '{}'", path.string()));
            std::this_thread::sleep_for(milliseconds(std::min(5 * attempt, 100)));
        }
    }
}

} // namespace

std::filesystem::path default_journal_path() {
    auto env = [](const char* name) -> std::optional<std::string> {
        const char* value = std::getenv(name);
        return value ? std::optional<std::string>(value) : std::nullopt;
    };
    return detail::default_journal_path_for(geteuid(), env("XDG_STATE_HOME"), env("HOME"));
}

Journal Journal::open(const std::filesystem::path& path) {
    if (path.has_parent_path()) detail::create_private_directories(path.parent_path());
    detail::create_private_file(path);
    auto impl = std::make_unique<Impl>(path, open_database_patiently(path));
    detail::apply_migrations(impl->db_, detail::schema_migrations());
    impl->host_ = detail::host_name();
    return Journal(std::move(impl));
}

int Journal::current_schema_version() { return detail::current_schema_version(); }

Journal::Journal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Journal::Journal(Journal&&) noexcept = default;
Journal& Journal::operator=(Journal&&) noexcept = default;
Journal::~Journal() = default;

const std::filesystem::path& Journal::path() const { return impl_->path_; }

int Journal::schema_version() {
    return impl_->guarded("cannot read journal", [&] { return detail::read_user_version(impl_->db_); });
}

Journal::Batch Journal::batch() {
    if (impl_->in_batch_)
        throw Error(ErrorCategory::internal,
                    fmt::format("cannot open a batch on journal '{}': one is already open", impl_->path_.string()));
    impl_->guarded("cannot start a transaction on journal", [&] { impl_->db_.exec("BEGIN IMMEDIATE"); });
    impl_->in_batch_ = true;
    return Batch(impl_.get());
}

std::int64_t Journal::begin_run(const RunStart& start) {
    nlohmann::json args = redact_arguments(start.args);
    const std::string args_text = to_json_text(args);
    const std::string uuid = detail::random_uuid_hex();
    const std::string operator_name = detail::operator_login_name();
    return impl_->guarded("cannot record a run in journal", [&] {
        return impl_->write([&] {
            SQLite::Statement insert(impl_->db_, R"sql(
                INSERT INTO runs (uuid, tool, args, operator, operator_uid, host, pid,
                                  mbx_version, dry_run, started_at, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running'))sql");
            insert.bind(1, uuid);
            insert.bind(2, start.tool);
            insert.bind(3, args_text);
            insert.bind(4, operator_name);
            insert.bind(5, static_cast<std::int64_t>(getuid()));
            insert.bind(6, impl_->host_);
            insert.bind(7, static_cast<std::int64_t>(getpid()));
            insert.bind(8, start.mbx_version);
            insert.bind(9, start.dry_run ? 1 : 0);
            insert.bind(10, now_text());
            insert.exec();
            return impl_->db_.getLastInsertRowid();
        });
    });
}

void Journal::finish_run(std::int64_t run_id, RunStatus status, int exit_code) {
    if (status == RunStatus::running)
        throw Error(ErrorCategory::usage, fmt::format("cannot finish run {} with status 'running'", run_id),
                    "pass the status the run ended with");
    int changed = impl_->guarded("cannot finish a run in journal", [&] {
        return impl_->write([&] {
            SQLite::Statement update(impl_->db_, R"sql(
                UPDATE runs SET status = ?, exit_code = ?, ended_at = ? WHERE id = ?)sql");
            update.bind(1, std::string(to_string(status)));
            update.bind(2, exit_code);
            update.bind(3, now_text());
            update.bind(4, run_id);
            return update.exec();
        });
    });
    if (changed == 0)
        throw Error(ErrorCategory::data,
                    fmt::format("cannot finish run {}: no such run in journal '{}'", run_id, impl_->path_.string()));
}

void Journal::reopen_run(std::int64_t run_id) {
    const auto run = find_run(run_id);
    if (!run)
        throw Error(ErrorCategory::data,
                    fmt::format("cannot resume run {}: no such run in journal '{}'", run_id, impl_->path_.string()));
    if (run->status == RunStatus::running && !run->stale)
        throw Error(ErrorCategory::usage,
                    fmt::format("run {} is still running (pid {} on {})", run_id, run->pid, run->host),
                    "wait for it to finish, or stop it first");
    impl_->guarded("cannot resume a run in journal", [&] {
        return impl_->write([&] {
            SQLite::Statement update(impl_->db_, R"sql(
                UPDATE runs SET status = 'running', exit_code = NULL, ended_at = NULL, pid = ?, host = ?
                WHERE id = ?)sql");
            update.bind(1, static_cast<std::int64_t>(getpid()));
            update.bind(2, impl_->host_);
            update.bind(3, run_id);
            return update.exec();
        });
    });
}

std::int64_t Journal::add_action(std::int64_t run_id, const NewAction& action) {
    const auto before = redacted_json_text(action.before);
    const auto after = redacted_json_text(action.after);
    const std::string now = now_text();
    try {
        return impl_->guarded("cannot record an action in journal", [&] {
            return impl_->write([&] {
                if (!impl_->insert_action_)
                    // seq is computed inside the same statement, under the write lock, so
                    // two writers cannot both take max + 1; UNIQUE(run_id, seq) makes the
                    // lookup an index probe.
                    impl_->insert_action_.emplace(impl_->db_, R"sql(
                        INSERT INTO actions (run_id, seq, kind, subject, "before", "after",
                                             status, error, started_at, ended_at)
                        VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM actions
                                     WHERE run_id = ?1),
                                ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9))sql");
                SQLite::Statement& insert = *impl_->insert_action_;
                StatementReset reset(insert);
                insert.bind(1, run_id);
                insert.bind(2, action.kind);
                insert.bind(3, action.subject);
                bind_optional(insert, 4, before);
                bind_optional(insert, 5, after);
                insert.bind(6, std::string(to_string(action.status)));
                bind_optional(insert, 7, action.error);
                insert.bind(8, now);
                // An action recorded already settled (done, failed, skipped) has ended too.
                bind_optional(insert, 9,
                              action.status == ActionStatus::planned ? std::nullopt : std::optional<std::string>(now));
                insert.exec();
                return impl_->db_.getLastInsertRowid();
            });
        });
    } catch (const Error& e) {
        if (e.library_code() != SQLITE_CONSTRAINT_FOREIGNKEY) throw;
        throw Error(ErrorCategory::data,
                    fmt::format("cannot record an action for run {}: no such run in journal '{}'", run_id,
                                impl_->path_.string()),
                    {}, e.library_code());
    }
}

void Journal::update_action(std::int64_t action_id, ActionStatus status, std::optional<nlohmann::json> after,
                            std::optional<std::string> error) {
    const auto after_text = redacted_json_text(after);
    int changed = impl_->guarded("cannot update an action in journal", [&] {
        return impl_->write([&] {
            if (!impl_->update_action_)
                // COALESCE keeps the stored after/error when the caller passes none.
                impl_->update_action_.emplace(impl_->db_, R"sql(
                    UPDATE actions SET status = ?1, ended_at = ?2,
                                       "after" = COALESCE(?3, "after"),
                                       error = COALESCE(?4, error)
                    WHERE id = ?5)sql");
            SQLite::Statement& update = *impl_->update_action_;
            StatementReset reset(update);
            update.bind(1, std::string(to_string(status)));
            update.bind(2, now_text());
            bind_optional(update, 3, after_text);
            bind_optional(update, 4, error);
            update.bind(5, action_id);
            return update.exec();
        });
    });
    if (changed == 0)
        throw Error(ErrorCategory::data, fmt::format("cannot update action {}: no such action in journal '{}'",
                                                     action_id, impl_->path_.string()));
}

std::vector<std::string> Journal::integrity_problems() {
    return impl_->guarded("cannot check journal", [&] {
        std::vector<std::string> problems;
        SQLite::Statement check(impl_->db_, "PRAGMA integrity_check");
        while (check.executeStep()) {
            std::string line = check.getColumn(0).getString();
            if (line != "ok") problems.push_back(std::move(line));
        }
        return problems;
    });
}

// ---- Batch ------------------------------------------------------------------------------

Journal::Batch::Batch(Journal::Impl* impl) : impl_(impl) {}

Journal::Batch::Batch(Batch&& other) noexcept : impl_(other.impl_), open_(other.open_) {
    other.impl_ = nullptr;
    other.open_ = false;
}

Journal::Batch::~Batch() {
    if (!open_ || impl_ == nullptr) return;
    impl_->in_batch_ = false;
    try {
        // SQLite may already have rolled back on its own (after SQLITE_FULL, SQLITE_IOERR):
        // then ROLLBACK fails with "no transaction is active", which is fine to ignore.
        impl_->db_.exec("ROLLBACK");
    } catch (...) { // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
}

void Journal::Batch::commit() {
    if (!open_ || impl_ == nullptr) throw Error(ErrorCategory::internal, "cannot commit a journal batch twice");
    open_ = false;
    impl_->in_batch_ = false;
    try {
        impl_->db_.exec("COMMIT");
    } catch (const SQLite::Exception& e) {
        try {
            impl_->db_.exec("ROLLBACK"); // release the write lock for other processes
        } catch (...) {                  // NOLINT(bugprone-empty-catch): the COMMIT error is the one to report
        }
        detail::throw_sqlite_error(e, fmt::format("cannot commit to journal '{}'", impl_->path_.string()));
    }
}

} // namespace mbx::journal
