// The table of every setting. docs/configuration.md documents the same keys, in this order;
// tests/unit/core/config_test.cpp checks that the two agree.
#include "mbx/core/config.hpp"

#include <array>

namespace mbx::config {
namespace {

// A table laid out by hand: a setting a line.
// clang-format off
constexpr std::array<SettingDef, 59> kSettings{{
    // [ldap]: the directory holding users, addresses and quota limits.
    {"ldap", "uri", "", "LDAP server: ldap://host[:port] (use starttls), ldaps://host[:port] or ldapi://%2Fpath%2Fto%2Fsocket"},
    {"ldap", "starttls", "true", "with ldap://, upgrade to TLS with StartTLS before binding"},
    {"ldap", "allow-cleartext-bind", "false", "allow a password bind over ldap:// without StartTLS (the password crosses the network in clear text)"},
    {"ldap", "ca-file", "", "PEM file of CAs that sign the server certificate (default: system store)"},
    {"ldap", "bind-dn", "", "DN to bind as (empty: anonymous)"},
    {"ldap", "password-file", "", "file holding the bind password (mode 0600); or MBX_LDAP_PASSWORD"},
    {"ldap", "sasl-mech", "", "EXTERNAL: bind as the TLS client certificate (cert-file) or the ldapi:// peer, no bind-dn or password"},
    {"ldap", "cert-file", "", "PEM client certificate for TLS (with sasl-mech EXTERNAL)"},
    {"ldap", "key-file", "", "PEM private key of cert-file (mode 0600)"},
    {"ldap", "base", "", "search base for users, e.g. ou=people,dc=example,dc=org"},
    {"ldap", "user-filter", "(objectClass=inetOrgPerson)", "filter that selects mail users (Active Directory, when left at this default: people with a mail address, not disabled, not system accounts)"},
    {"ldap", "uid-attribute", "uid", "attribute holding the login name (Active Directory, when left at this default: sAMAccountName)"},
    {"ldap", "mail-attribute", "mail", "attribute holding the primary mail address"},
    {"ldap", "alias-attributes", "", "comma-separated attributes holding alias addresses (Active Directory, when left at this default: proxyAddresses)"},
    {"ldap", "quota-attribute", "", "attribute holding the mailbox limit (empty: none)"},
    {"ldap", "quota-format", "bytes", "how the quota attribute is written: bytes, or dovecot (*:storage=1G)"},
    {"ldap", "kind", "auto", "the directory server software: auto (from the root DSE), openldap, 389ds, active-directory or other"},
    {"ldap", "page-size", "500", "entries per page of a paged search (RFC 2696)"},
    {"ldap", "timeout", "30s", "network and operation timeout"},
    // [imap]: the mail store.
    {"imap", "uri", "", "IMAP server: imaps://host[:port], or imap://host[:port] with STARTTLS"},
    {"imap", "ca-file", "", "PEM file of CAs that sign the server certificate (default: system store)"},
    {"imap", "master-user", "", "admin (master) user that logs in on behalf of users"},
    {"imap", "master-password-file", "", "file holding the master password (mode 0600); or MBX_IMAP_MASTER_PASSWORD"},
    {"imap", "master-method", "authzid", "how the master logs in as a user: authzid (SASL PLAIN) or separator"},
    {"imap", "master-separator", "*", "with master-method=separator: login is USER<separator>MASTER"},
    {"imap", "timeout", "60s", "network timeout"},
    {"imap", "command-timeout", "15m", "longest one command may take, however slowly the server answers (0: no limit)"},
    {"imap", "server-kind", "auto", "the server software, for advice that names its tools: auto (from ID), dovecot, cyrus or other"},
    {"imap", "connections", "8", "parallel connections for commands that work on many mailboxes"},
    // [doveadm]: Dovecot's HTTP admin API, the fast path where the admin has it.
    {"doveadm", "url", "", "doveadm HTTP API endpoint, e.g. https://mail.example.org:8080/doveadm/v1"},
    {"doveadm", "ca-file", "", "PEM file of CAs for an https:// endpoint"},
    {"doveadm", "api-key-file", "", "file holding the doveadm API key (mode 0600); or MBX_DOVEADM_API_KEY"},
    {"doveadm", "timeout", "120s", "request timeout"},
    // [activesync]: Exchange ActiveSync endpoints for the protocol audit.
    {"activesync", "url", "", "server base URL, e.g. https://mail.example.org (path /Microsoft-Server-ActiveSync is added)"},
    {"activesync", "ca-file", "", "PEM file of CAs that sign the server certificate"},
    {"activesync", "user", "", "user for authenticated requests"},
    {"activesync", "password-file", "", "file holding that user's password (mode 0600); or MBX_ACTIVESYNC_PASSWORD"},
    {"activesync", "allow-plain-http", "false", "allow sending the ActiveSync password or token over http:// (audit server and probe)"},
    {"activesync", "token-file", "", "file holding an OAuth bearer token (mode 0600), used instead of the password; or MBX_ACTIVESYNC_TOKEN"},
    {"activesync", "timeout", "30s", "request timeout"},
    // [journal]
    {"journal", "path", "", "SQLite journal (default: $XDG_STATE_HOME/mbxkit/journal.sqlite; /var/lib/mbxkit/journal.sqlite for root)"},
    // [quota]: MIS_9 thresholds and cleanup.
    {"quota", "warning", "80", "percent of the limit at which a mailbox is reported as warning"},
    {"quota", "prohibit-send", "90", "percent at which sending is prohibited (critical)"},
    {"quota", "prohibit-send-receive", "100", "percent at which receiving stops too (critical)"},
    {"quota", "warning-attribute", "", "LDAP attribute with a per-user warning percent (empty: none)"},
    {"quota", "backend", "imap", "how usage is read: imap (a master login and GETQUOTAROOT per user), admin (GETQUOTAROOT per user mailbox over admin logins; Cyrus) or doveadm (one API call)"},
    {"quota", "limits", "auto", "where mailbox limits live (what raise changes): ldap ([ldap] quota-attribute), server (SETQUOTA as the IMAP admin) or auto (server on Cyrus, else ldap when quota-attribute is set, else server)"},
    {"quota", "archive-dir", "", "where cleanup keeps removed messages before expunging them"},
    // [reprovision]: MIS_5, a new account and mailbox for a corrupted user.
    {"reprovision", "copy-attributes", "cn,sn,givenName,displayName,initials,title,ou,telephoneNumber,preferredLanguage",
     "attributes copied from the old entry to the new one (objectClass and the quota attribute always are)"},
    {"reprovision", "base", "", "where new entries are created (default: next to the old entry)"},
    {"reprovision", "password-dir", "", "where new passwords are written, mode 0600 (default: passwords/ next to the journal)"},
    {"reprovision", "disable-method", "attribute", "how the old account is disabled at cutover: attribute, move or none"},
    {"reprovision", "disable-attribute", "pwdAccountLockedTime", "with disable-method=attribute: the attribute to set (left at the default with disable-value: nsAccountLock on 389-DS, the ACCOUNTDISABLE bit of userAccountControl on Active Directory)"},
    {"reprovision", "disable-value", "000001010000Z", "with disable-method=attribute: its value (000001010000Z: ppolicy permanent lock)"},
    {"reprovision", "disabled-base", "", "with disable-method=move: the entry the old account is moved under"},
    {"reprovision", "undo-new-entry", "disable", "what journal undo does with the new entry: disable (as disable-method) or remove"},
    // [diagnose]: `mbx diagnose USER`.
    {"diagnose", "certificate-warning-days", "30", "a server certificate that expires within this many days is a warning"},
    {"diagnose", "reference-user", "", "a user whose master login should work, to tell a broken account from a broken server (default: another user of the directory)"},
    {"diagnose", "history", "30d", "how far back the journal history of the user goes"},
}};
// clang-format on

constexpr std::array<std::string_view, 6> kReserved{{
    "MBX_CONFIG",
    "MBX_LDAP_PASSWORD",
    "MBX_IMAP_MASTER_PASSWORD",
    "MBX_DOVEADM_API_KEY",
    "MBX_ACTIVESYNC_PASSWORD",
    "MBX_ACTIVESYNC_TOKEN",
}};

} // namespace

std::span<const SettingDef> all_settings() { return kSettings; }
std::span<const std::string_view> reserved_environment() { return kReserved; }

} // namespace mbx::config
