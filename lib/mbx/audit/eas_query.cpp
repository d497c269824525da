#include "mbx/audit/eas_query.hpp"
#include "mbx/audit/query_scanner.hpp"
#include "mbx/audit/scan.hpp"

#include "mbx/core/text.hpp"

#include <array>

// Whole queries: parse_query() and parse_exchange_log() decode every field (the scanner,
// query_scanner.cpp, is their per-line subset), encode_base64_query() builds the base64 form,
// and the names of versions, commands and errors.

namespace mbx::audit {
using detail::is_digits;
using detail::kMaxParameters;
using detail::log_digits_version;
using detail::normalise_device_id_in_place;
using detail::parameter_name;
using detail::v_token_version;
using scan::find_byte;
using scan::find_either;
namespace {

// A plain `name=value` item: the client fields are decoded straight into `out` (keeping their
// capacity), the others become parameters when `keep`. `name` is already percent-decoded.
void set_plain_field(std::string_view name, std::string_view raw_value, EasQuery& out, bool keep) {
    std::string* field = iequals(name, "Cmd")          ? &out.command
                         : iequals(name, "User")       ? &out.user
                         : iequals(name, "DeviceId")   ? &out.device_id
                         : iequals(name, "DeviceType") ? &out.device_type
                                                       : nullptr;
    if (field != nullptr) {
        percent_decode_into(*field, raw_value);
        if (field == &out.device_id) normalise_device_id_in_place(out.device_id);
    } else if (keep && out.parameters.size() < kMaxParameters) {
        out.parameters.push_back({std::string(name), percent_decode(raw_value)});
    }
}

} // namespace

std::string_view query_error_name(QueryError error) {
    switch (error) {
    case QueryError::none: return "none";
    case QueryError::bad_base64: return "bad base64";
    case QueryError::truncated: return "truncated";
    case QueryError::bad_length: return "bad length";
    }
    return "unknown";
}

std::string version_from_byte(std::uint8_t byte) {
    std::string version;
    detail::append_version(version, byte);
    return version;
}

bool is_known_version(std::string_view version) {
    static constexpr std::array<std::string_view, 10> kVersions = {"1.0",  "2.0",  "2.1",  "2.5",  "12.0",
                                                                   "12.1", "14.0", "14.1", "16.0", "16.1"};
    for (auto v : kVersions)
        if (v == version) return true;
    return false;
}

QueryError decode_base64_query(std::string_view text, EasQuery& out) {
    std::string unescaped, bytes;
    return detail::decode_base64(text, out, true, unescaped, bytes);
}

namespace {

std::optional<std::uint8_t> version_byte(std::string_view version) {
    const auto dot = version.find('.');
    if (dot == std::string_view::npos || !is_digits(version.substr(0, dot)) || dot > 2) return std::nullopt;
    const auto minor = version.substr(dot + 1);
    if (minor.size() != 1 || !is_digits(minor)) return std::nullopt;
    int v = 0;
    for (char c : version.substr(0, dot)) v = v * 10 + (c - '0');
    v = v * 10 + (minor[0] - '0');
    if (v > 255) return std::nullopt;
    return static_cast<std::uint8_t>(v);
}

std::optional<std::uint8_t> parameter_tag(std::string_view name) {
    for (unsigned tag = 0; tag < 256; ++tag)
        if (parameter_name(static_cast<std::uint8_t>(tag)) == name) return static_cast<std::uint8_t>(tag);
    return std::nullopt;
}

bool append_field(std::string& out, std::string_view value) {
    if (value.size() > 255) return false;
    out += static_cast<char>(value.size());
    out += value;
    return true;
}

} // namespace

std::optional<std::string> encode_base64_query(const EasQuery& query) {
    const auto version = version_byte(query.protocol_version);
    if (!version) return std::nullopt;
    std::optional<std::uint8_t> command = query.command_code;
    for (unsigned c = 0; !command && c < 256; ++c)
        if (!query.command.empty() && command_name(static_cast<std::uint8_t>(c)) == query.command)
            command = static_cast<std::uint8_t>(c);
    if (!command || query.device_id.empty()) return std::nullopt;
    std::string b;
    b += static_cast<char>(*version);
    b += static_cast<char>(*command);
    const std::uint16_t locale = query.locale.value_or(0x0409);
    b += static_cast<char>(locale & 0xFF);
    b += static_cast<char>(locale >> 8);
    if (!append_field(b, query.device_id)) return std::nullopt;
    if (query.policy_key) {
        b += '\x04';
        for (int i = 0; i < 4; ++i) b += static_cast<char>((*query.policy_key >> (8 * i)) & 0xFF);
    } else {
        b += '\x00';
    }
    if (!append_field(b, query.device_type)) return std::nullopt;
    for (const auto& p : query.parameters) {
        const auto tag = parameter_tag(p.name);
        if (!tag || *tag == 8) return std::nullopt;
        b += static_cast<char>(*tag);
        if (*tag == 7) { // Options: one byte, shown in decimal by the decoder
            if (!is_digits(p.value) || p.value.size() > 3 || std::stoi(p.value) > 255) return std::nullopt;
            b += '\x01';
            b += static_cast<char>(std::stoi(p.value));
        } else if (!append_field(b, p.value)) {
            return std::nullopt;
        }
    }
    if (!query.user.empty()) {
        b += '\x08';
        if (!append_field(b, query.user)) return std::nullopt;
    }
    return base64_encode(b);
}

std::string version_from_log_digits(std::string_view digits) {
    std::array<char, 4> buffer{};
    return std::string(log_digits_version(digits, buffer));
}

ExchangeLog parse_exchange_log(std::string_view value) {
    ExchangeLog log;
    std::array<char, 4> ver1{}, v{};
    std::string_view version_v; // from a V<digits> token; Ver1: wins over it
    while (!value.empty()) {
        const auto end = value.find('_');
        const std::string_view token = value.substr(0, end);
        value.remove_prefix(end == std::string_view::npos ? value.size() : end + 1);
        if (token.empty()) continue;
        if (version_v.empty() && !(version_v = v_token_version(token, v)).empty()) continue;
        if (const auto colon = token.find(':'); colon != std::string_view::npos && colon > 0) {
            const auto name = token.substr(0, colon);
            const auto raw = token.substr(colon + 1);
            if (name == "Ver1") {
                if (const auto version = log_digits_version(raw, ver1); !version.empty())
                    log.protocol_version = version;
            } else if (log.fields.size() < kMaxLogFields) {
                if (log.fields.empty()) log.fields.reserve(kMaxLogFields / 2); // one allocation, not five
                log.fields.emplace_back(percent_decode(name), percent_decode(raw));
            }
            continue;
        }
    }
    if (log.protocol_version.empty()) log.protocol_version = version_v;
    return log;
}

ParsedQuery parse_query(std::string_view query) {
    ParsedQuery parsed;
    std::string decoded_name; // only for a name with escapes (never, in practice)
    bool first = true;
    while (!query.empty()) {
        const auto amp = find_byte(query, '&');
        const std::string_view item = query.substr(0, amp);
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        if (item.empty()) continue; // `&&Log=` (Exchange 2003)
        const bool at_start = first;
        first = false;
        const auto eq = find_byte(item, '=');
        const auto name = item.substr(0, eq);
        if (eq != std::string_view::npos && iequals(name, "Log")) {
            parsed.has_log = true;
            parsed.log_value = item.substr(eq + 1);
            parsed.log = parse_exchange_log(parsed.log_value);
            continue;
        }
        if (at_start && !detail::is_plain_name(name) && detail::looks_base64(item)) {
            std::string unescaped, bytes;
            parsed.error = detail::decode_base64(item, parsed.query, true, unescaped, bytes);
            continue;
        }
        if (eq == std::string_view::npos || name.empty()) continue;
        if (parsed.query.form == QueryForm::none) parsed.query.form = QueryForm::plain;
        std::string_view plain_name = name;
        if (find_either(name, '%', '+') != std::string_view::npos) {
            percent_decode_into(decoded_name, name);
            plain_name = decoded_name;
        }
        set_plain_field(plain_name, item.substr(eq + 1), parsed.query, true);
    }
    return parsed;
}

} // namespace mbx::audit
