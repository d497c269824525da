// Directory kinds from root DSEs as the servers' own documentation shows them.
#include "mbx/directory/kind.hpp"

#include <catch2/catch.hpp>

using namespace mbx::directory;

namespace {
Entry root(std::initializer_list<std::pair<const char*, const char*>> values) {
    Entry e;
    for (const auto& [k, v] : values) e.attributes.emplace(k, v);
    return e;
}
} // namespace

TEST_CASE("directory_kind_of: OpenLDAP, 389-DS, Active Directory and Samba AD root DSEs", "[directory]") {
    // slapd (OpenLDAP Software 2.5): objectClass: top, OpenLDAProotDSE; no vendorName.
    CHECK(directory_kind_of(root({{"objectClass", "top"}, {"objectClass", "OpenLDAProotDSE"}})) ==
          DirectoryKind::openldap);
    // 389 Directory Server 2.x.
    CHECK(directory_kind_of(root({{"objectClass", "top"},
                                  {"vendorName", "389 Project"},
                                  {"vendorVersion", "389-Directory/2.3.1 B2023.123.1122"}})) == DirectoryKind::ds389);
    CHECK(directory_kind_of(root({{"vendorName", "Red Hat, Inc."}})) == DirectoryKind::ds389);
    // Windows Server: no vendorName; supportedCapabilities with the AD OIDs.
    CHECK(directory_kind_of(root({{"supportedCapabilities", "1.2.840.113556.1.4.800"},
                                  {"supportedCapabilities", "1.2.840.113556.1.4.1670"},
                                  {"supportedCapabilities", "1.2.840.113556.1.4.1791"}})) ==
          DirectoryKind::active_directory);
    // Samba AD names itself, and still announces the AD capability: the capability wins.
    CHECK(directory_kind_of(root({{"vendorName", "Samba Team (https://www.samba.org)"},
                                  {"supportedCapabilities", "1.2.840.113556.1.4.800"}})) ==
          DirectoryKind::active_directory);
    // AD LDS announces 1.2.840.113556.1.4.1851 instead, and is not a domain controller.
    CHECK(directory_kind_of(root({{"supportedCapabilities", "1.2.840.113556.1.4.1851"}})) == DirectoryKind::other);
    CHECK(directory_kind_of(root({})) == DirectoryKind::other);
    CHECK(directory_kind_name(DirectoryKind::ds389) == "389ds");
    CHECK(directory_kind_name(DirectoryKind::active_directory) == "active-directory");
}
