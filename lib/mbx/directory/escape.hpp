#pragma once
// Escaping of values that go into LDAP filters (RFC 4515) and distinguished names (RFC 4514).
//
// Every value that comes from outside (a user name on the command line, a line of a users
// file, an attribute read from another server) goes through exactly one of these functions
// before it becomes part of a filter or a DN. Never build either by plain concatenation.

#include <string>
#include <string_view>
#include <utility>

namespace mbx::directory {

/// Escapes `value` for use as an assertion value inside a search filter (RFC 4515 §3):
/// `*` `(` `)` `\` and NUL become `\2a` `\28` `\29` `\5c` `\00`. Other bytes, including
/// UTF-8 sequences, are kept as they are. Never fails; no side effects.
std::string escape_filter_value(std::string_view value);

/// Escapes `value` for use as the value of one RDN attribute in a DN string (RFC 4514 §2.4):
/// `,` `+` `"` `\` `<` `>` `;` `=` get a backslash, NUL becomes `\00`, a leading space or `#`
/// and a trailing space get a backslash. Never fails; no side effects.
std::string escape_dn_value(std::string_view value);

/// Checks that `filter` is a syntactically valid LDAP search filter (RFC 4515), using
/// libldap's own filter encoder, so the server is never sent a filter it would reject.
/// Throws mbx::Error(config) naming the filter when it is not. No network.
void validate_filter(std::string_view filter);

/// Builds the filter that selects one user: `(&<base_filter>(<uid_attribute>=<uid escaped>))`,
/// or `(<uid_attribute>=<uid escaped>)` when `base_filter` is empty. A `base_filter` without
/// surrounding parentheses (`objectClass=mbxMailUser`) is accepted and wrapped.
/// Throws mbx::Error(config) when `base_filter` is not a valid filter or `uid_attribute` is not
/// an attribute description. No network.
std::string user_filter(std::string_view base_filter, std::string_view uid_attribute, std::string_view uid);

/// Splits a DN string at its first RDN separator: {"uid=a\\,b", "ou=people,dc=example,dc=org"}
/// for `uid=a\,b,ou=people,dc=example,dc=org`. Escaped characters (`\,`, `\2C`) and quoted
/// values do not split; a DN of one RDN has an empty parent. Pure.
std::pair<std::string, std::string> split_rdn(std::string_view dn);

} // namespace mbx::directory
