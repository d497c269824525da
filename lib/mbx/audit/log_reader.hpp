#pragma once
// Streams a log file line by line, plain or gzip-compressed (detected by the gzip magic bytes
// 1f 8b, never by the file name), with memory bounded by the buffers and the longest line
// allowed, however big the file is.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace mbx::audit {

/// Lines longer than this are reported as overlong, without their text.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;

/// One line of a log.
struct LogLine {
    std::string_view text = {}; ///< without LF and without a CR before it; empty when overlong
    std::uint64_t number = 0;   ///< 1-based line number
    bool overlong = false;      ///< the line had more than the maximum bytes; `text` is empty
};

using LineCallback = std::function<void(const LogLine&)>;

/// Splits bytes fed in chunks of any size into lines. Memory: at most `max_line` bytes of a
/// line split across chunks are kept; the rest of an overlong line is skipped, not stored.
class LineSplitter {
public:
    explicit LineSplitter(std::size_t max_line = kMaxLineBytes) : max_line_(max_line) {}

    /// Calls `on_line` for every line `chunk` completes. Side effects: the callback only.
    void feed(std::string_view chunk, const LineCallback& on_line);

    /// Calls `on_line` for the last line when the input did not end with LF.
    void finish(const LineCallback& on_line);

    /// Lines reported so far.
    std::uint64_t lines() const { return number_; }

    /// Of those, the lines reported as overlong.
    std::uint64_t overlong_lines() const { return overlong_lines_; }

private:
    void emit(std::string_view text, const LineCallback& on_line);

    std::size_t max_line_;
    std::string partial_;
    bool overlong_ = false;
    std::uint64_t number_ = 0;
    std::uint64_t overlong_lines_ = 0;
};

/// What reading a file saw.
struct ReadStats {
    std::uint64_t lines = 0;
    std::uint64_t bytes = 0;    ///< bytes after decompression
    std::uint64_t overlong = 0; ///< lines reported with `overlong`
    bool gzip = false;
};

/// Reads `path` (plain or gzip, concatenated gzip members included) and calls `on_line` for
/// each line. Throws Error(io) when the file cannot be opened or read, Error(data) when a gzip
/// stream is corrupt or truncated (lines before the damage have been delivered). Whatever the
/// callback throws passes through. Side effects: reads the file.
ReadStats read_log_lines(const std::filesystem::path& path, const LineCallback& on_line,
                         std::size_t max_line = kMaxLineBytes);

} // namespace mbx::audit
