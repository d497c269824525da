#include "mbx/core/text.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace mbx {
namespace {

char up(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char down(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

} // namespace

std::string ascii_upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), up);
    return out;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    ascii_lower_in_place(out);
    return out;
}

void ascii_lower_in_place(std::string& s) { ascii_lower_in_place(s.data(), s.size()); }

// 0x20 is added to the bytes 'A'..'Z' of each 8-byte word at once (the other bytes, UTF-8
// included, are left as they are). A tail of a string of 8 bytes or more is the last 8 bytes,
// again (lowering is idempotent); a shorter string goes byte by byte.
void ascii_lower_in_place(char* data, std::size_t size) {
    constexpr std::uint64_t k7F = 0x7F7F7F7F7F7F7F7Full, k80 = 0x8080808080808080ull;
    const auto lower_word = [&](char* p) {
        std::uint64_t x;
        std::memcpy(&x, p, sizeof x);
        const std::uint64_t low7 = x & k7F;
        const std::uint64_t at_least_a = low7 + 0x3F3F3F3F3F3F3F3Full; // the high bit: low7 >= 'A'
        const std::uint64_t past_z = low7 + 0x2525252525252525ull;     // the high bit: low7 > 'Z'
        x |= (at_least_a & ~past_z & ~x & k80) >> 2;
        std::memcpy(p, &x, sizeof x);
    };
    if (size < 8) {
        for (std::size_t i = 0; i < size; ++i) data[i] = down(data[i]);
        return;
    }
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) lower_word(data + i);
    if (i < size) lower_word(data + size - 8);
}

std::string_view take_word(std::string_view& text) {
    text = trim(text);
    const auto end = text.find_first_of(" \t");
    const std::string_view word = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    return word;
}

bool url_has_userinfo(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return false;
    std::string_view authority = url.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    return authority.find('@') != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string base64_encode(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

namespace {

// The value of each base64 alphabet byte (RFC 4648 §4), -1 for any other byte.
constexpr auto kBase64Values = byte_table([](int c) {
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+'             ? 62
           : c == '/'             ? 63
                                  : -1;
});

int base64_value(char c) { return kBase64Values[static_cast<unsigned char>(c)]; }

} // namespace

std::optional<std::string> base64_decode(std::string_view text) {
    std::string out;
    if (!base64_decode_into(out, text)) return std::nullopt;
    return out;
}

bool base64_decode_into(std::string& out, std::string_view text) {
    if (text.size() % 4 == 0 && !text.empty()) { // padded: at most two '=' and only at the end
        if (text.back() == '=') text.remove_suffix(1);
        if (text.back() == '=') text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) return false; // one sextet cannot make a byte
    const std::size_t groups = text.size() / 4, rest = text.size() % 4;
    out.resize(groups * 3 + (rest == 0 ? 0 : rest - 1));
    char* o = out.data();
    const char* p = text.data();
    // Four characters make three bytes; a negative value (not base64) makes `bad` negative.
    int bad = 0;
    for (std::size_t g = 0; g < groups; ++g, p += 4, o += 3) {
        const int a = base64_value(p[0]), b = base64_value(p[1]), c = base64_value(p[2]), d = base64_value(p[3]);
        bad |= a | b | c | d;
        const auto v = static_cast<unsigned>(a) << 18 | static_cast<unsigned>(b) << 12 | static_cast<unsigned>(c) << 6 |
                       static_cast<unsigned>(d);
        o[0] = static_cast<char>((v >> 16) & 0xFF);
        o[1] = static_cast<char>((v >> 8) & 0xFF);
        o[2] = static_cast<char>(v & 0xFF);
    }
    if (bad < 0) return false;
    if (rest == 0) return true;
    // Two or three characters: one or two bytes, and the pad bits must be zero (RFC 4648 §3.5).
    const int a = base64_value(p[0]), b = base64_value(p[1]), c = rest == 3 ? base64_value(p[2]) : 0;
    if ((a | b | c) < 0) return false;
    const auto v = static_cast<unsigned>(a) << 18 | static_cast<unsigned>(b) << 12 | static_cast<unsigned>(c) << 6;
    o[0] = static_cast<char>((v >> 16) & 0xFF);
    if (rest == 3) o[1] = static_cast<char>((v >> 8) & 0xFF);
    return (v & (rest == 2 ? 0xFFFFu : 0xFFu)) == 0;
}

std::vector<std::string> split_list(std::string_view list) {
    std::vector<std::string> items;
    while (true) {
        const auto comma = list.find(',');
        if (auto item = trim(list.substr(0, comma)); !item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return items;
}

} // namespace mbx
