#include "mbx/imap/response_reader.hpp"

#include "mbx/core/error.hpp"

#include <algorithm>
#include <array>

namespace mbx::imap {

std::string ResponseLine::wire() const {
    std::string out;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        out += segments[i];
        out += "\r\n";
        if (i < literals.size()) out += literals[i];
    }
    return out;
}

long long literal_size(const std::string& line) {
    if (line.size() < 3 || line.back() != '}') return -1;
    std::size_t open = line.rfind('{');
    if (open == std::string::npos) return -1;
    std::size_t end = line.size() - 1;
    if (end > open + 1 && line[end - 1] == '+') --end; // non-synchronizing (RFC 7888)
    if (end == open + 1) return -1;
    long long size = 0;
    for (std::size_t i = open + 1; i < end; ++i) {
        char c = line[i];
        if (c < '0' || c > '9') return -1;
        if (size > (0x7fffffffffffffffLL - 9) / 10) {
            throw Error(ErrorCategory::data, "cannot read IMAP response: literal size too large");
        }
        size = size * 10 + (c - '0');
    }
    return size;
}

ResponseReader::ResponseReader(Source source, std::string subject, ReaderLimits limits)
    : source_(std::move(source)), subject_(std::move(subject)), limits_(limits) {}

void ResponseReader::fail_limit(const std::string& what, std::size_t limit) const {
    throw Error(ErrorCategory::data,
                "cannot read response from '" + subject_ + "': " + what + " exceeds " + std::to_string(limit) +
                    " bytes",
                "the server sent more than mbxkit accepts in one response; raise the reader "
                "limits only if the server is trusted");
}

bool ResponseReader::fill() {
    // Drop what has been consumed before growing the buffer.
    if (pos_ > 0 && (pos_ == buffer_.size() || pos_ > 64 * 1024)) {
        buffer_.erase(0, pos_);
        pos_ = 0;
    }
    std::array<char, 16 * 1024> chunk{};
    std::size_t n = source_(chunk.data(), chunk.size());
    if (n == 0) return false;
    buffer_.append(chunk.data(), n);
    return true;
}

std::string ResponseReader::read_text_line(std::size_t budget) {
    // Past the response's budget the response is too large, not the line.
    if (budget < limits_.max_line && budget <= kPieceOverhead) fail_limit("one response", limits_.max_response);
    std::size_t limit = std::min(limits_.max_line, budget);
    std::size_t scanned = 0; // bytes after pos_ known to hold no LF (fill() may move pos_)
    for (;;) {
        std::size_t lf = buffer_.find('\n', pos_ + scanned);
        if (lf != std::string::npos && lf - pos_ <= limit + 1) {
            std::size_t end = (lf > pos_ && buffer_[lf - 1] == '\r') ? lf - 1 : lf;
            std::string line = buffer_.substr(pos_, end - pos_);
            pos_ = lf + 1;
            return line;
        }
        if (buffer_.size() - pos_ > limit + 1) {
            if (limit < limits_.max_line) fail_limit("one response", limits_.max_response);
            fail_limit("a response line", limit);
        }
        scanned = buffer_.size() - pos_;
        if (!fill()) {
            throw Error(ErrorCategory::unavailable, "cannot read response from '" + subject_ + "': connection closed",
                        "the server closed the connection; check its logs");
        }
    }
}

std::string ResponseReader::read_literal(std::size_t size) {
    std::string data;
    // Grow with what actually arrives instead of trusting the announced size.
    data.reserve(std::min<std::size_t>(size, 1024 * 1024));
    while (data.size() < size) {
        if (pos_ == buffer_.size() && !fill()) {
            throw Error(ErrorCategory::unavailable,
                        "cannot read response from '" + subject_ + "': connection closed inside a literal",
                        "the server closed the connection; check its logs");
        }
        std::size_t take = std::min(size - data.size(), buffer_.size() - pos_);
        data.append(buffer_, pos_, take);
        pos_ += take;
    }
    return data;
}

ResponseLine ResponseReader::read() {
    ResponseLine line;
    // What the response holds in memory: its bytes and, per piece, a string's own cost
    // (kPieceOverhead): a server sending `{1}\r\nA ` by the million would otherwise make the
    // client hold 13 times what it received.
    std::size_t total = 0;
    for (;;) {
        std::size_t budget = limits_.max_response - total;
        std::string text = read_text_line(budget);
        total += text.size() + kPieceOverhead;
        long long size = literal_size(text);
        line.segments.push_back(std::move(text));
        if (size < 0) return line;
        auto n = static_cast<unsigned long long>(size);
        if (n > limits_.max_literal) fail_limit("a literal of " + std::to_string(n) + " bytes", limits_.max_literal);
        if (total > limits_.max_response || n + kPieceOverhead > limits_.max_response - total)
            fail_limit("one response", limits_.max_response);
        line.literals.push_back(read_literal(static_cast<std::size_t>(n)));
        total += static_cast<std::size_t>(n) + kPieceOverhead;
    }
}

} // namespace mbx::imap
