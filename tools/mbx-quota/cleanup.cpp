// mbx quota cleanup USER --folder LIST --older-than AGE [--until-below PCT] [--largest-first]
// (docs/commands/quota-cleanup.md): parse, call ops::cleanup_mailbox, print one row per folder.
#include "mbx/ops/quota_cleanup.hpp"
#include "subcommands.hpp"

#include <fmt/format.h>

namespace mbx_quota {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;

namespace {

std::optional<double> percent_of(const std::optional<std::int64_t>& used, const std::optional<std::int64_t>& limit) {
    if (!used || !limit || *limit <= 0) return std::nullopt;
    return static_cast<double>(*used) * 100.0 / static_cast<double>(*limit);
}

std::string opt_bytes(const std::optional<std::int64_t>& v) { return v ? mbx::out::human_bytes(*v) : "?"; }

std::string opt_percent(const std::optional<double>& v) { return v ? fmt::format(" ({:.1f}%)", *v) : ""; }

std::string required(mbx::cli::Context& ctx, const char* option, std::string_view why) {
    if (!ctx.args().count(option))
        throw mbx::Error(mbx::ErrorCategory::usage, fmt::format("missing --{}: {}", option, why),
                         "e.g. mbx quota cleanup alice --folder Trash,Junk --older-than 30d --dry-run");
    return ctx.args()[option].as<std::string>();
}

mbx::ops::CleanupRequest request_of(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    const auto users = ctx.users(operands).users;
    if (users.size() != 1)
        throw mbx::Error(mbx::ErrorCategory::usage, "'mbx quota cleanup' takes exactly one USER",
                         "e.g. mbx quota cleanup alice --folder Trash --older-than 30d");
    mbx::ops::CleanupRequest req;
    req.user = users.front();
    req.folders = mbx::ops::parse_folder_list(required(ctx, "folder", "which folders to clean"));
    req.older_than = mbx::ops::parse_age(required(ctx, "older-than", "refusing to clean without an age"));
    if (ctx.args().count("until-below"))
        req.until_below = mbx::ops::parse_percent(ctx.args()["until-below"].as<std::string>());
    if (ctx.args().count("largest-first")) req.order = mbx::ops::CleanupOrder::largest_first;
    req.now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    return req;
}

// "; not enough old mail to get below 80%" when --until-below cannot be reached.
std::string short_of(const mbx::ops::CleanupReport& r, std::optional<double> until_below) {
    const auto after = percent_of(r.estimated_after, r.limit);
    if (!until_below || !after || *after < *until_below) return "";
    return fmt::format("; not enough old mail to get below {}%", *until_below);
}

std::string summary_text(const mbx::ops::CleanupReport& r, bool dry_run, std::optional<double> until_below) {
    std::int64_t selected = 0, bytes = 0, removed = 0, removed_bytes = 0;
    for (const auto& f : r.folders) {
        selected += f.selected;
        bytes += f.bytes;
        removed += f.removed;
        removed_bytes += f.removed_bytes;
    }
    const std::string limit = r.limit ? mbx::out::human_bytes(*r.limit) : "no limit";
    if (dry_run)
        return fmt::format(
                   "dry run: {} message{} ({}) would be removed from {}; usage {}{} of {}, estimated after {}{}",
                   selected, selected == 1 ? "" : "s", mbx::out::human_bytes(bytes), r.user, opt_bytes(r.usage_before),
                   opt_percent(percent_of(r.usage_before, r.limit)), limit, opt_bytes(r.estimated_after),
                   opt_percent(percent_of(r.estimated_after, r.limit))) +
               short_of(r, until_below);
    std::string text = fmt::format("{}removed {} of {} message{} ({}) from {}",
                                   r.code == mbx::ExitCode::interrupted ? "interrupted: " : "", removed, selected,
                                   selected == 1 ? "" : "s", mbx::out::human_bytes(removed_bytes), r.user);
    if (!r.archive.empty()) text += fmt::format(", archived in {}", r.archive);
    return text + fmt::format("; usage {}{} -> {}{} of {}", opt_bytes(r.usage_before),
                              opt_percent(percent_of(r.usage_before, r.limit)), opt_bytes(r.usage_after),
                              opt_percent(percent_of(r.usage_after, r.limit)), limit);
}

} // namespace

mbx::ExitCode cleanup(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    const auto req = request_of(ctx, operands);
    const auto report = mbx::ops::cleanup_mailbox(ctx.session(), req);
    ctx.progress().finish();

    auto sink = ctx.sink();
    sink->begin({"quota_cleanup",
                 {{"user", "User", Kind::text, Role::label},
                  {"folder", "Folder", Kind::text, Role::label},
                  {"matched", "Matched", Kind::integer, Role::value, "undeleted messages older than the cutoff"},
                  {"selected", "Selected", Kind::integer, Role::value, "messages the plan removes"},
                  {"bytes", "Bytes", Kind::bytes, Role::value, "size of the selected messages"},
                  {"removed", "Removed", Kind::integer, Role::value, "messages archived and expunged"},
                  {"result", "Result", Kind::text, Role::detail},
                  {"error", "Error", Kind::text, Role::detail}}});
    std::int64_t matched = 0, selected = 0, bytes = 0, removed = 0, removed_bytes = 0;
    for (const auto& f : report.folders) {
        matched += f.matched;
        selected += f.selected;
        bytes += f.bytes;
        removed += f.removed;
        removed_bytes += f.removed_bytes;
        sink->row(std::vector<Cell>{report.user, f.folder, f.matched, f.selected, f.bytes, f.removed,
                                    std::string(mbx::ops::folder_outcome_name(f.result)), f.error});
    }
    sink->finish({report.code,
                  summary_text(report, ctx.dry_run(), req.until_below),
                  {{"user", report.user},
                   {"dry_run", ctx.dry_run()},
                   {"cutoff", report.cutoff},
                   {"matched", matched},
                   {"selected", selected},
                   {"bytes_to_free", bytes},
                   {"removed", removed},
                   {"removed_bytes", removed_bytes},
                   {"usage_before_bytes", cell(report.usage_before)},
                   {"estimated_after_bytes", cell(report.estimated_after)},
                   {"usage_after_bytes", cell(report.usage_after)},
                   {"limit_bytes", cell(report.limit)},
                   {"percent_before", cell(percent_of(report.usage_before, report.limit))},
                   {"estimated_percent_after", cell(percent_of(report.estimated_after, report.limit))},
                   {"percent_after", cell(percent_of(report.usage_after, report.limit))},
                   {"archive", report.archive}}});
    return report.code;
}

} // namespace mbx_quota
