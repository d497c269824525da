#pragma once
// The secrets operations ask for, and how they ask: no protocol header here, so that an ops
// header that only needs a SecretProvider does not pull in LDAP or IMAP.

#include "mbx/core/session.hpp"

namespace mbx::ops {

using mbx::SecretProvider;
using mbx::Session;

inline constexpr SecretSource kLdapPassword{"ldap", "password-file", "MBX_LDAP_PASSWORD", "LDAP bind password"};
inline constexpr SecretSource kImapMasterPassword{"imap", "master-password-file", "MBX_IMAP_MASTER_PASSWORD",
                                                  "IMAP master password"};
inline constexpr SecretSource kActiveSyncPassword{"activesync", "password-file", "MBX_ACTIVESYNC_PASSWORD",
                                                  "ActiveSync password"};
inline constexpr SecretSource kActiveSyncToken{"activesync", "token-file", "MBX_ACTIVESYNC_TOKEN",
                                               "ActiveSync OAuth bearer token"};

} // namespace mbx::ops
