#include "mbx/audit/log_reader.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/fd.hpp"
#include "mbx/core/output.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <new>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace mbx::audit {
namespace {

constexpr std::size_t kBufferBytes = 64 * 1024; ///< decompressed bytes per inflate() call
/// Bytes per read(2): stdio read a 1 GiB log in 32,800 calls, half of them 4 KiB into its own
/// buffer and then copied again. Here one call per 128 KiB, into a page-aligned buffer small
/// enough to stay in the L2 cache for the parser (docs/benchmarks.md, seventh pass).
constexpr std::size_t kReadBytes = 128 * 1024;

struct FreeBytes {
    void operator()(char* p) const { std::free(p); }
};

struct InflateEnd {
    void operator()(z_stream* z) const { inflateEnd(z); }
};

std::string quoted(const std::filesystem::path& path) { return out::quoted(path.string()); }

// Reads up to `cap` bytes: 0 only at the end of the file; a pipe may return fewer.
std::size_t read_some(int fd, char* buf, std::size_t cap, const std::filesystem::path& path) {
    while (true) {
        const ssize_t n = ::read(fd, buf, cap);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) throw Error(ErrorCategory::io, "cannot read " + quoted(path) + ": " + std::strerror(errno));
    }
}

// Inflates gzip members one after the other until the file ends (`cat a.gz b.gz` is valid gzip).
// `in` (of `in_size` bytes) already holds the `prefill` bytes read to see the magic, so pipes
// work without seeking back.
void inflate_file(int fd, const std::filesystem::path& path, char* in, std::size_t in_size, std::size_t prefill,
                  LineSplitter& lines, const LineCallback& on_line, ReadStats& stats) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) throw Error(ErrorCategory::internal, "cannot initialise zlib");
    std::unique_ptr<z_stream, InflateEnd> guard(&z);
    z.next_in = reinterpret_cast<Bytef*>(in);
    z.avail_in = static_cast<uInt>(prefill);
    std::vector<char> out(kBufferBytes);
    bool ended = false; // the current member reached Z_STREAM_END
    while (true) {
        if (z.avail_in == 0) {
            const std::size_t n = read_some(fd, in, in_size, path);
            if (n == 0) break;
            z.next_in = reinterpret_cast<Bytef*>(in);
            z.avail_in = static_cast<uInt>(n);
        }
        if (ended) { // more bytes after a member: the next member
            if (inflateReset(&z) != Z_OK) throw Error(ErrorCategory::internal, "cannot reset zlib");
            ended = false;
        }
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        const int rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            throw Error(ErrorCategory::data,
                        "cannot decompress " + quoted(path) + ": " + (z.msg != nullptr ? z.msg : "corrupt gzip data"),
                        {}, rc);
        const std::size_t produced = out.size() - z.avail_out;
        stats.bytes += produced;
        lines.feed(std::string_view(out.data(), produced), on_line);
        if (rc == Z_STREAM_END) ended = true;
    }
    if (!ended) throw Error(ErrorCategory::data, "cannot decompress " + quoted(path) + ": truncated gzip data");
}

} // namespace

void LineSplitter::emit(std::string_view text, const LineCallback& on_line) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    ++number_;
    if (overlong_) ++overlong_lines_;
    on_line(LogLine{overlong_ ? std::string_view{} : text, number_, overlong_});
    overlong_ = false;
}

void LineSplitter::feed(std::string_view chunk, const LineCallback& on_line) {
    while (!chunk.empty()) {
        const auto* nl = static_cast<const char*>(std::memchr(chunk.data(), '\n', chunk.size()));
        const std::size_t take = nl == nullptr ? chunk.size() : static_cast<std::size_t>(nl - chunk.data());
        const std::string_view piece = chunk.substr(0, take);
        // +1: a CR before the LF does not count against the limit.
        if (!overlong_ && partial_.size() + piece.size() > max_line_ + 1) {
            overlong_ = true;
            partial_.clear();
        }
        if (nl == nullptr) {
            if (!overlong_) partial_.append(piece);
            return;
        }
        if (overlong_) {
            emit({}, on_line);
        } else if (partial_.empty()) {
            emit(piece, on_line); // the common case: no copy
        } else {
            partial_.append(piece);
            emit(partial_, on_line);
            partial_.clear();
        }
        chunk.remove_prefix(take + 1);
    }
}

void LineSplitter::finish(const LineCallback& on_line) {
    if (!partial_.empty() || overlong_) emit(partial_, on_line);
    partial_.clear();
    partial_.shrink_to_fit();
}

ReadStats read_log_lines(const std::filesystem::path& path, const LineCallback& on_line, std::size_t max_line) {
    int opened = -1;
    do opened = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    while (opened < 0 && errno == EINTR);
    if (opened < 0) throw Error(ErrorCategory::io, "cannot open " + quoted(path) + ": " + std::strerror(errno));
    const Fd file(opened);
    const std::unique_ptr<char[], FreeBytes> buffer(static_cast<char*>(std::aligned_alloc(4096, kReadBytes)));
    if (!buffer) throw std::bad_alloc();
    char* const in = buffer.get();
    ReadStats stats;
    LineSplitter lines(max_line);
    // The first read holds the gzip magic's 2 bytes unless the file is shorter (a pipe may
    // deliver 1 byte first).
    std::size_t n = read_some(file.get(), in, kReadBytes, path);
    while (n == 1) {
        const std::size_t more = read_some(file.get(), in + n, kReadBytes - n, path);
        if (more == 0) break;
        n += more;
    }
    if (n >= 2 && static_cast<unsigned char>(in[0]) == 0x1f && static_cast<unsigned char>(in[1]) == 0x8b) {
        stats.gzip = true;
        inflate_file(file.get(), path, in, kReadBytes, n, lines, on_line, stats);
    } else {
        while (n > 0) {
            stats.bytes += n;
            lines.feed(std::string_view(in, n), on_line);
            n = read_some(file.get(), in, kReadBytes, path);
        }
    }
    lines.finish(on_line);
    stats.lines = lines.lines();
    stats.overlong = lines.overlong_lines();
    return stats;
}

} // namespace mbx::audit
