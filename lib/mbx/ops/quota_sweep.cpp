#include "mbx/ops/quota_sweep.hpp"

#include "mbx/core/output.hpp"
#include "mbx/directory/directory.hpp"
#include "mbx/directory/entry.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/doveadm.hpp"
#include "mbx/ops/quota_server.hpp"
#include "mbx/ops/user_schema.hpp"

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fmt/format.h>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace mbx::ops {
namespace {

using Clock = std::chrono::steady_clock;

// One selected user, as the directory described it (or the failure to read its entry).
struct Work {
    UserInfo info = {};
    std::optional<Error> error = {};
};

// The bounded hand-over between the searching thread and the workers: batches of work one
// way, finished rows the other. The producer never holds more than `capacity` batches.
class Pool {
public:
    explicit Pool(std::size_t capacity) : capacity_(capacity) {}

    // Producer: waits for room, handing finished rows to `drain` while it waits.
    void put(std::vector<Work> batch, const std::function<void(std::vector<QuotaRow>&)>& drain) {
        std::unique_lock lock(mu_);
        wait_draining(lock, drain, [&] { return work_.size() < capacity_; });
        work_.push_back(std::move(batch));
        worker_cv_.notify_one();
    }

    // Producer, after the last put(): hands over rows until every worker has finished.
    void close_and_drain(const std::function<void(std::vector<QuotaRow>&)>& drain) {
        std::unique_lock lock(mu_);
        closed_ = true;
        worker_cv_.notify_all();
        wait_draining(lock, drain, [&] { return busy_ == 0 && work_.empty(); });
    }

    // Stops handing out work (after an error or an interrupt); queued batches are dropped.
    void abandon() {
        std::lock_guard lock(mu_);
        closed_ = true;
        work_.clear();
        worker_cv_.notify_all();
    }

    // Worker: the next batch, or nothing when closed and empty.
    std::optional<std::vector<Work>> take() {
        std::unique_lock lock(mu_);
        worker_cv_.wait(lock, [&] { return closed_ || !work_.empty(); });
        if (work_.empty()) return std::nullopt;
        auto batch = std::move(work_.front());
        work_.pop_front();
        ++busy_;
        producer_cv_.notify_one(); // room for the producer
        return batch;
    }

    // Worker: the rows of a finished batch.
    void give(std::vector<QuotaRow> rows) {
        std::lock_guard lock(mu_);
        for (auto& r : rows) rows_.push_back(std::move(r));
        --busy_;
        producer_cv_.notify_one();
    }

private:
    // Waits until `done` holds with no rows pending, handing rows to `drain` (unlocked) meanwhile.
    template <typename Done> void wait_draining(std::unique_lock<std::mutex>& lock,
                                                const std::function<void(std::vector<QuotaRow>&)>& drain, Done done) {
        for (;;) {
            if (!rows_.empty()) {
                std::vector<QuotaRow> ready;
                ready.swap(rows_);
                lock.unlock();
                drain(ready);
                lock.lock();
                continue;
            }
            if (done()) return;
            producer_cv_.wait(lock);
        }
    }

    std::mutex mu_;
    std::condition_variable producer_cv_, worker_cv_;
    std::deque<std::vector<Work>> work_;
    std::vector<QuotaRow> rows_;
    std::size_t capacity_;
    std::size_t busy_ = 0;
    bool closed_ = false;
};

std::uint64_t fnv1a64(std::string_view s) {
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

QuotaRow unknown_row(const Work& w, const Error& e) { return failed_row(w.info.uid, w.info.mail, e); }

// The imap backend: one master login per user.
std::vector<QuotaRow> check_imap(const config::Config& cfg, const SecretProvider& secrets, const Thresholds& t,
                                 const std::vector<Work>& batch) {
    std::vector<QuotaRow> rows;
    for (const auto& w : batch) {
        if (w.error) {
            rows.push_back(unknown_row(w, *w.error));
            continue;
        }
        QuotaRow row;
        row.user = w.info.uid;
        row.mail = w.info.mail;
        try {
            read_imap_usage(cfg, secrets, w.info, t, row);
            row.error = w.info.note;
        } catch (const Error& e) {
            row = unknown_row(w, e);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// The doveadm backend: one request for the whole batch.
std::vector<QuotaRow> check_doveadm(const DoveadmClient& client, const Thresholds& t, const std::vector<Work>& batch) {
    std::vector<std::string> names;
    for (const auto& w : batch)
        if (!w.error) names.push_back(w.info.uid);
    std::vector<DoveadmResult> results;
    std::optional<Error> failure;
    if (!names.empty()) {
        try {
            results = client.quotas(names);
        } catch (const Error& e) {
            failure = e; // the whole batch is unknown: the next batch may succeed
        }
    }
    std::vector<QuotaRow> rows;
    std::size_t i = 0;
    for (const auto& w : batch) {
        if (w.error) {
            rows.push_back(unknown_row(w, *w.error));
            continue;
        }
        if (failure) {
            rows.push_back(unknown_row(w, *failure));
            ++i;
            continue;
        }
        const DoveadmResult& r = results[i++];
        if (r.error) {
            rows.push_back(unknown_row(w, *r.error));
            continue;
        }
        QuotaRow row;
        row.user = w.info.uid;
        row.mail = w.info.mail;
        row.used_bytes = r.quota.used_bytes;
        row.limit_bytes = r.quota.limit_bytes;
        row.messages = r.quota.messages;
        row.message_limit = r.quota.message_limit;
        row.source = "doveadm";
        if (!row.limit_bytes && w.info.ldap_limit) {
            row.limit_bytes = w.info.ldap_limit;
            row.source = "ldap";
        }
        row.error = w.info.note;
        classify_row(row, thresholds_for(w.info, t));
        rows.push_back(std::move(row));
    }
    return rows;
}

// [ldap] user-filter ANDed with --filter, which must be an RFC 4515 filter (Error(usage)).
std::string sweep_filter(const config::Config& cfg, const std::string& option) {
    std::string filter = cfg.get("ldap.user-filter");
    if (option.empty()) return filter;
    try {
        directory::validate_filter(option);
    } catch (const Error& e) {
        throw Error(ErrorCategory::usage, e.what(), "write it as an RFC 4515 filter, e.g. '(ou=sales)'");
    }
    const std::string extra = option.front() == '(' ? option : "(" + option + ")";
    const std::string base = filter.empty() || filter.front() == '(' ? filter : "(" + filter + ")";
    return base.empty() ? extra : "(&" + base + extra + ")";
}

using UserSet = std::unordered_set<std::string>;

// The uids of --users-file, if it was given.
std::optional<UserSet> wanted_users(const SweepOptions& options) {
    if (!options.users_file) return std::nullopt;
    UserSet wanted;
    for (auto& u : read_users_file(*options.users_file)) wanted.insert(std::move(u));
    return wanted;
}

// `secrets`, but the IMAP master password is `master` (read once, before the workers start:
// a prompt must not race).
SecretProvider with_master(const SecretProvider& secrets, const Secret& master) {
    return [&secrets, &master](const SecretSource& s) {
        return s.file_setting == kImapMasterPassword.file_setting && s.section == kImapMasterPassword.section
                   ? master
                   : secrets(s);
    };
}

// The admin backend: the batch's users pipelined on the worker's own admin connection.
std::vector<QuotaRow> check_admin(AdminQuotaReader& reader, const Thresholds& t, const std::vector<Work>& batch) {
    std::vector<UserInfo> users;
    for (const auto& w : batch)
        if (!w.error) users.push_back(w.info);
    std::vector<QuotaRow> read = reader.rows(users, t);
    std::vector<QuotaRow> rows;
    std::size_t i = 0;
    for (const auto& w : batch) rows.push_back(w.error ? unknown_row(w, *w.error) : std::move(read[i++]));
    return rows;
}

// Reads the usage of a batch with the sweep's backend; a batch that fails as a whole is a row
// of unknown tier per user.
struct Checker {
    const config::Config& cfg;
    const SecretProvider& secrets;
    const Thresholds& thresholds;
    const DoveadmClient* doveadm; ///< the doveadm backend
    bool admin = false;           ///< the admin backend (else imap)

    /// `reader`: the calling worker's own admin connection (admin backend), opened on first use.
    std::vector<QuotaRow> rows(const std::vector<Work>& work, std::unique_ptr<AdminQuotaReader>& reader) const {
        std::vector<QuotaRow> rows;
        try {
            if (admin && !reader) reader = std::make_unique<AdminQuotaReader>(cfg, secrets);
            rows = doveadm ? check_doveadm(*doveadm, thresholds, work)
                   : admin ? check_admin(*reader, thresholds, work)
                           : check_imap(cfg, secrets, thresholds, work);
        } catch (const std::exception& e) {
            for (const auto& w : work) rows.push_back(unknown_row(w, Error(ErrorCategory::internal, e.what())));
        }
        return rows;
    }
};

// The rows of finished batches, on the calling thread: to the caller, into the exit code, the
// progress and the journal.
class Delivery {
public:
    Delivery(const Session& session, const std::function<void(const QuotaRow&)>& on_row,
             const std::function<void(const SweepProgress&)>& on_progress)
        : journal_(session.journal), run_id_(session.run_id), on_row_(on_row), on_progress_(on_progress) {}

    void operator()(std::vector<QuotaRow>& rows) {
        for (auto& r : rows) {
            overall_ = combine_exit_codes(overall_, r.tier == Tier::unknown ? r.failure : tier_severity(r.tier));
            if (journal_ && run_id_) {
                if (!batch_) batch_.emplace(journal_->batch());
                journal_quota_row(*journal_, *run_id_, r);
                ++uncommitted_;
            }
            on_row_(r);
            ++progress_.checked;
        }
        // Commit every 500 rows or 2 s, so other writers never wait long and a kill loses little.
        if (batch_ && (uncommitted_ >= 500 || Clock::now() - last_commit_ > std::chrono::seconds(2))) {
            batch_->commit();
            batch_.reset();
            uncommitted_ = 0;
            last_commit_ = Clock::now();
        }
        on_progress_(progress_);
    }

    /// Commits the rows journaled since the last commit.
    void commit() {
        if (batch_) batch_->commit();
    }

    SweepProgress& progress() { return progress_; }
    ExitCode overall() const { return overall_; }

private:
    journal::Journal* journal_;
    std::optional<std::int64_t> run_id_;
    const std::function<void(const QuotaRow&)>& on_row_;
    const std::function<void(const SweepProgress&)>& on_progress_;
    ExitCode overall_ = ExitCode::ok;
    SweepProgress progress_;
    std::optional<journal::Journal::Batch> batch_;
    Clock::time_point last_commit_ = Clock::now();
    std::size_t uncommitted_ = 0;
};

using Drain = std::function<void(std::vector<QuotaRow>&)>;

// `parallel` threads that check the batches of `pool` until it closes.
std::vector<std::thread> start_workers(Pool& pool, unsigned parallel, const Checker& checker) {
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < parallel; ++i)
        workers.emplace_back([&pool, &checker] {
            std::unique_ptr<AdminQuotaReader> reader; // this worker's admin connection
            while (auto work = pool.take()) pool.give(checker.rows(*work, reader));
        });
    return workers;
}

void stop_workers(Pool& pool, std::vector<std::thread>& workers) {
    pool.abandon();
    for (auto& w : workers)
        if (w.joinable()) w.join();
}

// A selected entry as work: its user, or why it cannot be checked.
Work work_of(const directory::Entry& e, const std::string& uid, const std::string& uid_attr,
             const config::Config& cfg) {
    Work w;
    w.info.uid = uid;
    try {
        w.info = user_info(e, cfg);
        if (uid.empty())
            throw Error(ErrorCategory::data, fmt::format("entry '{}' has no {}", out::printable(e.dn), uid_attr));
    } catch (const Error& err) {
        w.info.uid = uid.empty() ? e.dn : uid;
        w.error = err;
    }
    return w;
}

// The paged search: each entry in the shard and the users file (erased from `wanted` as found)
// goes to `pool` in batches of `batch_size`, rows drained meanwhile; then the pool is closed
// and drained. Stops (Error interrupted) when the session is asked to.
void enumerate_users(directory::Directory& dir, const Session& session, const config::Config& cfg,
                     const std::string& filter, const SweepOptions& options, std::optional<UserSet>& wanted,
                     std::size_t batch_size, Pool& pool, const Drain& drain, SweepProgress& progress) {
    std::vector<Work> pending;
    const std::string uid_attr = cfg.get("ldap.uid-attribute");
    dir.search(cfg.require("ldap.base"), directory::Scope::subtree, filter, quota_attributes(cfg),
               [&](const directory::Entry& e) {
                   session.throw_if_stopped();
                   const std::string uid = e.first(uid_attr).value_or("");
                   if (options.shard && !in_shard(uid, *options.shard)) return;
                   if (wanted && !wanted->erase(uid)) return;
                   pending.push_back(work_of(e, uid, uid_attr, cfg));
                   ++progress.found;
                   if (pending.size() >= batch_size) {
                       pool.put(std::move(pending), drain);
                       pending.clear();
                   }
               });
    if (!pending.empty()) pool.put(std::move(pending), drain);
    progress.enumerated = true;
    pool.close_and_drain(drain);
}

// Rows for the users of the file that the search did not return (in this shard), by uid.
std::vector<QuotaRow> missing_rows(const UserSet& wanted, const std::optional<Shard>& shard) {
    std::vector<std::string> missing(wanted.begin(), wanted.end());
    std::sort(missing.begin(), missing.end());
    std::vector<QuotaRow> rows;
    for (const auto& uid : missing) {
        if (shard && !in_shard(uid, *shard)) continue;
        rows.push_back(
            failed_row(uid, "",
                       Error(ErrorCategory::data, fmt::format("no user '{}' in the directory (or excluded by --filter)",
                                                              out::printable(uid)))));
    }
    return rows;
}

} // namespace

Shard parse_shard(std::string_view text) {
    const auto slash = text.find('/');
    auto num = [](std::string_view s, unsigned& v) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        return ec == std::errc() && p == s.data() + s.size() && !s.empty();
    };
    Shard s;
    if (slash == std::string_view::npos || !num(text.substr(0, slash), s.index) ||
        !num(text.substr(slash + 1), s.count) || s.count == 0 || s.count > 1000000 || s.index == 0 || s.index > s.count)
        throw Error(ErrorCategory::usage, fmt::format("invalid --shard '{}'", out::printable(text)),
                    "use K/N with 1 <= K <= N, e.g. --shard 2/4");
    return s;
}

bool in_shard(std::string_view uid, const Shard& shard) { return fnv1a64(uid) % shard.count == shard.index - 1; }

Backend parse_backend(std::string_view text) {
    if (text == "imap") return Backend::imap;
    if (text == "doveadm") return Backend::doveadm;
    if (text == "admin") return Backend::admin;
    throw Error(ErrorCategory::usage, fmt::format("unknown quota backend '{}'", out::printable(text)),
                "use imap, admin or doveadm");
}

std::string_view backend_name(Backend backend) {
    switch (backend) {
    case Backend::doveadm: return "doveadm";
    case Backend::admin: return "admin";
    case Backend::imap: break;
    }
    return "imap";
}

ExitCode sweep_users(const Session& session, const SweepOptions& options,
                     const std::function<void(const QuotaRow&)>& on_row,
                     const std::function<void(const SweepProgress&)>& on_progress) {
    const SecretProvider& secrets = session.secrets;
    const Thresholds t = thresholds_from_config(session.config);
    const unsigned parallel = std::clamp(options.parallel, 1u, 256u);
    if (!options.filter.empty()) (void)sweep_filter(session.config, options.filter); // a bad --filter: usage, first
    std::optional<UserSet> wanted = wanted_users(options);
    std::optional<DoveadmClient> doveadm;
    if (options.backend == Backend::doveadm) doveadm.emplace(session.config, secrets);
    SecretProvider cached = secrets;
    std::optional<Secret> master;
    if (options.backend == Backend::imap || options.backend == Backend::admin) {
        master = secrets(kImapMasterPassword);
        cached = with_master(secrets, *master);
    }
    auto dir = directory::Directory::connect(ldap_config(session.config, secrets));
    // The directory's settings as its kind has them (Active Directory: its own user filter).
    const config::Config cfg = directory_config(dir, session.config);
    const std::string filter = sweep_filter(cfg, options.filter);

    Delivery delivery(session, on_row, on_progress);
    const Drain drain = [&delivery](std::vector<QuotaRow>& rows) { delivery(rows); };
    const Checker checker{cfg, cached, t, doveadm ? &*doveadm : nullptr, options.backend == Backend::admin};
    Pool pool(parallel * 2);
    std::vector<std::thread> workers = start_workers(pool, parallel, checker);
    const std::size_t batch_size = doveadm                             ? std::max<std::size_t>(1, options.doveadm_batch)
                                   : options.backend == Backend::admin ? std::max<std::size_t>(1, options.admin_batch)
                                                                       : 1;
    try {
        enumerate_users(dir, session, cfg, filter, options, wanted, batch_size, pool, drain, delivery.progress());
    } catch (...) {
        stop_workers(pool, workers);
        delivery.commit(); // the rows delivered so far stay journaled
        throw;
    }
    stop_workers(pool, workers);
    if (wanted) {
        std::vector<QuotaRow> rows = missing_rows(*wanted, options.shard);
        delivery(rows);
    }
    delivery.commit();
    return delivery.overall();
}

} // namespace mbx::ops
