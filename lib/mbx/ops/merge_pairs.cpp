// `mbx merge` over pairs: each pair's endpoints, the batch of journal runs, and the totals
// its report shows. Separate from merge.cpp, which merges one pair.
#include "mbx/ops/merge_run.hpp"

#include "mbx/core/output.hpp"
#include "mbx/ops/batch.hpp"
#include "mbx/ops/connect.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace mbx::ops::merge {
namespace {

bool is_section_suffix(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// Endpoints (and their secrets: the session's provider may prompt) are resolved up front, in
// order; a pair whose endpoint cannot be resolved keeps the error for its outcome.
struct Prepared {
    std::optional<Request> request;
    std::optional<Error> error;
};

Prepared prepare(const Session& session, const Pair& pair, const PairsRequest& req) {
    Prepared p;
    try {
        p.request = Request{endpoint_of(session, pair.from, req.from_password_file),
                            endpoint_of(session, pair.to, req.to_password_file),
                            req.options,
                            {}};
    } catch (const Error& e) {
        p.error = e;
    }
    return p;
}

void add_folders(Totals& t, const Result& r) {
    for (const auto& f : r.folders) {
        ++t.folders;
        t.messages += f.messages;
        t.to_copy += f.to_copy;
        t.bytes_to_copy += f.bytes_to_copy;
        t.copied += f.copied;
        t.bytes_copied += f.bytes_copied;
        t.failed += f.failed;
        t.flags_fixed += f.flags_fixed;
        t.missing += f.missing.value_or(0);
        if (!f.missing) t.verified_all = false;
        t.normalised += f.normalised.value_or(0);
        t.extra += f.extra.value_or(0);
        for (const auto& [how, count] : f.normalised_how) t.normalised_how[how] += count;
    }
}

} // namespace

Endpoint endpoint_of(const Session& session, const std::string& label,
                     const std::optional<std::filesystem::path>& password_file) {
    std::string user = label, section = "imap";
    if (auto at = label.rfind('@'); at != std::string::npos && is_section_suffix(label.substr(at + 1))) {
        user = label.substr(0, at);
        section = "imap." + label.substr(at + 1);
    }
    if (user.empty())
        throw Error(ErrorCategory::usage, fmt::format("invalid mailbox '{}'", out::printable(label)),
                    "write USER or USER@NAME, NAME being an [imap.NAME] section");
    return {label, imap_section_config(session.config, session.secrets, section, user, password_file)};
}

std::vector<PairOutcome> run_pairs(const Session& session, const PairsRequest& req) {
    auto argv_of = [&](const Pair& p) {
        if (req.alone) return req.argv;
        return subject_argv(req.argv, {"--users-file", "-F", "--parallel"}, {"--from", p.from, "--to", p.to});
    };
    std::vector<Prepared> prepared;
    for (const auto& p : req.pairs) prepared.push_back(prepare(session, p, req));
    std::vector<std::optional<Result>> results(req.pairs.size());
    const auto ends = run_batch(session, req.pairs.size(), req.parallel, [&](SubjectContext& s) {
        const Prepared& p = prepared[s.index];
        if (p.error) throw *p.error;
        results[s.index] = run_journaled(s.session, *p.request, req.resume, argv_of(req.pairs[s.index]));
        return results[s.index]->exit;
    });
    std::vector<PairOutcome> outcomes;
    for (std::size_t i = 0; i < req.pairs.size(); ++i)
        outcomes.push_back({req.pairs[i], std::move(results[i]), ends[i].error, ends[i].exit});
    return outcomes;
}

Totals totals_of(const std::vector<PairOutcome>& outcomes) {
    Totals t;
    t.pairs = outcomes.size();
    for (const auto& o : outcomes) {
        t.worst = combine_exit_codes(t.worst, o.exit);
        if (o.exit == ExitCode::ok) ++t.pairs_ok;
        if (o.error || !o.result) {
            t.verified_all = false;
            continue;
        }
        t.seconds = std::max(t.seconds, o.result->seconds);
        add_folders(t, *o.result);
    }
    return t;
}

Totals totals_of(const Result& result) {
    Totals t;
    t.worst = result.exit;
    t.pairs = 1;
    t.pairs_ok = result.exit == ExitCode::ok ? 1 : 0;
    t.seconds = result.seconds;
    add_folders(t, result);
    return t;
}

std::string_view folder_status_name(FolderStatus s) {
    switch (s) {
    case FolderStatus::planned: return "planned";
    case FolderStatus::ok: return "ok";
    case FolderStatus::incomplete: return "incomplete";
    case FolderStatus::failed: return "failed";
    }
    return "failed";
}

std::string counts_text(const std::map<std::string, std::uint64_t>& counts) {
    std::string text;
    for (const auto& [how, n] : counts)
        text += fmt::format("{}{} ×{}", text.empty() ? "" : ", ", out::printable(how), n);
    return text;
}

std::string summary_of(const Totals& t, bool dry_run) {
    std::string text;
    if (dry_run)
        text = fmt::format("dry run: {} messages ({}) to copy in {} folders; nothing written", t.to_copy,
                           out::human_bytes(static_cast<std::int64_t>(t.bytes_to_copy)), t.folders);
    else
        text = fmt::format("{} of {} messages copied ({}) in {:.1f}s; {} failed, {}; {} of {} pairs verified complete",
                           t.copied, t.to_copy, out::human_bytes(static_cast<std::int64_t>(t.bytes_copied)), t.seconds,
                           t.failed,
                           t.verified_all ? fmt::format("{} missing", t.missing) : std::string("not all verified"),
                           t.pairs_ok, t.pairs);
    if (t.flags_fixed > 0)
        text += fmt::format("; flags of {} copies from the interrupted run set again as on the source", t.flags_fixed);
    if (t.extra > 0)
        text += fmt::format("; {} second copies on the target (a server stored an interrupted run's messages after "
                            "this run looked; none removed)",
                            t.extra);
    if (t.normalised > 0)
        text += fmt::format("; {} copies present though the target's server changed their bytes ({})", t.normalised,
                            counts_text(t.normalised_how));
    return text;
}

} // namespace mbx::ops::merge
