// mbx::directory against the real OpenLDAP slapd of scripts/testenv.

#include "sandbox_certificate.hpp"
#include "testenv.hpp"

#include "mbx/core/error.hpp"
#include "mbx/directory/directory.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/tls/certificate.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

using namespace mbx::directory;
using namespace mbx::testing; // testenv(), error_of, closed_port, foreign_ca_file

namespace {

LdapConfig service_config(const std::string& uri_key = "TESTENV_LDAP_URI") {
    LdapConfig c;
    c.uri = testenv(uri_key);
    c.ca_file = testenv("TESTENV_CA_FILE");
    c.bind_dn = testenv("TESTENV_LDAP_BIND_DN");
    c.password = mbx::testing::secret_from_file(testenv("TESTENV_LDAP_PASSWORD_FILE"));
    c.timeout = std::chrono::seconds(10);
    return c;
}

LdapConfig admin_config() {
    LdapConfig c = service_config();
    c.bind_dn = testenv("TESTENV_LDAP_ADMIN_DN");
    c.password = mbx::testing::secret_from_file(testenv("TESTENV_LDAP_ADMIN_PASSWORD_FILE"));
    return c;
}

std::size_t count(Directory& dir, const std::string& filter) {
    return dir.search(testenv("TESTENV_LDAP_PEOPLE"), Scope::subtree, filter, {"uid"}, [](const Entry&) {});
}

} // namespace

TEST_CASE("LDAP: StartTLS on ldap:// binds and reads a user", "[directory]") {
    Directory dir = Directory::connect(service_config());
    std::vector<Entry> found;
    std::size_t n = dir.search(
        testenv("TESTENV_LDAP_PEOPLE"), Scope::subtree, user_filter("(objectClass=mbxMailUser)", "uid", "alice"),
        {"uid", "mail", "mailQuota", "mailAlternateAddress"}, [&found](const Entry& e) { found.push_back(e); });
    REQUIRE(n == 1);
    REQUIRE(found.size() == 1);
    CHECK(found[0].dn == "uid=alice," + testenv("TESTENV_LDAP_PEOPLE"));
    CHECK(found[0].first("mail") == "alice@example.org");
    CHECK(found[0].first("mailQuota") == std::to_string(50 * 1024 * 1024));
    CHECK(found[0].values("mailAlternateAddress") == std::vector<std::string>{"alice.adams@example.org"});
}

TEST_CASE("LDAP: ldaps:// binds and searches", "[directory]") {
    Directory dir = Directory::connect(service_config("TESTENV_LDAPS_URI"));
    for (std::string uid : {"alice", "bob", "carol", "dave"}) {
        INFO(uid);
        CHECK(count(dir, user_filter("(objectClass=mbxMailUser)", "uid", uid)) == 1);
    }
}

TEST_CASE("LDAP: a wrong password is an auth error that does not show the password", "[directory]") {
    LdapConfig c = service_config();
    c.password = mbx::Secret("not-the-password-xyzzy");
    mbx::Error e = error_of([&] { Directory::connect(c); });
    CHECK(e.category() == mbx::ErrorCategory::auth);
    CHECK(e.library_code() == 49);
    CHECK(std::string(e.what()).starts_with("cannot bind to '" + c.uri + "' as '" + c.bind_dn + "'"));
    CHECK(e.one_line().find("xyzzy") == std::string::npos);
}

TEST_CASE("LDAP: a certificate from an unknown CA is unavailable with a ca-file hint", "[directory]") {
    for (const char* key : {"TESTENV_LDAP_URI", "TESTENV_LDAPS_URI"}) {
        INFO(key);
        LdapConfig c = service_config(key);
        c.ca_file = foreign_ca_file();
        mbx::Error e = error_of([&] { Directory::connect(c); });
        INFO(e.one_line());
        CHECK(e.category() == mbx::ErrorCategory::unavailable);
        CHECK(e.hint().find("ca-file") != std::string::npos);
        CHECK(std::string(e.what()).find("TLS") != std::string::npos);
    }
}

TEST_CASE("LDAP: a missing CA file is a config error", "[directory]") {
    LdapConfig c = service_config();
    c.ca_file = "/nonexistent/ca.pem";
    CHECK(error_of([&] { Directory::connect(c); }).category() == mbx::ErrorCategory::config);
}

TEST_CASE("LDAP: a refused connection is unavailable", "[directory]") {
    LdapConfig c = service_config();
    c.uri = "ldap://127.0.0.1:" + std::to_string(closed_port());
    mbx::Error e = error_of([&] { Directory::connect(c); });
    INFO(e.one_line());
    CHECK(e.category() == mbx::ErrorCategory::unavailable);
    CHECK(std::string(e.what()).starts_with("cannot connect to '" + c.uri + "'"));
}

TEST_CASE("LDAP: paged search reads past the server size limit", "[directory]") {
    // 620 users under their own prefix so the demo users stay as they are; populated once per
    // testenv (the rootdn count has no size limit).
    {
        Directory admin = Directory::connect(admin_config());
        if (count(admin, "(uid=pagetest*)") < 620) {
            mbx::testing::run_testenv_script("populate " + testenv("TESTENV_DIR") +
                                             " --users 620 --messages 0 --prefix pagetest");
        }
        REQUIRE(count(admin, "(uid=pagetest*)") == 620);
    }
    SECTION("paged, 200 per page: every entry") {
        LdapConfig c = service_config();
        c.page_size = 200;
        Directory dir = Directory::connect(c);
        std::set<std::string> dns;
        dir.search(testenv("TESTENV_LDAP_PEOPLE"), Scope::subtree, "(uid=pagetest*)", {"uid"},
                   [&dns](const Entry& e) { dns.insert(e.dn); });
        CHECK(dns.size() == 620);
    }
    SECTION("not paged: the server stops at 500 and we say so") {
        LdapConfig c = service_config();
        c.page_size = 0;
        Directory dir = Directory::connect(c);
        std::size_t delivered = 0;
        mbx::Error e = error_of([&] {
            dir.search(testenv("TESTENV_LDAP_PEOPLE"), Scope::subtree, "(uid=pagetest*)", {"uid"},
                       [&delivered](const Entry&) { ++delivered; });
        });
        CHECK(delivered == 500);
        CHECK(e.library_code() == 4); // sizeLimitExceeded
        CHECK(e.category() == mbx::ErrorCategory::config);
        CHECK(e.hint().find("page-size") != std::string::npos);
    }
}

TEST_CASE("LDAP: a hostile uid in a filter matches nothing", "[directory]") {
    Directory dir = Directory::connect(service_config());
    // The same text, unescaped, would turn into (uid=*)(uid=*) and match every user.
    CHECK(count(dir, "(&(objectClass=mbxMailUser)(uid=*)(uid=*))") >= 4);
    for (std::string hostile : {"*)(uid=*", "bob)(|(mail=*", "*", "alice)(objectClass=*"}) {
        INFO(hostile);
        CHECK(count(dir, user_filter("(objectClass=mbxMailUser)", "uid", hostile)) == 0);
    }
}

TEST_CASE("LDAP: an invalid filter is a config error naming it", "[directory]") {
    Directory dir = Directory::connect(service_config());
    mbx::Error e = error_of([&] { count(dir, "(uid=alice"); });
    CHECK(e.category() == mbx::ErrorCategory::config);
    CHECK(std::string(e.what()).find("'(uid=alice'") != std::string::npos);
}

TEST_CASE("LDAP: an entry with a hostile RDN value round-trips through escape_dn_value", "[directory]") {
    Directory dir = Directory::connect(admin_config());
    const std::string people = testenv("TESTENV_LDAP_PEOPLE");
    const std::string hostile = "#x, ou=admins+uid=root \"q\" <a>;b\\c ";
    const std::string dn = "cn=" + escape_dn_value(hostile) + "," + people;
    if (dir.read_entry(dn)) dir.remove(dn); // left over from an interrupted run

    dir.add(dn, {{"objectClass", {"inetOrgPerson"}}, {"cn", {hostile}}, {"sn", {"Hostile"}}});
    auto entry = dir.read_entry(dn);
    REQUIRE(entry);
    CHECK(entry->first("cn") == hostile);
    CHECK(entry->first("sn") == "Hostile");
    // The same entry is found by its value through an escaped filter, and only it.
    std::vector<std::string> found;
    dir.search(people, Scope::one_level, "(cn=" + escape_filter_value(hostile) + ")", {"cn"},
               [&found](const Entry& e) { found.push_back(e.dn); });
    CHECK(found.size() == 1);

    dir.modify(dn, {{Modification::Op::replace, "description", {"one", "two"}}});
    CHECK(dir.read_entry(dn)->values("description").size() == 2);
    dir.modify(dn, {{Modification::Op::remove, "description", {"one"}}});
    CHECK(dir.read_entry(dn)->values("description") == std::vector<std::string>{"two"});

    dir.remove(dn);
    CHECK_FALSE(dir.read_entry(dn).has_value());
    // Nothing was created at the DN a naive concatenation would have produced.
    CHECK_FALSE(dir.read_entry("uid=root," + people).has_value());
}

TEST_CASE("LDAP: write errors are classified", "[directory]") {
    Directory dir = Directory::connect(service_config());
    const std::string people = testenv("TESTENV_LDAP_PEOPLE");
    SECTION("no such object is a data error") {
        mbx::Error e = error_of([&] {
            dir.modify("uid=nobody-here," + people, {{Modification::Op::replace, "description", {"x"}}});
        });
        CHECK(e.category() == mbx::ErrorCategory::data);
        CHECK(e.library_code() == 32);
        CHECK(std::string(e.what()).starts_with("cannot modify 'uid=nobody-here," + people + "'"));
    }
    SECTION("a syntax violation is a data error") {
        mbx::Error e = error_of([&] {
            dir.modify("uid=carol," + people, {{Modification::Op::replace, "mailQuota", {"lots"}}});
        });
        CHECK(e.category() == mbx::ErrorCategory::data);
    }
    SECTION("insufficient access is an auth error") {
        mbx::Error e = error_of([&] {
            dir.modify(testenv("TESTENV_LDAP_BASE"), {{Modification::Op::replace, "description", {"x"}}});
        });
        CHECK(e.category() == mbx::ErrorCategory::auth);
        CHECK(e.library_code() == 50);
    }
    SECTION("read_entry of a missing entry is empty, of a missing base too") {
        CHECK_FALSE(dir.read_entry("uid=nobody-here," + people).has_value());
    }
    SECTION("a search below a missing base is a data error") {
        mbx::Error e = error_of([&] {
            dir.search("ou=nowhere," + testenv("TESTENV_LDAP_BASE"), Scope::subtree, "(uid=*)", {},
                       [](const Entry&) {});
        });
        CHECK(e.category() == mbx::ErrorCategory::data);
        CHECK(e.library_code() == 32);
    }
}

// scripts/testenv makes one server certificate for all its servers; slapd (GnuTLS) must hand
// out exactly that one, read independently with the openssl command.
TEST_CASE("LDAP: the peer certificate via StartTLS and via ldaps:// is the sandbox's", "[directory][tls]") {
    const auto sandbox = mbx::testing::sandbox_certificate();
    for (const char* key : {"TESTENV_LDAP_URI", "TESTENV_LDAPS_URI"}) {
        INFO(key);
        Directory dir = Directory::connect(service_config(key));
        std::optional<mbx::tls::CertificateInfo> cert = dir.peer_certificate();
        REQUIRE(cert.has_value());
        mbx::testing::check_is_sandbox_certificate(*cert, sandbox);
        // scripts/testenv issues it for 90 days.
        std::int64_t left = mbx::tls::days_left(*cert, std::chrono::system_clock::now());
        CHECK(left >= 88);
        CHECK(left <= 90);
        // Still the handshake's certificate after more work on the connection, and after a move.
        CHECK(count(dir, user_filter("(objectClass=mbxMailUser)", "uid", "alice")) == 1);
        Directory moved = std::move(dir);
        CHECK(moved.peer_certificate() == cert);
    }
}

TEST_CASE("LDAP: a plain ldap:// connection has no peer certificate", "[directory][tls]") {
    LdapConfig c = service_config();
    c.starttls = false;
    // A password bind in clear text is refused unless allowed (the sandbox is on loopback).
    const auto refused = mbx::test::error_of([&] { Directory::connect(c); });
    CHECK(refused.category() == mbx::ErrorCategory::config);
    CHECK(std::string(refused.what()).find("without TLS") != std::string::npos);
    c.allow_cleartext_bind = true;
    Directory dir = Directory::connect(c);
    CHECK(count(dir, user_filter("(objectClass=mbxMailUser)", "uid", "alice")) == 1);
    CHECK_FALSE(dir.peer_certificate().has_value());
}

namespace {

LdapConfig external_config(const std::string& uri_key) {
    LdapConfig c;
    c.uri = testenv(uri_key);
    c.ca_file = testenv("TESTENV_CA_FILE");
    c.sasl_mech = "EXTERNAL";
    c.timeout = std::chrono::seconds(10);
    return c;
}

// What only cn=mbxkit (not any bound user, not anonymous) may do: add and remove an entry
// below ou=people. Proves which identity the bind gave.
void check_bound_as_mbxkit(Directory& dir) {
    CHECK(dir.who_am_i() == "dn:" + testenv("TESTENV_LDAP_BIND_DN"));
    const std::string dn = "uid=sasl-external-" + std::to_string(::getpid()) + "," + testenv("TESTENV_LDAP_PEOPLE");
    dir.add(dn, {{"objectClass", {"inetOrgPerson"}}, {"cn", {"SASL EXTERNAL test"}}, {"sn", {"test"}}});
    CHECK(dir.read_entry(dn).has_value());
    dir.remove(dn);
    CHECK(count(dir, "(uid=alice)") == 1);
}

} // namespace

TEST_CASE("LDAP: SASL EXTERNAL over ldapi:// binds as the peer's mapped identity", "[directory][external]") {
    Directory dir = Directory::connect(external_config("TESTENV_LDAPI_URI"));
    check_bound_as_mbxkit(dir);
    CHECK_FALSE(dir.peer_certificate().has_value()); // a Unix socket: no TLS
}

TEST_CASE("LDAP: SASL EXTERNAL with a client certificate, over ldaps:// and StartTLS", "[directory][external]") {
    for (const std::string key : {"TESTENV_LDAPS_URI", "TESTENV_LDAP_URI"}) {
        INFO(key);
        LdapConfig c = external_config(key);
        c.cert_file = testenv("TESTENV_LDAP_CLIENT_CERT");
        c.key_file = testenv("TESTENV_LDAP_CLIENT_KEY");
        Directory dir = Directory::connect(c);
        check_bound_as_mbxkit(dir);
    }
}

TEST_CASE("LDAP: SASL EXTERNAL refusals name the problem", "[directory][external]") {
    SECTION("a certificate from a CA the server does not trust is an auth error") {
        // slapd (TLSVerifyClient allow) ignores it: the connection has no identity for EXTERNAL.
        const std::string stem = testenv("TESTENV_DIR") + "/stranger-" + std::to_string(::getpid());
        const std::string make = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                                 "-subj /CN=stranger -keyout " +
                                 stem + ".key -out " + stem + ".pem 2>/dev/null";
        REQUIRE(std::system(make.c_str()) == 0);
        LdapConfig c = external_config("TESTENV_LDAPS_URI");
        c.cert_file = stem + ".pem";
        c.key_file = stem + ".key";
        mbx::Error e = error_of([&] { Directory::connect(c); });
        std::filesystem::remove(stem + ".pem");
        std::filesystem::remove(stem + ".key");
        CHECK(e.category() == mbx::ErrorCategory::auth);
        CHECK(std::string(e.what()).starts_with("cannot bind to '" + c.uri + "' with SASL EXTERNAL: "));
        CHECK(std::string(e.hint()).find(c.cert_file) != std::string::npos);
    }
    SECTION("without a certificate on ldaps:// it is a config error before any connection") {
        mbx::Error e = error_of([&] { Directory::connect(external_config("TESTENV_LDAPS_URI")); });
        CHECK(e.category() == mbx::ErrorCategory::config);
        CHECK(std::string(e.what()).find("needs a client certificate") != std::string::npos);
    }
    SECTION("bind-dn with EXTERNAL is a config error") {
        LdapConfig c = external_config("TESTENV_LDAPI_URI");
        c.bind_dn = testenv("TESTENV_LDAP_BIND_DN");
        mbx::Error e = error_of([&] { Directory::connect(c); });
        CHECK(e.category() == mbx::ErrorCategory::config);
    }
    SECTION("another mechanism is a config error") {
        LdapConfig c = external_config("TESTENV_LDAPI_URI");
        c.sasl_mech = "GSSAPI";
        mbx::Error e = error_of([&] { Directory::connect(c); });
        CHECK(e.category() == mbx::ErrorCategory::config);
        CHECK(std::string(e.what()) == "unsupported [ldap] sasl-mech 'GSSAPI'");
    }
    SECTION("a key readable by others is refused") {
        LdapConfig c = external_config("TESTENV_LDAPS_URI");
        c.cert_file = testenv("TESTENV_LDAP_CLIENT_CERT");
        const std::filesystem::path key =
            std::filesystem::path(testenv("TESTENV_DIR")) / ("client-key-0644-" + std::to_string(::getpid()) + ".pem");
        std::filesystem::copy_file(testenv("TESTENV_LDAP_CLIENT_KEY"), key,
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::permissions(key, std::filesystem::perms(0644));
        c.key_file = key.string();
        mbx::Error e = error_of([&] { Directory::connect(c); });
        std::filesystem::remove(key);
        CHECK(e.category() == mbx::ErrorCategory::config);
        CHECK(std::string(e.hint()) == "run: chmod 600 '" + key.string() + "'");
    }
}

TEST_CASE("LDAP: WhoAmI names the bound identity, empty for an anonymous bind", "[directory]") {
    Directory service = Directory::connect(service_config());
    CHECK(service.who_am_i() == "dn:" + testenv("TESTENV_LDAP_BIND_DN"));
    LdapConfig anonymous = service_config();
    anonymous.bind_dn.clear();
    anonymous.password = {};
    Directory dir = Directory::connect(anonymous);
    CHECK(dir.who_am_i() == std::string());
}
