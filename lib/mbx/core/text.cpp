#include "mbx/core/text.hpp"

#include <algorithm>

namespace mbx {
namespace {

char up(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char down(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

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

// 0x20 is added to the bytes 'A'..'Z' of each 8-byte word at once (the other bytes, UTF-8
// included, are left as they are); the tail byte by byte.
void ascii_lower_in_place(std::string& s) {
    constexpr std::uint64_t k7F = 0x7F7F7F7F7F7F7F7Full, k80 = 0x8080808080808080ull;
    char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t x;
        std::memcpy(&x, p, sizeof x);
        const std::uint64_t low7 = x & k7F;
        const std::uint64_t at_least_a = low7 + 0x3F3F3F3F3F3F3F3Full; // the high bit: low7 >= 'A'
        const std::uint64_t past_z = low7 + 0x2525252525252525ull;     // the high bit: low7 > 'Z'
        x |= (at_least_a & ~past_z & ~x & k80) >> 2;
        std::memcpy(p, &x, sizeof x);
    }
    for (; n > 0; ++p, --n) *p = down(*p);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
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

std::optional<std::string> base64_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    if (text.size() % 4 == 0 && !text.empty()) { // padded: at most two '=' and only at the end
        if (text.back() == '=') text.remove_suffix(1);
        if (text.back() == '=') text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) return std::nullopt; // one sextet cannot make a byte
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    unsigned acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = value(c);
        if (v < 0) return std::nullopt;
        acc = ((acc << 6) | static_cast<unsigned>(v)) & 0x3FFF; // never more than 13 live bits
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    if ((acc & ((1U << bits) - 1)) != 0) return std::nullopt; // RFC 4648 §3.5: pad bits are zero
    return out;
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
