#include "devices.hpp"

namespace mbx_audit {

using mbx::Error;
using mbx::ErrorCategory;

mbx::ops::audit::LogSource log_source(mbx::cli::Context& ctx) {
    const auto& a = ctx.args();
    mbx::ops::audit::LogSource source;
    if (a.count("log"))
        for (const auto& path : a["log"].as<std::vector<std::string>>()) source.logs.emplace_back(path);
    source.format =
        mbx::ops::audit::parse_log_format(a.count("log-format") ? a["log-format"].as<std::string>() : "auto");
    if (a.count("rules")) source.rules = a["rules"].as<std::string>();
    source.on_file = [&ctx](const std::filesystem::path& path) {
        ctx.progress().update("read " + path.string(), 0, 0);
    };
    return source;
}

Loaded load_logs(mbx::cli::Context& ctx) { return mbx::ops::audit::load_logs(log_source(ctx)); }

Loaded load_journal(mbx::cli::Context& ctx) {
    if (auto loaded = mbx::ops::audit::load_journal(ctx.journal())) return std::move(*loaded);
    throw Error(ErrorCategory::data, "the journal has no devices from `mbx audit clients`",
                "run `mbx audit clients --log FILE...` first, or give --log here");
}

} // namespace mbx_audit
