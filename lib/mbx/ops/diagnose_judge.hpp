#pragma once
// mbx diagnose, split into gathering and judging (issue 21). Each area's I/O (LDAP, IMAP, HTTP,
// the journal) fills one of the facts structs below -- values only, no connection and no
// journal handle -- and a pure judge turns the facts into that area's findings, in the order
// `mbx diagnose` reports them. The judges are defined in the area files (diagnose_server.cpp,
// diagnose_directory.cpp, diagnose_folders.cpp, diagnose_quota.cpp, diagnose_devices.cpp,
// diagnose_history.cpp) and unit-tested on facts (tests/unit/ops/diagnose_judge_test.cpp).

#include "mbx/ops/diagnose.hpp"

#include "mbx/core/error.hpp"
#include "mbx/directory/entry.hpp"
#include "mbx/directory/kind.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/imap/parser.hpp"
#include "mbx/journal/records.hpp"
#include "mbx/ops/audit_devices.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/tls/certificate.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mbx::ops::diagnose {

// ---- server ---------------------------------------------------------------------------------

/// A TLS connection's certificate, as read from the connection.
struct CertificateFacts {
    std::string check = {};  ///< "ldap-certificate", "imap-certificate", "activesync-certificate"
    std::string server = {}; ///< "LDAP", "IMAP", "ActiveSync"
    std::optional<tls::CertificateInfo> certificate = {}; ///< nullopt: a plain connection
    std::optional<Error> error = {};                      ///< reading it failed
    std::chrono::system_clock::time_point now = {};
    std::int64_t warning_days = 30; ///< [diagnose] certificate-warning-days
};

/// The certificate's finding: failed (MIS_5) when expired, warning (MIS_5) inside the warning
/// window, ok; skipped for a plain connection; a warning when it could not be read. Pure.
Finding judge_certificate(const CertificateFacts& facts);

/// mbxkit's own connection and bind to the directory.
struct LdapFacts {
    bool configured = true; ///< [ldap] uri is set
    std::string uri = {};
    std::string bound_as = {};       ///< how it bound (bind_description), when it did
    std::optional<Error> error = {}; ///< connecting or binding failed
    std::int64_t latency_ms = 0;
    std::optional<CertificateFacts> certificate = {}; ///< read once bound
};

/// The `ldap` finding, then the `ldap-certificate` one when there is a certificate check. Pure.
std::vector<Finding> judge_ldap(const LdapFacts& facts);

/// True when the directory is down (it failed, not by refusing the bind, not over TLS): a
/// refused IMAP login then says nothing about the account. Pure.
bool directory_down(const LdapFacts& facts);

/// The master login for the user, and for a reference user when the user's is refused.
struct ImapLoginFacts {
    bool configured = true;    ///< [imap] uri is set
    bool user_missing = false; ///< the directory answered and has no such user: not tried
    std::string uri = {};
    std::string uid = {};            ///< the login tried
    std::optional<Error> error = {}; ///< the user's master login failed
    std::int64_t latency_ms = 0;     ///< of the user's login
    bool directory_down = false;     ///< see directory_down()
    /// When the user's login was refused (auth) and the directory is up: the user it was
    /// compared with ([diagnose] reference-user, or the first other user of the directory);
    /// empty when there is none.
    std::string reference = {};
    std::optional<Error> reference_error = {};        ///< the reference login failed; nullopt: it worked
    std::optional<CertificateFacts> certificate = {}; ///< read once logged in
};

/// The `imap-login` finding (and `imap-certificate` after a login). A login refused for the
/// user but working for the reference user is the account side of MIS_5 (reprovision); refused
/// for both is mbxkit's own master login (no MIS); a server that fails is the server side of
/// MIS_5. Pure.
std::vector<Finding> judge_imap_login(const ImapLoginFacts& facts);

/// The ActiveSync endpoint's OPTIONS answer (`mbx audit server`).
struct ActiveSyncFacts {
    bool configured = true;                ///< [activesync] url is set
    std::optional<Error> setup_error = {}; ///< audit_server refused to run (a configuration error)
    std::string url = {};
    int http_status = 0;
    std::vector<std::string> versions = {}; ///< MS-ASProtocolVersions as announced
    std::optional<Error> error = {};        ///< the endpoint failed
    std::int64_t latency_ms = 0;
    std::optional<CertificateFacts> certificate = {}; ///< for https URLs with something to judge
};

/// The `activesync` finding, then `activesync-certificate` when there is one to judge. Pure.
std::vector<Finding> judge_activesync(const ActiveSyncFacts& facts);

/// The protocol versions the endpoint offers (the announced ones that are versions); empty when
/// it failed. Pure.
std::vector<std::string> offered_versions(const ActiveSyncFacts& facts);

// ---- directory ------------------------------------------------------------------------------

/// The user's directory entries and what the configuration says about them.
struct DirectoryFacts {
    bool reachable = true;           ///< mbxkit is bound to the directory
    std::optional<Error> error = {}; ///< searching for the user's entries failed
    std::string user = {};           ///< the login asked about
    std::string base = {};           ///< [ldap] base
    std::string uid_attribute = "uid";
    std::string user_filter = {}; ///< [ldap] user-filter
    std::string mail_attribute = "mail";
    std::vector<std::string> alias_attributes = {};                  ///< [ldap] alias-attributes
    std::string disable_method = "none";                             ///< [reprovision] disable-method
    directory::DirectoryKind kind = directory::DirectoryKind::other; ///< whose tools the advice names
    std::string disable_attribute = {};
    std::string disabled_base = {};
    /// Every entry with the uid, whatever the user filter says, sorted by DN (at most 20).
    std::vector<directory::Entry> same_uid = {};
    std::set<std::string> filtered = {}; ///< the DNs of those the user filter selects
    /// Entries other than the chosen one that have one of its addresses (at most 20); searched
    /// only when the entry has addresses.
    std::vector<directory::Entry> others = {};
    std::optional<Error> others_error = {}; ///< that search failed
};

/// The attributes that hold a directory server's own account state, whatever the server: Active
/// Directory's userAccountControl (ACCOUNTDISABLE), lockoutTime and the constructed
/// msDS-User-Account-Control-Computed (UF_LOCKOUT, UF_PASSWORD_EXPIRED); 389-DS's nsAccountLock;
/// OpenLDAP ppolicy's pwdAccountLockedTime. Each is judged by its own meaning (a bit, a value,
/// a time), never by being present.
inline constexpr std::string_view kAccountStateAttributes[] = {
    "userAccountControl", "lockoutTime",   "msDS-User-Account-Control-Computed",
    "pwdLastSet",         "nsAccountLock", "pwdAccountLockedTime"};

enum class AccountProblem { disabled, locked, password_expired };

struct AccountState {
    AccountProblem problem = AccountProblem::disabled;
    std::string detail; ///< one line: what says so
};

/// What the server's own account state says is wrong with `entry` (Active Directory:
/// ACCOUNTDISABLE, a lockout in force, a password expired or to be changed; 389-DS:
/// nsAccountLock; OpenLDAP: pwdAccountLockedTime), or nullopt when nothing is. Pure.
std::optional<AccountState> account_state(const directory::Entry& entry);

/// account_state()'s line, or nullopt. Pure.
std::optional<std::string> account_state_problem(const directory::Entry& entry);

/// The entry to diagnose: of those the user filter selects, the one named by its uid
/// (uid=USER,...), else the first; when the filter selects none, the first with the uid;
/// nullptr when there is none. Points into `facts`. Pure.
const directory::Entry* chosen_entry(const DirectoryFacts& facts);

/// The entry's addresses, main and aliases, distinct, in attribute order (at most 20). Pure.
std::vector<std::string> entry_addresses(const directory::Entry& entry, const DirectoryFacts& facts);

/// The entry's mail address when it has a valid one (the first value, with an '@'). Pure.
std::optional<std::string> mail_address(const directory::Entry& entry, const DirectoryFacts& facts);

/// The directory findings: `entry`, then `uid-unique`, `enabled`, `mail` and `mail-unique`
/// (MIS_5 for each failure). Pure.
std::vector<Finding> judge_directory(const DirectoryFacts& facts);

// ---- folders --------------------------------------------------------------------------------

/// One folder a device syncs and what EXAMINE said of it.
struct FolderFacts {
    std::string check = {};                     ///< "INBOX", "Drafts", "Sent", "Trash"
    std::string use = {};                       ///< "" for INBOX, else the SPECIAL-USE attribute ("\\Drafts")
    std::optional<imap::ListEntry> entry = {};  ///< the folder found; nullopt: none
    std::optional<std::uint64_t> messages = {}; ///< EXAMINE worked: its message count
    std::optional<Error> error = {};            ///< EXAMINE failed
};

/// True when the folder can be opened at all (not \Noselect or \NonExistent). Pure.
bool selectable(const imap::ListEntry& entry);

/// INBOX and the folders of needed_folders() in `list`: by SPECIAL-USE attribute, else by the
/// usual names under the personal namespace's `prefix` ("INBOX." on Cyrus); messages and error
/// unset. Pure.
std::vector<FolderFacts> locate_folders(const std::vector<imap::ListEntry>& list, const std::string& prefix = {});

/// The folders of the user's mailbox.
struct FoldersFacts {
    bool logged_in = true;                ///< the master login worked
    std::optional<Error> list_error = {}; ///< LIST failed
    std::string uid = {};
    std::vector<FolderFacts> folders = {};             ///< as locate_folders(), with what EXAMINE said
    std::string prefix = {};                           ///< the personal namespace's prefix: folders are made under it
    imap::ServerKind server = imap::ServerKind::other; ///< whose tools the advice names
};

/// A finding per folder (MIS_8 when missing or unopenable, MIS_5 when the connection broke).
/// A folder with neither messages nor error was not opened (the connection broke before it):
/// skipped. Pure.
std::vector<Finding> judge_folders(const FoldersFacts& facts);

// ---- quota ----------------------------------------------------------------------------------

/// The user's usage and limit, as `mbx quota check` reads them.
struct QuotaFacts {
    bool configured = true;    ///< [imap] uri is set
    bool user_missing = false; ///< the directory has no such user
    std::string uid = {};
    std::optional<Error> error = {}; ///< reading the usage failed
    QuotaRow row = {};               ///< the usage and its tier
    Thresholds thresholds = {};      ///< the user's
};

/// The `usage` finding: ok, warning, failed (MIS_9 with the bytes to free and the limit that
/// would do), or a warning when the usage is unknown. Pure.
Finding judge_quota(const QuotaFacts& facts);

// ---- devices --------------------------------------------------------------------------------

/// The ActiveSync devices in the evidence and the server's versions.
struct DevicesFacts {
    std::optional<std::string> device = {}; ///< --device: only this one
    std::string uid = {};
    std::string mail = {};
    bool have_data = true;                      ///< logs were given, or the journal has a `mbx audit clients` run
    std::string source = {};                    ///< where the devices come from, for the detail
    std::vector<audit::DeviceRow> devices = {}; ///< every device of the evidence
    std::vector<std::string> server_versions = {};
    std::string versions_from = {}; ///< where server_versions come from
};

/// The user's devices in the evidence (and only `device` when set), in evidence order. Pure.
std::vector<const audit::DeviceRow*> user_devices(const DevicesFacts& facts);

/// A finding per device of the user: its versions against the server's (MIS_2); skipped
/// without data or without the server's versions; a warning when --device is not there. Pure.
std::vector<Finding> judge_devices(const DevicesFacts& facts);

// ---- history --------------------------------------------------------------------------------

/// Recent mbxkit runs about the user.
struct HistoryFacts {
    bool have_journal = true;
    std::string uid = {};
    std::int64_t days = 30;                              ///< [diagnose] history, in days
    std::vector<journal::SubjectRun> runs = {};          ///< newest first, each once
    std::map<std::int64_t, std::int64_t> undone_by = {}; ///< run -> the `mbx journal undo` run that reverted it
};

/// A finding per change (the newest ten; running, interrupted or failed ones are warnings),
/// one line for the read-only runs, one for the changes not shown, or one saying there was no
/// run. Pure.
std::vector<Finding> judge_history(const HistoryFacts& facts);

} // namespace mbx::ops::diagnose
