#include "mbx/ops/reprovision.hpp"
#include "mbx/ops/reprovision_impl.hpp"
#include "mbx/ops/user_schema.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
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

TEST_CASE("user_schema_of: Active Directory's defaults where the settings are left at theirs", "[ops][reprovision]") {
    using mbx::directory::DirectoryKind;
    const auto ad = mbx::ops::user_schema_of(Config(), DirectoryKind::active_directory);
    CHECK(ad.uid_attribute == "sAMAccountName");
    CHECK(ad.alias_attributes == std::vector<std::string>{"proxyAddresses"});
    CHECK(ad.user_filter.find("isCriticalSystemObject") != std::string::npos);
    CHECK(ad.user_filter.find("1.2.840.113556.1.4.803:=2") != std::string::npos);
    CHECK(ad.lookup_filter == "(&(objectCategory=person)(objectClass=user))");
    CHECK(ad.disable_by_account_control());

    const auto ds = mbx::ops::user_schema_of(Config(), DirectoryKind::ds389);
    CHECK(ds.uid_attribute == "uid");
    CHECK(ds.disable_attribute == "nsAccountLock");
    const auto ol = mbx::ops::user_schema_of(Config(), DirectoryKind::openldap);
    CHECK(ol.disable_attribute == "pwdAccountLockedTime");
    CHECK(ol.user_filter == ol.lookup_filter);

    // What the admin set stays set, on AD too; a filter the admin wrote also finds one user.
    const auto set = mbx::ops::user_schema_of(config_with({{"ldap.uid-attribute", "uid"},
                                                           {"ldap.user-filter", "(objectClass=user)"},
                                                           {"reprovision.disable-attribute", "mbxAccountDisabled"}}),
                                              DirectoryKind::active_directory);
    CHECK(set.uid_attribute == "uid");
    CHECK(set.lookup_filter == "(objectClass=user)");
    CHECK(set.disable_attribute == "mbxAccountDisabled");
    CHECK(set.disable_value == "000001010000Z"); // the pair is the admin's once one half is set
}

TEST_CASE("with_kind_defaults: the settings commands read, with the kind named", "[ops][reprovision]") {
    using mbx::directory::DirectoryKind;
    const Config cfg = mbx::ops::with_kind_defaults(Config(), DirectoryKind::active_directory);
    CHECK(cfg.get("ldap.kind") == "active-directory");
    CHECK(cfg.get("ldap.uid-attribute") == "sAMAccountName");
    CHECK(cfg.get("ldap.alias-attributes") == "proxyAddresses");
    CHECK(cfg.origin("ldap.user-filter").kind == Origin::Kind::default_value);
    // Read back, the lookup filter is still AD's: the user filter is still a default.
    CHECK(mbx::ops::user_schema(cfg).lookup_filter == "(&(objectCategory=person)(objectClass=user))");
    const auto s = rp::settings_of(cfg, "/j");
    CHECK(s.active_directory);
    CHECK(s.rdn_attribute == "cn");
    CHECK(s.disable == rp::DisableMethod::account_control);
    CHECK(s.address_attributes == std::vector<std::string>{"mail", "proxyAddresses"});
    // cn names the entry (CN=NEWUID): it is not copied from the old one.
    CHECK(std::find(s.copy_attributes.begin(), s.copy_attributes.end(), "cn") == s.copy_attributes.end());
    CHECK(std::find(s.copy_attributes.begin(), s.copy_attributes.end(), "sn") != s.copy_attributes.end());
    // An admin's disable-attribute = userAccountControl is the bit, never a value written over the flags.
    const auto t = rp::settings_of(
        config_with({{"reprovision.disable-attribute", "userAccountControl"}, {"reprovision.disable-value", "514"}}),
        "/j");
    CHECK(t.disable == rp::DisableMethod::account_control);
}

TEST_CASE("changes_from: userAccountControl with its old value as the precondition", "[ops][reprovision]") {
    namespace d = rp::detail;
    using Op = mbx::directory::Modification::Op;
    const auto mods = d::changes_from(
        d::json{{"userAccountControl", {"512"}}, {"mail", {"a@x"}}, {"proxyAddresses", {"SMTP:a@x", "smtp:b@x"}}},
        d::json{
            {"userAccountControl", {"514"}}, {"mail", d::json::array()}, {"proxyAddresses", {"smtp:b@x", "SMTP:a@x"}}});
    REQUIRE(mods.size() == 3);
    CHECK(mods[0].op == Op::replace);
    CHECK(mods[0].attribute == "mail");
    CHECK(mods[0].values.empty());
    CHECK(mods[1].op == Op::remove);
    CHECK(mods[1].attribute == "userAccountControl");
    CHECK(mods[1].values == std::vector<std::string>{"512"});
    CHECK(mods[2].op == Op::add);
    CHECK(mods[2].values == std::vector<std::string>{"514"});
    // proxyAddresses holds its values already (in another order): nothing to write.
    CHECK(d::changes_from(d::json{{"userAccountControl", {"514"}}}, d::json{{"userAccountControl", {"514"}}}).empty());

    CHECK(d::with_disable_bit("512", true, "cn=x") == "514");
    CHECK(d::with_disable_bit("66050", false, "cn=x") == "66048"); // DONT_EXPIRE_PASSWORD kept
    CHECK(d::with_disable_bit("514", true, "cn=x") == "514");
    CHECK(error_of([] { rp::detail::with_disable_bit("", true, "cn=x"); }).category() == ErrorCategory::data);
}
