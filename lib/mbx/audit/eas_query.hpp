#pragma once
// The ActiveSync request query, as servers log it: the plain form
// (`Cmd=Sync&User=alice&DeviceId=ABC&DeviceType=iPhone`, [MS-ASHTTP] 2.2.1.1.1.2), the base64
// form ([MS-ASHTTP] 2.2.1.1.1.1, protocol 12.1+), and the `Log=` field Exchange appends to
// cs-uri-query in its IIS logs (`V141_...`, `Ver1:161_...`, Exchange 2003 `V2TCo...`).
//
// Every function here reads untrusted log bytes: it is bounded by its input, never reads past
// it, never throws (except std::bad_alloc) and reports bad input as a value. Values keep the
// bytes they decode to (invalid UTF-8 and control characters included); whoever shows them
// must pass them through mbx::out::printable.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mbx::audit {

/// Which query form a request used.
enum class QueryForm { none, plain, base64 };

/// Why a query could not be decoded.
enum class QueryError {
    none,
    bad_base64, ///< not base64 (or percent-escaped garbage) where the base64 form was expected
    truncated,  ///< a length field points past the end of the decoded bytes
    bad_length, ///< device id length 0 or policy key length other than 0 and 4
};

/// "bad base64", "truncated", ... for messages. Pure.
std::string_view query_error_name(QueryError error);

/// One command parameter: base64 tag ([MS-ASHTTP] 2.2.1.1.1.1.3) or plain `name=value`.
struct QueryParameter {
    std::string name = {};  ///< "CollectionId", "ItemId", ...; "Tag<n>" for an unknown tag
    std::string value = {}; ///< decoded bytes; Options is shown as its byte in decimal
};

/// What a request's query says about the client.
struct EasQuery {
    QueryForm form = QueryForm::none;
    std::string protocol_version = {};             ///< "14.1" (base64 form only; the plain form uses a header)
    std::string command = {};                      ///< "Sync", "FolderSync"; "Command<n>" for an unknown code
    std::optional<std::uint8_t> command_code = {}; ///< the base64 code byte
    std::optional<std::uint16_t> locale = {};      ///< LCID, base64 form only
    std::string user = {};                         ///< plain `User=`, or the base64 User parameter
    std::string device_id = {};                    ///< see normalise_device_id()
    std::string device_type = {};
    std::optional<std::uint32_t> policy_key = {};
    std::vector<QueryParameter> parameters = {}; ///< everything else, in order
};

/// What Exchange's `Log=` field says. Only the version and `Name:value` tokens are kept.
struct ExchangeLog {
    std::string protocol_version = {}; ///< from `Ver1:161`, `V141`, `V25`, `V2`..., else empty
    /// `Name:value` tokens in order (`DevOS` → "iOS 9.2 13C71", `As`, `Error`, `SC1`...), values
    /// URL-decoded; at most kMaxLogFields are kept.
    std::vector<std::pair<std::string, std::string>> fields = {};
};

inline constexpr std::size_t kMaxLogFields = 32;

/// A whole logged query: the EAS part, Exchange's Log= part, and whether decoding failed.
struct ParsedQuery {
    EasQuery query = {};
    ExchangeLog log = {};
    bool has_log = false;                ///< a Log= field was present
    std::string_view log_value = {};     ///< the Log= value as logged (a view into the query text)
    QueryError error = QueryError::none; ///< the base64 part did not decode (query is partial)
};

/// The protocol version a base64 version byte stands for: the byte is version × 10
/// (121 → "12.1", 140 → "14.0"); bytes that are no known version are shown the same way
/// (99 → "9.9"). Pure.
std::string version_from_byte(std::uint8_t byte);

/// True for the versions that exist: 1.0, 2.0, 2.1, 2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1. Pure.
bool is_known_version(std::string_view version);

/// The command name of a base64 command code ([MS-ASHTTP] 2.2.1.1.1.1.2), empty when the code is
/// not in the table. Pure.
std::string_view command_name(std::uint8_t code);

/// A device id as the inventory shows and counts it. The base64 form carries the id as bytes
/// (often a 16-byte GUID) while servers log the plain form's id as text, hex-encoding binary
/// ids: bytes that are all printable ASCII (0x21..0x7E) are kept as they are, anything else
/// becomes lower-case hex ("\x01\xab" → "01ab"). Pure.
std::string normalise_device_id(std::string_view raw);

/// `text` with `%XX` escapes decoded, and `+` turned into a space when `plus_is_space` (HTML
/// form encoding, which query strings use). A `%` not followed by two hex digits is kept. Pure.
std::string percent_decode(std::string_view text, bool plus_is_space = true);

/// Decodes the base64 query form ([MS-ASHTTP] 2.2.1.1.1.1) into `out`: version, command,
/// locale, device id, policy key, device type and parameters. `text` may be percent-escaped (as
/// some proxies log it); `+` is base64, never a space. Returns QueryError::none on success;
/// otherwise `out` keeps the fields decoded before the error. Pure.
QueryError decode_base64_query(std::string_view text, EasQuery& out);

/// Encodes `query` in the base64 form ([MS-ASHTTP] 2.2.1.1.1.1), the inverse of
/// decode_base64_query(): the version ("14.1" → byte 141), the command (`command_code`, else
/// the code of `command`), `locale` (default 0x0409 en-US), `device_id` (its bytes, 1..255),
/// `policy_key`, `device_type`, `user` (tag 8) and `parameters` (named as parameter tags,
/// "Tag<n>" allowed; Options as its decimal byte value). The text is standard base64 with `=`
/// padding, to be sent unescaped (SOGo answers 500 to a percent-escaped one). Nothing when a field
/// cannot be encoded: a version that is not "D.D"/"DD.D" below 25.6, an unknown command, an
/// empty or over-long device id, a value over 255 bytes, an unknown parameter name. Pure.
std::optional<std::string> encode_base64_query(const EasQuery& query);

/// The query part of a logged request URI (what follows `?`, or IIS's cs-uri-query): plain
/// `name=value&...` pairs (names case-insensitive, values percent-decoded), a leading base64
/// query, and Exchange's `Log=` field (also after `&&`). Unknown names become parameters
/// (at most 32). Pure.
ParsedQuery parse_query(std::string_view query);

/// Decodes the value of Exchange's `Log=` field (already percent-decoded or not: tokens are
/// decoded here): `_`-separated tokens; the version from `Ver1:<digits>` (Exchange 2013+) or
/// `V<digits>` (2007-2016: `V141` → 14.1, `V25` → 2.5; Exchange 2003: `V1`/`V2`/`V3` → 1.0,
/// 2.0, 2.1, possibly followed directly by other letters, `V2TCo...`). Pure.
ExchangeLog parse_exchange_log(std::string_view value);

} // namespace mbx::audit
