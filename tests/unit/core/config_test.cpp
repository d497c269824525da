#include "mbx/core/config.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using mbx::config::Config;
using mbx::config::Origin;

namespace {

// Sets an environment variable for one scope.
struct ScopedEnv {
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }
    const char* name_;
    std::optional<std::string> old_;
};

mbx::ErrorCategory category_of(const std::function<void()>& f) { return mbx::test::error_of(f).category(); }
std::string message_of(const std::function<void()>& f) { return mbx::test::error_of(f).what(); }

} // namespace

TEST_CASE("INI parsing: sections, comments, quotes, line numbers", "[core][config]") {
    auto entries = mbx::config::parse_ini(
        "# comment\n[LDAP]\n uri = ldap://x \n; other\n\n[imap]\nuri=\"imaps://y\"\r\n", "t.conf");
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].section == "ldap");
    CHECK(entries[0].key == "uri");
    CHECK(entries[0].value == "ldap://x");
    CHECK(entries[0].line == 3);
    CHECK(entries[1].value == "imaps://y");
    CHECK(entries[1].line == 7);
    CHECK(message_of([] { mbx::config::parse_ini("uri = x\n", "t.conf"); }) ==
          "t.conf:1: key 'uri' is outside any section");
    CHECK(message_of([] { mbx::config::parse_ini("[ldap\n", "t.conf"); }) == "t.conf:1: malformed section header");
    CHECK(category_of([] { mbx::config::parse_ini("[a]\njunk\n", "t.conf"); }) == mbx::ErrorCategory::config);
}

TEST_CASE("layering: flags win over environment, environment over file, file over defaults", "[core][config]") {
    mbx::test::TempDir dir;
    auto file = dir.write("mbx.conf",
                          "[ldap]\nuri = ldap://file\nbase = dc=file\npage-size = 100\n[imap]\nuri = imaps://file\n");
    ScopedEnv env("MBX_LDAP_BASE", "dc=env");
    ScopedEnv env2("MBX_IMAP_URI", "imaps://env");
    Config cfg = Config::load(file, {{"imap.uri", "imaps://flag"}});
    CHECK(cfg.get("ldap.uri") == "ldap://file");
    CHECK(cfg.origin("ldap.uri").where == file.string() + ":2");
    CHECK(cfg.get("ldap.base") == "dc=env");
    CHECK(cfg.origin("ldap.base").kind == Origin::Kind::environment);
    CHECK(cfg.get("imap.uri") == "imaps://flag");
    CHECK(cfg.origin("imap.uri").where == "flag --imap-uri");
    CHECK(cfg.get_int("ldap.page-size") == 100);
    CHECK(cfg.get("ldap.uid-attribute") == "uid");
    CHECK(cfg.origin("ldap.uid-attribute").kind == Origin::Kind::default_value);
}

TEST_CASE("MBX_CONFIG names the file when --config is absent", "[core][config]") {
    mbx::test::TempDir dir;
    auto file = dir.write("env.conf", "[journal]\npath = /tmp/j.sqlite\n");
    ScopedEnv env("MBX_CONFIG", file.c_str());
    Config cfg = Config::load(std::nullopt, {});
    CHECK(cfg.get("journal.path") == "/tmp/j.sqlite");
    REQUIRE(cfg.file());
    CHECK(*cfg.file() == file);
}

TEST_CASE("unknown keys and variables are errors that name them", "[core][config]") {
    mbx::test::TempDir dir;
    auto file = dir.write("bad.conf", "[ldap]\nuri = ldap://x\n\n[imap]\nmaster-pasword-file = /x\n");
    CHECK(message_of([&] { Config::load(file, {}); }) ==
          file.string() + ":5: unknown key 'master-pasword-file' in section [imap]");
    auto section = dir.write("sec.conf", "[ldpa]\nuri = x\n");
    CHECK(message_of([&] { Config::load(section, {}); }) ==
          section.string() + ":2: unknown key 'uri' in section [ldpa]");
    ScopedEnv env("MBX_LDAP_URL", "ldap://typo");
    CHECK(message_of([] { Config::load(std::nullopt, {}); }) == "unknown environment variable 'MBX_LDAP_URL'");
}

TEST_CASE("a missing explicit file is a configuration error", "[core][config]") {
    CHECK(category_of([] { Config::load(std::filesystem::path("/nonexistent/mbx.conf"), {}); }) ==
          mbx::ErrorCategory::config);
}

TEST_CASE("typed getters reject bad values naming the key and origin", "[core][config]") {
    Config cfg;
    cfg.set("ldap.page-size", "lots", {Origin::Kind::file, "x.conf:3"});
    CHECK(message_of([&] { cfg.get_int("ldap.page-size"); }) ==
          "invalid value 'lots' for [ldap] page-size (from x.conf:3)");
    cfg.set("ldap.starttls", "maybe", {Origin::Kind::flag, "flag --ldap-starttls"});
    CHECK(category_of([&] { cfg.get_bool("ldap.starttls"); }) == mbx::ErrorCategory::config);
    CHECK(message_of([&] { cfg.require("ldap.uri"); }) == "missing [ldap] uri");
}

TEST_CASE("sizes and durations", "[core][config]") {
    using mbx::config::parse_duration;
    using mbx::config::parse_size;
    CHECK(parse_size("1024", "size") == 1024);
    CHECK(parse_size("10K", "size") == 10240);
    CHECK(parse_size("1.5G", "size") == 1610612736);
    CHECK(parse_size("2 MiB", "size") == 2097152);
    CHECK(parse_size("1tb", "size") == 1099511627776LL);
    CHECK_THROWS_AS(parse_size("1X", "size"), mbx::Error);
    CHECK_THROWS_AS(parse_size("", "size"), mbx::Error);
    CHECK_THROWS_AS(parse_size("-5G", "size"), mbx::Error);
    CHECK_THROWS_AS(parse_size("99999999T", "size"), mbx::Error);
    CHECK(parse_duration("30d", "age") == std::chrono::hours(24 * 30));
    CHECK(parse_duration("15m", "age") == std::chrono::minutes(15));
    CHECK(parse_duration("2w", "age") == std::chrono::hours(24 * 14));
    CHECK_THROWS_AS(parse_duration("30", "age"), mbx::Error);
    // Past 100 years: an error, never an overflow into a short (or zero) timeout.
    CHECK(parse_duration("5200w", "age") == std::chrono::hours(24 * 7 * 5200));
    for (const char* huge : {"99999999999999999w", "1e300s", "5300w"}) {
        INFO(huge);
        CHECK(mbx::test::error_of([&] { parse_duration(huge, "--imap-timeout"); }).category() ==
              mbx::ErrorCategory::usage);
    }
}

TEST_CASE("docs/configuration.md documents every setting with its default", "[core][config]") {
    const std::string doc = mbx::test::read_text(MBX_SOURCE_DIR "/docs/configuration.md");
    std::string section;
    std::set<std::string> documented;
    std::regex heading(R"(^## \[([a-z]+)\])"), row(R"(^\| `([a-z-]+)` \| `([^`]*)` \|)");
    std::istringstream lines(doc);
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_search(line, m, heading)) section = m[1];
        else if (std::regex_search(line, m, row))
            documented.insert(section + "." + std::string(m[1]) + "=" + std::string(m[2]));
    }
    std::set<std::string> coded;
    for (const auto& s : mbx::config::all_settings())
        coded.insert(std::string(s.section) + "." + std::string(s.key) + "=" + std::string(s.default_value));
    CHECK(documented == coded);
}

TEST_CASE("named [imap.NAME] sections take the keys of [imap], with its defaults", "[core][config]") {
    mbx::test::TempDir dir;
    auto file = dir.write("two.conf", "[imap]\nuri = imaps://new:993\n\n[imap.old]\nuri = imaps://old:993\n"
                                      "master-user = admin\n");
    Config cfg = Config::load(file, {});
    CHECK(cfg.has_section("imap.old"));
    CHECK_FALSE(cfg.has_section("imap.other"));
    CHECK(cfg.get("imap.old.uri") == "imaps://old:993");
    CHECK(cfg.get("imap.uri") == "imaps://new:993");
    CHECK(cfg.get("imap.old.master-user") == "admin");
    CHECK(cfg.get("imap.old.timeout") == cfg.get("imap.timeout")); // default of [imap]
    CHECK(cfg.origin("imap.old.uri").where == file.string() + ":5");
    CHECK(message_of([&] { cfg.require("imap.old.ca-file"); }) == "missing [imap.old] ca-file");
    // A named section only for the sections that allow it, with the keys of its base.
    auto ldap = dir.write("ldap.conf", "[ldap.old]\nuri = x\n");
    CHECK(message_of([&] { Config::load(ldap, {}); }) == ldap.string() + ":2: unknown key 'uri' in section [ldap.old]");
    auto typo = dir.write("typo.conf", "[imap.old]\nurl = x\n");
    CHECK(category_of([&] { Config::load(typo, {}); }) == mbx::ErrorCategory::config);
}
