#include "mbx/journal/redaction.hpp"

#include <catch2/catch.hpp>

using namespace mbx::journal;
using Args = std::vector<std::string>;
using nlohmann::json;

TEST_CASE("secret option values are redacted in both --opt=value and --opt value forms", "[journal]") {
    CHECK(redact_arguments({"sweep", "--ldap-password=hunter2", "--limit", "5"}) ==
          Args{"sweep", "--ldap-password=***", "--limit", "5"});
    CHECK(redact_arguments({"--ldap-password", "hunter2", "--limit", "5"}) ==
          Args{"--ldap-password", "***", "--limit", "5"});
    CHECK(redact_arguments({"--api-key", "k1", "--apikey=k2", "--API_KEY", "k3"}) ==
          Args{"--api-key", "***", "--apikey=***", "--API_KEY", "***"});
    CHECK(redact_arguments({"--oauth-token", "t", "--client-secret=s", "--passwd", "p", "--Credentials", "c"}) ==
          Args{"--oauth-token", "***", "--client-secret=***", "--passwd", "***", "--Credentials", "***"});
    // A secret value that starts with a single dash is still a value.
    CHECK(redact_arguments({"--password", "-x9!"}) == Args{"--password", "***"});
}

TEST_CASE("a -file option names a path and is kept", "[journal]") {
    CHECK(redact_arguments({"--ldap-password-file", "/etc/mbx/pw", "--token-file=/run/t"}) ==
          Args{"--ldap-password-file", "/etc/mbx/pw", "--token-file=/run/t"});
    CHECK_FALSE(is_secret_option("imap-password-file"));
    CHECK(is_secret_option("imap-password"));
    CHECK_FALSE(is_secret_option("limit"));
}

TEST_CASE("a secret option followed by another option does not swallow it", "[journal]") {
    CHECK(redact_arguments({"--password", "--dry-run", "alice"}) == Args{"--password", "--dry-run", "alice"});
    CHECK(redact_arguments({"--password"}) == Args{"--password"});
}

TEST_CASE("after -- arguments are positional, but URL passwords are still scrubbed", "[journal]") {
    CHECK(redact_arguments({"--", "--password", "alice", "imaps://a:b@h"}) ==
          Args{"--", "--password", "alice", "imaps://a:***@h"});
}

TEST_CASE("URL userinfo passwords are redacted wherever they appear", "[journal]") {
    CHECK(redact_url_userinfo("imaps://alice:s3cret@mail.example.org:993/INBOX") ==
          "imaps://alice:***@mail.example.org:993/INBOX");
    CHECK(redact_url_userinfo("imaps://alice@mail.example.org") == "imaps://alice@mail.example.org");
    CHECK(redact_url_userinfo("https://mail.example.org:8443/x") == "https://mail.example.org:8443/x");
    CHECK(redact_url_userinfo("ldap://cn=admin:pw@dc/x then https://u:p@h2?q=a@b") ==
          "ldap://cn=admin:***@dc/x then https://u:***@h2?q=a@b");
    // A raw '@' inside the password: the last '@' of the authority ends the userinfo.
    CHECK(redact_url_userinfo("imap://u:p@ss@host") == "imap://u:***@host");
    CHECK(redact_url_userinfo("no url here: a:b@c") == "no url here: a:b@c");
    CHECK(redact_url_userinfo("") == "");
    CHECK(redact_arguments({"--server=imaps://u:pw@h", "imaps://v:pw2@h"}) ==
          Args{"--server=imaps://u:***@h", "imaps://v:***@h"});
}

TEST_CASE("JSON secrets are replaced at any depth, other values kept", "[journal]") {
    json in = {
        {"uid", "alice"},
        {"userPassword", "{SSHA}abc"},
        {"quota", 1024},
        {"nested", {{"API-Key", "k"}, {"list", json::array({json{{"token", 7}}, "x"})}}},
        {"Secret", json::array({"a", "b"})},
        {"server", "imaps://alice:pw@mail"},
        {"access_token", "t"},
    };
    json out = redact_json(in);
    CHECK(out["uid"] == "alice");
    CHECK(out["quota"] == 1024);
    CHECK(out["userPassword"] == "[redacted]");
    CHECK(out["nested"]["API-Key"] == "[redacted]");
    CHECK(out["nested"]["list"][0]["token"] == "[redacted]");
    CHECK(out["nested"]["list"][1] == "x");
    CHECK(out["Secret"] == "[redacted]");
    CHECK(out["access_token"] == "[redacted]");
    CHECK(out["server"] == "imaps://alice:***@mail");
    CHECK(out.size() == in.size());
    CHECK(redact_json(json(nullptr)).is_null());
    CHECK(redact_json(json::array({1, 2})) == json::array({1, 2}));

    // needs_redaction (the journal's shortcut) sees each secret on its own, at any depth, and
    // a key longer than its stack buffer.
    CHECK(needs_redaction(in));
    CHECK_FALSE(needs_redaction(json{{"uid", "alice"}, {"list", json::array({1, "https://host/x"})}}));
    CHECK_FALSE(needs_redaction(json{{"url", "imaps://alice@mail"}})); // a user, no password
    CHECK(needs_redaction(json{{"a", json::array({json{{"x", "imaps://u:p@h"}}})}}));
    CHECK(needs_redaction(json{{"deep", json{{"my_api-key", 1}}}}));
    CHECK(needs_redaction(json{{std::string(200, 'x') + "Password", 1}}));
    CHECK_FALSE(needs_redaction(json{{std::string(200, 'x'), 1}}));
    CHECK_FALSE(needs_redaction(json("plain")));
}
