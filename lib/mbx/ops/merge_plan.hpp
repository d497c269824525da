#pragma once
// The pure half of `mbx merge`: which source folder goes to which target folder, which
// messages are selected, and which of them the target is missing. No network; unit-tested.

#include "mbx/ops/fwd.hpp"
#include "mbx/ops/message.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mbx::ops::merge {

/// A mailbox as LIST showed it, with what the plan needs.
struct Folder {
    std::string name;              ///< UTF-8, as the server shows it ("Lists/dev")
    std::optional<char> delimiter; ///< the hierarchy delimiter; nullopt: flat
    std::string special_use;       ///< "\\Sent", ... (RFC 6154) or empty
    bool selectable = true;        ///< false for \Noselect / \NonExistent
    bool subscribed = false;
};

/// Folders from LIST entries and the subscribed names. Pure.
std::vector<Folder> folders_of(const std::vector<imap::ListEntry>& list, const std::vector<std::string>& subscribed);

/// Whose folders a namespace holds (RFC 2342 §4).
enum class NamespaceKind {
    personal,    ///< the user's own
    other_users, ///< other users' folders the user may see ("user.bob.Projects" on Cyrus)
    shared,      ///< shared folders ("shared/announcements")
};

/// "personal", "other-users", "shared": as the report and the documentation say it. Pure.
std::string_view namespace_kind_name(NamespaceKind k);

/// One namespace of a server, as NAMESPACE reported it.
struct Namespace {
    NamespaceKind kind = NamespaceKind::personal;
    std::string prefix;            ///< UTF-8: "" (Dovecot's default), "INBOX." (Cyrus, Courier)
    std::optional<char> delimiter; ///< nullopt: flat
};

/// The namespaces of a NAMESPACE response, personal first. Pure.
std::vector<Namespace> namespaces_of(const imap::Namespaces& n);

/// One side of a merge: its folders, and the namespaces that say how their names are built.
struct Hierarchy {
    std::vector<Folder> folders;
    std::vector<Namespace> namespaces; ///< empty: one personal namespace "" with the folders' delimiter
};

/// The namespace `name` is in: the one with the longest prefix that the name starts with (or
/// that is the name with its trailing delimiter); INBOX is always personal. A name that no
/// prefix matches is personal. Pure.
Namespace namespace_of(const std::string& name, const std::vector<Namespace>& namespaces);

/// How folders are chosen and named.
struct FolderRules {
    std::vector<std::string> include = {}; ///< fnmatch globs on the source name; empty: all
    std::vector<std::string> exclude = {};
    /// --map OLD=NEW: the source folder OLD (and everything below it) goes to NEW on the target.
    std::vector<std::pair<std::string, std::string>> map = {};
    /// --include-shared: also other users' and shared folders (see plan_folders).
    bool include_shared = false;
};

/// Parses one --map argument "OLD=NEW". Throws mbx::Error(usage) without '=' or with an empty
/// side. Pure.
std::pair<std::string, std::string> parse_map(std::string_view text);

/// Where one source folder goes.
struct FolderPlan {
    std::string source;      ///< source name (UTF-8)
    std::string target;      ///< target name (UTF-8)
    std::string special_use; ///< the source folder's special use (CREATE ... USE)
    bool create = false;     ///< the target folder does not exist yet
    bool subscribe = false;  ///< subscribed on the source, not on the target
    std::string reason;      ///< how the target name was chosen: "inbox", "special-use", "map", "name"
};

/// A source folder the plan leaves out because it is not the user's own.
struct ForeignFolder {
    std::string name;
    NamespaceKind kind = NamespaceKind::shared;
};

/// The folder plan, and the folders it left out for their namespace.
struct FolderPlans {
    std::vector<FolderPlan> folders;
    std::vector<ForeignFolder> foreign; ///< without --include-shared: other users' and shared folders
};

/// The name `name` (a folder of `from`'s namespace `ns`) has in the namespace `to` of the
/// target: the prefix of `ns` replaced by the prefix of `to`, each level of the rest kept, in
/// `to`'s delimiter (a level that holds that delimiter gets '_' in its place). So "INBOX.a.b"
/// in Cyrus's personal namespace is "a/b" in Dovecot's, and "INBOX/x" in Dovecot's is
/// "INBOX.INBOX.x" in Cyrus's (x is a child of INBOX there, as imapsync maps it). Pure.
std::string translate_name(const std::string& name, const Namespace& ns, const Namespace& to);

/// Maps every selectable source folder that passes the include/exclude globs to a target
/// folder: INBOX to INBOX; --map (longest matching OLD wins, also for the folders below it);
/// a special-use folder to the target's personal folder with the same special use when there
/// is one; otherwise translate_name() into the target's personal namespace. Folders in
/// another namespace (other users', shared) are left out, listed in `foreign`, unless
/// `rules.include_shared`: then they go to the target's first namespace of the same kind, or,
/// when it has none, into its personal namespace under their full name. Virtual \All and
/// \Flagged folders are skipped (their messages live in other folders). Sorted by source name,
/// INBOX first. Pure.
FolderPlans plan_folders(const Hierarchy& source, const Hierarchy& target, const FolderRules& rules);

/// One message as the plan sees it (no body).
struct Message {
    std::uint64_t uid = 0;
    std::uint64_t size = 0;
    Identity identity = {};
    std::chrono::sys_seconds internaldate = {};
    bool deleted = false;
    std::uint64_t flags = 0; ///< flags_hash() of its flags and keywords
    // Nothing else: a folder's scan holds one of these per message, so it stays small
    // (rejected messages get their Message-ID from the body when it is sent).
};

/// A hash of a message's flags and keywords as a set: order and case do not count, `\Recent`
/// (which no client can set) is left out. Equal hashes: the same flags, as far as a merge
/// cares. Pure.
std::uint64_t flags_hash(const std::vector<std::string>& flags);

/// `flags` without `\Recent`: what APPEND and STORE can set. Pure.
std::vector<std::string> settable_flags(const std::vector<std::string>& flags);

/// The Message of a FETCH of (UID FLAGS INTERNALDATE RFC822.SIZE + kFingerprintFetch).
/// Throws mbx::Error(data) when an item is missing. Pure.
Message message_of(const imap::FetchItem& item);

/// Which messages the admin selected (--since/--before/--max-size/--include-deleted).
struct MessageFilter {
    std::optional<std::chrono::sys_seconds> since = {};  ///< INTERNALDATE >= since
    std::optional<std::chrono::sys_seconds> before = {}; ///< INTERNALDATE < before
    std::optional<std::uint64_t> max_size = {};
    bool include_deleted = false;
};

bool selected(const Message& m, const MessageFilter& filter);

/// The copies a merge made and knows by UID (APPENDUID, RFC 4315): source UID -> target UID,
/// within one pair of folders and UIDVALIDITYs.
using KnownCopies = std::unordered_map<std::uint64_t, std::uint64_t>;

/// How the source messages stand on the target.
struct Matching {
    std::vector<std::size_t> missing = {};                       ///< source indexes, ascending
    std::vector<std::pair<std::size_t, std::size_t>> pairs = {}; ///< (source index, target index)
    std::uint64_t by_uid = 0;                                    ///< pairs found through `known` (no identity needed)
    std::uint64_t resized = 0; ///< pairs whose sizes differ: the target changed the bytes on APPEND
};

/// Pairs each source message with at most one target message, each target message used once:
/// first the copies `known` by UID, then by Message-ID, then (source messages without one) by
/// Date/From/Subject against the target messages left that have no Message-ID or one no source
/// message has (a server that adds a Message-ID on APPEND). Within a group of equal identities
/// the sizes decide which pairs with which (closest sizes, sorted order); a size never decides
/// alone, so a copy whose bytes the server changed still pairs. A message marked \Deleted only
/// pairs with one that is too. So a source with two equal messages needs two copies, and two
/// different messages that share an identity are both copied. Pure.
Matching match_messages(const std::vector<Message>& source, const std::vector<Message>& target,
                        const KnownCopies& known = {});

} // namespace mbx::ops::merge
