#include "mbx/directory/escape.hpp"

#include "mbx/core/error.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using namespace mbx::directory;
using namespace std::string_literals;
using namespace std::string_view_literals;
using mbx::test::error_of;

TEST_CASE("escape_filter_value follows RFC 4515 section 3", "[directory]") {
    // The examples of RFC 4515 §4.
    CHECK(escape_filter_value("Parens R Us (for all your parenthetical needs)") ==
          "Parens R Us \\28for all your parenthetical needs\\29");
    CHECK(escape_filter_value("*") == "\\2a");
    CHECK(escape_filter_value("C:\\MyFile") == "C:\\5cMyFile");
    CHECK(escape_filter_value("\0\0\0\4"s) == "\\00\\00\\00\4");
    CHECK(escape_filter_value("Lučić") == "Lučić"); // UTF-8 stays
    CHECK(escape_filter_value("") == "");
    CHECK(escape_filter_value("alice") == "alice");
}

TEST_CASE("escape_filter_value neutralises filter injection", "[directory]") {
    CHECK(escape_filter_value("*)(uid=*") == "\\2a\\29\\28uid=\\2a");
    CHECK(escape_filter_value("bob)(|(mail=*") == "bob\\29\\28|\\28mail=\\2a");
    CHECK(escape_filter_value("\\2a") == "\\5c2a"); // an already-escaped look-alike is not trusted
}

TEST_CASE("escape_dn_value follows RFC 4514 section 2.4", "[directory]") {
    // The examples of RFC 4514 §4.
    mbx::test::check_table(escape_dn_value, {{"Sue, Grabbit and Runn", "Sue\\, Grabbit and Runn"},
                                             {"Before\rAfter", "Before\rAfter"},
                                             {"Lučić", "Lučić"},
                                             {"a+b", "a\\+b"},
                                             {"say \"hi\"", "say \\\"hi\\\""},
                                             {"back\\slash", "back\\\\slash"},
                                             {"<a>;b=c", "\\<a\\>\\;b\\=c"},
                                             {"#hash", "\\#hash"},
                                             {"mid#hash", "mid#hash"},
                                             {" lead", "\\ lead"},
                                             {"trail ", "trail\\ "},
                                             {" ", "\\ "},
                                             {"  ", "\\ \\ "},
                                             {"in side", "in side"},
                                             {"nul\0byte"sv, "nul\\00byte"},
                                             {"", ""}});
}

TEST_CASE("escape_dn_value neutralises DN injection", "[directory]") {
    CHECK(escape_dn_value("x,ou=admins,dc=example,dc=org") == "x\\,ou\\=admins\\,dc\\=example\\,dc\\=org");
    CHECK(escape_dn_value("a+uid=root") == "a\\+uid\\=root");
}

TEST_CASE("validate_filter accepts RFC 4515 filters and rejects broken ones", "[directory]") {
    CHECK_NOTHROW(validate_filter("(objectClass=mbxMailUser)"));
    CHECK_NOTHROW(validate_filter("(&(objectClass=*)(|(uid=a*)(mail=\\2a)))"));
    CHECK_NOTHROW(validate_filter("(!(uid=x))"));
    for (const char* bad : {"", "(", "(uid=a", "(&(uid=a)", "uid=a)", "(uid=a))", "((uid=a)"}) {
        INFO(bad);
        const mbx::Error e = error_of([&] { validate_filter(bad); });
        CHECK(e.category() == mbx::ErrorCategory::config);
        CHECK(std::string(e.what()).find("invalid LDAP filter '" + std::string(bad) + "'") == 0);
    }
}

TEST_CASE("user_filter combines a base filter with an escaped uid", "[directory]") {
    CHECK(user_filter("(objectClass=mbxMailUser)", "uid", "alice") == "(&(objectClass=mbxMailUser)(uid=alice))");
    CHECK(user_filter("objectClass=mbxMailUser", "uid", "alice") == "(&(objectClass=mbxMailUser)(uid=alice))");
    CHECK(user_filter("", "sAMAccountName", "bob") == "(sAMAccountName=bob)");
    CHECK(user_filter("(objectClass=*)", "uid", "*)(uid=*") == "(&(objectClass=*)(uid=\\2a\\29\\28uid=\\2a))");
    CHECK_THROWS_MATCHES(user_filter("(objectClass=*", "uid", "x"), mbx::Error,
                         Catch::Matchers::Predicate<mbx::Error>(
                             [](const mbx::Error& e) { return e.category() == mbx::ErrorCategory::config; }));
    CHECK_THROWS_AS(user_filter("(objectClass=*)", "uid)(x", "x"), mbx::Error);
}
