#pragma once
// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3), the form IMAP4rev1 servers use on the
// wire; mbxkit keeps names in UTF-8 everywhere else.

#include <string>
#include <string_view>

namespace mbx::imap {

/// Encodes the UTF-8 mailbox name `utf8` in modified UTF-7 ("Entwürfe" -> "Entw&APw-rfe",
/// "&" -> "&-"). Throws mbx::Error(data) naming the input when it is not valid UTF-8.
/// No side effects.
std::string encode_mailbox_name(std::string_view utf8);

/// Decodes the modified UTF-7 mailbox name `mutf7` to UTF-8. Strict: rejects 8-bit bytes,
/// unterminated or malformed shifts, bad padding bits, unpaired surrogates, and printable
/// US-ASCII that was encoded although it must not be. Throws mbx::Error(data) naming the
/// input. No side effects.
std::string decode_mailbox_name(std::string_view mutf7);

} // namespace mbx::imap
