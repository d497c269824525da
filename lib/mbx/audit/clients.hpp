#pragma once
// Client recognition: a user agent (then the device type, then the device id) to a client
// family and version, by a data table. Add a client by adding a ClientRule, in code
// (default_client_rules) or from a rules file (parse_client_rules) placed before the defaults.

#include "mbx/audit/capabilities.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace mbx::audit {

/// Which request value a rule looks at.
enum class MatchField { user_agent, device_type, device_id };

/// How a rule's pattern matches (ASCII case-insensitive).
enum class MatchKind { prefix, contains, equals };

/// How the version (and model) is read out of the matched value.
enum class VersionRule {
    none,           ///< family only
    after_slash,    ///< `Name/1.2.3 (...)` → "1.2.3"
    apple,          ///< `Apple-iPhone8C4/1504.100` → model "iPhone8,4", build 15D100, version 11.2.6
    android_eas,    ///< `Android/4.4.2-EAS-2.0`, `SonyC6603/4.2.2-EAS-2.0` → version 4.2.2, model
    samsung,        ///< `SAMSUNG-SM-G900F/101.40402` → model SM-G900F, version 101.40402
    windows_mobile, ///< `MSFT-PPC/5.2.5082` → version "6.x" (5.1 → 5, 5.2 → 6.x), build 5.2.5082
    pocket_pc,      ///< `Microsoft-PocketPC/3.0` → version "2003" (2.x → 2002)
};

/// One row of the classification table. The first matching row wins.
struct ClientRule {
    MatchField field = MatchField::user_agent;
    MatchKind kind = MatchKind::prefix;
    std::string pattern = {};
    std::string family = {};
    VersionRule version = VersionRule::none;
};

/// What is known about a client.
struct ClientInfo {
    std::string family = {};  ///< "iOS", "Android (Exchange app)", ...; "unknown" when no rule matched
    std::string version = {}; ///< OS version for OS mail apps, app version for others; may be empty
    std::string model = {};   ///< "iPhone8,4", "SM-G900F", when the user agent carries it
    std::string build = {};   ///< the raw build token ("15D100", "5.2.5082")
    MatchField matched_on = MatchField::user_agent; ///< meaningful when family is not "unknown"
};

/// The built-in table: iOS, Android (AOSP Exchange, Gmail, Samsung Email), Nine, TouchDown,
/// Windows Mobile / Pocket PC / Windows Phone, Windows Mail, Outlook, BlackBerry, Nokia; then
/// device type and device id fallbacks. Pure.
const std::vector<ClientRule>& default_client_rules();

/// What a rules file holds: client recognition rules and capability rows.
struct Rules {
    std::vector<ClientRule> clients = {};
    std::vector<Capability> capabilities = {};
};

/// Rules and capability rows from text, one per line: a `capability` line is parsed by
/// parse_capability(), every other line as for parse_client_rules(). Throws Error(data) naming
/// `source` and the line number for a bad line. Pure.
Rules parse_rules(std::string_view text, std::string_view source);

/// Rules from text, one per line: `FIELD KIND PATTERN VERSION FAMILY...` separated by white
/// space (FAMILY is the rest of the line), e.g. `user-agent prefix Foo/ after_slash Foo Mail`.
/// FIELD: user-agent|device-type|device-id; KIND: prefix|contains|equals; VERSION: none|
/// after_slash|apple|android_eas|samsung|windows_mobile|pocket_pc. `#` starts a comment line.
/// Throws Error(data) naming `source` and the line number for a bad line. Pure.
std::vector<ClientRule> parse_client_rules(std::string_view text, std::string_view source);

/// The iOS version an Apple build stands for ("15D100" → "11.2.6"): exact for the builds in
/// the built-in table, else the major version from the build's number ("15..." → "11"); empty
/// when the build is not of the `<digits><letter><digits>` form. Pure.
std::string ios_version_for_build(std::string_view build);

/// Classifies clients by a table (user agent rules first, then device type, then device id).
class ClientClassifier {
public:
    /// Uses `rules` in order; default_client_rules() when none are given.
    explicit ClientClassifier(std::vector<ClientRule> rules = default_client_rules());

    /// The family and version of a client. Pure; never throws but bad_alloc.
    ClientInfo classify(std::string_view user_agent, std::string_view device_type, std::string_view device_id) const;

private:
    std::vector<ClientRule> rules_;
};

} // namespace mbx::audit
