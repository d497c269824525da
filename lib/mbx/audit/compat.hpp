#pragma once
// Pre-upgrade compatibility (MIS_2): what happens to a device when the server keeps only some
// ActiveSync protocol versions. A client negotiates the highest version it shares with the
// server's OPTIONS list; a device whose versions the target no longer offers stops syncing.

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::audit {

enum class Verdict {
    ok,      ///< the version it uses now stays, and it is the best it has shown it can use
    at_risk, ///< keeps a common version, but not the one it uses now, or uses one below the best common one
    breaks,  ///< no version in common: the device stops syncing (MIS_2)
    unknown, ///< the logs show no version for this device
};

/// "ok", "at-risk", "breaks", "unknown". Pure.
std::string_view verdict_name(Verdict v);

/// What compat says of one device.
struct Judgement {
    Verdict verdict = Verdict::unknown;
    std::string best_common = {}; ///< the highest version both sides have, if any
    std::string reason = {};      ///< one line
    std::string remediation = {}; ///< one line; empty when ok
};

/// True for a protocol version written `digits.digits` ("14.1", "16.10"), at most 16 bytes. Pure.
bool is_version(std::string_view text);

/// Compares two version strings numerically, part by part ("2.5" < "12.0" < "12.1" < "16.0").
/// A non-numeric part compares as text after every number. Pure.
int compare_versions(std::string_view a, std::string_view b);

/// The versions in a comma list ("14.1, 16.0,16.1"), each `digits.digits`, sorted ascending,
/// duplicates removed. Throws Error(usage) naming a bad item, or for an empty list. Pure.
std::vector<std::string> parse_versions(std::string_view list);

/// Judges one device that has used `seen` versions, the newest being `last` (empty: unknown),
/// against the `target` versions (non-empty). `client` names the client for the remediation
/// ("iOS 9.3", "Android (Exchange app) 4.4"). Pure.
Judgement judge(const std::set<std::string>& seen, std::string_view last, const std::vector<std::string>& target,
                std::string_view client);

} // namespace mbx::audit
