#include "mbx/directory/escape.hpp"

#include "mbx/core/error.hpp"

#include <ldap.h>

#include <memory>

namespace mbx::directory {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_hex_escape(std::string& out, unsigned char byte) {
    out += '\\';
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
}

struct LdapUnbind {
    void operator()(LDAP* ld) const noexcept { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};

// An attribute description (RFC 4512 §2.5): a descriptor or numeric OID, then options.
bool is_attribute_description(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                  c == ';';
        if (!ok) return false;
    }
    return true;
}

} // namespace

std::string escape_filter_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        // RFC 4515 §3: these five must be escaped in an assertion value; everything else,
        // UTF-8 included, may stay as it is (valueencoding allows UTF1SUBSET and UTFMB).
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0') {
            append_hex_escape(out, static_cast<unsigned char>(c));
        } else {
            out += c;
        }
    }
    return out;
}

std::string escape_dn_value(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 4);
    for (std::size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        bool first = i == 0;
        bool last = i + 1 == value.size();
        if (c == '\0') {
            append_hex_escape(out, 0); // RFC 4514 §2.4: NUL is escaped as a hex pair
            continue;
        }
        // RFC 4514 §2.4 lists `"` `+` `,` `;` `<` `>` `\`; `=` is not required but is
        // escaped too: some older parsers (AD before 2008) split RDNs on it.
        bool special = c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' || c == '=';
        if (special || (first && (c == ' ' || c == '#')) || (last && c == ' ')) out += '\\';
        out += c;
    }
    return out;
}

void validate_filter(std::string_view filter) {
    // libldap has no public "parse filter" call, but the assertion control (RFC 4528) encodes
    // a full search filter with the same parser ldap_search_ext uses. It needs a handle for
    // its error number only; ldap_initialize(NULL) opens no connection.
    LDAP* raw = nullptr;
    if (ldap_initialize(&raw, nullptr) != LDAP_SUCCESS || raw == nullptr) {
        throw Error(ErrorCategory::internal, "cannot create an LDAP handle to check a filter");
    }
    std::unique_ptr<LDAP, LdapUnbind> ld(raw);
    std::string text(filter);
    berval encoded{0, nullptr};
    int rc = filter.empty() ? LDAP_PARAM_ERROR : ldap_create_assertion_control_value(ld.get(), text.data(), &encoded);
    if (encoded.bv_val != nullptr) ber_memfree(encoded.bv_val);
    if (rc != LDAP_SUCCESS) {
        throw Error(ErrorCategory::config, "invalid LDAP filter '" + text + "'",
                    "write the filter as in RFC 4515, e.g. '(objectClass=mbxMailUser)'", LDAP_FILTER_ERROR);
    }
}

std::string user_filter(std::string_view base_filter, std::string_view uid_attribute, std::string_view uid) {
    if (!is_attribute_description(uid_attribute)) {
        throw Error(ErrorCategory::config, "invalid LDAP attribute name '" + std::string(uid_attribute) + "'",
                    "use an attribute name such as 'uid' or 'sAMAccountName'");
    }
    std::string match = "(" + std::string(uid_attribute) + "=" + escape_filter_value(uid) + ")";
    if (base_filter.empty()) return match;
    std::string base(base_filter);
    if (base.front() != '(') base = "(" + base + ")";
    validate_filter(base);
    return "(&" + base + match + ")";
}

std::pair<std::string, std::string> split_rdn(std::string_view dn) {
    bool quoted = false;
    for (std::size_t i = 0; i < dn.size(); ++i) {
        const char c = dn[i];
        if (c == '\\') {
            ++i; // the escaped character (or the first of two hex digits) never splits
        } else if (c == '"') {
            quoted = !quoted;
        } else if ((c == ',' || c == ';') && !quoted) {
            std::string_view parent = dn.substr(i + 1);
            while (!parent.empty() && parent.front() == ' ') parent.remove_prefix(1);
            return {std::string(dn.substr(0, i)), std::string(parent)};
        }
    }
    return {std::string(dn), {}};
}

} // namespace mbx::directory
