#include "mbx/directory/ldif.hpp"

#include "mbx/directory/escape.hpp"

#include <catch2/catch.hpp>

using namespace mbx::directory;

TEST_CASE("ldif_line writes safe strings as they are and the rest in base64", "[directory][ldif]") {
    CHECK(ldif_line("cn", "Alice Adams") == "cn: Alice Adams\n");
    CHECK(ldif_line("description", "") == "description: \n");
    // RFC 2849: a leading space, colon or '<' is not a SAFE-INIT-CHAR.
    CHECK(ldif_line("cn", " lead") == "cn:: IGxlYWQ=\n");
    CHECK(ldif_line("cn", ":colon") == "cn:: OmNvbG9u\n");
    CHECK(ldif_line("cn", "<url") == "cn:: PHVybA==\n");
    CHECK(ldif_line("cn", "trail ") == "cn:: dHJhaWwg\n"); // readers would strip it
    CHECK(ldif_line("cn", "a\nb") == "cn:: YQpi\n");
    CHECK(ldif_line("cn", "J\xc3\xbcrgen") == "cn:: SsO8cmdlbg==\n"); // UTF-8 is not SAFE-CHAR
    CHECK(ldif_line("jpegPhoto", std::string("\xff\x00\x01", 3)) == "jpegPhoto:: /wAB\n");
    // A DN with escapes stays readable: '\' and ',' are safe characters.
    CHECK(ldif_line("dn", "uid=a\\,b,dc=x") == "dn: uid=a\\,b,dc=x\n");
}

TEST_CASE("ldif_entry lists every value in order and leaves out the named attributes", "[directory][ldif]") {
    const Entry e{.dn = "uid=alice,ou=people,dc=example,dc=org",
                  .attributes = {{"objectClass", "inetOrgPerson"},
                                 {"objectClass", "mbxMailUser"},
                                 {"mail", "alice@example.org"},
                                 {"userPassword", "{SSHA}secret-hash"}}};
    CHECK(ldif_entry(e, {"USERPASSWORD"}) == "dn: uid=alice,ou=people,dc=example,dc=org\n"
                                             "mail: alice@example.org\n"
                                             "objectClass: inetOrgPerson\n"
                                             "objectClass: mbxMailUser\n"
                                             "\n");
    CHECK_THAT(ldif_entry(e), Catch::Contains("userPassword: {SSHA}secret-hash\n"));
}

TEST_CASE("change records: add, modify and modrdn as ldapmodify reads them", "[directory][ldif]") {
    CHECK(ldif_add("uid=a2,dc=x", {{"objectClass", {"top", "person"}}, {"cn", {"A"}}}) ==
          "dn: uid=a2,dc=x\nchangetype: add\nobjectClass: top\nobjectClass: person\ncn: A\n\n");
    CHECK(ldif_modify("uid=a,dc=x", {{Modification::Op::replace, "mail", {}},
                                     {Modification::Op::add, "mail", {"a@x", "b@x"}},
                                     {Modification::Op::remove, "cn", {"A"}}}) == "dn: uid=a,dc=x\nchangetype: modify\n"
                                                                                  "replace: mail\n-\n"
                                                                                  "add: mail\nmail: a@x\nmail: b@x\n-\n"
                                                                                  "delete: cn\ncn: A\n-\n\n");
    CHECK(ldif_modrdn("uid=a,ou=people,dc=x", "uid=a", "ou=disabled,dc=x") ==
          "dn: uid=a,ou=people,dc=x\nchangetype: modrdn\nnewrdn: uid=a\ndeleteoldrdn: 1\n"
          "newsuperior: ou=disabled,dc=x\n\n");
    CHECK(ldif_modrdn("uid=a,dc=x", "uid=b", "") ==
          "dn: uid=a,dc=x\nchangetype: modrdn\nnewrdn: uid=b\ndeleteoldrdn: 1\n\n");
}

TEST_CASE("split_rdn splits at the first unescaped separator", "[directory][escape]") {
    using P = std::pair<std::string, std::string>;
    CHECK(split_rdn("uid=alice,ou=people,dc=example,dc=org") == P{"uid=alice", "ou=people,dc=example,dc=org"});
    CHECK(split_rdn("uid=a\\,b,ou=people") == P{"uid=a\\,b", "ou=people"});
    CHECK(split_rdn("uid=a\\2Cb,ou=people") == P{"uid=a\\2Cb", "ou=people"});
    CHECK(split_rdn("uid=a\\\\,ou=people") == P{"uid=a\\\\", "ou=people"}); // an escaped backslash, then a split
    CHECK(split_rdn("cn=\"Adams, Alice\",dc=x") == P{"cn=\"Adams, Alice\"", "dc=x"});
    CHECK(split_rdn("uid=a;dc=x") == P{"uid=a", "dc=x"}); // RFC 1779 separator
    CHECK(split_rdn("uid=a, dc=x") == P{"uid=a", "dc=x"});
    CHECK(split_rdn("dc=org") == P{"dc=org", ""});
    CHECK(split_rdn("") == P{"", ""});
    // What escape_dn_value makes always splits back into the same RDN.
    for (const std::string v : {"#rpv,+\"\\=x", "a,b", " lead", "trail ", "semi;colon", "back\\"}) {
        INFO(v);
        const std::string rdn = "uid=" + escape_dn_value(v);
        CHECK(split_rdn(rdn + ",ou=people,dc=x") == P{rdn, "ou=people,dc=x"});
    }
}
