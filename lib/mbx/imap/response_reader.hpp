#pragma once
// Splits the byte stream from an IMAP server into logical response lines: a line, and when it
// ends with a literal marker `{N}` the N bytes that follow and the rest of the line after them
// (RFC 3501 §4.3, §7.5), with hard limits so that a hostile or broken server cannot make the
// client allocate without bound. It does not interpret the lines; see response.hpp.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace mbx::imap {

/// What one string piece of a response costs in memory besides its bytes (the std::string
/// and its allocation), counted against ReaderLimits::max_response and max_held.
inline constexpr std::size_t kPieceOverhead = 64;

/// Upper bounds on what one server response may make the client hold in memory.
struct ReaderLimits {
    std::size_t max_line = 1024 * 1024;         ///< one line between literals, bytes
    std::size_t max_literal = 64 * 1024 * 1024; ///< one literal, bytes
    std::size_t max_response =
        128 * 1024 * 1024; ///< one logical line with all its literals (and kPieceOverhead a piece)
    /// The untagged responses one command may make the client hold until its completion (bytes
    /// and kPieceOverhead a piece): a server answering with `* 1 EXISTS` forever is stopped here.
    std::size_t max_held = 128 * 1024 * 1024;
};

/// One logical response line as it arrived.
struct ResponseLine {
    /// The text pieces without CRLF. Every piece but the last ends with the literal marker
    /// (`{N}`, or `~{N}` for literal8) whose bytes are literals[i].
    std::vector<std::string> segments;
    /// The literal bytes, in order; literals.size() + 1 == segments.size().
    std::vector<std::string> literals;

    /// The first piece: for most responses (no literal) the whole line.
    const std::string& head() const { return segments.front(); }
    /// The line as it was on the wire, CRLFs included (for transcripts and later parsing).
    std::string wire() const;
};

/// Reads logical response lines from a byte source.
class ResponseReader {
public:
    /// Reads up to `size` bytes into `buffer`, blocking until at least one is available;
    /// returns 0 at end of stream. Throws (mbx::Error) on errors and timeouts.
    using Source = std::function<std::size_t(char* buffer, std::size_t size)>;

    /// `source` is called whenever more bytes are needed; `subject` names the server in
    /// error messages ("imaps://127.0.0.1:10993").
    ResponseReader(Source source, std::string subject, ReaderLimits limits = {});

    /// The next logical response line. Throws mbx::Error: data when the server exceeds a
    /// limit or sends a malformed literal marker, unavailable when the stream ends (also
    /// mid-line), and whatever the source throws. Reads from the source (network).
    ResponseLine read();

private:
    bool fill();
    std::string read_text_line(std::size_t budget);
    std::string read_literal(std::size_t size);
    [[noreturn]] void fail_limit(const std::string& what, std::size_t limit) const;

    Source source_;
    std::string subject_;
    ReaderLimits limits_;
    std::string buffer_;
    std::size_t pos_ = 0;
};

/// The size announced by a literal marker at the end of `line` (`... {123}`, also `{123+}`
/// and `~{123}`), or -1 when the line does not end with one. Throws mbx::Error(data) when
/// the number does not fit in 63 bits. No side effects.
long long literal_size(const std::string& line);

} // namespace mbx::imap
