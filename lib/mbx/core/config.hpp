#pragma once
// Configuration: one table of settings, read from an INI file, the environment and flags.
// Flags win, then environment (MBX_SECTION_KEY), then the file; everything is validated
// against the table, so an unknown key is an error that names the key and its file line.

#include "mbx/core/error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::config {

/// One setting: `[section] key` in the file, `--section-key` as a flag,
/// `MBX_SECTION_KEY` in the environment (dashes become underscores).
struct SettingDef {
    std::string_view section;
    std::string_view key;
    std::string_view default_value; ///< empty: no default
    std::string_view help;
};

/// Every setting mbxkit knows, in documentation order (docs/configuration.md mirrors it).
std::span<const SettingDef> all_settings();

/// Environment variables mbxkit reads that are not settings: MBX_CONFIG and the secrets
/// (MBX_LDAP_PASSWORD, MBX_IMAP_MASTER_PASSWORD, ...).
std::span<const std::string_view> reserved_environment();

/// Where a value came from, for error messages: "flag --ldap-uri",
/// "environment MBX_LDAP_URI", "/etc/mbxkit/mbxkit.conf:12", "default".
struct Origin {
    enum class Kind { default_value, file, environment, flag } kind = Kind::default_value;
    std::string where;
};

/// One line of an INI file: `section.key = value` at `line`.
struct IniEntry {
    std::string section;
    std::string key;
    std::string value;
    int line = 0;
};

/// Parses INI text (`[section]`, `key = value`, `#`/`;` comments, blank lines). Values are
/// trimmed; surrounding double quotes are removed. Throws Error(config) naming `source` and
/// the line for malformed lines, a key outside a section, an over-long line (64 KiB).
/// Pure: does not validate keys (see Config::load).
std::vector<IniEntry> parse_ini(std::string_view text, const std::string& source);

/// The resolved configuration of one invocation.
class Config {
public:
    /// An empty configuration: defaults only.
    Config();

    /// Reads the file (when `file` is set, or `$MBX_CONFIG`, or /etc/mbxkit/mbxkit.conf when
    /// it exists), then the environment (MBX_*), then `flags` (section.key -> value, as given
    /// on the command line). Unknown keys in the file or unknown MBX_* variables are
    /// Error(config) naming the key and where it was. A missing explicit file is Error(config).
    static Config load(const std::optional<std::filesystem::path>& file,
                       const std::map<std::string, std::string>& flags);

    /// The file that was read, if any.
    const std::optional<std::filesystem::path>& file() const { return file_; }

    /// True when "section.key" has a non-empty value (from any origin, defaults included).
    bool has(std::string_view name) const;
    /// The value or "" (never throws for a known key; throws Error(internal) for an unknown one).
    std::string get(std::string_view name) const;
    /// The value or throws Error(config) "missing [section] key" with a hint on how to set it.
    std::string require(std::string_view name) const;
    bool get_bool(std::string_view name) const;
    std::int64_t get_int(std::string_view name) const;
    double get_number(std::string_view name) const;
    /// Size with optional unit: 1024, 10K, 1.5G, 2TiB (binary multiples; K/KB/KiB all 1024).
    std::int64_t get_size(std::string_view name) const;
    /// Duration: 30s, 15m, 12h, 30d, 2w.
    std::chrono::seconds get_duration(std::string_view name) const;
    const Origin& origin(std::string_view name) const;
    /// True when the file has the named section `section` ("imap.old"): `[imap.NAME]` sections
    /// take the keys of `[imap]` (file only; no environment variables or flags), read as
    /// get("imap.NAME.uri"); keys they do not set have the `[imap]` defaults.
    bool has_section(std::string_view section) const;

    /// Overrides a value (tools apply their flags through load; tests use this).
    void set(std::string_view name, std::string value, Origin origin);

private:
    const SettingDef& def(std::string_view name) const;
    [[noreturn]] void invalid(std::string_view name, std::string_view expected) const;

    std::optional<std::filesystem::path> file_;
    std::map<std::string, std::string, std::less<>> values_;
    std::map<std::string, Origin, std::less<>> origins_;
    std::set<std::string, std::less<>> named_sections_;
};

/// "section.key" -> "--section-key" / "MBX_SECTION_KEY".
std::string flag_name(std::string_view section, std::string_view key);
std::string env_name(std::string_view section, std::string_view key);

/// Parse helpers shared with flags that are not settings (e.g. --older-than, --to SIZE).
/// Each throws Error(usage) naming `what` and the text.
std::int64_t parse_size(std::string_view text, std::string_view what);
std::chrono::seconds parse_duration(std::string_view text, std::string_view what);

} // namespace mbx::config
