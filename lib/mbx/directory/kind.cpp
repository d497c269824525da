#include "mbx/directory/kind.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/text.hpp"
#include "mbx/directory/directory.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace mbx::directory {
namespace {

constexpr std::string_view kActiveDirectoryCapability = "1.2.840.113556.1.4.800";

bool contains_lower(std::string_view text, std::string_view needle) {
    return ascii_lower(text).find(needle) != std::string::npos;
}

} // namespace

std::string_view directory_kind_name(DirectoryKind kind) {
    switch (kind) {
    case DirectoryKind::openldap: return "openldap";
    case DirectoryKind::ds389: return "389ds";
    case DirectoryKind::active_directory: return "active-directory";
    case DirectoryKind::other: return "other";
    }
    return "other";
}

DirectoryKind directory_kind_of(const Entry& root_dse) {
    for (const auto& c : root_dse.values("supportedCapabilities"))
        if (trim(c) == kActiveDirectoryCapability) return DirectoryKind::active_directory;
    for (const auto& v : root_dse.values("vendorName"))
        if (contains_lower(v, "389 project") || contains_lower(v, "fedora project") || contains_lower(v, "red hat"))
            return DirectoryKind::ds389;
    for (const auto& o : root_dse.values("objectClass"))
        if (iequals(trim(o), "OpenLDAProotDSE")) return DirectoryKind::openldap;
    return DirectoryKind::other;
}

std::optional<DirectoryKind> directory_kind_named(std::string_view configured, std::string_view setting) {
    for (auto kind :
         {DirectoryKind::openldap, DirectoryKind::ds389, DirectoryKind::active_directory, DirectoryKind::other})
        if (configured == directory_kind_name(kind)) return kind;
    if (!configured.empty() && configured != "auto")
        throw Error(ErrorCategory::config, "invalid " + std::string(setting) + " '" + std::string(configured) + "'",
                    "use auto, openldap, 389ds, active-directory or other");
    return std::nullopt;
}

DirectoryKind directory_kind(Directory& dir, std::string_view configured, std::string_view setting) {
    if (const auto kind = directory_kind_named(configured, setting)) return *kind;
    return directory_kind_of(dir.root_dse());
}

} // namespace mbx::directory
