// The reading half of Journal: list/show/export queries.
#include "mbx/journal/journal.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/journal/journal_impl.hpp"
#include "mbx/journal/system_info.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace mbx::journal {
namespace {

constexpr const char* kRunColumns = "id, uuid, tool, args, operator, operator_uid, host, pid, mbx_version, dry_run, "
                                    "started_at, ended_at, status, exit_code";

constexpr const char* kActionColumns =
    R"(id, run_id, seq, kind, subject, "before", "after", status, error, started_at, ended_at)";

std::optional<std::string> optional_text(const SQLite::Column& column) {
    if (column.isNull()) return std::nullopt;
    return column.getString();
}

// Stored JSON was written by us, but a hand-edited or imported row must not make the whole
// listing fail: unparseable text is returned as a JSON string holding the raw text.
std::optional<nlohmann::json> optional_json(const SQLite::Column& column) {
    if (column.isNull()) return std::nullopt;
    std::string text = column.getString();
    auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return nlohmann::json(text);
    return parsed;
}

std::vector<std::string> parse_args(const std::string& text) {
    auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    std::vector<std::string> args;
    if (!parsed.is_array()) return {text};
    for (const auto& arg : parsed) args.push_back(arg.is_string() ? arg.get<std::string>() : arg.dump());
    return args;
}

bool wants_running_or_interrupted(const RunFilter& filter) {
    return filter.status && (*filter.status == RunStatus::running || *filter.status == RunStatus::interrupted);
}

// WHERE clause for `filter`. The status condition is widened for running/interrupted because
// staleness is decided per row in C++ (a stored `running` may be reported `interrupted`).
std::string run_query(const RunFilter& filter) {
    std::string sql = fmt::format("SELECT {} FROM runs WHERE 1 = 1", kRunColumns);
    if (filter.since) sql += " AND started_at >= :since";
    if (filter.tool) sql += " AND tool = :tool";
    if (wants_running_or_interrupted(filter)) sql += " AND status IN ('running', 'interrupted')";
    else if (filter.status) sql += " AND status = :status";
    // The timestamp format is fixed-width UTC, so text order is time order.
    return sql + " ORDER BY started_at DESC, id DESC";
}

} // namespace

RunRecord Journal::Impl::read_run(const SQLite::Statement& row) const {
    RunRecord run;
    run.id = row.getColumn(0).getInt64();
    run.uuid = row.getColumn(1).getString();
    run.tool = row.getColumn(2).getString();
    run.args = parse_args(row.getColumn(3).getString());
    run.operator_name = row.getColumn(4).getString();
    run.operator_uid = row.getColumn(5).getInt64();
    run.host = row.getColumn(6).getString();
    run.pid = row.getColumn(7).getInt64();
    run.mbx_version = row.getColumn(8).getString();
    run.dry_run = row.getColumn(9).getInt() != 0;
    run.started_at = row.getColumn(10).getString();
    run.ended_at = optional_text(row.getColumn(11));
    run.status = parse_run_status(row.getColumn(12).getString());
    if (!row.getColumn(13).isNull()) run.exit_code = row.getColumn(13).getInt();
    // Only a pid on this host can be checked; a run from another host (an imported shard
    // journal) stays `running` until that host finishes it. A reused pid makes a dead run
    // look alive: that errs on the side of "running", never marks a live run interrupted.
    if (run.status == RunStatus::running && run.host == host_ && !detail::process_exists(run.pid)) {
        run.status = RunStatus::interrupted;
        run.stale = true;
    }
    return run;
}

ActionRecord Journal::Impl::read_action(const SQLite::Statement& row) const {
    ActionRecord action;
    action.id = row.getColumn(0).getInt64();
    action.run_id = row.getColumn(1).getInt64();
    action.seq = row.getColumn(2).getInt64();
    action.kind = row.getColumn(3).getString();
    action.subject = row.getColumn(4).getString();
    action.before = optional_json(row.getColumn(5));
    action.after = optional_json(row.getColumn(6));
    action.status = parse_action_status(row.getColumn(7).getString());
    action.error = optional_text(row.getColumn(8));
    action.started_at = row.getColumn(9).getString();
    action.ended_at = optional_text(row.getColumn(10));
    return action;
}

std::vector<RunRecord> Journal::list_runs(const RunFilter& filter) {
    return impl_->guarded("cannot read journal", [&] {
        SQLite::Statement query(impl_->db_, run_query(filter));
        if (filter.since) query.bind(":since", format_timestamp(*filter.since));
        if (filter.tool) query.bind(":tool", *filter.tool);
        if (filter.status && !wants_running_or_interrupted(filter))
            query.bind(":status", std::string(to_string(*filter.status)));
        std::vector<RunRecord> runs;
        while ((filter.limit == 0 || runs.size() < filter.limit) && query.executeStep()) {
            RunRecord run = impl_->read_run(query);
            if (filter.status && run.status != *filter.status) continue;
            runs.push_back(std::move(run));
        }
        return runs;
    });
}

std::optional<RunRecord> Journal::find_run(std::int64_t run_id) {
    return impl_->guarded("cannot read journal", [&]() -> std::optional<RunRecord> {
        SQLite::Statement query(impl_->db_, fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns));
        query.bind(1, run_id);
        if (!query.executeStep()) return std::nullopt;
        return impl_->read_run(query);
    });
}

std::optional<RunRecord> Journal::find_run_by_reference(std::string_view text) {
    const bool numeric =
        !text.empty() && text.size() < 10 && text.find_first_not_of("0123456789") == std::string_view::npos;
    return numeric ? find_run(std::stoll(std::string(text))) : find_run_by_uuid(text);
}

std::optional<RunRecord> Journal::find_run_by_uuid(std::string_view prefix) {
    std::string wanted(prefix);
    std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    bool hex = std::all_of(wanted.begin(), wanted.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
    if (wanted.size() < 4 || wanted.size() > 32 || !hex)
        throw Error(ErrorCategory::usage, fmt::format("invalid run uuid prefix '{}'", prefix),
                    "give at least 4 hex digits of the run's uuid, or its numeric id");
    auto matches = impl_->guarded("cannot read journal", [&] {
        // A range on the UNIQUE index instead of LIKE: 'g' sorts after every hex digit.
        SQLite::Statement query(
            impl_->db_, fmt::format("SELECT {} FROM runs WHERE uuid >= ?1 AND uuid < ?1 || 'g' LIMIT 2", kRunColumns));
        query.bind(1, wanted);
        std::vector<RunRecord> found;
        while (query.executeStep()) found.push_back(impl_->read_run(query));
        return found;
    });
    if (matches.empty()) return std::nullopt;
    if (matches.size() > 1)
        throw Error(ErrorCategory::usage, fmt::format("run uuid prefix '{}' matches several runs", prefix),
                    "give more digits of the uuid, or the run's numeric id");
    return std::move(matches.front());
}

std::vector<SubjectRun> Journal::runs_about(std::string_view subject, TimePoint since, std::size_t limit) {
    // Each prefix is a range on actions_by_subject (subject >= P AND subject < P with its last
    // byte raised), so SQLite can answer the OR as a union of index ranges; merges into the
    // subject are found through actions_by_kind ('merge.' <= kind < 'merge/').
    const std::string s(subject);
    auto upper = [](std::string p) {
        p.back() = static_cast<char>(p.back() + 1);
        return p;
    };
    return impl_->guarded("cannot read journal", [&] {
        SQLite::Statement query(impl_->db_,
                                "SELECT a.run_id, a.kind, COUNT(*) FROM actions a JOIN runs r ON r.id = a.run_id"
                                " WHERE r.started_at >= :since AND (a.subject = :s"
                                " OR (a.subject >= :p1 AND a.subject < :u1) OR (a.subject >= :p2 AND a.subject < :u2)"
                                " OR (a.subject >= :p3 AND a.subject < :u3)"
                                " OR (a.kind >= 'merge.' AND a.kind < 'merge/' AND a.subject LIKE :into ESCAPE '\\'))"
                                " GROUP BY a.run_id, a.kind");
        query.bind(":since", format_timestamp(since));
        query.bind(":s", s);
        int i = 1;
        for (const char* sep : {"/", "@", " -> "}) {
            const std::string p = s + sep;
            query.bind(fmt::format(":p{}", i), p);
            query.bind(fmt::format(":u{}", i), upper(p));
            ++i;
        }
        std::string escaped;
        for (char c : s) {
            if (c == '%' || c == '_' || c == '\\') escaped += '\\';
            escaped += c;
        }
        query.bind(":into", "% -> " + escaped);
        std::map<std::int64_t, SubjectRun> by_run;
        while (query.executeStep()) {
            auto& r = by_run[query.getColumn(0).getInt64()];
            r.kinds.push_back(query.getColumn(1).getString());
            r.actions += query.getColumn(2).getInt64();
        }
        std::vector<SubjectRun> runs;
        SQLite::Statement run_query(impl_->db_, fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns));
        for (auto& [id, r] : by_run) {
            run_query.reset();
            run_query.bind(1, id);
            if (!run_query.executeStep()) continue;
            r.run = impl_->read_run(run_query);
            std::sort(r.kinds.begin(), r.kinds.end());
            runs.push_back(std::move(r));
        }
        std::sort(runs.begin(), runs.end(), [](const SubjectRun& a, const SubjectRun& b) {
            return a.run.started_at != b.run.started_at ? a.run.started_at > b.run.started_at : a.run.id > b.run.id;
        });
        if (limit != 0 && runs.size() > limit) runs.resize(limit);
        return runs;
    });
}

std::vector<ActionRecord> Journal::actions_of(std::int64_t run_id) {
    std::vector<ActionRecord> actions;
    for_each_action_of_run(run_id, [&](const ActionRecord& a) { actions.push_back(a); });
    return actions;
}

void Journal::for_each_action(const RunFilter& filter,
                              const std::function<void(const RunRecord&, const ActionRecord&)>& visit) {
    // Runs are few (one per command invocation) and are materialised; actions can be millions
    // and are streamed one row at a time.
    for (const RunRecord& run : list_runs(filter))
        for_each_action_of_run(run.id, [&](const ActionRecord& a) { visit(run, a); });
}

void Journal::for_each_action_of_run(std::int64_t run_id, const std::function<void(const ActionRecord&)>& visit) {
    // The SQLite::Exception guard covers only stepping and reading the rows, so an exception
    // thrown by `visit` reaches the caller unchanged.
    SQLite::Statement query = impl_->guarded("cannot read journal", [&] {
        SQLite::Statement q(impl_->db_,
                            fmt::format("SELECT {} FROM actions WHERE run_id = ? ORDER BY seq", kActionColumns));
        q.bind(1, run_id);
        return q;
    });
    for (;;) {
        auto action = impl_->guarded("cannot read journal", [&]() -> std::optional<ActionRecord> {
            if (!query.executeStep()) return std::nullopt;
            return impl_->read_action(query);
        });
        if (!action) return;
        visit(*action);
    }
}

// Here rather than in journal.cpp: the check reads runs with read_run and kRunColumns.
std::int64_t Journal::claim_mailbox(std::int64_t run_id, std::string_view user) {
    auto tx = batch(); // BEGIN IMMEDIATE: no other process can claim between check and claim
    impl_->guarded("cannot read journal", [&] {
        SQLite::Statement holders(
            impl_->db_, fmt::format("SELECT {} FROM runs WHERE id <> :run AND status = 'running' AND id IN"
                                    " (SELECT run_id FROM actions WHERE kind = 'mailbox.claim' AND subject = :user"
                                    " AND status = 'planned')",
                                    kRunColumns));
        holders.bind(":run", run_id);
        holders.bind(":user", std::string(user));
        while (holders.executeStep()) {
            const RunRecord other = impl_->read_run(holders);
            if (other.stale) continue; // its process is gone: the claim died with it
            throw Error(ErrorCategory::temporary,
                        fmt::format("another mbxkit run is changing the mailbox of {}: run {} (mbx {}, pid {} on "
                                    "{}, started {})",
                                    out::quoted(user), other.id, other.tool, other.pid, other.host, other.started_at),
                        "wait for it to end, or stop it; two runs at once would archive and count the same "
                        "messages twice");
        }
    });
    const std::int64_t id =
        add_action(run_id, {.kind = "mailbox.claim", .subject = std::string(user), .status = ActionStatus::planned});
    tx.commit();
    return id;
}

} // namespace mbx::journal
