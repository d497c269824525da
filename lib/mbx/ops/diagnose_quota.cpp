// mbx diagnose: the quota checks.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose::detail {

void Diagnosis::quota() {
    step("quota");
    if (user_missing_ || !cfg_.has("imap.uri")) {
        add({.area = "quota", .check = "usage", .status = Status::skipped,
             .detail = user_missing_ ? "no such user" : "no [imap] uri configured"});
        return;
    }
    QuotaRow row;
    row.user = uid();
    UserInfo info{.uid = uid()};
    Thresholds t = thresholds_from_config(cfg_);
    try {
        if (entry_) info = user_info(*entry_, cfg_);
        t = thresholds_for(info, t);
        read_imap_usage(cfg_, secrets_, info, t, row);
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::config) throw;
        add({.area = "quota", .check = "usage", .status = Status::warning,
             .detail = "cannot read the usage: " + e.one_line(), .remedy = "`mbx quota check " + p(uid()) + "`"});
        return;
    }
    const std::string usage =
        row.limit_bytes && row.used_bytes
            ? fmt::format("{} of {} ({:.0f}%, from {})", out::human_bytes(*row.used_bytes),
                          out::human_bytes(*row.limit_bytes), row.percent.value_or(0), row.source)
            : row.used_bytes ? fmt::format("{} used, no limit", out::human_bytes(*row.used_bytes)) : "no usage";
    switch (row.tier) {
    case Tier::ok:
    case Tier::no_limit:
        add({.area = "quota", .check = "usage", .status = Status::ok,
             .detail = fmt::format("{}: {}", usage, tier_name(row.tier))});
        return;
    case Tier::unknown:
        add({.area = "quota", .check = "usage", .status = Status::warning,
             .detail = "usage unknown: " + row.error, .remedy = "`mbx quota check " + p(uid()) + "`"});
        return;
    default:
        break;
    }
    const std::int64_t used = *row.used_bytes, limit = *row.limit_bytes;
    const std::int64_t need = bytes_to_free(used, limit, t.warning);
    const std::string w = fmt::format("{:g}", t.warning);
    add({.area = "quota", .check = "usage",
         .status = row.tier == Tier::warning ? Status::warning : Status::failed, .mis = "MIS_9",
         .detail = fmt::format("{}: {} tier; {} to free to get under the {}% warning tier", usage,
                               tier_name(row.tier), out::human_bytes(need), w),
         .remedy = fmt::format("free space: `mbx quota cleanup {} --folder '\\Trash,\\Junk' --older-than 30d "
                               "--until-below {}` (archived, undoable), or raise the limit: `mbx quota raise {} "
                               "--to {}M`",
                               p(uid()), w, p(uid()), limit_for(used, t.warning) >> 20)});
}

} // namespace mbx::ops::diagnose::detail
