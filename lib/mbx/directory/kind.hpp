#pragma once
// Which directory server software a connection talks to, from its root DSE (RFC 4512 §5.1):
// the semantics that differ between them (how an account is disabled or locked, how a
// password is set, how entries are named) follow the kind.

#include "mbx/directory/entry.hpp"

#include <optional>
#include <string_view>

namespace mbx::directory {

class Directory;

enum class DirectoryKind {
    other,            ///< not recognised: plain LDAP
    openldap,         ///< OpenLDAP slapd: ppolicy (pwdAccountLockedTime), Password Modify
    ds389,            ///< 389 Directory Server (and Red Hat / Fedora DS): nsAccountLock
    active_directory, ///< Active Directory or Samba AD: userAccountControl, unicodePwd, CN= names
};

/// "other", "openldap", "389ds", "active-directory": as [ldap] kind and the reports say it. Pure.
std::string_view directory_kind_name(DirectoryKind kind);

/// The kind a root DSE shows: Active Directory by the LDAP_CAP_ACTIVE_DIRECTORY_OID capability
/// (1.2.840.113556.1.4.800, which Samba AD announces too, whatever its vendorName says); 389-DS
/// by a vendorName of "389 Project" (or Fedora's / Red Hat's Directory Server); OpenLDAP by the
/// OpenLDAProotDSE object class. Pure.
DirectoryKind directory_kind_of(const Entry& root_dse);

/// The root DSE attributes directory_kind_of() reads (operational: a server returns them only
/// when asked by name).
inline constexpr std::string_view kRootDseAttributes[] = {"objectClass",        "vendorName",
                                                          "vendorVersion",      "supportedCapabilities",
                                                          "supportedExtension", "defaultNamingContext"};

/// The Password Modify extended operation (RFC 3062), as a root DSE's supportedExtension names it.
inline constexpr std::string_view kPasswordModifyOid = "1.3.6.1.4.1.4203.1.11.1";

/// The kind `configured` names ("openldap", "389ds", "active-directory", "other"), or nullopt
/// for "auto" or empty (the directory must be asked). Throws mbx::Error(config) for another
/// value, naming `setting`. Pure.
std::optional<DirectoryKind> directory_kind_named(std::string_view configured, std::string_view setting = "ldap.kind");

/// The kind of the server behind `dir`: `configured` ("openldap", "389ds", "active-directory",
/// "other") when it is not "auto" or empty, else what its root DSE says. Throws mbx::Error(config)
/// for another configured value naming `setting`, and as Directory::search() when the root DSE
/// cannot be read. Network (Directory::root_dse(), read once per connection) for "auto".
DirectoryKind directory_kind(Directory& dir, std::string_view configured, std::string_view setting = "ldap.kind");

} // namespace mbx::directory
