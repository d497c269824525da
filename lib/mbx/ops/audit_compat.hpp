#pragma once
// `mbx audit compat`: which devices keep syncing when a server keeps only some ActiveSync
// versions. Gathers the target's versions (a named service, a list, or a live server's
// OPTIONS), judges every device with the pure mbx::audit::judge, and journals the verdicts.
#include "mbx/audit/compat.hpp"
#include "mbx/core/error.hpp"
#include "mbx/ops/audit_devices.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/ops/secrets.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mbx::config {
class Config;
}
namespace mbx::ops::audit {

using mbx::audit::basis_name;
using mbx::audit::Judgement;
using mbx::audit::TargetInfo;
using mbx::audit::Verdict;
using mbx::audit::verdict_name;

/// Where the target's versions come from: exactly one of the three.
struct CompatTargetRequest {
    std::optional<std::string> name = {};     ///< --target: a service known by name
    std::optional<std::string> versions = {}; ///< --target-versions: a comma list
    std::optional<std::string> server = {};   ///< --server: a URL whose OPTIONS announce them
    std::optional<std::string> user = {};     ///< for --server: the account ([activesync] user)
};

struct CompatTarget {
    TargetInfo info = {};
    std::string source = {}; ///< for people: "exchange-online: ...", "--target-versions", the URL
};

/// The versions the target keeps. Throws Error(usage) unless exactly one source is given, or
/// for a bad list or unknown name; for --server what audit_server reports (unavailable, auth)
/// and Error(data) when it announces no version. Network for --server only.
CompatTarget compat_target(const config::Config& cfg, const SecretProvider& secrets, const CompatTargetRequest& req);

/// The exit code a verdict stands for: ok 0, at-risk and unknown 1 (warning), breaks 2. Pure.
ExitCode exit_of(Verdict v);

/// One judged device.
struct CompatRow {
    DeviceRow device;
    Judgement judgement;
};

struct CompatReport {
    std::vector<CompatRow> rows = {};
    std::map<Verdict, std::int64_t> totals = {};
    std::map<std::string, std::map<Verdict, std::int64_t>> by_client = {}; ///< client_name -> counts
    ExitCode worst = ExitCode::ok;
};

/// Judges every device of `loaded` against `target` with `capabilities`. Pure.
CompatReport judge_devices(const Loaded& loaded, const TargetInfo& target,
                           const std::vector<mbx::audit::Capability>& capabilities);

/// One `audit.compat` action per device (subject USER/DEVICE, after: verdict, basis,
/// best_common, target), in one batch. Writes the journal.
void journal_compat(journal::Journal& journal, std::int64_t run, const CompatReport& report, const TargetInfo& target);

} // namespace mbx::ops::audit
