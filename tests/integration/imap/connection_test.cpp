// mbx::imap::Connection against the real Dovecot of scripts/testenv.

#include "sandbox_certificate.hpp"
#include "testenv.hpp"

#include "mbx/core/error.hpp"
#include "mbx/imap/connection.hpp"
#include "mbx/imap/mutf7.hpp"
#include "mbx/tls/certificate.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace mbx::imap;
using namespace mbx::testing; // testenv(), error_of, closed_port, foreign_ca_file

namespace {

ImapConfig user_config(const std::string& user, const std::string& uri_key = "TESTENV_IMAPS_URI") {
    ImapConfig c;
    c.uri = testenv(uri_key);
    c.ca_file = testenv("TESTENV_CA_FILE");
    c.user = user;
    c.password = mbx::testing::secret_from_file(testenv("TESTENV_USER_PASSWORD_FILE"));
    c.timeout = std::chrono::seconds(10);
    return c;
}

ImapConfig master_config(const std::string& user, MasterMethod method,
                         const std::string& uri_key = "TESTENV_IMAPS_URI") {
    ImapConfig c = user_config(user, uri_key);
    c.master_user = testenv("TESTENV_IMAP_MASTER_USER");
    c.password = mbx::testing::secret_from_file(testenv("TESTENV_IMAP_MASTER_PASSWORD_FILE"));
    c.method = method;
    return c;
}

// The storage limit in KiB from "* QUOTA "User quota" (STORAGE used limit)", or "".
std::string storage_limit(const Response& r) {
    for (const ResponseLine* line : r.data("QUOTA")) {
        const std::string& head = line->head();
        auto pos = head.find("STORAGE ");
        if (pos == std::string::npos) continue;
        std::string rest = head.substr(pos + 8);
        rest = rest.substr(rest.find(' ') + 1);
        return rest.substr(0, rest.find_first_of(" )"));
    }
    return {};
}

std::string quota_of(Connection& c) {
    Response r = c.command("GETQUOTAROOT INBOX");
    REQUIRE(r.ok());
    return storage_limit(r);
}

// True when some client-side (.in) rawlog file under `dir` has a line containing `text`.
// Dovecot writes the rawlog as the session ends: allow it a moment.
bool rawlog_contains(const std::string& dir, const std::string& text) {
    for (int attempt = 0; attempt < 20; ++attempt) {
        for (const auto& f : std::filesystem::directory_iterator(dir)) {
            if (f.path().extension() != ".in") continue;
            std::ifstream in(f.path());
            std::string line;
            while (std::getline(in, line)) {
                if (line.find(text) != std::string::npos) return true;
            }
        }
        ::usleep(100 * 1000);
    }
    return false;
}

} // namespace

TEST_CASE("IMAP: a user logs in over imap:// with STARTTLS and over imaps://", "[imap]") {
    for (const char* key : {"TESTENV_IMAP_URI", "TESTENV_IMAPS_URI"}) {
        INFO(key);
        Connection c = Connection::open(user_config("alice", key));
        CHECK(c.has_capability("IMAP4rev1"));
        CHECK(c.has_capability("QUOTA"));
        CHECK(c.has_capability("literal+"));
        CHECK_FALSE(c.has_capability("LOGINDISABLED"));
        CHECK(quota_of(c) == "51200"); // alice: 50 MiB
        c.logout();
        CHECK_THROWS_AS(c.command("NOOP"), mbx::Error);
    }
}

TEST_CASE("IMAP: the master user opens alice's mailbox via authzid and via separator", "[imap]") {
    for (auto method : {MasterMethod::authzid, MasterMethod::separator}) {
        for (const char* key : {"TESTENV_IMAP_URI", "TESTENV_IMAPS_URI"}) {
            INFO(key << " method " << static_cast<int>(method));
            Connection c = Connection::open(master_config("alice", method, key));
            CHECK(quota_of(c) == "51200"); // alice's quota, not the master's or bob's
        }
    }
    Connection bob = Connection::open(master_config("bob", MasterMethod::authzid));
    CHECK(quota_of(bob) == "10240");
}

TEST_CASE("IMAP: a tagged command returns OK with its untagged data", "[imap]") {
    Connection c = Connection::open(user_config("bob"));
    Response r = c.command("STATUS INBOX (MESSAGES)");
    REQUIRE(r.ok());
    CHECK(r.tag == "M1");
    auto status = r.data("STATUS");
    REQUIRE(status.size() == 1);
    CHECK_THAT(status[0]->head(), Catch::Matchers::Matches(R"(\* STATUS INBOX \(MESSAGES [1-9][0-9]*\))"));
    Response bad = c.command("FROBNICATE");
    CHECK(bad.status == Status::bad);
    Response no = c.command(Command("SELECT").mailbox("does not exist"));
    CHECK(no.status == Status::no);
    CHECK(no.text.find("does not exist") != std::string::npos); // the name, quoted back
}

TEST_CASE("IMAP: three pipelined commands complete with their own data", "[imap]") {
    Connection c = Connection::open(user_config("carol"));
    Response alone = c.command("STATUS INBOX (MESSAGES)");
    REQUIRE(alone.data("STATUS").size() == 1);
    std::string t1 = c.submit("STATUS INBOX (MESSAGES)");
    std::string t2 = c.submit("GETQUOTAROOT INBOX");
    std::string t3 = c.submit("NOOP");
    CHECK(t1 != t2);
    CHECK(t2 != t3);
    // Wait in reverse order: the earlier completions are read and kept on the way.
    Response r3 = c.wait(t3);
    Response r2 = c.wait(t2);
    Response r1 = c.wait(t1);
    CHECK(r1.ok());
    CHECK(r2.ok());
    CHECK(r3.ok());
    REQUIRE(r1.data("STATUS").size() == 1);
    CHECK(r1.data("STATUS")[0]->head() == alone.data("STATUS")[0]->head());
    CHECK(storage_limit(r2) == "102400");
    CHECK(r1.data("QUOTA").empty());
    CHECK_THROWS_AS(c.wait(t1), mbx::Error); // already collected
}

TEST_CASE("IMAP: literals and modified UTF-7 mailbox names reach the server intact", "[imap]") {
    ImapConfig config = user_config("dave");
    std::string variant;
    SECTION("non-synchronizing literals (LITERAL+)") {
        config.non_synchronizing_literals = true;
        variant = "plus";
    }
    SECTION("synchronizing literals, waiting for the continuation") {
        config.non_synchronizing_literals = false;
        variant = "sync";
    }
    Connection c = Connection::open(config);
    const std::string name = "mbxkit-itest-Entwürfe-" + variant + "-" + std::to_string(::getpid());
    c.command(Command("DELETE").mailbox(name)); // left over from an interrupted run
    REQUIRE(c.command(Command("CREATE").mailbox(name)).ok());

    Response list = c.command(Command("LIST").astring("").mailbox(name));
    REQUIRE(list.ok());
    REQUIRE(list.data("LIST").size() == 1);
    std::string head = list.data("LIST")[0]->head();
    CHECK(head.find(encode_mailbox_name(name)) != std::string::npos);
    CHECK(head.find("Entw&APw-rfe") != std::string::npos);

    const std::string message = "From: a@example.org\r\nSubject: t\r\n\r\nline one\r\nline two\r\n";
    Response append = c.command(Command("APPEND").mailbox(name).raw("(\\Seen)").literal(message));
    REQUIRE(append.ok());
    CHECK(append.code.starts_with("APPENDUID"));

    REQUIRE(c.command(Command("SELECT").mailbox(name)).ok());
    Response fetch = c.command("FETCH 1 (FLAGS BODY.PEEK[])");
    REQUIRE(fetch.ok());
    auto lines = fetch.data("FETCH");
    REQUIRE(lines.size() == 1);
    REQUIRE(lines[0]->literals.size() == 1);
    CHECK(lines[0]->literals[0] == message);
    CHECK(lines[0]->head().find("\\Seen") != std::string::npos);
    REQUIRE(c.command("CLOSE").ok());
    CHECK(c.command(Command("DELETE").mailbox(name)).ok());
    c.logout();

    // Dovecot's rawlog is the transcript of what we sent: the literal was announced as chosen.
    std::string marker = "{" + std::to_string(message.size()) + (variant == "plus" ? "+}" : "}");
    std::string expected = "APPEND " + encode_mailbox_name(name) + " (\\Seen) " + marker;
    CHECK(rawlog_contains(testenv("TESTENV_RAWLOG_DIR") + "/dave", expected));
}

TEST_CASE("IMAP: the reader limits hold against a real server", "[imap]") {
    ImapConfig config = user_config("alice");
    config.limits.max_line = 32; // far below Dovecot's CAPABILITY line
    Connection c = Connection::open(config);
    mbx::Error e = error_of([&] { c.command("CAPABILITY"); });
    CHECK(e.category() == mbx::ErrorCategory::data);
}

TEST_CASE("IMAP: login failures are auth errors without the password", "[imap]") {
    SECTION("wrong master password") {
        ImapConfig c = master_config("alice", MasterMethod::authzid);
        c.password = mbx::Secret("wrong-master-xyzzy");
        mbx::Error e = error_of([&] { Connection::open(c); });
        CHECK(e.category() == mbx::ErrorCategory::auth);
        CHECK(e.library_code() == 67); // CURLE_LOGIN_DENIED
        CHECK(std::string(e.what()) == "cannot log in to '" + c.uri + "' as 'alice' (master user '" + c.master_user +
                                           "'): authentication failed");
        CHECK(e.one_line().find("xyzzy") == std::string::npos);
    }
    SECTION("wrong master password, separator method") {
        ImapConfig c = master_config("alice", MasterMethod::separator, "TESTENV_IMAP_URI");
        c.password = mbx::Secret("wrong-master-xyzzy");
        CHECK(error_of([&] { Connection::open(c); }).category() == mbx::ErrorCategory::auth);
    }
    SECTION("wrong user password") {
        ImapConfig c = user_config("alice");
        c.password = mbx::Secret("wrong-user-xyzzy");
        mbx::Error e = error_of([&] { Connection::open(c); });
        CHECK(e.category() == mbx::ErrorCategory::auth);
        CHECK(std::string(e.what()) == "cannot log in to '" + c.uri + "' as 'alice': authentication failed");
    }
}

TEST_CASE("IMAP: connection and TLS failures are unavailable", "[imap]") {
    SECTION("refused port") {
        ImapConfig c = user_config("alice");
        c.uri = "imaps://127.0.0.1:" + std::to_string(closed_port());
        mbx::Error e = error_of([&] { Connection::open(c); });
        INFO(e.one_line());
        CHECK(e.category() == mbx::ErrorCategory::unavailable);
        CHECK(std::string(e.what()).starts_with("cannot connect to '" + c.uri + "'"));
    }
    for (const char* key : {"TESTENV_IMAP_URI", "TESTENV_IMAPS_URI"}) {
        SECTION(std::string("certificate from an unknown CA: ") + key) {
            ImapConfig c = user_config("alice", key);
            c.ca_file = foreign_ca_file();
            mbx::Error e = error_of([&] { Connection::open(c); });
            INFO(e.one_line());
            CHECK(e.category() == mbx::ErrorCategory::unavailable);
            CHECK(e.library_code() == 60); // CURLE_PEER_FAILED_VERIFICATION
            CHECK(e.hint().find("ca-file") != std::string::npos);
        }
    }
    SECTION("unreadable CA file") {
        ImapConfig c = user_config("alice");
        c.ca_file = "/nonexistent/ca.pem";
        CHECK(error_of([&] { Connection::open(c); }).category() == mbx::ErrorCategory::config);
    }
}

// Dovecot (OpenSSL) presents the certificate scripts/testenv made; libcurl reports it through
// CURLINFO_CERTINFO, also when TLS starts with STARTTLS after the greeting. IMAP has no plain
// connection to compare with: open() always requires TLS.
TEST_CASE("IMAP: the peer certificate via imaps:// and via STARTTLS is the sandbox's", "[imap][tls]") {
    const auto sandbox = mbx::testing::sandbox_certificate();
    for (const char* key : {"TESTENV_IMAPS_URI", "TESTENV_IMAP_URI"}) {
        for (bool master : {false, true}) {
            INFO(key << (master ? " as master user" : " as alice"));
            ImapConfig config = master ? master_config("alice", MasterMethod::authzid, key) : user_config("alice", key);
            // Not asked for: not kept (sweeps do not pay for it).
            CHECK_FALSE(Connection::open(config).peer_certificate().has_value());
            config.want_certificate = true;
            Connection c = Connection::open(config);
            std::optional<mbx::tls::CertificateInfo> cert = c.peer_certificate();
            REQUIRE(cert.has_value());
            mbx::testing::check_is_sandbox_certificate(*cert, sandbox);
            // Kept from the handshake: still there after commands, a move and LOGOUT.
            CHECK(quota_of(c) == "51200");
            Connection moved = std::move(c);
            moved.logout();
            CHECK(moved.peer_certificate() == cert);
        }
    }
}
