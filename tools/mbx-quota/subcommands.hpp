#pragma once
// The subcommands of `mbx quota`, one file each; main.cpp parses and dispatches.
#include "mbx/cli/tool.hpp"
#include "mbx/ops/quota.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mbx_quota {

/// A cell for an optional value: empty (null in JSON) when unset.
template <typename T> mbx::out::Cell cell(const std::optional<T>& v) {
    return v ? mbx::out::Cell(*v) : mbx::out::Cell();
}

/// `mbx quota check USER...`
mbx::ExitCode check(mbx::cli::Context& ctx, const std::vector<std::string>& operands);
/// `mbx quota sweep [--filter F] [--users-file F] [--shard K/N] [--parallel N]`
mbx::ExitCode sweep(mbx::cli::Context& ctx, const std::vector<std::string>& operands);
/// `mbx quota cleanup USER --folder LIST --older-than AGE [--until-below PCT] [--largest-first]`
mbx::ExitCode cleanup(mbx::cli::Context& ctx, const std::vector<std::string>& operands);
/// `mbx quota raise USER --to SIZE | --by SIZE`
mbx::ExitCode raise(mbx::cli::Context& ctx, const std::vector<std::string>& operands);

/// The check/sweep report: one row per mailbox in the same columns for every format, and a
/// tally for the summary line. Used by check and sweep so their output is identical.
class QuotaReport {
public:
    explicit QuotaReport(mbx::cli::Context& ctx);
    void row(const mbx::ops::QuotaRow& r);
    /// Writes the summary ("N of M mailboxes at prohibit-send or above, ...") with `code`.
    void finish(mbx::ExitCode code, const std::vector<std::pair<std::string, mbx::out::Cell>>& extra = {});

private:
    std::unique_ptr<mbx::out::Sink> sink_;
    std::int64_t users_ = 0, ok_ = 0, warning_ = 0, critical_ = 0, unknown_ = 0;
};

} // namespace mbx_quota
