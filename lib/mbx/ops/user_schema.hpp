#pragma once
// How users look in the directory at hand: the [ldap] and [reprovision] settings that name
// attributes and filters, where a setting left at its default takes the default of the
// directory's kind (Active Directory: sAMAccountName, proxyAddresses, userAccountControl, a
// filter without computers, system and disabled accounts; 389-DS: nsAccountLock). Every
// command that reads users takes them from here, so that one function decides.

#include "mbx/core/config.hpp"
#include "mbx/directory/kind.hpp"

#include <string>
#include <vector>

namespace mbx::directory {
class Directory;
}

namespace mbx::ops {

struct UserSchema {
    directory::DirectoryKind kind = directory::DirectoryKind::other;
    std::string uid_attribute;                 ///< the login name
    std::string user_filter;                   ///< the mail users a sweep or --all works on
    std::string lookup_filter;                 ///< one user by login: AD's default finds disabled ones too
    std::string mail_attribute;                ///< the primary address
    std::vector<std::string> alias_attributes; ///< the other addresses (AD: proxyAddresses)
    std::string disable_method;                ///< [reprovision] disable-method: attribute, move, none
    std::string disable_attribute;             ///< with attribute: what disables an account
    std::string disable_value;                 ///< its value (unused for userAccountControl: a bit)
    /// True when accounts are disabled by the ACCOUNTDISABLE bit of userAccountControl (changed
    /// alone, the other flags kept), not by writing disable_value.
    bool disable_by_account_control() const;
};

/// The schema for a directory of `kind`: each setting the configuration sets (file, environment
/// or flag) as set, each left at its default as the kind has it. Pure.
UserSchema user_schema_of(const config::Config& cfg, directory::DirectoryKind kind);

/// The schema of the directory behind `dir`: its kind as [ldap] kind says, or from its root DSE
/// (read once per connection; a root DSE the bind may not read: other). Throws
/// mbx::Error(config) for an invalid [ldap] kind, and as Directory::search() for an unreachable
/// server. Network (once per connection) with kind = auto.
UserSchema user_schema(directory::Directory& dir, const config::Config& cfg);

/// The schema `cfg` says: of the kind [ldap] kind names (other for auto). For a configuration
/// with_kind_defaults() made. Pure.
UserSchema user_schema(const config::Config& cfg);

/// The kind [ldap] kind names, or nullopt for auto (the directory must be asked). Throws
/// mbx::Error(config) for another value. Pure.
std::optional<directory::DirectoryKind> configured_kind(const config::Config& cfg);

/// `cfg` as the directory of `kind` reads it: [ldap] kind set to `kind`, and each setting
/// user_schema_of() takes from the kind (left at its default) set to the kind's value, still
/// marked a default. Commands read the directory's settings from the result. Pure.
config::Config with_kind_defaults(const config::Config& cfg, directory::DirectoryKind kind);

/// with_kind_defaults() for the directory behind `dir`, its kind as user_schema() finds it.
/// Throws as user_schema(). Network (once per connection) with kind = auto.
config::Config directory_config(directory::Directory& dir, const config::Config& cfg);

} // namespace mbx::ops
