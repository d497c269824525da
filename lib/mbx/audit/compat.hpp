#pragma once
// Pre-upgrade compatibility (MIS_2): what happens to a device when the server keeps only some
// ActiveSync protocol versions. A client negotiates the highest version it shares with the
// server's OPTIONS list; a device that speaks none of the target's versions stops syncing. What a
// device speaks comes from the logs and from the client capability table (capabilities.hpp).

#include "mbx/audit/capabilities.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::audit {

enum class Verdict {
    ok,      ///< it keeps syncing with the version it uses now, or negotiates a higher one it is known to speak
    at_risk, ///< it must fall back to another version, uses one below what it could, or may not speak what the target
             ///< keeps
    breaks,  ///< it speaks no version the target keeps: the device stops syncing (MIS_2)
    unknown, ///< no version in the logs and no capability row: nothing to judge
};

/// "ok", "at-risk", "breaks", "unknown". Pure.
std::string_view verdict_name(Verdict v);

/// What decided a verdict.
enum class Basis {
    observed,   ///< the versions the logs show the device using
    capability, ///< the capability row of its client family and version (capabilities.hpp)
    unknown,    ///< neither: the logs do not show it and no row says whether it can
};

/// "observed", "capability", "unknown". Pure.
std::string_view basis_name(Basis b);

/// What compat knows of one device.
struct DeviceVersions {
    std::set<std::string> seen = {}; ///< the versions it was seen using (empty strings ignored)
    std::string last = {};           ///< the version of its newest request; empty: the highest seen
    std::string family = {};         ///< client family and version, for the capability row
    std::string client_version = {};
    std::string client = {}; ///< the client as people say it ("iOS 9.3"), for the texts
};

/// What compat says of one device.
struct Judgement {
    Verdict verdict = Verdict::unknown;
    Basis basis = Basis::unknown;
    std::string best_common = {}; ///< the version it will use with the target (highest both speak), if any
    std::string capability = {};  ///< the capability row used: "iOS 10 and later: speaks 16.1 (source)"
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

/// How the target may change.
struct TargetInfo {
    std::vector<std::string> versions = {}; ///< ascending, non-empty
    bool fixed =
        false; ///< a service whose versions the admin cannot change (Exchange Online): no "keep X on the server" advice
};

/// Judges one device against the versions the target keeps. A client negotiates the highest
/// version both sides speak; what a device speaks comes from the versions it was seen using and
/// from the first row of `capabilities` for its family and version (the logs win over a row
/// they contradict). A version below the highest it speaks counts as spoken (clients negotiate
/// down); one above it is never assumed: such a device is at-risk, not ok. Pure.
Judgement judge(const DeviceVersions& device, const TargetInfo& target,
                const std::vector<Capability>& capabilities = default_capabilities());

} // namespace mbx::audit
