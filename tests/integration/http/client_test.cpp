// mbx::http against the real servers of scripts/testenv: Dovecot's doveadm HTTP API (plain
// http:// in the sandbox) and, for https, `openssl s_server -www` presenting the sandbox's
// server certificate (the sandbox's only https server, nginx, needs the SOGo fixture).

#include "testenv.hpp"

#include "mbx/core/error.hpp"
#include "mbx/http/client.hpp"
#include "mbx/tls/certificate.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern char** environ;

using mbx::testing::testenv;

namespace {

// `openssl s_server -www` on a loopback port with the sandbox certificate, for as long as the
// object lives. It answers every GET with a status page over TLS.
class OpensslServer {
public:
    OpensslServer() : port_(mbx::testing::closed_port()) {
        int out[2];
        REQUIRE(::pipe(out) == 0);
        output_ = out[0];
        std::vector<std::string> args = {"openssl", "s_server",
                                         "-accept", "127.0.0.1:" + std::to_string(port_),
                                         "-cert",   mbx::testing::server_certificate_file(),
                                         "-key",    mbx::testing::server_key_file(),
                                         "-www"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        posix_spawn_file_actions_addclose(&actions, out[1]);
        int rc = ::posix_spawnp(&pid_, "openssl", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        if (rc != 0) pid_ = -1;
        bool ready = rc == 0 && wait_for_accept();
        if (!ready) stop();
        REQUIRE(ready);
    }
    ~OpensslServer() { stop(); }
    OpensslServer(const OpensslServer&) = delete;
    OpensslServer& operator=(const OpensslServer&) = delete;

    std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }

private:
    // s_server prints "ACCEPT" once it listens.
    bool wait_for_accept() {
        std::string seen;
        for (;;) {
            pollfd pfd{output_, POLLIN, 0};
            if (::poll(&pfd, 1, 10000) <= 0) return false;
            char buffer[256];
            ssize_t n = ::read(output_, buffer, sizeof buffer);
            if (n <= 0) return false;
            seen.append(buffer, static_cast<std::size_t>(n));
            if (seen.find("ACCEPT") != std::string::npos) return true;
        }
    }
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
        if (output_ >= 0) ::close(output_);
        output_ = -1;
    }

    int port_;
    pid_t pid_ = -1;
    int output_ = -1;
};

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

TEST_CASE("HTTP: the certificate of an https server is the sandbox's when asked for", "[http][tls]") {
    OpensslServer server;
    const std::string pem_file = mbx::testing::server_certificate_file();
    mbx::http::Request req{.url = server.url(),
                           .ca_file = testenv("TESTENV_CA_FILE"),
                           .timeout = std::chrono::seconds(10),
                           .want_certificate = true};
    mbx::http::Response resp = mbx::http::perform(req, "test server");
    CHECK(resp.status == 200);
    REQUIRE(resp.certificate.has_value());
    CHECK(resp.certificate->not_after == mbx::testing::openssl_certificate_date(pem_file, "-enddate"));
    CHECK(resp.certificate->not_before == mbx::testing::openssl_certificate_date(pem_file, "-startdate"));
    CHECK(resp.certificate->subject == "CN=localhost,O=mbxkit testenv");
    CHECK(resp.certificate->dns_names == std::vector<std::string>{"localhost"});
    CHECK(*resp.certificate == mbx::tls::parse_certificate_pem(file_text(pem_file)));

    req.want_certificate = false;
    resp = mbx::http::perform(req, "test server");
    CHECK(resp.status == 200);
    CHECK_FALSE(resp.certificate.has_value());
}

TEST_CASE("HTTP: the doveadm API over plain http:// has no certificate", "[http][tls]") {
    const std::string url = testenv("TESTENV_DOVEADM_URL");
    REQUIRE(url.starts_with("http://")); // scripts/testenv: if this becomes https, assert the cert
    mbx::http::Request req{.url = url, .timeout = std::chrono::seconds(10), .want_certificate = true};
    mbx::http::Response resp = mbx::http::perform(req, "doveadm API");
    CHECK(resp.status > 0);
    CHECK_FALSE(resp.certificate.has_value());
}
