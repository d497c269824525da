#include "pairs.hpp"

#include "mbx/core/config.hpp"
#include "mbx/core/text.hpp"
#include "mbx/ops/batch.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/users.hpp"

#include <fmt/format.h>
#include <map>
#include <iostream>

namespace mbx_merge {

using mbx::Error;
using mbx::ErrorCategory;
using mbx::ExitCode;
using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;
namespace merge = mbx::ops::merge;

namespace {

const mbx::cli::po::variables_map& args(mbx::cli::Context& ctx) { return ctx.args(); }

std::string arg(mbx::cli::Context& ctx, const char* name) {
    return args(ctx).count(name) ? args(ctx)[name].as<std::string>() : std::string();
}

std::vector<std::string> list_arg(mbx::cli::Context& ctx, const char* name) {
    return args(ctx).count(name) ? args(ctx)[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

// "2024-03-01" -> midnight UTC.
std::chrono::sys_seconds parse_date(const std::string& text, const char* option) {
    int y = 0;
    unsigned m = 0, d = 0;
    char dash1 = 0, dash2 = 0;
    std::istringstream in(text);
    in >> y >> dash1 >> m >> dash2 >> d;
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    if (!in || !in.eof() || dash1 != '-' || dash2 != '-' || !ymd.ok() || text.size() != 10)
        throw Error(ErrorCategory::usage, fmt::format("invalid --{} '{}'", option, mbx::out::printable(text)),
                    "write the date as YYYY-MM-DD");
    return std::chrono::sys_days{ymd};
}

bool is_section_suffix(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// "alice@old" -> alice on [imap.old]; "alice@example.org" (a dot: a login name) -> [imap].
merge::Endpoint endpoint_of(mbx::cli::Context& ctx, const std::string& label, const char* password_option) {
    std::string user = label, section = "imap";
    if (auto at = label.rfind('@'); at != std::string::npos && is_section_suffix(label.substr(at + 1))) {
        user = label.substr(0, at);
        section = "imap." + label.substr(at + 1);
    }
    if (user.empty())
        throw Error(ErrorCategory::usage, fmt::format("invalid mailbox '{}'", mbx::out::printable(label)),
                    "write USER or USER@NAME, NAME being an [imap.NAME] section");
    std::optional<std::filesystem::path> password_file;
    if (const auto f = arg(ctx, password_option); !f.empty()) password_file = f;
    auto secrets = [&](const mbx::SecretSource& s) { return ctx.secret(s); };
    return {label, mbx::ops::imap_section_config(ctx.config(), secrets, section, user, password_file)};
}

// The outcome of one pair: the merge result, or the error that stopped it before any write.
struct PairOutcome {
    Pair pair;
    std::optional<merge::Result> result;
    std::optional<Error> error;
    ExitCode exit = ExitCode::ok;
};

// Endpoints (and their secrets: Context::secret may prompt) are resolved up front, in order.
struct Prepared {
    Pair pair;
    std::optional<merge::Request> request;
    std::optional<Error> error;
};

Prepared prepare(mbx::cli::Context& ctx, const Pair& pair, const merge::Options& options) {
    Prepared p{pair, {}, {}};
    try {
        p.request = merge::Request{endpoint_of(ctx, pair.from, "from-password-file"),
                                   endpoint_of(ctx, pair.to, "to-password-file"), options, nullptr, 0, {}};
    } catch (const Error& e) {
        p.error = e;
    }
    return p;
}

Cell optional_count(const std::optional<std::uint64_t>& v) {
    if (!v) return Cell();
    return Cell(static_cast<std::int64_t>(*v));
}

Cell optional_text(const char* text) {
    if (!text) return Cell();
    return Cell(std::string(text));
}

// "header added: x-rewritten-by ×4, body changed ×1"
std::string counts_text(const std::map<std::string, std::uint64_t>& counts) {
    std::string out;
    for (const auto& [kind, n] : counts) out += fmt::format("{}{} ×{}", out.empty() ? "" : ", ", mbx::out::printable(kind), n);
    return out;
}

mbx::out::ReportSpec report_spec() {
    return {"merge",
            {{"from", "From", Kind::text, Role::label},
             {"to", "To", Kind::text, Role::label},
             {"folder", "Folder", Kind::text, Role::label},
             {"target_folder", "Target folder", Kind::text, Role::detail},
             {"created", "Created", Kind::boolean, Role::detail, "the target folder was (or would be) created"},
             {"messages", "Messages", Kind::integer, Role::value, "messages in the source folder"},
             {"excluded", "Excluded", Kind::integer, Role::value, "left out by --since/--before/--max-size/\\Deleted"},
             {"present", "Present", Kind::integer, Role::value, "already on the target"},
             {"to_copy", "To copy", Kind::integer, Role::value, "messages the target lacked"},
             {"bytes_to_copy", "Bytes to copy", Kind::bytes, Role::value},
             {"copied", "Copied", Kind::integer, Role::value},
             {"bytes_copied", "Bytes copied", Kind::bytes, Role::value},
             {"failed", "Failed", Kind::integer, Role::value, "rejected by the target"},
             {"missing", "Missing", Kind::integer, Role::value, "selected source messages not on the target at the end"},
             {"status", "Status", Kind::text, Role::detail, "planned, ok, incomplete, failed; missing: a row naming one missing message"},
             {"error", "Error", Kind::text, Role::detail},
             {"normalised", "Normalised", Kind::integer, Role::value,
              "copies present whose bytes the target's server changed on APPEND"},
             {"normalised_how", "How", Kind::text, Role::detail, "how the server changed them, with counts"},
             {"extra", "Extra", Kind::integer, Role::value, "second copies made by this run or the one it resumed"},
             {"uid", "UID", Kind::integer, Role::detail, "missing rows: the source message's UID"},
             {"message_id", "Message-ID", Kind::text, Role::detail, "missing rows"},
             {"date", "Date", Kind::text, Role::detail, "missing rows: the Date header"},
             {"subject", "Subject", Kind::text, Role::detail, "missing rows"}}};
}

} // namespace

std::vector<Pair> pairs_of(mbx::cli::Context& ctx) {
    const std::string from = arg(ctx, "from"), to = arg(ctx, "to"), file = arg(ctx, "users-file");
    if (!file.empty()) {
        if (!from.empty() || !to.empty())
            throw Error(ErrorCategory::usage, "--users-file cannot be combined with --from/--to",
                        "put every pair in the file, one 'from,to' per line");
        std::vector<Pair> pairs;
        for (auto& p : mbx::ops::read_pairs_file(file, "--users-file", "alice@old,alice"))
            pairs.push_back({std::move(p.first), std::move(p.second)});
        return pairs;
    }
    if (from.empty() || to.empty())
        throw Error(ErrorCategory::usage, from.empty() ? "missing --from" : "missing --to",
                    "e.g. mbx merge --from alice --to alice2 (or --users-file FILE)");
    if (args(ctx).count("parallel"))
        throw Error(ErrorCategory::usage, "--parallel applies to --users-file only");
    return {{from, to}};
}

merge::Options options_of(mbx::cli::Context& ctx) {
    merge::Options o;
    o.folders.include = list_arg(ctx, "include");
    o.folders.exclude = list_arg(ctx, "exclude");
    for (const auto& m : list_arg(ctx, "map")) o.folders.map.push_back(merge::parse_map(m));
    if (const auto mode = arg(ctx, "mode"); !mode.empty()) {
        if (mode == "always") o.mode = merge::Mode::always;
        else if (mode != "missing")
            throw Error(ErrorCategory::usage, fmt::format("invalid --mode '{}'", mbx::out::printable(mode)),
                        "use missing (default) or always");
    }
    if (const auto d = arg(ctx, "since"); !d.empty()) o.filter.since = parse_date(d, "since");
    if (const auto d = arg(ctx, "before"); !d.empty()) o.filter.before = parse_date(d, "before");
    if (const auto s = arg(ctx, "max-size"); !s.empty())
        o.filter.max_size = static_cast<std::uint64_t>(mbx::config::parse_size(s, "--max-size"));
    o.filter.include_deleted = args(ctx).count("include-deleted") > 0;
    if (args(ctx).count("max-messages-per-second")) {
        o.max_messages_per_second = args(ctx)["max-messages-per-second"].as<double>();
        if (!(o.max_messages_per_second > 0))
            throw Error(ErrorCategory::usage, "--max-messages-per-second must be above 0");
    }
    if (const auto s = arg(ctx, "max-bytes-per-second"); !s.empty())
        o.max_bytes_per_second = static_cast<std::uint64_t>(mbx::config::parse_size(s, "--max-bytes-per-second"));
    if (args(ctx).count("errors-max")) o.errors_max = args(ctx)["errors-max"].as<unsigned>();
    o.verify = args(ctx).count("no-verify") == 0;
    o.force = args(ctx).count("force") > 0;
    o.dry_run = ctx.dry_run();
    o.retries = 5;
    return o;
}

ExitCode merge_all(mbx::cli::Context& ctx, const std::vector<Pair>& pairs, const merge::Options& options) {
    const unsigned parallel = args(ctx).count("parallel") ? args(ctx)["parallel"].as<unsigned>() : 1u;
    // The journal keeps each pair's run as if it had been run alone: --users-file FILE and
    // --parallel N become --from/--to, every other option stays.
    auto argv_of = [&](const Pair& p) {
        if (pairs.size() == 1 && !args(ctx).count("users-file")) return ctx.argv();
        return mbx::ops::subject_argv(ctx.argv(), {"--users-file", "-F", "--parallel"}, {"--from", p.from, "--to", p.to});
    };
    std::vector<Prepared> prepared;
    for (const auto& p : pairs) prepared.push_back(prepare(ctx, p, options));
    const std::string resume = arg(ctx, "resume");
    std::vector<std::optional<merge::Result>> results(pairs.size());
    const auto ends = mbx::ops::run_batch(ctx.session(), pairs.size(), parallel, [&](mbx::ops::SubjectContext& s) {
        const Prepared& p = prepared[s.index];
        if (p.error) throw *p.error;
        results[s.index] =
            merge::run_journaled(*p.request, *s.session.journal, resume, argv_of(p.pair), s.session.progress);
        return results[s.index]->exit;
    });
    std::vector<PairOutcome> outcomes;
    for (std::size_t i = 0; i < pairs.size(); ++i)
        outcomes.push_back({pairs[i], std::move(results[i]), ends[i].error, ends[i].exit});

    auto sink = ctx.sink();
    sink->begin(report_spec());
    ExitCode worst = ExitCode::ok;
    std::uint64_t folders = 0, messages = 0, to_copy = 0, bytes_to_copy = 0, copied = 0, bytes = 0, failed = 0,
                  missing = 0, pairs_ok = 0, flags_fixed = 0, normalised = 0, extra = 0;
    std::map<std::string, std::uint64_t> how;
    double seconds = 0;
    bool verified_all = true; // every folder has a verification count
    for (const auto& o : outcomes) {
        worst = mbx::combine_exit_codes(worst, o.exit);
        if (o.exit == ExitCode::ok) ++pairs_ok;
        if (o.error) {
            verified_all = false;
            std::cerr << "mbx merge: " << o.pair.from << " -> " << o.pair.to << ": "
                      << mbx::out::printable(o.error->one_line()) << '\n';
            sink->row(std::vector<Cell>{o.pair.from, o.pair.to, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
                                        std::string("failed"), std::string(o.error->what()), {}, {}, {}, {}, {}, {}, {}});
            continue;
        }
        const auto& r = *o.result;
        seconds = std::max(seconds, r.seconds);
        if (r.stopped)
            std::cerr << "mbx merge: " << o.pair.from << " -> " << o.pair.to << ": "
                      << mbx::out::printable(r.stopped->one_line()) << '\n';
        for (const auto& rej : r.rejected)
            ctx.warn(fmt::format("{} -> {}: {} UID {} {} was not copied: {}", o.pair.from, o.pair.to, rej.folder, rej.uid,
                                 rej.message_id.empty() ? "(no Message-ID)" : rej.message_id, rej.reason));
        for (const auto& f : r.folders) {
            ++folders;
            messages += f.messages;
            to_copy += f.to_copy;
            bytes_to_copy += f.bytes_to_copy;
            copied += f.copied;
            bytes += f.bytes_copied;
            failed += f.failed;
            flags_fixed += f.flags_fixed;
            missing += f.missing.value_or(0);
            const Cell miss = optional_count(f.missing);
            const Cell error = optional_text(f.status == "failed" && r.stopped ? r.stopped->what() : nullptr);
            auto n = [](std::uint64_t v) { return Cell(static_cast<std::int64_t>(v)); };
            if (!f.missing) verified_all = false;
            normalised += f.normalised.value_or(0);
            extra += f.extra.value_or(0);
            for (const auto& [kind, count] : f.normalised_how) how[kind] += count;
            sink->row(std::vector<Cell>{o.pair.from, o.pair.to, f.plan.source, f.plan.target, f.created,
                                        n(f.messages), n(f.excluded), n(f.present), n(f.to_copy), n(f.bytes_to_copy),
                                        n(f.copied), n(f.bytes_copied), n(f.failed), miss, f.status, error,
                                        optional_count(f.normalised), counts_text(f.normalised_how),
                                        optional_count(f.extra), {}, {}, {}, {}});
        }
        for (const auto& m : r.missing_messages) {
            auto p = [](const std::string& v) { return Cell(mbx::out::printable(v)); };
            sink->row(std::vector<Cell>{o.pair.from, o.pair.to, m.folder, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
                                        std::string("missing"), {}, {}, {}, {}, Cell(static_cast<std::int64_t>(m.uid)),
                                        p(m.message_id), p(m.date), p(m.subject)});
        }
    }
    std::string text;
    if (options.dry_run)
        text = fmt::format("dry run: {} messages ({}) to copy in {} folders; nothing written", to_copy,
                           mbx::out::human_bytes(static_cast<std::int64_t>(bytes_to_copy)), folders);
    else
        text = fmt::format("{} of {} messages copied ({}) in {:.1f}s; {} failed, {}; {} of {} pairs verified complete",
                           copied, to_copy, mbx::out::human_bytes(static_cast<std::int64_t>(bytes)), seconds, failed,
                           verified_all ? fmt::format("{} missing", missing) : std::string("not all verified"),
                           pairs_ok, outcomes.size());
    if (flags_fixed > 0)
        text += fmt::format("; flags of {} copies from the interrupted run set again as on the source", flags_fixed);
    if (extra > 0)
        text += fmt::format("; {} second copies on the target (a server stored an interrupted run's messages after "
                            "this run looked; none removed)",
                            extra);
    if (normalised > 0)
        text += fmt::format("; {} copies present though the target's server changed their bytes ({})", normalised,
                            counts_text(how));
    auto i = [](std::uint64_t v) { return Cell(static_cast<std::int64_t>(v)); };
    sink->finish({worst,
                  text,
                  {{"pairs", i(outcomes.size())},
                   {"pairs_ok", i(pairs_ok)},
                   {"folders", i(folders)},
                   {"messages", i(messages)},
                   {"to_copy", i(to_copy)},
                   {"bytes_to_copy", i(bytes_to_copy)},
                   {"copied", i(copied)},
                   {"bytes_copied", i(bytes)},
                   {"failed", i(failed)},
                   {"flags_fixed", i(flags_fixed)},
                   {"missing", verified_all ? i(missing) : Cell()},
                   {"normalised", verified_all ? i(normalised) : Cell()},
                   {"normalised_how", Cell(counts_text(how))},
                   {"extra", verified_all ? i(extra) : Cell()},
                   {"seconds", Cell(seconds)},
                   {"dry_run", Cell(options.dry_run)}}});
    return worst;
}

} // namespace mbx_merge
