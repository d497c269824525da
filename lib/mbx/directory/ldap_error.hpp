#pragma once
// Internal to mbx::directory: turns LDAP result codes into mbx::Error. Not installed.

#include "mbx/core/error.hpp"

#include <string>

namespace mbx::directory::detail {

/// The mbx::Error for LDAP result code `code` (RFC 4511 §4.1.9, or a negative libldap client
/// code) that ended `action` ("cannot modify 'uid=x,ou=people,...'"); `diagnostic` is the
/// server's diagnosticMessage, appended when not empty. The category follows mbxkit's rules:
/// unreachable/timeouts -> unavailable, credentials/access -> auth, bad names/values -> data,
/// bad filter/limits -> config, busy/unwilling/time limit -> temporary. No side effects.
Error ldap_error(int code, const std::string& action, const std::string& diagnostic);

} // namespace mbx::directory::detail
