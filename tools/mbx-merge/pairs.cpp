#include "pairs.hpp"

#include "mbx/core/config.hpp"
#include "mbx/core/text.hpp"
#include "mbx/ops/users.hpp"

#include <fmt/format.h>
#include <iostream>

namespace mbx_merge {

using namespace mbx::cli::names;
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

Cell optional_count(const std::optional<std::uint64_t>& v) {
    if (!v) return Cell();
    return Cell(static_cast<std::int64_t>(*v));
}

mbx::out::ReportSpec report_spec() {
    return {
        "merge",
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
         {"status", "Status", Kind::text, Role::detail,
          "planned, ok, incomplete, failed; missing: a row naming one missing message; skipped: a folder of "
          "another user or shared, left out without --include-shared"},
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

std::optional<std::filesystem::path> path_arg(mbx::cli::Context& ctx, const char* name) {
    if (const auto f = arg(ctx, name); !f.empty()) return f;
    return std::nullopt;
}

void folder_rows(mbx::out::Sink& sink, const merge::PairOutcome& o) {
    const auto& r = *o.result;
    auto n = [](std::uint64_t v) { return Cell(static_cast<std::int64_t>(v)); };
    for (const auto& f : r.folders) {
        // The folder's own error; a folder the run never reached says why the run stopped.
        const Cell error = !f.error.empty() ? Cell(mbx::out::printable(f.error))
                           : f.status == merge::FolderStatus::failed && r.stopped
                               ? Cell("not reached: " + mbx::out::printable(r.stopped->one_line()))
                               : Cell();
        sink.row(std::vector<Cell>{o.pair.from,
                                   o.pair.to,
                                   f.plan.source,
                                   f.plan.target,
                                   f.created,
                                   n(f.messages),
                                   n(f.excluded),
                                   n(f.present),
                                   n(f.to_copy),
                                   n(f.bytes_to_copy),
                                   n(f.copied),
                                   n(f.bytes_copied),
                                   n(f.failed),
                                   optional_count(f.missing),
                                   std::string(merge::folder_status_name(f.status)),
                                   error,
                                   optional_count(f.normalised),
                                   merge::counts_text(f.normalised_how),
                                   optional_count(f.extra),
                                   {},
                                   {},
                                   {},
                                   {}});
    }
    for (const auto& f : r.foreign) {
        std::vector<Cell> row(23);
        row[0] = o.pair.from;
        row[1] = o.pair.to;
        row[2] = mbx::out::printable(f.name);
        row[14] = std::string("skipped");
        row[15] =
            fmt::format("in the {} namespace: merged only with --include-shared", merge::namespace_kind_name(f.kind));
        sink.row(std::move(row));
    }
    for (const auto& m : r.missing_messages) {
        auto p = [](const std::string& v) { return Cell(mbx::out::printable(v)); };
        sink.row(std::vector<Cell>{o.pair.from, o.pair.to,   m.folder,
                                   {},          {},          {},
                                   {},          {},          {},
                                   {},          {},          {},
                                   {},          {},          std::string("missing"),
                                   {},          {},          {},
                                   {},          n(m.uid),    p(m.message_id),
                                   p(m.date),   p(m.subject)});
    }
}

void pair_rows(mbx::cli::Context& ctx, mbx::out::Sink& sink, const merge::PairOutcome& o) {
    const std::string pair = o.pair.from + " -> " + o.pair.to;
    if (o.error) {
        std::cerr << "mbx merge: " << pair << ": " << mbx::out::printable(o.error->one_line()) << '\n';
        sink.row(std::vector<Cell>{o.pair.from,
                                   o.pair.to,
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   std::string("failed"),
                                   std::string(o.error->what()),
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {},
                                   {}});
        return;
    }
    if (o.result->stopped)
        std::cerr << "mbx merge: " << pair << ": " << mbx::out::printable(o.result->stopped->one_line()) << '\n';
    for (const auto& rej : o.result->rejected)
        ctx.warn(fmt::format("{}: {} UID {} {} was not copied: {}", pair, rej.folder, rej.uid,
                             rej.message_id.empty() ? "(no Message-ID)" : rej.message_id, rej.reason));
    folder_rows(sink, o);
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
    if (args(ctx).count("parallel")) throw Error(ErrorCategory::usage, "--parallel applies to --users-file only");
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
    o.folders.include_shared = args(ctx).count("include-shared") > 0;
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
    o.retries = 5;
    return o;
}

ExitCode merge_all(mbx::cli::Context& ctx, const std::vector<Pair>& pairs, const merge::Options& options) {
    const auto outcomes = merge::run_pairs(
        ctx.session(), {.pairs = pairs,
                        .options = options,
                        .from_password_file = path_arg(ctx, "from-password-file"),
                        .to_password_file = path_arg(ctx, "to-password-file"),
                        .resume = arg(ctx, "resume"),
                        .parallel = args(ctx).count("parallel") ? args(ctx)["parallel"].as<unsigned>() : 1u,
                        .argv = ctx.argv(),
                        .alone = pairs.size() == 1 && !args(ctx).count("users-file")});
    auto sink = ctx.sink();
    sink->begin(report_spec());
    for (const auto& o : outcomes) pair_rows(ctx, *sink, o);
    const merge::Totals t = merge::totals_of(outcomes);
    auto i = [](std::uint64_t v) { return Cell(static_cast<std::int64_t>(v)); };
    sink->finish({t.worst,
                  merge::summary_of(t, ctx.dry_run()),
                  {{"pairs", i(t.pairs)},
                   {"pairs_ok", i(t.pairs_ok)},
                   {"folders", i(t.folders)},
                   {"messages", i(t.messages)},
                   {"to_copy", i(t.to_copy)},
                   {"bytes_to_copy", i(t.bytes_to_copy)},
                   {"copied", i(t.copied)},
                   {"bytes_copied", i(t.bytes_copied)},
                   {"failed", i(t.failed)},
                   {"flags_fixed", i(t.flags_fixed)},
                   {"missing", t.verified_all ? i(t.missing) : Cell()},
                   {"normalised", t.verified_all ? i(t.normalised) : Cell()},
                   {"normalised_how", Cell(merge::counts_text(t.normalised_how))},
                   {"extra", t.verified_all ? i(t.extra) : Cell()},
                   {"seconds", Cell(t.seconds)},
                   {"dry_run", Cell(ctx.dry_run())}}});
    return t.worst;
}

} // namespace mbx_merge
