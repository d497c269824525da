#pragma once
// How a string argument goes on the wire in an IMAP command (RFC 3501 §4.3, §9 "astring").

#include <string>
#include <string_view>

namespace mbx::imap {

/// The form quote_astring() chose for a value.
struct AString {
    enum class Form {
        atom,   ///< sent as is: only ASTRING-CHARs
        quoted, ///< sent as a quoted string, `"` and `\` escaped
        literal ///< must be sent as a literal: contains CR, LF or 8-bit bytes
    };
    Form form = Form::atom;
    /// atom/quoted: the exact wire text. literal: the raw bytes to send after the `{N}` marker.
    std::string text;
};

/// Decides how `value` is sent as an IMAP astring: as an atom when every byte is an
/// ASTRING-CHAR (and it is not the ambiguous `NIL`), as a quoted string when it is 7-bit
/// without CR/LF, otherwise as a literal (Connection sends `{N}`/`{N+}` for it).
/// Throws mbx::Error(data) when `value` contains NUL, which no IMAP4rev1 string can carry
/// (RFC 3501 §4.3: CHAR8 excludes %x00). No side effects.
AString quote_astring(std::string_view value);

} // namespace mbx::imap
