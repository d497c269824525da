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

Fingerprint fingerprint_of(std::string_view header, std::uint64_t size) {
    std::string key;
    const std::string id = fold_spaces(header_value(header, "Message-ID").value_or(""));
    if (!id.empty()) {
        key = "M\n" + id;
    } else {
        key = "H\n" + fold_spaces(header_value(header, "Date").value_or("")) + "\n" +
              fold_spaces(header_value(header, "From").value_or("")) + "\n" +
              fold_spaces(header_value(header, "Subject").value_or(""));
    }
    key += "\n" + std::to_string(size);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(key.data(), key.size(), digest, &length, EVP_sha256(), nullptr);
    Fingerprint f;
    std::memcpy(f.bytes.data(), digest, f.bytes.size());
    return f;
}

} // namespace mbx::ops
