// mbx quota sweep: every selected user of the directory, in parallel, streamed.
#include "subcommands.hpp"

#include "mbx/ops/quota_sweep.hpp"

#include <fmt/format.h>

namespace mbx_quota {

mbx::ExitCode sweep(mbx::cli::Context& ctx, const std::vector<std::string>& operands) {
    if (!operands.empty())
        throw mbx::Error(mbx::ErrorCategory::usage,
                         fmt::format("'mbx quota sweep' takes no user ('{}')", mbx::out::printable(operands.front())),
                         "select users with --filter or --users-file, or use 'mbx quota check USER...'");
    const auto& a = ctx.args();
    mbx::ops::SweepOptions opts;
    if (a.count("filter")) opts.filter = a["filter"].as<std::string>();
    if (a.count("users-file")) opts.users_file = a["users-file"].as<std::string>();
    if (a.count("shard")) opts.shard = mbx::ops::parse_shard(a["shard"].as<std::string>());
    opts.parallel = a.count("parallel") ? a["parallel"].as<unsigned>()
                                        : static_cast<unsigned>(ctx.config().get_number("imap.connections"));
    if (opts.parallel == 0 || opts.parallel > 256)
        throw mbx::Error(mbx::ErrorCategory::usage, fmt::format("invalid --parallel {}", opts.parallel),
                         "use 1 to 256");
    opts.backend = mbx::ops::parse_backend(a.count("backend") ? a["backend"].as<std::string>()
                                                              : ctx.config().get("quota.backend"));
    QuotaReport report(ctx);
    auto& progress = ctx.progress();
    const auto code = mbx::ops::sweep_users(
        ctx.session(), opts, [&](const mbx::ops::QuotaRow& r) { report.row(r); },
        [&](const mbx::ops::SweepProgress& p) {
            progress.update("sweep", p.checked, p.enumerated ? p.found : 0,
                            p.enumerated ? std::string() : fmt::format("{} found so far", p.found));
        });
    progress.finish();
    report.finish(code,
                  {{"backend", std::string(mbx::ops::backend_name(opts.backend))},
                   {"shard", opts.shard ? mbx::out::Cell(fmt::format("{}/{}", opts.shard->index, opts.shard->count))
                                        : mbx::out::Cell()}});
    return code;
}

} // namespace mbx_quota
