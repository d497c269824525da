#include "mbx/imap/mutf7.hpp"

#include "mbx/core/error.hpp"

#include <cstdint>
#include <vector>

namespace mbx::imap {
namespace {

// RFC 3501 §5.1.3: base64 (RFC 2045) with "," in place of "/", no padding.
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int alphabet_index(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

bool is_direct(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

[[noreturn]] void fail_encode(std::string_view name) {
    throw Error(ErrorCategory::data, "cannot encode mailbox name '" + std::string(name) + "': invalid UTF-8",
                "mailbox names must be valid UTF-8");
}

[[noreturn]] void fail_decode(std::string_view name, const char* why) {
    throw Error(ErrorCategory::data, "cannot decode mailbox name '" + std::string(name) + "': " + why,
                "the server sent a name that is not valid modified UTF-7 (RFC 3501 5.1.3)");
}

// Decodes one UTF-8 sequence at `i`, advancing it; -1 on malformed input.
std::int32_t next_code_point(std::string_view s, std::size_t& i) {
    auto b0 = static_cast<unsigned char>(s[i]);
    int extra = b0 < 0x80 ? 0 : (b0 & 0xe0) == 0xc0 ? 1 : (b0 & 0xf0) == 0xe0 ? 2 : (b0 & 0xf8) == 0xf0 ? 3 : -1;
    // Need extra + 1 bytes from i on.
    if (extra < 0 || s.size() - i <= static_cast<std::size_t>(extra)) return -1;
    std::int32_t cp = extra == 0 ? b0 : b0 & (0x3f >> extra);
    for (int k = 1; k <= extra; ++k) {
        auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((b & 0xc0) != 0x80) return -1;
        cp = (cp << 6) | (b & 0x3f);
    }
    static constexpr std::int32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    i += static_cast<std::size_t>(extra) + 1;
    return cp;
}

void append_utf8(std::string& out, std::int32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

void append_base64(std::string& out, const std::vector<std::uint16_t>& units) {
    std::uint32_t bits = 0;
    int nbits = 0;
    for (std::uint16_t u : units) {
        bits = (bits << 16) | u;
        nbits += 16;
        while (nbits >= 6) {
            nbits -= 6;
            out += kAlphabet[(bits >> nbits) & 0x3f];
        }
    }
    if (nbits > 0) out += kAlphabet[(bits << (6 - nbits)) & 0x3f];
}

// Decodes the base64 run between "&" and "-" into UTF-8.
void decode_run(std::string_view name, std::string_view run, std::string& out) {
    std::uint32_t bits = 0;
    int nbits = 0;
    std::vector<std::uint16_t> units;
    for (char c : run) {
        int v = alphabet_index(c);
        if (v < 0) fail_decode(name, "invalid character in a shifted sequence");
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        nbits += 6;
        if (nbits >= 16) {
            nbits -= 16;
            units.push_back(static_cast<std::uint16_t>((bits >> nbits) & 0xffff));
        }
    }
    if (nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) fail_decode(name, "bad padding bits");
    if (units.empty()) fail_decode(name, "empty shifted sequence");
    for (std::size_t i = 0; i < units.size(); ++i) {
        std::int32_t cp = units[i];
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (i + 1 >= units.size() || units[i + 1] < 0xdc00 || units[i + 1] > 0xdfff) {
                fail_decode(name, "unpaired surrogate");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (units[++i] - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail_decode(name, "unpaired surrogate");
        } else if (is_direct(static_cast<unsigned char>(cp < 0x80 ? cp : 0))) {
            fail_decode(name, "printable US-ASCII must not be encoded");
        }
        append_utf8(out, cp);
    }
}

} // namespace

std::string encode_mailbox_name(std::string_view utf8) {
    std::string out;
    std::vector<std::uint16_t> pending; // UTF-16 units of the current shifted run
    auto flush = [&] {
        if (pending.empty()) return;
        out += '&';
        append_base64(out, pending);
        out += '-';
        pending.clear();
    };
    std::size_t i = 0;
    while (i < utf8.size()) {
        std::int32_t cp = next_code_point(utf8, i);
        if (cp < 0) fail_encode(utf8);
        if (cp < 0x80 && is_direct(static_cast<unsigned char>(cp))) {
            flush();
            out += static_cast<char>(cp);
            if (cp == '&') out += '-';
        } else if (cp >= 0x10000) {
            std::int32_t v = cp - 0x10000;
            pending.push_back(static_cast<std::uint16_t>(0xd800 + (v >> 10)));
            pending.push_back(static_cast<std::uint16_t>(0xdc00 + (v & 0x3ff)));
        } else {
            pending.push_back(static_cast<std::uint16_t>(cp));
        }
    }
    flush();
    return out;
}

std::string decode_mailbox_name(std::string_view mutf7) {
    std::string out;
    std::size_t i = 0;
    while (i < mutf7.size()) {
        auto c = static_cast<unsigned char>(mutf7[i]);
        if (!is_direct(c)) fail_decode(mutf7, "byte outside printable US-ASCII");
        if (c != '&') {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        std::size_t end = mutf7.find('-', i + 1);
        if (end == std::string_view::npos) fail_decode(mutf7, "unterminated shifted sequence");
        if (end == i + 1) {
            out += '&';
        } else {
            decode_run(mutf7, mutf7.substr(i + 1, end - i - 1), out);
        }
        i = end + 1;
    }
    return out;
}

} // namespace mbx::imap
