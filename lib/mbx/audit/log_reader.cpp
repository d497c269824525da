#include "mbx/audit/log_reader.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>
#include <zlib.h>

namespace mbx::audit {
namespace {

constexpr std::size_t kBufferBytes = 64 * 1024;

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

struct InflateEnd {
    void operator()(z_stream* z) const { inflateEnd(z); }
};

std::string quoted(const std::filesystem::path& path) { return "'" + out::printable(path.string()) + "'"; }

std::size_t read_some(std::FILE* f, char* buf, std::size_t cap, const std::filesystem::path& path) {
    const std::size_t n = std::fread(buf, 1, cap, f);
    if (n < cap && std::ferror(f))
        throw Error(ErrorCategory::io, "cannot read " + quoted(path) + ": " + std::strerror(errno));
    return n;
}

// Inflates gzip members one after the other until the file ends (`cat a.gz b.gz` is valid gzip).
// `in` already holds `prefill` bytes (the magic), so pipes work without seeking back.
void inflate_file(std::FILE* f, const std::filesystem::path& path, std::vector<char>& in, std::size_t prefill,
                  LineSplitter& lines, const LineCallback& on_line, ReadStats& stats) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) throw Error(ErrorCategory::internal, "cannot initialise zlib");
    std::unique_ptr<z_stream, InflateEnd> guard(&z);
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(prefill);
    std::vector<char> out(kBufferBytes);
    bool ended = false; // the current member reached Z_STREAM_END
    while (true) {
        if (z.avail_in == 0) {
            const std::size_t n = read_some(f, in.data(), in.size(), path);
            if (n == 0) break;
            z.next_in = reinterpret_cast<Bytef*>(in.data());
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
            throw Error(ErrorCategory::data, "cannot decompress " + quoted(path) + ": " +
                                                 (z.msg != nullptr ? z.msg : "corrupt gzip data"),
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
    File f(std::fopen(path.c_str(), "rb"));
    if (!f) throw Error(ErrorCategory::io, "cannot open " + quoted(path) + ": " + std::strerror(errno));
    ReadStats stats;
    LineSplitter lines(max_line);
    std::vector<char> in(kBufferBytes);
    std::size_t n = read_some(f.get(), in.data(), 2, path);
    if (n == 2 && static_cast<unsigned char>(in[0]) == 0x1f && static_cast<unsigned char>(in[1]) == 0x8b) {
        stats.gzip = true;
        inflate_file(f.get(), path, in, n, lines, on_line, stats);
    } else {
        while (n > 0) {
            stats.bytes += n;
            lines.feed(std::string_view(in.data(), n), on_line);
            n = read_some(f.get(), in.data(), in.size(), path);
        }
    }
    lines.finish(on_line);
    stats.lines = lines.lines();
    stats.overlong = lines.overlong_lines();
    return stats;
}

} // namespace mbx::audit
