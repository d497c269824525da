#pragma once
// An IMAP command under construction: words, astrings and literals, in order. Connection
// adds the tag and decides how literals are announced ({N} or {N+}, RFC 7888).

#include <string>
#include <string_view>
#include <vector>

namespace mbx::imap {

/// One IMAP command without its tag. Pieces are separated by single spaces.
class Command {
public:
    /// One piece of the command line.
    struct Piece {
        std::string text;     ///< wire text, or the raw bytes when `literal`
        bool literal = false; ///< send as a literal
    };

    /// Starts a command with `name` ("STATUS", "UID FETCH"), sent as is.
    explicit Command(std::string_view name);

    /// Appends `text` as is: atoms, numbers, sequence sets, parenthesised lists written by the
    /// caller. Throws mbx::Error(internal) if it contains CR or LF. No side effects.
    Command& raw(std::string_view text);
    /// Appends `value` as an astring (atom, quoted string or literal: quote_astring()).
    /// Throws mbx::Error(data) for NUL. No side effects.
    Command& astring(std::string_view value);
    /// Appends the UTF-8 mailbox name `name`, encoded in modified UTF-7 and then as an
    /// astring. Throws mbx::Error(data) for invalid UTF-8. No side effects.
    Command& mailbox(std::string_view name);
    /// Appends `bytes` as a literal (a message for APPEND). No side effects.
    Command& literal(std::string_view bytes);
    /// As above, taking the bytes over (a large message is not copied).
    Command& literal(std::string&& bytes);
    Command& literal(const char* bytes) { return literal(std::string_view(bytes)); }

    const std::vector<Piece>& pieces() const noexcept { return pieces_; }
    /// True when some piece must be sent as a literal.
    bool has_literals() const noexcept;
    /// The command as text for logs: literals shown as `{N}` without their bytes.
    std::string describe() const;

private:
    std::vector<Piece> pieces_;
};

} // namespace mbx::imap
