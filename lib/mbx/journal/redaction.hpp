#pragma once
// Keeps secrets out of the journal. begin_run passes the command line through
// redact_arguments, add_action/update_action pass before/after state through redact_json, so
// callers cannot forget; the functions are public so tools can also scrub what they print.
//
// The rules (docs/journal.md "What is redacted"):
// - an option whose name contains password, passwd, secret, token, api-key, apikey, api_key or
//   credential (any case) has its value replaced by `***`, in both `--opt=value` and
//   `--opt value` forms, unless the name ends in `-file`/`_file` (a path is not a secret);
// - the password of URL userinfo (`imaps://user:pw@host`) becomes `***` wherever it appears;
// - in JSON, the value of any object key that, lower-cased and without `-` and `_`, contains
//   password, passwd, secret, token, apikey or credential becomes the string "[redacted]",
//   at any depth; URL userinfo passwords in string values are scrubbed too.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mbx::journal {

/// What replaces a secret command-line value.
inline constexpr std::string_view kRedactedArgument = "***";
/// What replaces a secret JSON value.
inline constexpr std::string_view kRedactedJsonValue = "[redacted]";

/// Returns `args` with secret option values and URL passwords replaced (rules above).
/// Arguments after a lone `--` are positional: only URL passwords are scrubbed there.
/// Never fails; no side effects.
std::vector<std::string> redact_arguments(const std::vector<std::string>& args);

/// Returns `text` with the password of every `scheme://user:password@host` replaced by `***`.
/// Never fails; no side effects.
std::string redact_url_userinfo(std::string_view text);

/// Returns a copy of `value` with secret-named object members replaced by "[redacted]" and URL
/// passwords scrubbed from strings, recursively (rules above). Never fails; no side effects.
nlohmann::json redact_json(const nlohmann::json& value);

/// True when redact_json(value) would differ from `value`: a secret-named member, or a string
/// with a URL password. Read-only and without copies (most journal entries have nothing to
/// redact). Never fails.
bool needs_redaction(const nlohmann::json& value);

/// True when an option name (without leading dashes) names a secret value under the rules
/// above, e.g. `ldap-password` but not `ldap-password-file`. Never fails.
bool is_secret_option(std::string_view name);

} // namespace mbx::journal
