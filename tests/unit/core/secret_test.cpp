#include "mbx/core/secret.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

namespace {

std::string message_of(const std::function<void()>& f) { return mbx::test::error_of(f).one_line(); }

const mbx::SecretSource kMaster{"imap", "master-password-file", "MBX_IMAP_MASTER_PASSWORD", "IMAP master password"};

} // namespace

TEST_CASE("a secret file gives its first line", "[core][secret]") {
    mbx::test::TempDir dir;
    CHECK(mbx::read_secret_file(dir.write("pw", "s3cret\n")).reveal() == "s3cret");
    CHECK(mbx::read_secret_file(dir.write("pw2", "with space\r\nsecond line\n")).reveal() == "with space");
}

TEST_CASE("a secret file others can read is refused with the fix", "[core][secret]") {
    mbx::test::TempDir dir;
    auto p = dir.write("pw", "s3cret\n", 0644);
    auto msg = message_of([&] { mbx::read_secret_file(p); });
    CHECK(msg == "secret file '" + p.string() +
                     "' is readable or writable by group or others (mode 0644); run: chmod 600 '" + p.string() + "'");
    CHECK(msg.find("s3cret") == std::string::npos);
    auto g = dir.write("pw-group", "x\n", 0640);
    CHECK_THROWS_AS(mbx::read_secret_file(g), mbx::Error);
}

TEST_CASE("a FIFO given as a secret file is refused at once, not waited on", "[core][secret]") {
    mbx::test::TempDir dir;
    const auto fifo = dir.path() / "pw-fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    const auto msg = message_of([&] { mbx::read_secret_file(fifo); });
    CHECK(msg.find("is not a regular file") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("once a secret is loaded the process makes no core dump", "[core][secret]") {
    mbx::test::TempDir dir;
    CHECK(mbx::read_secret_file(dir.write("pw", "s3cret\n")).reveal() == "s3cret");
    rlimit core{};
    REQUIRE(::getrlimit(RLIMIT_CORE, &core) == 0);
    CHECK(core.rlim_cur == 0);
    CHECK(core.rlim_max == 0);
#if !defined(__SANITIZE_ADDRESS__)
    CHECK(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
#endif
}

TEST_CASE("missing and empty secret files are configuration errors", "[core][secret]") {
    mbx::test::TempDir dir;
    try {
        mbx::read_secret_file(dir.path() / "absent");
        FAIL("no error");
    } catch (const mbx::Error& e) {
        CHECK(e.category() == mbx::ErrorCategory::config);
    }
    CHECK_THROWS_AS(mbx::read_secret_file(dir.write("empty", "\n")), mbx::Error);
}

TEST_CASE("secret precedence: flag file, then environment, then config-file file", "[core][secret]") {
    mbx::test::TempDir dir;
    auto file_pw = dir.write("file.pw", "from-file\n");
    mbx::config::Config cfg;
    cfg.set("imap.master-password-file", file_pw.string(), {mbx::config::Origin::Kind::file, "x.conf:2"});
    ::unsetenv("MBX_IMAP_MASTER_PASSWORD");
    CHECK(mbx::resolve_secret(cfg, kMaster, false).reveal() == "from-file");
    ::setenv("MBX_IMAP_MASTER_PASSWORD", "from-env", 1);
    CHECK(mbx::resolve_secret(cfg, kMaster, false).reveal() == "from-env");
    cfg.set("imap.master-password-file", file_pw.string(), {mbx::config::Origin::Kind::flag, "flag"});
    CHECK(mbx::resolve_secret(cfg, kMaster, false).reveal() == "from-file");
    ::unsetenv("MBX_IMAP_MASTER_PASSWORD");
}

TEST_CASE("no secret and no terminal is an error that names every way to give one", "[core][secret]") {
    mbx::config::Config cfg;
    ::unsetenv("MBX_IMAP_MASTER_PASSWORD");
    CHECK(message_of([&] { mbx::resolve_secret(cfg, kMaster, false); }) ==
          "no IMAP master password given; set [imap] master-password-file (a file with mode 0600) or "
          "MBX_IMAP_MASTER_PASSWORD, or run on a terminal to be prompted");
}

TEST_CASE("a moved-from secret is wiped", "[core][secret]") {
    mbx::Secret a("hunter2");
    mbx::Secret b(std::move(a));
    CHECK(b.reveal() == "hunter2");
    CHECK(a.empty()); // NOLINT(bugprone-use-after-move): the point of the test
}
