#include "mbx/directory/ldif.hpp"

#include "mbx/core/text.hpp"

namespace mbx::directory {
namespace {

// RFC 2849 SAFE-STRING: SAFE-INIT-CHAR then SAFE-CHARs, plus our rule against a trailing space
// (which many readers would strip).
bool safe(std::string_view v) {
    if (v.empty()) return true;
    const auto first = static_cast<unsigned char>(v.front());
    if (first == ' ' || first == ':' || first == '<') return false;
    if (v.back() == ' ') return false;
    for (unsigned char c : v)
        if (c == 0 || c == '\n' || c == '\r' || c > 0x7F) return false;
    return true;
}

bool omitted(std::string_view name, const std::vector<std::string>& omit) {
    const AttributeLess less;
    for (const auto& o : omit)
        if (!less(name, o) && !less(o, name)) return true;
    return false;
}

std::string_view op_name(Modification::Op op) {
    switch (op) {
    case Modification::Op::add: return "add";
    case Modification::Op::remove: return "delete";
    case Modification::Op::replace: break;
    }
    return "replace";
}

} // namespace

std::string ldif_line(std::string_view name, std::string_view value) {
    std::string out(name);
    if (safe(value)) {
        out += ": ";
        out += value;
    } else {
        out += ":: ";
        out += base64_encode(value);
    }
    out += '\n';
    return out;
}

std::string ldif_entry(const Entry& entry, const std::vector<std::string>& omit) {
    std::string out = ldif_line("dn", entry.dn);
    for (const auto& [name, value] : entry.attributes)
        if (!omitted(name, omit)) out += ldif_line(name, value);
    out += '\n';
    return out;
}

std::string ldif_add(std::string_view dn, const std::vector<Attribute>& attributes) {
    std::string out = ldif_line("dn", dn) + "changetype: add\n";
    for (const auto& a : attributes)
        for (const auto& v : a.values) out += ldif_line(a.name, v);
    out += '\n';
    return out;
}

std::string ldif_modify(std::string_view dn, const std::vector<Modification>& changes) {
    std::string out = ldif_line("dn", dn) + "changetype: modify\n";
    for (const auto& c : changes) {
        out += ldif_line(op_name(c.op), c.attribute);
        for (const auto& v : c.values) out += ldif_line(c.attribute, v);
        out += "-\n";
    }
    out += '\n';
    return out;
}

std::string ldif_modrdn(std::string_view dn, std::string_view new_rdn, std::string_view new_superior) {
    std::string out = ldif_line("dn", dn) + "changetype: modrdn\n" + ldif_line("newrdn", new_rdn) + "deleteoldrdn: 1\n";
    if (!new_superior.empty()) out += ldif_line("newsuperior", new_superior);
    out += '\n';
    return out;
}

} // namespace mbx::directory
