#include "mbx/imap/quote.hpp"

#include "mbx/core/error.hpp"

namespace mbx::imap {
namespace {

// RFC 3501 §9: ASTRING-CHAR = ATOM-CHAR / resp-specials; ATOM-CHAR is any CHAR except
// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials.
bool is_astring_char(unsigned char c) {
    if (c <= 0x20 || c >= 0x7f) return false; // CTL, SP, DEL and 8-bit
    switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\': return false;
    default: return true; // "]" is a resp-special but allowed in ASTRING-CHAR
    }
}

bool iequals_nil(std::string_view v) {
    return v.size() == 3 && (v[0] | 0x20) == 'n' && (v[1] | 0x20) == 'i' && (v[2] | 0x20) == 'l';
}

} // namespace

AString quote_astring(std::string_view value) {
    bool atom = !value.empty() && !iequals_nil(value);
    bool quotable = true;
    for (char ch : value) {
        auto c = static_cast<unsigned char>(ch);
        if (c == 0) {
            throw Error(ErrorCategory::data,
                        "cannot send a string containing a NUL byte to an "
                        "IMAP server",
                        "remove the NUL byte from the value");
        }
        if (!is_astring_char(c)) atom = false;
        // A quoted string carries TEXT-CHARs only: 7-bit, no CR or LF (RFC 3501 §9 QUOTED-CHAR).
        if (c == '\r' || c == '\n' || c >= 0x80) quotable = false;
    }
    // "NIL" as an atom is the nil value wherever an nstring is allowed: quote it.
    if (atom) return {AString::Form::atom, std::string(value)};
    if (!quotable) return {AString::Form::literal, std::string(value)};
    std::string out;
    out.reserve(value.size() + 2);
    out += '"';
    for (char c : value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return {AString::Form::quoted, std::move(out)};
}

} // namespace mbx::imap
