#include "mbx/ops/reprovision.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <set>

using mbx::ErrorCategory;
using mbx::config::Config;
using mbx::config::Origin;
using mbx::test::error_of;
namespace rp = mbx::ops::reprovision;

namespace {

Config config_with(std::initializer_list<std::pair<const char*, const char*>> values) {
    Config c;
    for (const auto& [k, v] : values) c.set(k, v, Origin{Origin::Kind::file, "test"});
    return c;
}

} // namespace

TEST_CASE("settings_of: defaults, the copy list and the address attributes", "[ops][reprovision]") {
    const auto s = rp::settings_of(Config(), "/var/lib/mbxkit/journal.sqlite");
    CHECK(s.uid_attribute == "uid");
    CHECK(s.address_attributes == std::vector<std::string>{"mail"});
    CHECK(s.copy_attributes.front() == "cn");
    CHECK(s.password_dir == "/var/lib/mbxkit/passwords");
    CHECK(s.disable == rp::DisableMethod::attribute);
    CHECK(s.disable_attribute == "pwdAccountLockedTime");
    CHECK(s.disable_value == "000001010000Z");
    CHECK_FALSE(s.undo_removes_new_entry);

    const auto t = rp::settings_of(
        config_with({{"ldap.alias-attributes", "mailAlternateAddress, MAIL"},
                     {"ldap.quota-attribute", "mailQuota"},
                     {"reprovision.copy-attributes", "cn,sn,userPassword,objectClass,uid,mail,mailAlternateAddress,CN"},
                     {"reprovision.password-dir", "/srv/pw"},
                     {"reprovision.undo-new-entry", "remove"}}),
        "/x/j.sqlite");
    // The aliases follow the mail attribute once; the copy list never holds the password, the
    // RDN, objectClass (copied anyway) or an address (moved at cutover), and gets the quota.
    CHECK(t.address_attributes == std::vector<std::string>{"mail", "mailAlternateAddress"});
    CHECK(t.copy_attributes == std::vector<std::string>{"cn", "sn", "mailQuota"});
    CHECK(t.password_dir == "/srv/pw");
    CHECK(t.undo_removes_new_entry);
}

TEST_CASE("settings_of refuses incomplete disable settings, naming the key", "[ops][reprovision]") {
    auto bad = [](std::initializer_list<std::pair<const char*, const char*>> values) {
        return error_of([&] { rp::settings_of(config_with(values), "/j"); });
    };
    auto e = bad({{"reprovision.disable-method", "lock"}});
    CHECK(e.category() == ErrorCategory::config);
    CHECK_THAT(e.what(), Catch::Contains("disable-method"));
    e = bad({{"reprovision.disable-method", "move"}});
    CHECK(e.category() == ErrorCategory::config);
    CHECK_THAT(e.what(), Catch::Contains("disabled-base"));
    e = bad({{"reprovision.disable-attribute", ""}});
    CHECK(e.category() == ErrorCategory::config);
    e = bad({{"reprovision.undo-new-entry", "delete"}});
    CHECK(e.category() == ErrorCategory::config);
    CHECK_THAT(e.hint(), Catch::Contains("remove"));
    CHECK(rp::settings_of(
              config_with({{"reprovision.disable-method", "move"}, {"reprovision.disabled-base", "ou=disabled,dc=x"}}),
              "/j")
              .disable == rp::DisableMethod::move);
    CHECK(rp::settings_of(config_with({{"reprovision.disable-method", "none"}, {"reprovision.disable-attribute", ""}}),
                          "/j")
              .disable == rp::DisableMethod::none);
}

TEST_CASE("generate_password: 24 alphanumerics, different every time", "[ops][reprovision]") {
    std::set<std::string> seen;
    std::set<char> chars;
    for (int i = 0; i < 200; ++i) {
        const auto pw = rp::generate_password();
        REQUIRE(pw.reveal().size() == 24);
        for (char c : pw.reveal()) {
            CHECK(std::isalnum(static_cast<unsigned char>(c)));
            chars.insert(c);
        }
        seen.insert(pw.reveal());
    }
    CHECK(seen.size() == 200);
    CHECK(chars.size() > 55); // 4,800 draws from 62 characters reach (nearly) all of them
}
