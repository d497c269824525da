// Fuzzes the IMAP response grammar parser and every typed decoder with a hostile server's
// bytes, split into logical lines by the ResponseReader under small limits. Only mbx::Error
// may escape the parser; anything else (or a crash, or a sanitizer report) is a bug.
#include "mbx/core/error.hpp"
#include "mbx/imap/parser.hpp"
#include "chunked_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

template <typename F> void guarded(F&& f) {
    try {
        f();
    } catch (const mbx::Error&) {
    }
}

void decode_all(const mbx::imap::Untagged& u) {
    using namespace mbx::imap;
    guarded([&] { (void)decode_quota_root(u); });
    guarded([&] { (void)decode_quota(u); });
    guarded([&] { (void)decode_list(u, false); });
    guarded([&] { (void)decode_list(u, true); });
    guarded([&] { (void)decode_status(u); });
    guarded([&] { (void)decode_namespace(u); });
    guarded([&] { (void)decode_fetch(u); });
    guarded([&] { (void)decode_search(u); });
    if (!u.code.empty()) guarded([&] { (void)parse_values(u.code, ParserLimits{8, 64}); });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    mbx::fuzz::ChunkedReader reader(data, size);
    try {
        for (int i = 0; i < 10000; ++i) {
            mbx::imap::ResponseLine line = reader.read();
            guarded([&] { decode_all(mbx::imap::parse_untagged(line, mbx::imap::ParserLimits{16, 4096})); });
            // The moving path (merge hands message bodies on without a copy) must agree.
            guarded([&] {
                mbx::imap::ResponseLine copy = line;
                auto u = mbx::imap::parse_untagged(std::move(copy), mbx::imap::ParserLimits{16, 4096});
                if (u.keyword == "FETCH") (void)mbx::imap::decode_fetch(std::move(u));
            });
            // The bare date parser, on the whole first segment.
            guarded([&] { (void)mbx::imap::parse_internaldate(line.head()); });
        }
    } catch (const mbx::Error&) {
    }
    return 0;
}
