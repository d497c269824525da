#pragma once
// A connection to an LDAP directory (OpenLDAP, 389-DS, Active Directory) through libldap:
// TLS (StartTLS or ldaps://) with per-connection CA settings, simple bind or SASL EXTERNAL
// (a TLS client certificate, or the peer credentials of an ldapi:// socket), paged search that
// streams entries, and the write operations the remediations need.
//
// <ldap.h> stays out of this header: Directory is a pimpl.

#include "mbx/core/secret.hpp"
#include "mbx/directory/entry.hpp"
#include "mbx/tls/certificate.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::directory {

/// How to reach and authenticate to the directory.
struct LdapConfig {
    std::string uri;                   ///< ldap://host:port, ldaps://host:port or ldapi://%2Fpath%2Fto%2Fsocket
    bool starttls = true;              ///< with ldap://: upgrade with StartTLS (RFC 4511 §4.14) before binding
    bool allow_cleartext_bind = false; ///< a password bind over ldap:// without StartTLS is refused unless set
    std::string ca_file;               ///< PEM CA bundle that signs the server certificate; empty: system store
    std::string bind_dn;               ///< empty: anonymous (or SASL EXTERNAL, see sasl_mech)
    mbx::Secret password;              ///< for bind_dn; never logged, never in an error message
    /// Empty: a simple bind with bind_dn. "EXTERNAL" (RFC 4422 appendix A): the identity the
    /// connection already has, from the TLS client certificate (cert_file) on ldap:// with
    /// StartTLS or ldaps://, or from the peer credentials of an ldapi:// socket; no password.
    std::string sasl_mech;
    std::string cert_file; ///< PEM client certificate presented in the TLS handshake
    std::string key_file;  ///< its PEM private key
    std::chrono::milliseconds timeout{std::chrono::seconds(30)}; ///< connect and per-operation
    int page_size = 500; ///< Simple Paged Results page size (RFC 2696); 0: do not page
};

/// Search scope (RFC 4511 §4.5.1.2).
enum class Scope { base, one_level, subtree };

/// One change of a modify operation (RFC 4511 §4.6).
struct Modification {
    enum class Op { add, remove, replace };
    Op op = Op::replace;
    std::string attribute;
    /// Values to add, remove or set. `remove` with no values removes the whole attribute;
    /// `replace` with no values removes it too.
    std::vector<std::string> values;
};

/// One attribute with its values, for add().
struct Attribute {
    std::string name;
    std::vector<std::string> values;
};

/// Receives search results one entry at a time; the entry is only valid during the call.
using EntryCallback = std::function<void(const Entry&)>;

/// A bound LDAP connection. Movable, not copyable; unbinds on destruction.
class Directory {
public:
    /// Connects to `config.uri`, sets up TLS (StartTLS for ldap:// when `starttls`, implicit TLS
    /// for ldaps://) verifying the server certificate against `config.ca_file`, and binds.
    /// Throws mbx::Error: unavailable (server unreachable, timeout, TLS/certificate failure —
    /// hint names ca-file), auth (invalid credentials, code 49; an EXTERNAL identity the server
    /// does not accept), config (bad URI, missing password for a bind DN, EXTERNAL without a
    /// certificate or socket to take the identity from). Network.
    static Directory connect(const LdapConfig& config);

    Directory(Directory&&) noexcept;
    Directory& operator=(Directory&&) noexcept;
    ~Directory();

    /// Searches `base` and calls `on_entry` for every entry, streaming: at most one page is
    /// held in memory. Uses the Simple Paged Results control (RFC 2696) when the config's
    /// page_size > 0, following the cookie until the server says there is no more, so server
    /// size limits do not truncate the result. Empty `attributes`: all user attributes.
    /// Returns the number of entries delivered. Throws mbx::Error: config (invalid filter),
    /// data (no such base), temporary (busy, size or time limit exceeded without paging — the
    /// entries before the limit have already been delivered), auth, unavailable. Exceptions
    /// thrown by `on_entry` propagate (the search is abandoned). Network.
    std::size_t search(const std::string& base, Scope scope, const std::string& filter,
                       const std::vector<std::string>& attributes, const EntryCallback& on_entry);

    /// Reads one entry with all its user attributes (base scope, filter objectClass=*) and the
    /// attributes named in `operational` (a server returns its operational attributes, such as
    /// 389-DS's nsAccountLock, only when asked by name), or nullopt when it does not exist.
    /// Used to record the before-state of a change. Throws mbx::Error as search(). Network.
    std::optional<Entry> read_entry(const std::string& dn, const std::vector<std::string>& operational = {});

    /// Applies `changes` to `dn` atomically (one modify request). Throws mbx::Error: data (no
    /// such object, constraint or syntax violation, value exists/missing), auth (insufficient
    /// access), temporary (busy, unwilling), unavailable. Network; changes the directory.
    void modify(const std::string& dn, const std::vector<Modification>& changes);

    /// Creates entry `dn` with `attributes`. Throws mbx::Error as modify(), data also when
    /// it already exists. Network; changes the directory.
    void add(const std::string& dn, const std::vector<Attribute>& attributes);

    /// Deletes the leaf entry `dn`. Throws mbx::Error as modify(). Network; changes the
    /// directory (the caller records read_entry() first if it must be undoable).
    void remove(const std::string& dn);

    /// Renames `dn` to `new_rdn` (already escaped, e.g. "uid=" + escape_dn_value(x)), moving it
    /// under `new_superior` when that is not empty; the old RDN value is deleted. Throws
    /// mbx::Error as modify(). Network; changes the directory.
    void rename(const std::string& dn, const std::string& new_rdn, const std::string& new_superior = {});

    /// Sets the password of `dn` with the Password Modify extended operation (RFC 3062), so
    /// the server hashes it by its own policy (slapd's password-hash, ppolicy checks). The
    /// password never appears in an error. Throws mbx::Error as modify(); data also when the
    /// server does not support the operation (Active Directory: set unicodePwd instead).
    /// Network; changes the directory.
    void set_password(const std::string& dn, const mbx::Secret& password);

    /// Sets the password of the Active Directory entry `dn` (or Samba AD's) by replacing its
    /// unicodePwd with unicode_pwd_value(password): AD takes a password that way only over an
    /// encrypted connection (see encrypted()) and hashes it itself. The password never appears
    /// in an error. Throws mbx::Error as modify(): data also for a password the domain's policy
    /// refuses (unwilling to perform / constraint violation), config for a password that is
    /// not UTF-8. Network; changes the directory.
    void set_unicode_password(const std::string& dn, const mbx::Secret& password);

    /// The server's root DSE (RFC 4512 §5.1) with kRootDseAttributes (directory/kind.hpp),
    /// read once per connection and kept. Throws mbx::Error as search(). Network (once).
    const Entry& root_dse();

    /// True when this connection is encrypted (ldaps:// or StartTLS). No network.
    bool encrypted() const noexcept;

    /// The URI this connection was opened with (for messages).
    const std::string& uri() const noexcept;

    /// The certificate the server presented in this connection's TLS handshake (ldaps:// or
    /// StartTLS), as read right after connect(); nullopt for a plain ldap:// connection
    /// (starttls off). Throws mbx::Error(data) when the server sent a certificate that cannot
    /// be parsed. No network: libldap's copy of the handshake is read once at connect().
    std::optional<tls::CertificateInfo> peer_certificate() const;

    /// Who the server says this connection is bound as (the WhoAmI extended operation, RFC
    /// 4532): "dn:cn=mbxkit,ou=services,dc=example,dc=org", "" when anonymous; nullopt when
    /// the server does not offer the operation. Network.
    std::optional<std::string> who_am_i();

private:
    struct Impl;
    explicit Directory(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace mbx::directory
