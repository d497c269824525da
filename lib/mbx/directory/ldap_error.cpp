#include "mbx/directory/ldap_error.hpp"

#include <ldap.h>

namespace mbx::directory::detail {
namespace {

struct Classification {
    ErrorCategory category;
    const char* hint;
};

Classification classify(int code) {
    using C = ErrorCategory;
    switch (code) {
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR: return {C::unavailable, "check the [ldap] uri and that the server is running"};
    case LDAP_TIMEOUT:
    case LDAP_TIMELIMIT_EXCEEDED:
        // A client-side timeout means no answer at all; the server's time limit means it is
        // answering but slowly: worth retrying later.
        return {code == LDAP_TIMEOUT ? C::unavailable : C::temporary, "retry later, or raise [ldap] timeout"};
    case LDAP_UNAVAILABLE: return {C::unavailable, "the directory server is not serving requests; retry later"};
    case LDAP_BUSY:
    case LDAP_UNWILLING_TO_PERFORM:
    case LDAP_ADMINLIMIT_EXCEEDED:
        return {C::temporary, "the directory server refused the request for now; retry later"};
    case LDAP_INVALID_CREDENTIALS: return {C::auth, "check [ldap] bind-dn and the password in [ldap] password-file"};
    case LDAP_INAPPROPRIATE_AUTH:
    case LDAP_STRONG_AUTH_REQUIRED: return {C::auth, "the server does not accept this kind of bind for this DN"};
    case LDAP_INSUFFICIENT_ACCESS: return {C::auth, "the bind DN lacks the access rights; ask the directory admin"};
    case LDAP_CONFIDENTIALITY_REQUIRED: return {C::config, "use ldaps:// or enable [ldap] starttls"};
    case LDAP_FILTER_ERROR: return {C::config, "write the filter as in RFC 4515, e.g. '(objectClass=mbxMailUser)'"};
    case LDAP_SIZELIMIT_EXCEEDED:
        return {C::config, "set [ldap] page-size (e.g. 500) so searches are paged, or ask the "
                           "directory admin to raise the size limit for the bind DN"};
    case LDAP_NO_SUCH_OBJECT: return {C::data, "check the DN and the [ldap] base"};
    case LDAP_INVALID_DN_SYNTAX: return {C::data, "check the DN; values in it must be escaped (RFC 4514)"};
    case LDAP_UNAVAILABLE_CRITICAL_EXTENSION:
        return {C::config, "the server does not support a required control; set [ldap] "
                           "page-size 0 to search without paging"};
    case LDAP_CONSTRAINT_VIOLATION:
    case LDAP_INVALID_SYNTAX:
    case LDAP_UNDEFINED_TYPE:
    case LDAP_TYPE_OR_VALUE_EXISTS:
    case LDAP_NO_SUCH_ATTRIBUTE:
    case LDAP_ALREADY_EXISTS:
    case LDAP_OBJECT_CLASS_VIOLATION:
    case LDAP_NAMING_VIOLATION:
    case LDAP_NOT_ALLOWED_ON_NONLEAF:
    case LDAP_NOT_ALLOWED_ON_RDN: return {C::data, ""};
    default:
        // Negative codes are libldap's own (no memory, bad parameter, encoding): our bug.
        // Any other server result means the server failed the request.
        return {code < 0 ? C::internal : C::unavailable, ""};
    }
}

} // namespace

Error ldap_error(int code, const std::string& action, const std::string& diagnostic) {
    Classification c = classify(code);
    std::string text = ldap_err2string(code);
    // libldap capitalises ("Invalid credentials"); our messages continue in lower case.
    if (text.size() > 1 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'a' && text[1] <= 'z') {
        text[0] = static_cast<char>(text[0] - 'A' + 'a');
    }
    std::string message = action + ": " + text;
    if (!diagnostic.empty()) message += " (" + diagnostic + ")";
    return Error(c.category, std::move(message), c.hint, code);
}

} // namespace mbx::directory::detail
