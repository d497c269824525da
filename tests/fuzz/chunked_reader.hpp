#pragma once
// A ResponseReader over fuzzer bytes: the first byte picks the chunk size the "server" sends
// (1..64), so reads that split a CRLF or a literal are tried; small limits make the limit
// paths common.

#include "mbx/imap/response_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace mbx::fuzz {

class ChunkedReader {
public:
    /// `size` must be at least 1.
    ChunkedReader(const std::uint8_t* data, std::size_t size)
        : chunk_(1 + data[0] % 64), rest_(reinterpret_cast<const char*>(data + 1), size - 1),
          reader_([this](char* buf, std::size_t cap) { return next(buf, cap); }, "fuzz",
                  imap::ReaderLimits{4096, 65536, 131072}) {}

    imap::ResponseLine read() { return reader_.read(); }

private:
    std::size_t next(char* buf, std::size_t cap) {
        std::size_t n = std::min({cap, chunk_, rest_.size()});
        std::memcpy(buf, rest_.data(), n);
        rest_.remove_prefix(n);
        return n;
    }

    std::size_t chunk_;
    std::string_view rest_;
    imap::ResponseReader reader_;
};

} // namespace mbx::fuzz
