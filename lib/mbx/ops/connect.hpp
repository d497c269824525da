#pragma once
// Turning the configuration into connections: the one place that maps [ldap] and [imap]
// settings to the directory and IMAP layers' config structs, so every command connects alike.

#include "mbx/core/config.hpp"
#include "mbx/core/secret.hpp"
#include "mbx/directory/directory.hpp"
#include "mbx/imap/connection.hpp"
#include "mbx/ops/secrets.hpp"

#include <filesystem>
#include <functional>
#include <optional>

namespace mbx::ops {

/// [ldap] settings as a directory config. Asks `secrets` for the bind password only when a
/// bind DN is set. Throws Error(config) for a missing uri or a bad value.
directory::LdapConfig ldap_config(const config::Config& cfg, const SecretProvider& secrets);

/// "bound as cn=mbxkit,ou=services,dc=example,dc=org" (the server's WhoAmI answer, else the
/// configured bind DN), "bound with SASL EXTERNAL", or "anonymous bind": what ping and
/// diagnose show for a successful bind. Network (one WhoAmI request).
std::string bind_description(directory::Directory& dir, const directory::LdapConfig& config);

/// [imap] settings as a config that logs in as the master user on behalf of `user`.
/// Throws Error(config) for a missing uri or master-user, or a bad master-method.
imap::ImapConfig imap_master_config(const config::Config& cfg, const SecretProvider& secrets, const std::string& user);

/// [imap] settings as a config that logs in as the master user itself ([imap] master-user
/// with its own password, no authzid): an admin session, which on Cyrus (`admins:`) sees every
/// user's mailbox in its other-users namespace and may GETQUOTA/SETQUOTA. Throws as
/// imap_master_config().
imap::ImapConfig imap_admin_config(const config::Config& cfg, const SecretProvider& secrets);

/// As imap_master_config() for the settings of `section`: "imap", or a named "imap.NAME"
/// (Error(config) when the file has no such section). With `user_password_file`, logs in as
/// `user` with the password in that file instead of the master user.
imap::ImapConfig imap_section_config(const config::Config& cfg, const SecretProvider& secrets,
                                     const std::string& section, const std::string& user,
                                     const std::optional<std::filesystem::path>& user_password_file = std::nullopt);

} // namespace mbx::ops
