#pragma once
// LDIF (RFC 2849) for people and for ldapmodify: the entries and changes mbxkit would write,
// shown by dry runs and kept in reports, and the text tests compare entries by.
//
// Values that are not "safe strings" (a leading space, ':' or '<', a trailing space, a NUL,
// CR or LF, or any byte above 0x7F) are written base64-encoded (`attr:: ...`), so binary
// values and UTF-8 round-trip exactly. Lines are not folded.

#include "mbx/directory/directory.hpp"
#include "mbx/directory/entry.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace mbx::directory {

/// One `name: value` (or `name:: base64`) line, with its newline. Pure.
std::string ldif_line(std::string_view name, std::string_view value);

/// The entry as a content record: `dn:` then every value of every attribute, in the entry's
/// order, then a blank line. Attributes named in `omit` (case-insensitive, e.g. userPassword)
/// are left out. Pure.
std::string ldif_entry(const Entry& entry, const std::vector<std::string>& omit = {});

/// The change record of an add (`changetype: add`). Pure.
std::string ldif_add(std::string_view dn, const std::vector<Attribute>& attributes);

/// The change record of a modify (`changetype: modify`, one `add:`/`delete:`/`replace:` block
/// per modification, each ended by `-`). Pure.
std::string ldif_modify(std::string_view dn, const std::vector<Modification>& changes);

/// The change record of a rename (`changetype: modrdn`, deleteoldrdn 1, newsuperior when
/// `new_superior` is not empty). Pure.
std::string ldif_modrdn(std::string_view dn, std::string_view new_rdn, std::string_view new_superior);

} // namespace mbx::directory
