#pragma once
// Mailbox operations on a logged-in Connection: LIST, STATUS, GETQUOTAROOT, SELECT/EXAMINE,
// UID SEARCH and streaming UID FETCH. Every mailbox name goes on the wire through
// Command::mailbox() (modified UTF-7, then quote_astring()), never by string concatenation.
//
// A NO or BAD completion becomes mbx::Error with the server's response code and text:
// [OVERQUOTA], [UNAVAILABLE], [LIMIT] -> temporary; [NONEXISTENT] and everything else -> data.
// These functions assume no pipelined (submit()ted) command is outstanding.

#include "mbx/core/error.hpp"
#include "mbx/imap/connection.hpp"
#include "mbx/imap/parser.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::imap {

/// The quota roots of a mailbox and the quotas of those roots (RFC 9208 GETQUOTAROOT).
struct QuotaRootInfo {
    std::vector<std::string> roots;
    std::vector<Quota> quotas;
};

/// What SELECT or EXAMINE reported (RFC 3501 §6.3.1).
struct SelectInfo {
    std::uint64_t exists = 0;
    std::uint64_t uidvalidity = 0;
    std::optional<std::uint64_t> uidnext; ///< optional in IMAP4rev1 servers
    bool read_only = false;               ///< [READ-ONLY] on the completion
};

/// Lists every mailbox (`LIST "" "*"`), with `RETURN (SPECIAL-USE)` when the server has
/// SPECIAL-USE and LIST-EXTENDED (RFC 6154 §5.1, RFC 5258); otherwise a plain LIST, whose
/// attributes may still carry special-use flags (never XLIST). Names are decoded from
/// modified UTF-7. Throws mbx::Error (see above; data for malformed responses). Network.
std::vector<ListEntry> list_mailboxes(Connection& conn);

/// The server's namespaces (RFC 2342): NAMESPACE when the server has it; otherwise one personal
/// namespace with the prefix "" and the delimiter `LIST "" ""` reports. Throws as above.
/// Network.
Namespaces namespaces(Connection& conn);

/// Checks that the logged-in user has a mailbox (STATUS INBOX). A server that grants an admin's
/// proxy login for any name (Cyrus: SASL authzid for a user it has no mailbox for) otherwise
/// "logs in" users that do not exist. Throws mbx::Error(auth) naming `user` when the server
/// refuses INBOX, and as above otherwise. Network.
void require_inbox(Connection& conn, std::string_view user);

/// STATUS of `mailbox` (UTF-8) for `items` ("MESSAGES", "UIDNEXT", "SIZE", ...). Throws
/// mbx::Error(internal) for an item that is not an atom, otherwise as above. Network.
StatusEntry status(Connection& conn, std::string_view mailbox, const std::vector<std::string>& items);

/// GETQUOTAROOT `mailbox`: its roots and their quotas (STORAGE in bytes). Throws as above.
/// Network.
QuotaRootInfo get_quota_root(Connection& conn, std::string_view mailbox);

/// The GETQUOTAROOT command get_quota_root() sends, for pipelining with Connection::submit().
/// Throws as Command::mailbox(). No side effects.
Command get_quota_root_command(std::string_view mailbox);
/// What a completed GETQUOTAROOT of `mailbox` said, or the Error for its NO/BAD (as
/// get_quota_root()). Throws mbx::Error(data) for malformed responses. No side effects.
QuotaRootInfo quota_root_result(std::string_view mailbox, const Response& response);

/// The GETQUOTA command (RFC 9208 §4.2) for the quota root `root`, an astring as the server
/// named it in QUOTAROOT (sent as is, not as a mailbox name). No side effects.
Command get_quota_command(std::string_view root);
/// Limits of resources other than STORAGE (MESSAGE, MAILBOX, ...), in their own units.
using ResourceLimits = std::vector<std::pair<std::string, std::uint64_t>>;

/// The SETQUOTA command (RFC 9208 §4.1): `SETQUOTA root (STORAGE n ...)` with `storage_kib` in
/// units of 1024 octets and then `others`, or without STORAGE (nullopt); `SETQUOTA root ()`
/// removes every limit of the root. Servers drop the limits a SETQUOTA does not name (Cyrus),
/// so a caller that changes STORAGE passes the others it found. Throws mbx::Error(internal)
/// for a resource name that is not an atom of letters, digits and '-'. No side effects.
Command set_quota_command(std::string_view root, std::optional<std::uint64_t> storage_kib,
                          const ResourceLimits& others = {});

/// GETQUOTA `root`: its resources (STORAGE in bytes). Needs the right to administer quota
/// (Cyrus: an admin). Throws mbx::Error as above (data when the server sends no QUOTA
/// response for `root`). Network.
Quota get_quota(Connection& conn, std::string_view root);

/// SETQUOTA `root` with a STORAGE limit of `storage_kib` KiB (nullopt: none) and `others`.
/// Needs an admin (Cyrus `admins:`). Throws mbx::Error as above. Network; changes the limit.
void set_quota(Connection& conn, std::string_view root, std::optional<std::uint64_t> storage_kib,
               const ResourceLimits& others = {});

/// The name of `user`'s mailbox (its INBOX) as an admin sees it: the prefix of the admin's
/// first other-users namespace followed by `user` ("user." + "alice" on Cyrus's default
/// layout). Throws mbx::Error(config) when `namespaces` has no other-users namespace, and
/// mbx::Error(data) for an empty `user` or one containing the namespace's delimiter (it would
/// name another user's folder). Pure.
std::string other_user_mailbox(const Namespaces& namespaces, std::string_view user);

/// SELECT (or EXAMINE when `read_only`) `mailbox`. Throws as above; data when the server
/// omits UIDVALIDITY or EXISTS. Changes the connection's selected mailbox. Network.
SelectInfo select(Connection& conn, std::string_view mailbox, bool read_only);

/// UID SEARCH `criteria` in the selected mailbox. `criteria` is sent as is (built by the
/// caller from trusted pieces, e.g. "SEEN BEFORE 1-Jan-2024"); a CR or LF throws
/// mbx::Error(internal). Returns the UIDs. Throws as above. Network.
std::vector<std::uint64_t> uid_search(Connection& conn, std::string_view criteria);

/// UID FETCH `uid_set` `items` (e.g. "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE)") in the
/// selected mailbox, calling `callback` once per FETCH response as it arrives, so memory
/// stays bounded by one response (body sections are moved, not copied, from the wire buffer
/// into the FetchItem; the callback may move them on). Other untagged responses are ignored. Throws
/// mbx::Error(internal) for a uid_set that is not a sequence set or items with CR/LF, and as
/// above; exceptions from `callback` propagate (the connection is then unusable). Network.
void uid_fetch(Connection& conn, std::string_view uid_set, std::string_view items,
               const std::function<void(FetchItem&)>& callback);

/// Turns a list of UIDs into a compact sequence set ("3:5,9"), sorted, duplicates removed.
/// Throws mbx::Error(internal) for an empty list or a UID of 0. No side effects.
std::string uid_set_of(std::vector<std::uint64_t> uids);

/// UID STORE `uid_set` `action` `flags` in the selected mailbox, e.g. action "+FLAGS.SILENT"
/// and flags {"\\Deleted"}. Flags must be flag atoms (`\\Seen`, `$Forwarded`, keywords);
/// anything else throws mbx::Error(internal). Throws as above. Network.
void uid_store(Connection& conn, std::string_view uid_set, std::string_view action,
               const std::vector<std::string>& flags);

/// UID EXPUNGE `uid_set` (RFC 4315 UIDPLUS): removes exactly those messages, never other
/// messages already marked \Deleted. Throws mbx::Error(unavailable) when the server lacks
/// UIDPLUS (a plain EXPUNGE is never sent), and as above. Network.
void uid_expunge(Connection& conn, std::string_view uid_set);

/// What APPEND reported: the APPENDUID response code of UIDPLUS when the server sent one.
struct AppendResult {
    std::optional<std::uint64_t> uidvalidity;
    std::optional<std::uint64_t> uid;
};

/// What an APPENDUID response code says (RFC 4315 section 3): the target mailbox's UIDVALIDITY
/// and the UIDs the server gave the appended messages, in the order they were sent (a
/// MULTIAPPEND's `uid-set`).
struct AppendUids {
    std::uint64_t uidvalidity = 0;
    std::vector<std::uint64_t> uids;
};

/// The UIDs of a sequence set of UIDs ("3955:3957,3960"; a range in either order stands for
/// the UIDs between, ascending), in its order; nullopt when it is malformed or names more than
/// `max` UIDs (never expands more). Pure.
std::optional<std::vector<std::uint64_t>> parse_uid_set(std::string_view text, std::size_t max);

/// The UIDs of the response code `code` ("APPENDUID 38505 3955:3957,3960") when it is an
/// APPENDUID naming exactly `count` UIDs; nullopt for another code, a malformed one, or another
/// count (never expands more than `count` UIDs). Pure.
std::optional<AppendUids> append_uids(std::string_view code, std::size_t count);

/// APPEND `message` to `mailbox` (UTF-8) with `flags` (flag atoms; \\Recent is dropped) and
/// `internaldate` as an IMAP date-time ("17-Jul-1996 02:44:25 -0700"; empty: the server's
/// now). The message goes as a literal (LITERAL+ when offered). Throws mbx::Error(internal)
/// for a bad flag or date text, temporary for [OVERQUOTA], data for [TRYCREATE], as above
/// otherwise. Network.
AppendResult append(Connection& conn, std::string_view mailbox, const std::vector<std::string>& flags,
                    std::string_view internaldate, std::string_view message);

/// The APPEND command append() sends, for pipelining with Connection::submit(): takes the
/// message over (no copy). Throws as append() for bad flags or date text. No side effects.
Command append_command(std::string_view mailbox, const std::vector<std::string>& flags, std::string_view internaldate,
                       std::string&& message);
/// What a completed APPEND said (APPENDUID), or the Error for its NO/BAD (see append()).
/// Throws mbx::Error for a failed APPEND to `mailbox`. No side effects.
AppendResult append_result(std::string_view mailbox, const Response& response);

/// Streaming MULTIAPPEND (RFC 3502) with LITERAL+ (RFC 7888), for Connection::submit_streamed():
/// the start "APPEND <mailbox>", or nullopt when the name would need a literal itself. No side
/// effects.
std::optional<std::string> multiappend_start(std::string_view mailbox);
/// The text before one message's bytes: " (flags) \"date\" {N+}" CRLF. Throws as append() for
/// bad flags or date text. No side effects.
std::string multiappend_item(const std::vector<std::string>& flags, std::string_view internaldate, std::size_t size);

/// The mailboxes the user subscribes to (`LSUB "" "*"`; names UTF-8). Throws as above. Network.
std::vector<std::string> subscribed_mailboxes(Connection& conn);

/// SUBSCRIBE `mailbox` (UTF-8). Throws as above. Network.
void subscribe(Connection& conn, std::string_view mailbox);

/// CREATE `mailbox` (UTF-8). `special_use` ("\\Archive", ...) adds `(USE (...))` (RFC 6154
/// §3) when the server has CREATE-SPECIAL-USE. An existing mailbox ([ALREADYEXISTS]) is not
/// an error. Throws as above. Network.
void create_mailbox(Connection& conn, std::string_view mailbox, std::string_view special_use = {});

/// The mbx::Error for a failed command: category from the response code (see above),
/// message naming `what` and the server's code and text. No side effects.
Error command_error(const std::string& what, const Response& response);

/// UID SEARCH with criteria built as a Command, so that values from data (a Message-ID, a
/// subject) go on the wire through Command::astring() quoting instead of string splicing:
/// e.g. Command("HEADER").astring("Message-ID").astring(id).raw("LARGER 99"). The criteria's
/// pieces follow "UID SEARCH" in order (its name is the first criterion). A value that needs
/// a literal (8-bit) also needs `CHARSET UTF-8` first, which the caller adds. Returns the UIDs.
/// Throws as above. Network.
std::vector<std::uint64_t> uid_search(Connection& conn, const Command& criteria);

/// RFC 2971 ID: sends `ID ("name" "value" ...)` with `client_fields` (ID NIL when empty; names
/// and values must be printable ASCII without `"` or `\\`, else mbx::Error(internal)) and
/// returns the server's field/value pairs in order (values NIL become empty), empty when the
/// server answered `* ID NIL`. Throws mbx::Error(data) when the server lacks the ID capability
/// or sends a malformed ID response, and as above. Network.
std::vector<std::pair<std::string, std::string>>
id(Connection& conn, const std::vector<std::pair<std::string, std::string>>& client_fields);

/// Which IMAP server software a connection talks to, for advice that names its tools.
enum class ServerKind {
    other,   ///< not recognised: advice stays with IMAP
    dovecot, ///< doveadm
    cyrus,   ///< cyradm, reconstruct
};

/// "other", "dovecot", "cyrus". Pure.
std::string_view server_kind_name(ServerKind kind);

/// The kind the RFC 2971 ID fields `fields` name ("name" "Dovecot", "name" "Cyrus IMAPD"). Pure.
ServerKind server_kind_of(const std::vector<std::pair<std::string, std::string>>& fields);

/// The kind of the server behind `conn`: `configured` ("dovecot", "cyrus", "other") when it is
/// not "auto" or empty, else what the server's ID says (ServerKind::other without ID, or when
/// ID fails). Throws mbx::Error(config) for another configured value naming `setting`, and
/// mbx::Error(unavailable) when the connection breaks. Network (one ID) for "auto".
ServerKind server_kind(Connection& conn, std::string_view configured, std::string_view setting = "imap.server-kind");

} // namespace mbx::imap
