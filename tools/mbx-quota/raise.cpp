// mbx quota raise USER --to SIZE | --by SIZE: a new limit in the directory (docs/commands/quota-raise.md).
#include "subcommands.hpp"

#include "mbx/ops/quota_raise.hpp"

#include <fmt/format.h>

namespace mbx_quota {

using mbx::out::Cell;
using mbx::out::Kind;
using mbx::out::Role;

namespace {

mbx::ops::RaiseRequest request_of(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    const auto users = ctx.users(operands).users;
    if (users.size() != 1)
        throw mbx::Error(mbx::ErrorCategory::usage, "'mbx quota raise' takes exactly one USER",
                         "e.g. mbx quota raise alice --by 1G");
    const auto& a = ctx.args();
    if (ctx.format() != mbx::out::Format::table && ctx.format() != mbx::out::Format::csv &&
        ctx.format() != mbx::out::Format::json)
        throw mbx::Error(mbx::ErrorCategory::usage, "'mbx quota raise' writes table, csv or json only");
    if (a.count("to") && a.count("by"))
        throw mbx::Error(mbx::ErrorCategory::usage, "--to and --by cannot be used together",
                         "--to sets the new limit, --by adds to the current one");
    mbx::ops::RaiseRequest req{.user = users.front()};
    if (a.count("to")) req.to = mbx::config::parse_size(a["to"].as<std::string>(), "--to");
    if (a.count("by")) req.by = mbx::config::parse_size(a["by"].as<std::string>(), "--by");
    return req;
}

std::string summary_text(const mbx::ops::RaiseRow& r) {
    const std::string from = r.old_bytes ? mbx::out::human_bytes(*r.old_bytes) : std::string("no limit");
    const std::string to = mbx::out::human_bytes(r.new_bytes);
    using mbx::ops::RaiseResult;
    if (r.result == RaiseResult::unchanged) return fmt::format("the limit of '{}' is already {}", r.user, to);
    if (planned_only(r.result))
        return fmt::format("dry run: would {} the limit of '{}' from {} to {}",
                           r.result == RaiseResult::would_lower ? "lower" : "raise", r.user, from, to);
    std::string text = fmt::format("{} the limit of '{}'{} from {} to {}", mbx::ops::raise_result_name(r.result),
                                   r.user, r.where == "server" ? " on the IMAP server" : "", from, to);
    if (r.verified == "match") text += "; the IMAP server reports the new limit";
    else if (r.verified == "no-quota") text += "; the IMAP server has no QUOTA to confirm it";
    else text += "; not confirmed by the IMAP server";
    return text;
}

} // namespace

mbx::ExitCode raise(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    const auto req = request_of(ctx, operands);
    const auto r = mbx::ops::raise_quota(ctx.session(), req);

    auto sink = ctx.sink();
    sink->begin({"quota_raise",
                 {{"user", "User", Kind::text, Role::label},
                  {"dn", "DN", Kind::text, Role::detail},
                  {"attribute", "Attribute", Kind::text, Role::detail},
                  {"old_value", "Old value", Kind::text, Role::detail},
                  {"old_bytes", "Old limit", Kind::bytes, Role::value, "limit before the change in bytes"},
                  {"new_value", "New value", Kind::text, Role::detail},
                  {"new_bytes", "New limit", Kind::bytes, Role::value, "limit after the change in bytes"},
                  {"server_limit_bytes", "Server limit", Kind::bytes, Role::value,
                   "STORAGE limit the IMAP server reports after the change"},
                  {"used_bytes", "Used", Kind::bytes, Role::value, "STORAGE usage the IMAP server reports"},
                  {"verified", "Verified", Kind::text, Role::detail},
                  {"result", "Result", Kind::text, Role::detail},
                  {"status", "Status", Kind::text, Role::status},
                  {"detail", "Detail", Kind::text, Role::detail},
                  // added in issue 22, at the end: CSV columns keep their positions
                  {"where", "Where", Kind::text, Role::detail},
                  {"mailbox", "Mailbox", Kind::text, Role::detail},
                  {"quota_root", "Quota root", Kind::text, Role::detail}}});
    const Cell old_value = r.old_values.empty() ? Cell() : Cell(r.old_values.front());
    sink->row(std::vector<Cell>{
        r.user, r.dn, r.attribute, old_value, cell(r.old_bytes), r.new_value, r.new_bytes, cell(r.server_limit_bytes),
        cell(r.used_bytes), r.verified, std::string(mbx::ops::raise_result_name(r.result)),
        std::string(mbx::out::status_word(r.status)), r.detail, r.where, r.mailbox, r.quota_root});
    const bool changed = r.result == mbx::ops::RaiseResult::raised || r.result == mbx::ops::RaiseResult::lowered;
    sink->finish({r.status,
                  summary_text(r),
                  {{"user", r.user},
                   {"where", r.where},
                   {"changed", changed},
                   {"dry_run", ctx.dry_run()},
                   {"verified", r.verified}}});
    return r.status;
}

} // namespace mbx_quota
