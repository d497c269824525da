#pragma once
// A strict, bounded parser of IMAP response data (RFC 3501 §9, RFC 9051 §9) over a
// ResponseLine, and typed decoders for the responses mbxkit uses: QUOTAROOT/QUOTA (RFC 9208),
// LIST, STATUS, FETCH and SEARCH. Every malformed input is an mbx::Error(data); a hostile
// server can neither crash the parser nor make it allocate without bound (depth and element
// limits on top of the ReaderLimits that bounded the line).

#include "mbx/imap/response_reader.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::imap {

/// Bounds on what parsing one response line may build.
struct ParserLimits {
    std::size_t max_depth = 64;           ///< nesting of parenthesised lists
    std::size_t max_elements = 1'000'000; ///< values in one line, all levels together
};

/// One value of IMAP response data.
struct Value {
    enum class Kind {
        atom,    ///< `\Seen`, `UID`, `BODY[HEADER.FIELDS (MESSAGE-ID)]<0>` (brackets kept)
        number,  ///< digits only, fits in 64 bits
        quoted,  ///< quoted string, escapes removed
        literal, ///< `{N}` literal, the bytes
        nil,     ///< NIL
        list     ///< `( ... )`
    };
    Kind kind = Kind::nil;
    std::string text;         ///< atom / number digits / string bytes
    std::uint64_t number = 0; ///< Kind::number
    std::vector<Value> items; ///< Kind::list

    bool is_nil() const noexcept { return kind == Kind::nil; }
    bool is_list() const noexcept { return kind == Kind::list; }
    bool is_atom() const noexcept { return kind == Kind::atom; }
    /// The bytes of a quoted string, literal, atom or number (an astring). Throws
    /// mbx::Error(data) for NIL and lists. No side effects.
    const std::string& as_string() const;
    /// As as_string(), but NIL gives nullopt (an nstring). Throws mbx::Error(data) for lists.
    std::optional<std::string> as_nstring() const;
    /// The number. Throws mbx::Error(data) for anything else. No side effects.
    std::uint64_t as_number() const;
    /// The items of a list. Throws mbx::Error(data) for anything else. No side effects.
    const std::vector<Value>& list() const;
    /// The atom upper-cased (for keywords). Throws mbx::Error(data) unless an atom.
    std::string keyword() const;
};

/// An untagged response (`* ...`).
struct Untagged {
    std::optional<std::uint64_t> number; ///< `* 12 FETCH ...` -> 12
    std::string keyword;                 ///< upper-cased: "FETCH", "LIST", "OK"
    std::vector<Value> arguments;        ///< the data after the keyword (not for OK/NO/BAD...)
    std::string code;                    ///< OK/NO/BAD/BYE/PREAUTH: response code, no brackets
    std::string text;                    ///< OK/NO/BAD/BYE/PREAUTH: the human-readable text
};

/// Parses an untagged response line. Status responses (OK, NO, BAD, BYE, PREAUTH) keep their
/// resp-text in `code`/`text`; everything else is parsed into `arguments`. Throws
/// mbx::Error(data) for a line that is not `* ...`, bad syntax, literal marker mismatches, or
/// when `limits` are exceeded. No side effects.
Untagged parse_untagged(const ResponseLine& line, const ParserLimits& limits = {});
/// As above, moving the literals out of `line` instead of copying them (message bodies).
Untagged parse_untagged(ResponseLine&& line, const ParserLimits& limits = {});

/// Parses `text` (no literals) as space-separated values, e.g. the response code
/// "PERMANENTFLAGS (\Seen \*)". Throws as parse_untagged(). No side effects.
std::vector<Value> parse_values(std::string_view text, const ParserLimits& limits = {});

/// `* QUOTAROOT mailbox root...` (RFC 9208 §5.2).
struct QuotaRoot {
    std::string mailbox;            ///< UTF-8
    std::vector<std::string> roots; ///< may be empty: no quota
};

/// One resource of a quota root. Values are converted to bytes for STORAGE (sent in units of
/// 1024 octets, RFC 9208 §5.1); other resources (MESSAGE, MAILBOX, ...) keep their own unit.
struct QuotaResource {
    std::string name; ///< upper-cased: "STORAGE", "MESSAGE"
    std::uint64_t usage = 0;
    std::uint64_t limit = 0;
};

/// `* QUOTA root (resource usage limit ...)` (RFC 9208 §5.1).
struct Quota {
    std::string root;
    std::vector<QuotaResource> resources;
    /// The resource called `name` (case-insensitive), or nullptr.
    const QuotaResource* find(std::string_view name) const;
};

/// `* LIST (attributes) delimiter name [extended data]` (RFC 3501 §7.2.2, RFC 5258).
struct ListEntry {
    std::vector<std::string> attributes; ///< as sent: `\HasNoChildren`, `\Sent`
    std::optional<char> delimiter;       ///< nullopt for NIL (flat namespace)
    std::string name;                    ///< UTF-8; "INBOX" in any case becomes "INBOX"
    /// True when `attribute` is among the attributes (case-insensitive, with the backslash).
    bool has_attribute(std::string_view attribute) const;
};

/// `* STATUS mailbox (item value ...)` (RFC 3501 §7.2.4).
struct StatusEntry {
    std::string mailbox;                        ///< UTF-8
    std::map<std::string, std::uint64_t> items; ///< upper-cased names: "MESSAGES", "SIZE"
    /// The value of item `name` (upper-case), or nullopt.
    std::optional<std::uint64_t> get(const std::string& name) const;
};

/// One namespace of a NAMESPACE response (RFC 2342 §5): the prefix its mailbox names start with
/// and its hierarchy delimiter.
struct NamespaceEntry {
    std::string prefix;            ///< UTF-8, as mailbox names are: "", "INBOX.", "user/", "#shared/"
    std::optional<char> delimiter; ///< nullopt for NIL (a flat namespace)
};

/// `* NAMESPACE personal other-users shared` (RFC 2342 §5): each group NIL (empty) or a list
/// of namespaces; Namespace_Response_Extensions (RFC 2342 §5, "TRANSLATION" ...) are skipped.
struct Namespaces {
    std::vector<NamespaceEntry> personal;
    std::vector<NamespaceEntry> other_users;
    std::vector<NamespaceEntry> shared;
};

/// `* n FETCH (...)` (RFC 3501 §7.4.2). Items the server did not send stay empty; items
/// mbxkit does not use (ENVELOPE, BODYSTRUCTURE, ...) are skipped after parsing.
struct FetchItem {
    std::uint64_t sequence = 0;
    std::optional<std::uint64_t> uid;
    std::optional<std::vector<std::string>> flags;
    std::optional<std::string> internaldate_text;         ///< as sent: "17-Jul-1996 02:44:25 -0700"
    std::optional<std::chrono::sys_seconds> internaldate; ///< the same instant in UTC
    std::optional<std::uint64_t> size;                    ///< RFC822.SIZE
    /// Body sections by their upper-cased name as sent: "BODY[]", "BODY[HEADER]",
    /// "RFC822", "BINARY[1]", "BODY[]<0>". NIL gives nullopt.
    std::map<std::string, std::optional<std::string>> sections;
};

/// `* SEARCH n...` (RFC 3501 §7.2.5), with the `(MODSEQ n)` of RFC 7162 when present.
struct SearchResult {
    std::vector<std::uint64_t> ids;
    std::optional<std::uint64_t> highest_modseq;
};

/// Decoders from a parsed untagged response. Each throws mbx::Error(data) when the keyword
/// is not the expected one or the data does not have the expected shape. `utf8_accept`: the
/// session has enabled UTF8=ACCEPT (RFC 6855), so mailbox names are UTF-8 and not modified
/// UTF-7. No side effects.
QuotaRoot decode_quota_root(const Untagged& u, bool utf8_accept = false);
Quota decode_quota(const Untagged& u);
ListEntry decode_list(const Untagged& u, bool utf8_accept = false);
StatusEntry decode_status(const Untagged& u, bool utf8_accept = false);
Namespaces decode_namespace(const Untagged& u, bool utf8_accept = false);
FetchItem decode_fetch(const Untagged& u);
/// As above, moving body sections out of `u` (a large message is held once).
FetchItem decode_fetch(Untagged&& u);
SearchResult decode_search(const Untagged& u);

/// Parses an RFC 3501 date-time ("17-Jul-1996 02:44:25 -0700", day may be " 7") to UTC.
/// Throws mbx::Error(data) for anything else (also impossible dates). No side effects.
std::chrono::sys_seconds parse_internaldate(std::string_view text);

} // namespace mbx::imap
