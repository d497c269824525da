#include "mbx/directory/entry.hpp"

#include <catch2/catch.hpp>

using mbx::directory::Entry;

TEST_CASE("Entry looks attributes up case-insensitively and keeps value order", "[directory]") {
    Entry e;
    e.dn = "uid=alice,ou=people,dc=example,dc=org";
    e.attributes.emplace("mail", "alice@example.org");
    e.attributes.emplace("mailAlternateAddress", "a@example.org");
    e.attributes.emplace("mailAlternateAddress", "ali@example.org");
    e.attributes.emplace("jpegPhoto", std::string("\0\xff\x01", 3));
    CHECK(e.first("MAIL") == "alice@example.org");
    CHECK(e.values("mailalternateaddress") == std::vector<std::string>{"a@example.org", "ali@example.org"});
    CHECK(e.first("jpegphoto")->size() == 3);
    CHECK_FALSE(e.first("sn").has_value());
    CHECK(e.values("sn").empty());
    CHECK(e.has("Mail"));
    CHECK_FALSE(e.has("mai"));
}
