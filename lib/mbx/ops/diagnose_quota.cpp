// mbx diagnose: the quota check. Gathering (the usage, as `mbx quota check` reads it) in the
// Diagnosis; the judge over the facts (diagnose_judge.hpp) below it.
#include "mbx/ops/diagnose_impl.hpp"

#include <fmt/format.h>

namespace mbx::ops::diagnose {

using detail::p;

Finding judge_quota(const QuotaFacts& facts) {
    if (facts.user_missing || !facts.configured)
        return {.area = "quota",
                .check = "usage",
                .status = Status::skipped,
                .detail = facts.user_missing ? "no such user" : "no [imap] uri configured"};
    const std::string uid = p(facts.uid);
    if (facts.error)
        return {.area = "quota",
                .check = "usage",
                .status = Status::warning,
                .detail = "cannot read the usage: " + facts.error->one_line(),
                .remedy = "`mbx quota check " + uid + "`"};
    const QuotaRow& row = facts.row;
    const std::string usage = row.limit_bytes && row.used_bytes
                                  ? fmt::format("{} of {} ({:.0f}%, from {})", out::human_bytes(*row.used_bytes),
                                                out::human_bytes(*row.limit_bytes), row.percent.value_or(0), row.source)
                              : row.used_bytes ? fmt::format("{} used, no limit", out::human_bytes(*row.used_bytes))
                                               : "no usage";
    switch (row.tier) {
    case Tier::ok:
    case Tier::no_limit:
        return {.area = "quota",
                .check = "usage",
                .status = Status::ok,
                .detail = fmt::format("{}: {}", usage, tier_name(row.tier))};
    case Tier::unknown:
        return {.area = "quota",
                .check = "usage",
                .status = Status::warning,
                .detail = "usage unknown: " + row.error,
                .remedy = "`mbx quota check " + uid + "`"};
    default: break;
    }
    const std::int64_t used = row.used_bytes.value_or(0), limit = row.limit_bytes.value_or(0);
    const double warning = facts.thresholds.warning;
    const std::int64_t need = bytes_to_free(used, limit, warning);
    const std::string w = fmt::format("{:g}", warning);
    return {.area = "quota",
            .check = "usage",
            .status = row.tier == Tier::warning ? Status::warning : Status::failed,
            .mis = "MIS_9",
            .detail = fmt::format("{}: {} tier; {} to free to get under the {}% warning tier", usage,
                                  tier_name(row.tier), out::human_bytes(need), w),
            .remedy = fmt::format("free space: `mbx quota cleanup {} --folder '\\Trash,\\Junk' --older-than 30d "
                                  "--until-below {}` (archived, undoable), or raise the limit: `mbx quota raise {} "
                                  "--to {}M`",
                                  uid, w, uid, limit_for(used, warning) >> 20)};
}

} // namespace mbx::ops::diagnose

namespace mbx::ops::diagnose::detail {

void Diagnosis::quota() {
    step("quota");
    QuotaFacts facts{.configured = cfg_.has("imap.uri"), .user_missing = user_missing_, .uid = uid()};
    if (!facts.user_missing && facts.configured) {
        facts.row.user = uid();
        UserInfo info{.uid = uid()};
        facts.thresholds = thresholds_from_config(cfg_);
        try {
            if (entry_) info = user_info(*entry_, cfg_);
            facts.thresholds = thresholds_for(info, facts.thresholds);
            read_imap_usage(cfg_, secrets_, info, facts.thresholds, facts.row);
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::config) throw;
            facts.error = e;
        }
    }
    add(judge_quota(facts));
}

} // namespace mbx::ops::diagnose::detail
