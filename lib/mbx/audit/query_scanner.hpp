#pragma once
// The per-line query scanner of the log readers and the byte-level decoders it shares with
// eas_query.cpp, internal to the audit library (the unit tests and the fuzz targets include
// it). What the rest of mbxkit decodes a query with is eas_query.hpp.

#include "mbx/audit/eas_query.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mbx::audit {

/// What the client inventory reads of a query: the fields parse_query() decodes into
/// `query` and `log.protocol_version`, as views. They point into the scanned text when a
/// value has nothing to decode (nearly always), else into the QueryScanner's buffers: valid
/// until its next scan() and while the text lives.
struct QueryView {
    QueryForm form = QueryForm::none;
    std::string_view protocol_version = {}; ///< of the base64 form
    std::string_view command = {};
    std::string_view user = {};
    std::string_view device_id = {}; ///< normalise_device_id() form
    std::string_view device_type = {};
    bool has_log = false;
    std::string_view log_value = {};   ///< the Log= value as logged
    std::string_view log_version = {}; ///< exchange_log_version() of it
    QueryError error = QueryError::none;
};

/// parse_query() for the log readers, which call it once per line of logs of GiBs: one pass
/// over the query, no copy of a value that has no escape, the Log= field's version found in the
/// same pass that finds its end, the other parameters and Log= tokens skipped. Its fields are
/// always those parse_query() decodes (the eas_query fuzz target checks it).
class QueryScanner {
public:
    /// The fields of `query`. Pure apart from this object; never throws but bad_alloc.
    const QueryView& scan(std::string_view query);

private:
    // The steps of scan(), always inlined into it: scan() compiles as the one function it was.
    [[gnu::always_inline]] std::size_t scan_log(std::string_view query, std::size_t start);
    [[gnu::always_inline]] void scan_base64(std::string_view item);
    [[gnu::always_inline]] void scan_plain(std::string_view name, bool name_escaped, std::string_view raw,
                                           bool value_escaped);

    QueryView view_;
    EasQuery base64_;                                             ///< the base64 form's fields (their strings reused)
    std::string base64_unescaped_, base64_bytes_;                 ///< where the base64 form is decoded
    std::string command_, user_, device_id_, device_type_, name_; ///< decoded values
    std::array<char, 4> ver1_{}, version_v_{};                    ///< Log= versions ("16.1", "2.0")
};

/// percent_decode() into `out` (replacing its contents, keeping its capacity). Pure.
void percent_decode_into(std::string& out, std::string_view text, bool plus_is_space = true);

/// parse_exchange_log(value).protocol_version, without decoding the other tokens: it only
/// looks at tokens that start with `V`. Pure.
std::string exchange_log_version(std::string_view value);

/// The version a `V`/`Ver1:` token's digits stand for: "141" → "14.1", "25" → "2.5", "1" →
/// "1.0", "2" → "2.0", "3" → "2.1"; empty when `digits` is empty, not all digits or longer than
/// 3. Pure.
std::string version_from_log_digits(std::string_view digits);

namespace detail {

// Defined in query_scanner.cpp, beside the scanner whose per-line path uses them; eas_query.cpp's
// whole-query decoder and encoder use them too.

/// At most this many parameters (plain or base64) are kept.
inline constexpr std::size_t kMaxParameters = 32;

/// Non-empty and all ASCII digits.
bool is_digits(std::string_view s);

/// The name of a base64 parameter tag ([MS-ASHTTP] 2.2.1.1.1.1.3); "Tag<n>" for an unknown one.
std::string parameter_name(std::uint8_t tag);

/// normalise_device_id() in place: no copy for the usual printable id.
void normalise_device_id_in_place(std::string& id);

/// version_from_byte() appended to `out` (no allocation).
void append_version(std::string& out, std::uint8_t byte);

/// A query item that is the base64 form: base64 alphabet (maybe percent-escaped) and no `=`
/// except trailing padding.
bool looks_base64(std::string_view item);

/// A parameter name of the plain form ([MS-ASHTTP] 2.2.1.1.1.2), any case.
bool is_plain_name(std::string_view name);

/// The base64 form into `out`; the parameters other than User only when `keep`. `unescaped`
/// and `bytes` are where it decodes (QueryScanner reuses them from line to line: no allocation).
QueryError decode_base64(std::string_view text, EasQuery& out, bool keep, std::string& unescaped, std::string& bytes);

/// version_from_log_digits() into `buffer` (4 bytes: "16.1" at most), no allocation.
std::string_view log_digits_version(std::string_view digits, std::array<char, 4>& buffer);

/// The version of a `V<digits>` token of Exchange's Log= field, or empty.
std::string_view v_token_version(std::string_view token, std::array<char, 4>& buffer);

} // namespace detail

} // namespace mbx::audit
