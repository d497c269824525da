// Fuzzes the IMAP response reader and status-line splitting with a hostile server's bytes,
// delivered in uneven chunks, under small limits so the limit paths are reached often.
#include "mbx/core/error.hpp"
#include "mbx/imap/response.hpp"
#include "mbx/imap/response_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    // The first byte picks the chunk size, so reads that split a CRLF or a literal are tried.
    std::size_t chunk = 1 + data[0] % 64;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    mbx::imap::ResponseReader reader(
        [&](char* buf, std::size_t cap) {
            std::size_t n = std::min({cap, chunk, rest.size()});
            std::memcpy(buf, rest.data(), n);
            rest.remove_prefix(n);
            return n;
        },
        "fuzz", mbx::imap::ReaderLimits{4096, 65536, 131072});
    try {
        for (int i = 0; i < 10000; ++i) {
            auto line = reader.read();
            if (line.segments.size() != line.literals.size() + 1) __builtin_trap();
            (void)mbx::imap::parse_completion(line.head());
            (void)mbx::imap::untagged_keyword(line.head());
            std::string code, text;
            mbx::imap::split_resp_text(line.head(), code, text);
        }
    } catch (const mbx::Error&) {
    }
    return 0;
}
