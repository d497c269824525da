#include "mbx/audit/query_scanner.hpp"
#include "mbx/audit/scan.hpp"

#include "mbx/core/text.hpp"

#include <array>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// The per-line path of a logged query: percent and base64 decoding, device ids, the version of
// Exchange's Log= field, and QueryScanner, which the log readers call once per line. The
// whole-query decoder and the encoder (eas_query.cpp) use the same decoders.

namespace mbx::audit {
using detail::kMaxParameters;
using detail::log_digits_version;
using detail::parameter_name;
using detail::v_token_version;
using scan::find_byte;
using scan::find_either;
using scan::find_either_long;
namespace {

// A table: percent_decode calls this for every `%` of every logged query.
constexpr auto kHexValues = byte_table([](int c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
});

int hex_value(char c) { return kHexValues[static_cast<unsigned char>(c)]; }

} // namespace

namespace detail {

bool is_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

} // namespace detail

namespace {

// iequals(name, keyword) for a keyword of lower-case ASCII letters only: a byte matches when
// it is the letter in either case (x | 0x20 is the lower-case letter for those two bytes only),
// 8 bytes a compare.
bool is_keyword(std::string_view name, std::string_view keyword) {
    if (name.size() != keyword.size()) return false;
    std::size_t i = 0;
    for (; i + 8 <= name.size(); i += 8) {
        std::uint64_t x, k;
        std::memcpy(&x, name.data() + i, sizeof x);
        std::memcpy(&k, keyword.data() + i, sizeof k);
        if ((x | 0x2020202020202020ull) != k) return false;
    }
    for (; i < name.size(); ++i)
        if ((name[i] | 0x20) != keyword[i]) return false;
    return true;
}

} // namespace

namespace detail {

// [MS-ASHTTP] 2.2.1.1.1.1.3: tags 2 and 5 are not defined.
std::string parameter_name(std::uint8_t tag) {
    switch (tag) {
    case 0: return "AttachmentName";
    case 1: return "CollectionId";
    case 3: return "ItemId";
    case 4: return "LongId";
    case 6: return "Occurrence";
    case 7: return "Options";
    case 8: return "User";
    default: return "Tag" + std::to_string(tag);
    }
}

} // namespace detail

namespace {

// A cursor over the decoded bytes that never moves past the end.
class Bytes {
public:
    explicit Bytes(std::string_view data) : data_(data) {}
    bool empty() const { return data_.empty(); }
    bool take(std::size_t n, std::string_view& out) {
        if (n > data_.size()) return false;
        out = data_.substr(0, n);
        data_.remove_prefix(n);
        return true;
    }
    bool byte(std::uint8_t& out) {
        std::string_view b;
        if (!take(1, b)) return false;
        out = static_cast<std::uint8_t>(b[0]);
        return true;
    }

private:
    std::string_view data_;
};

std::uint32_t little_endian(std::string_view b) {
    std::uint32_t v = 0;
    for (std::size_t i = b.size(); i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[i]);
    return v;
}

// The parameters after the device type: (tag, length, value) until the bytes end. Without
// `keep` only the User parameter is kept (the others are still checked).
QueryError decode_parameters(Bytes& in, EasQuery& out, bool keep) {
    while (!in.empty()) {
        std::uint8_t tag = 0, length = 0;
        std::string_view value;
        if (!in.byte(tag) || !in.byte(length) || !in.take(length, value)) return QueryError::truncated;
        if (tag == 8) {
            out.user.assign(value);
        } else if (keep && out.parameters.size() < kMaxParameters) {
            std::string shown = tag == 7 && value.size() == 1 ? std::to_string(static_cast<unsigned char>(value[0]))
                                                              : std::string(value);
            out.parameters.push_back({parameter_name(tag), std::move(shown)});
        }
    }
    return QueryError::none;
}

// True when every byte of `id` is printable ASCII (0x21..0x7E): normalise_device_id() keeps it
// as it is. 16 bytes at a time with SSE2.
bool is_printable_id(std::string_view id) {
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i low = _mm_set1_epi8(0x20), high = _mm_set1_epi8(0x7F);
    for (; i + 16 <= id.size(); i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(id.data() + i));
        // Signed compares: bytes >= 0x80 are negative, below 0x21.
        const __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(v, low), _mm_cmplt_epi8(v, high));
        if (_mm_movemask_epi8(ok) != 0xFFFF) return false;
    }
#endif
    for (; i < id.size(); ++i)
        if (id[i] < 0x21 || id[i] > 0x7E) return false;
    return true;
}

} // namespace

namespace detail {

// normalise_device_id() in place: no copy for the usual printable id.
void normalise_device_id_in_place(std::string& id) {
    if (!is_printable_id(id)) id = normalise_device_id(id);
}

// version_from_byte() appended to `out`: byte / 10, a dot, byte % 10 (no allocation: the log
// readers decode a version per base64 line).
void append_version(std::string& out, std::uint8_t byte) {
    const int major = byte / 10;
    if (major >= 10) out += static_cast<char>('0' + major / 10);
    out += static_cast<char>('0' + major % 10);
    out += '.';
    out += static_cast<char>('0' + byte % 10);
}

// A query item that is the base64 form: base64 alphabet (maybe percent-escaped) and no `=`
// except trailing padding. Plain items always have `name=`.
bool looks_base64(std::string_view item) {
    while (!item.empty() && item.back() == '=') item.remove_suffix(1);
    while (item.size() >= 3 && item.substr(item.size() - 3) == "%3D") item.remove_suffix(3);
    // The shortest valid byte sequence is 8 bytes: 11 characters without padding.
    if (item.size() < 11) return false;
    for (char c : item) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                        c == '/' || c == '%';
        if (!ok) return false;
    }
    return true;
}

// The parameter names of the plain form ([MS-ASHTTP] 2.2.1.1.1.2): `CollectionId=` alone at
// the start of a query is plain, not base64 that happens to end in padding.
bool is_plain_name(std::string_view name) {
    static constexpr std::array<std::string_view, 11> kNames = {
        "Cmd",    "User",       "DeviceId",   "DeviceType", "AttachmentName", "CollectionId", "ItemId",
        "LongId", "Occurrence", "SaveInSent", "Log"};
    for (auto n : kNames)
        if (iequals(n, name)) return true;
    return false;
}

QueryError decode_base64(std::string_view text, EasQuery& out, bool keep, std::string& unescaped, std::string& bytes) {
    out.form = QueryForm::base64;
    if (find_byte(text, '%') != std::string_view::npos) { // some proxies log it percent-escaped
        percent_decode_into(unescaped, text, false);
        text = unescaped;
    }
    if (!base64_decode_into(bytes, text)) return QueryError::bad_base64;
    Bytes in(bytes);
    std::uint8_t version = 0, command = 0, id_length = 0, key_length = 0, type_length = 0;
    std::string_view locale, id, key, type;
    if (!in.byte(version)) return QueryError::truncated;
    out.protocol_version.clear();
    append_version(out.protocol_version, version);
    if (!in.byte(command)) return QueryError::truncated;
    out.command_code = command;
    const auto name = command_name(command);
    if (name.empty()) out.command = "Command" + std::to_string(command);
    else out.command.assign(name);
    if (!in.take(2, locale)) return QueryError::truncated;
    out.locale = static_cast<std::uint16_t>(little_endian(locale));
    if (!in.byte(id_length)) return QueryError::truncated;
    if (id_length == 0) return QueryError::bad_length;
    if (!in.take(id_length, id)) return QueryError::truncated;
    out.device_id.assign(id);
    normalise_device_id_in_place(out.device_id);
    if (!in.byte(key_length)) return QueryError::truncated;
    if (key_length != 0 && key_length != 4) return QueryError::bad_length;
    if (!in.take(key_length, key)) return QueryError::truncated;
    if (key_length == 4) out.policy_key = little_endian(key);
    if (!in.byte(type_length) || !in.take(type_length, type)) return QueryError::truncated;
    out.device_type.assign(type);
    return decode_parameters(in, out, keep);
}

// version_from_log_digits() into `buffer` (4 bytes: "16.1" at most), no allocation.
std::string_view log_digits_version(std::string_view digits, std::array<char, 4>& buffer) {
    if (!is_digits(digits) || digits.size() > 3) return {};
    if (digits.size() == 1) { // Exchange 2003: V1 = 1.0, V2 = 2.0, V3 = 2.1
        buffer = {digits[0] == '3' ? '2' : digits[0], '.', digits[0] == '3' ? '1' : '0'};
        return {buffer.data(), 3};
    }
    const std::size_t n = digits.size();
    for (std::size_t i = 0; i + 1 < n; ++i) buffer[i] = digits[i];
    buffer[n - 1] = '.';
    buffer[n] = digits[n - 1];
    return {buffer.data(), n + 1};
}

// The version of a `V<digits>` token of Exchange's Log= field, or empty: V141 and V25 take the
// whole token; Exchange 2003 runs on after one digit (V2TCo...).
std::string_view v_token_version(std::string_view token, std::array<char, 4>& buffer) {
    if (token.empty() || token[0] != 'V') return {};
    std::size_t n = 1;
    while (n < token.size() && token[n] >= '0' && token[n] <= '9') ++n;
    const auto digits = token.substr(1, n - 1);
    return n == token.size() || digits.size() == 1 ? log_digits_version(digits, buffer) : std::string_view{};
}

} // namespace detail

namespace {

// The version of the Log= value that starts at `text[start]` and ends at the end of `text`, or
// with `stop_at_amp` before the first `&` (a query's next item); where it ends goes to `end`. The tokens
// parse_exchange_log takes a version from start with `V` (V141, Ver1:161), so only those are looked at, with the same
// rules: the first V<digits> token, a later Ver1:<digits> winning over it. One pass for both
// the version and the end.
std::string_view log_value_version(std::string_view text, std::size_t start, bool stop_at_amp,
                                   std::array<char, 4>& ver1_buffer, std::array<char, 4>& v_buffer, std::size_t& end) {
    std::string_view ver1, version_v;
    for (std::size_t pos = start;;) {
        // The value runs for hundreds of bytes: the long-span search (AVX2 where the CPU has it).
        const std::size_t v = find_either_long(text, 'V', stop_at_amp ? '&' : 'V', pos);
        if (v == std::string_view::npos || text[v] != 'V') {
            end = v == std::string_view::npos ? text.size() : v;
            break;
        }
        pos = v + 1;
        if (v > start && text[v - 1] != '_') continue; // inside a token
        const std::size_t token_end = stop_at_amp ? find_either(text, '_', '&', v) : find_byte(text, '_', v);
        const std::string_view token = text.substr(v, token_end == std::string_view::npos ? text.npos : token_end - v);
        if (version_v.empty() && !(version_v = v_token_version(token, v_buffer)).empty()) continue;
        constexpr std::string_view kVer1 = "Ver1:";
        if (token.substr(0, kVer1.size()) == kVer1)
            if (const auto version = log_digits_version(token.substr(kVer1.size()), ver1_buffer); !version.empty())
                ver1 = version;
    }
    return ver1.empty() ? version_v : ver1;
}

} // namespace

std::string exchange_log_version(std::string_view value) {
    std::array<char, 4> ver1{}, version_v{};
    std::size_t end = 0;
    return std::string(log_value_version(value, 0, false, ver1, version_v, end));
}

using detail::decode_base64;
using detail::is_plain_name;
using detail::looks_base64;

std::string_view command_name(std::uint8_t code) {
    // [MS-ASHTTP] 2.2.1.1.1.1.2; codes 5-8 are not assigned.
    // A table laid out by hand: six command codes a line.
    // clang-format off
    static constexpr std::array<std::string_view, 23> kCommands = {
        "Sync",       "SendMail",     "SmartForward", "SmartReply",      "GetAttachment",   "",
        "",           "",             "",             "FolderSync",      "FolderCreate",    "FolderDelete",
        "FolderUpdate", "MoveItems",  "GetItemEstimate", "MeetingResponse", "Search",       "Settings",
        "Ping",       "ItemOperations", "Provision",  "ResolveRecipients", "ValidateCert"};
    return code < kCommands.size() ? kCommands[code] : std::string_view{};
}

std::string normalise_device_id(std::string_view raw) {
    if (is_printable_id(raw)) return std::string(raw);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (char c : raw) {
        const auto b = static_cast<unsigned char>(c);
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    percent_decode_into(out, text, plus_is_space);
    return out;
}

void percent_decode_into(std::string& out, std::string_view text, bool plus_is_space) {
    // Most values have nothing to decode: one scan, one copy.
    if (find_either(text, '%', plus_is_space ? '+' : '%') == std::string_view::npos) {
        out.assign(text);
        return;
    }
    // Writes through a pointer into a string sized for the worst case (the output is never
    // longer than the input), then trims: no per-character append on this hot path.
    out.resize(text.size());
    char* o = out.data();
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        const char c = *p;
        if (c == '%' && end - p > 2) {
            const int high = hex_value(p[1]), low = hex_value(p[2]);
            if (high >= 0 && low >= 0) {
                *o++ = static_cast<char>(high * 16 + low);
                p += 3;
                continue;
            }
        }
        *o++ = c == '+' && plus_is_space ? ' ' : c;
        ++p;
    }
    out.resize(static_cast<std::size_t>(o - out.data()));
}

// A Log= item whose value starts at `query[start]`: its version and its value, in one pass.
// Returns where the value ends.
inline std::size_t QueryScanner::scan_log(std::string_view query, std::size_t start) {
    std::size_t end = 0;
    view_.has_log = true;
    view_.log_version = log_value_version(query, start, true, ver1_, version_v_, end);
    view_.log_value = query.substr(start, end - start);
    return end;
}

// The base64 form (`item`: the query's first item): its fields into base64_ (strings reused).
inline void QueryScanner::scan_base64(std::string_view item) {
    base64_.protocol_version.clear();
    base64_.command.clear();
    base64_.user.clear();
    base64_.device_id.clear();
    base64_.device_type.clear();
    view_.error = decode_base64(item, base64_, false, base64_unescaped_, base64_bytes_);
    view_.form = QueryForm::base64;
    view_.protocol_version = base64_.protocol_version;
    view_.command = base64_.command;
    view_.user = base64_.user;
    view_.device_id = base64_.device_id;
    view_.device_type = base64_.device_type;
}

// A plain `name=value` item (`raw`: the value as logged): the client fields, decoded only when
// escaped; other names are skipped.
inline void QueryScanner::scan_plain(std::string_view name, bool name_escaped, std::string_view raw,
                                     bool value_escaped) {
    if (view_.form == QueryForm::none) view_.form = QueryForm::plain;
    std::string_view plain_name = name;
    if (name_escaped) {
        percent_decode_into(name_, name);
        plain_name = name_;
    }
    const auto value = [&](std::string& buffer) -> std::string_view {
        if (!value_escaped) return raw;
        percent_decode_into(buffer, raw);
        return buffer;
    };
    // clang-format on
    if (is_keyword(plain_name, "cmd")) {
        view_.command = value(command_);
    } else if (is_keyword(plain_name, "user")) {
        view_.user = value(user_);
    } else if (is_keyword(plain_name, "deviceid")) {
        const std::string_view id = value(device_id_);
        view_.device_id = id;
        if (!is_printable_id(id)) {
            device_id_ = normalise_device_id(id);
            view_.device_id = device_id_;
        }
    } else if (is_keyword(plain_name, "devicetype")) {
        view_.device_type = value(device_type_);
    }
}

const QueryView& QueryScanner::scan(std::string_view query) {
    view_ = QueryView{};
    bool first = true;
    for (std::size_t pos = 0; pos < query.size();) {
        // The item's name first (Log= is found by name, and its value's end in the same pass as
        // its version), noting an escape on the way: one search, not a second one to decode.
        std::size_t eq_or_amp = scan::find_first_of_bytes(query, pos, '=', '&', '%', '+');
        bool name_escaped = false;
        if (eq_or_amp != std::string_view::npos && (query[eq_or_amp] == '%' || query[eq_or_amp] == '+')) {
            name_escaped = true;
            eq_or_amp = find_either(query, '=', '&', eq_or_amp + 1);
        }
        if (eq_or_amp == pos && query[pos] == '&') { // `&&Log=` (Exchange 2003)
            ++pos;
            continue;
        }
        const bool at_start = first;
        first = false;
        const bool has_eq = eq_or_amp != std::string_view::npos && query[eq_or_amp] == '=';
        const std::string_view name = query.substr(pos, has_eq ? eq_or_amp - pos : 0);
        if (has_eq && is_keyword(name, "log")) {
            pos = scan_log(query, eq_or_amp + 1) + 1;
            continue;
        }
        // The value's end, and whether it has an escape to decode, in one search.
        std::size_t amp = eq_or_amp;
        bool value_escaped = false;
        if (has_eq) {
            amp = scan::find_first_of_bytes(query, eq_or_amp + 1, '&', '%', '+');
            if (amp != std::string_view::npos && query[amp] != '&') {
                value_escaped = true;
                amp = find_byte(query, '&', amp + 1);
            }
        }
        const std::size_t item_end = amp == std::string_view::npos ? query.size() : amp;
        const std::string_view item = query.substr(pos, item_end - pos);
        pos = item_end + 1;
        if (at_start && !is_plain_name(has_eq ? name : item) && looks_base64(item)) {
            scan_base64(item);
            continue;
        }
        if (!has_eq || name.empty()) continue;
        scan_plain(name, name_escaped, item.substr(name.size() + 1), value_escaped);
    }
    return view_;
}

} // namespace mbx::audit
