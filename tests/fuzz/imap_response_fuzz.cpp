// Fuzzes the IMAP response reader and status-line splitting with a hostile server's bytes,
// delivered in uneven chunks, under small limits so the limit paths are reached often.
#include "mbx/core/error.hpp"
#include "mbx/imap/response.hpp"
#include "chunked_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    mbx::fuzz::ChunkedReader reader(data, size);
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
