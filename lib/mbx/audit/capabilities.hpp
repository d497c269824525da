#pragma once
// What ActiveSync clients can speak, not only what the logs showed: a table of client family and
// version ranges to the protocol versions a client of that range speaks, each row with its
// public source (docs/commands/audit.md, "Client capabilities"). `mbx audit compat` judges a
// device by what it was seen using and by its row together; a client without a row is never
// judged `ok` by guess. Named targets (`exchange-online`) are here too, with their sources.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::audit {

/// One row: clients of `family` (as ClientClassifier names it, compared ignoring ASCII case)
/// whose client version lies in [from, below) speak up to `speaks` and nothing above `at_most`.
struct Capability {
    std::string family = {};
    std::string from = {};    ///< the lowest client version the row covers; empty: from the first
    std::string below = {};   ///< the first client version it no longer covers; empty: no end
    std::string speaks = {};  ///< the highest protocol version such a client is known to speak; empty: not known
    std::string at_most = {}; ///< it speaks no version above this; empty: not known
    std::string source = {};  ///< where the row comes from, short ("Exchange Team blog, 2025-12-15")
};

/// The built-in rows (docs/commands/audit.md lists them with their sources). Pure.
const std::vector<Capability>& default_capabilities();

/// "iOS 10 and later", "iOS before 9", "Android (Exchange app)", "iOS 9 to before 10". Pure.
std::string capability_label(const Capability& row);

/// The first row of `rows` for this family whose range holds `client_version` (compared part by
/// part, as compare_versions does). A row with a range never matches an empty client version.
/// nullptr when none. Pure.
const Capability* find_capability(const std::vector<Capability>& rows, std::string_view family,
                                  std::string_view client_version);

/// The earliest client version of `family` that some row says speaks `version` or later ("10"
/// for iOS and 16.1), if any. Pure.
std::optional<std::string> first_client_speaking(const std::vector<Capability>& rows, std::string_view family,
                                                 std::string_view version);

/// A target server known by name, for `mbx audit compat --target NAME`.
struct NamedTarget {
    std::string_view name;
    std::string_view versions;    ///< comma list, for parse_versions
    std::string_view description; ///< one line with the date and the source
};

/// The named targets (`exchange-online`: 16.1 only from 2026-03-01). Pure.
const std::vector<NamedTarget>& named_targets();

/// The named target `name` (ASCII case-insensitive). Throws Error(usage) listing the known names
/// otherwise. Pure.
const NamedTarget& find_named_target(std::string_view name);

/// Capability rows from a rules file line after its first word `capability`:
/// `FROM BELOW SPEAKS AT-MOST FAMILY...` (`-` for an empty field; FAMILY is the rest of the line),
/// e.g. `6.2 - 16.1 16.1 Samsung Email`. Throws Error(data) naming `where` for a bad line. Pure.
Capability parse_capability(std::string_view rest, std::string_view where);

} // namespace mbx::audit
