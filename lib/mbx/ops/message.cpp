#include "mbx/ops/message.hpp"

#include "mbx/core/text.hpp"

#include <algorithm>
#include <cstring>
#include <openssl/evp.h>

namespace mbx::ops {
namespace {

// Runs of spaces and tabs become one space; leading and trailing ones go.
std::string fold_spaces(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

} // namespace

std::optional<std::string> header_value(std::string_view message, std::string_view name) {
    std::optional<std::string> value;
    for (std::size_t pos = 0; pos < message.size();) {
        std::size_t eol = message.find('\n', pos);
        if (eol == std::string_view::npos) eol = message.size();
        std::string_view line = message.substr(pos, eol - pos);
        pos = eol + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break; // end of the header
        const bool continuation = line.front() == ' ' || line.front() == '\t';
        if (value && continuation) {
            *value += line;
            continue;
        }
        if (value) break;
        if (!continuation && line.size() > name.size() && line[name.size()] == ':' &&
            iequals(line.substr(0, name.size()), name))
            value = std::string(line.substr(name.size() + 1));
    }
    if (value) *value = std::string(trim(*value));
    return value;
}

std::string message_id_of(std::string_view message) {
    auto v = header_value(message, "Message-ID").value_or("");
    const bool ok = v.size() <= 998 && std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    return ok ? v : std::string();
}

std::size_t FingerprintHash::operator()(const Fingerprint& f) const noexcept {
    std::size_t h = 0;
    std::memcpy(&h, f.bytes.data(), sizeof h); // already a digest: any 8 bytes are uniform
    return h;
}

namespace {

// The value as identity compares it: folded whitespace, and a run of bytes >= 0x80 or `X` as
// one `?`, so that a server that munges 8-bit header bytes into `X` (Cyrus) or keeps them
// (Dovecot) gives the same text.
std::string identity_text(std::string_view value) {
    std::string out;
    bool run = false;
    for (const char c : fold_spaces(value)) {
        const bool eight_bit = static_cast<unsigned char>(c) >= 0x80 || c == 'X';
        if (eight_bit && run) continue;
        run = eight_bit;
        out += eight_bit ? '?' : c;
    }
    return out;
}

Fingerprint digest_of(std::string_view key) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(key.data(), key.size(), digest, &length, EVP_sha256(), nullptr);
    Fingerprint f;
    std::memcpy(f.bytes.data(), digest, f.bytes.size());
    return f;
}

} // namespace

Identity identity_of(std::string_view header) {
    Identity id;
    const std::string message_id = identity_text(header_value(header, "Message-ID").value_or(""));
    if (!message_id.empty()) {
        id.has_message_id = true;
        id.message_id = digest_of("M\n" + message_id);
    }
    id.header = digest_of("H\n" + identity_text(header_value(header, "Date").value_or("")) + "\n" +
                          identity_text(header_value(header, "From").value_or("")) + "\n" +
                          identity_text(header_value(header, "Subject").value_or("")));
    return id;
}

} // namespace mbx::ops
