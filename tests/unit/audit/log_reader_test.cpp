#include "mbx/audit/log_reader.hpp"
#include "../test_support.hpp"
#include "gzip_support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace mbx::audit;
using mbx::test::gzip;

namespace {

struct Collected {
    std::vector<std::string> texts;
    std::vector<std::uint64_t> numbers;
    std::vector<bool> overlong;
    LineCallback callback() {
        return [this](const LogLine& l) {
            texts.emplace_back(l.text);
            numbers.push_back(l.number);
            overlong.push_back(l.overlong);
        };
    }
};

// Reads `pieces` through a pipe (/dev/fd/N) that a child process writes one piece at a time,
// pausing between them, so that each read(2) sees one piece: the reader must not take a short
// first read for the whole file.
Collected read_through_pipe(const std::vector<std::string>& pieces, ReadStats& stats) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        for (const auto& piece : pieces) {
            if (::write(fds[1], piece.data(), piece.size()) != static_cast<ssize_t>(piece.size())) ::_exit(1);
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    Collected c;
    stats = read_log_lines("/dev/fd/" + std::to_string(fds[0]), c.callback());
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(status == 0);
    return c;
}

} // namespace

TEST_CASE("the splitter handles CRLF, chunks of any size and a missing final LF", "[audit][log_reader]") {
    const std::string input = "one\r\ntwo\n\nthree\r\nfour";
    for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
        LineSplitter s;
        Collected c;
        for (std::size_t i = 0; i < input.size(); i += chunk)
            s.feed(std::string_view(input).substr(i, chunk), c.callback());
        s.finish(c.callback());
        CHECK(c.texts == std::vector<std::string>{"one", "two", "", "three", "four"});
        CHECK(c.numbers == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
    }
}

TEST_CASE("overlong lines are reported without their text", "[audit][log_reader]") {
    LineSplitter s(8);
    Collected c;
    s.feed("short\n0123456789abcdef", c.callback());
    s.feed("ghij\nexactly8\r\nnext", c.callback());
    s.finish(c.callback());
    CHECK(c.texts == std::vector<std::string>{"short", "", "exactly8", "next"});
    CHECK(c.overlong == std::vector<bool>{false, true, false, false});
}

TEST_CASE("plain and gzip files read the same, by magic not by name", "[audit][log_reader]") {
    mbx::test::TempDir dir;
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i) + "\r\n";
    const auto plain = dir.write("access.log.gz", text); // misleading name: still plain
    const auto packed = dir.write("access.log", gzip(text));
    const auto twice = dir.write("twice", gzip("a\nb") + gzip("c\n"));
    for (const auto& path : {plain, packed}) {
        std::uint64_t count = 0;
        std::string last;
        auto stats = read_log_lines(path, [&](const LogLine& l) {
            ++count;
            last = std::string(l.text);
        });
        CHECK(count == 20000);
        CHECK(stats.lines == 20000);
        CHECK(last == "line 19999");
        CHECK(stats.bytes == text.size());
        CHECK(stats.gzip == (path == packed));
    }
    Collected c;
    CHECK(read_log_lines(twice, c.callback()).gzip);
    CHECK(c.texts == std::vector<std::string>{"a", "bc"});
}

TEST_CASE("damaged or missing files are errors", "[audit][log_reader]") {
    mbx::test::TempDir dir;
    const std::string packed = gzip("one\ntwo\nthree\n");
    const auto truncated = dir.write("t.gz", packed.substr(0, packed.size() - 6));
    std::string corrupt_bytes = packed;
    corrupt_bytes[12] = static_cast<char>(corrupt_bytes[12] ^ 0x55);
    corrupt_bytes[13] = static_cast<char>(corrupt_bytes[13] ^ 0x55);
    const auto corrupt = dir.write("c.gz", corrupt_bytes);
    Collected c;
    CHECK_THROWS_AS(read_log_lines(truncated, c.callback()), mbx::Error);
    CHECK_THROWS_AS(read_log_lines(corrupt, c.callback()), mbx::Error);
    try {
        read_log_lines(dir / "missing", c.callback());
        FAIL("no error");
    } catch (const mbx::Error& e) {
        CHECK(e.category() == mbx::ErrorCategory::io);
    }
    const auto empty = dir.write("empty", "");
    Collected none;
    CHECK(read_log_lines(empty, none.callback()).lines == 0);
}

TEST_CASE("a pipe that delivers the gzip magic a byte at a time still reads as gzip", "[audit][log_reader]") {
    const std::string packed = gzip("one\ntwo\n");
    ReadStats stats;
    const Collected gz = read_through_pipe({packed.substr(0, 1), packed.substr(1, 1), packed.substr(2)}, stats);
    CHECK(stats.gzip);
    CHECK(gz.texts == std::vector<std::string>{"one", "two"});
    const Collected plain = read_through_pipe({"o", "ne\ntw", "o"}, stats);
    CHECK_FALSE(stats.gzip);
    CHECK(plain.texts == std::vector<std::string>{"one", "two"});
    CHECK(stats.bytes == 7);
}

TEST_CASE("files of one byte and directories", "[audit][log_reader]") {
    mbx::test::TempDir dir;
    Collected c;
    const auto stats = read_log_lines(dir.write("one", "\x1f"), c.callback()); // half a gzip magic: plain
    CHECK_FALSE(stats.gzip);
    CHECK(c.texts == std::vector<std::string>{"\x1f"});
    try {
        read_log_lines(dir.path(), c.callback());
        FAIL("no error");
    } catch (const mbx::Error& e) {
        CHECK(e.category() == mbx::ErrorCategory::io);
        CHECK_THAT(e.what(), Catch::Contains("Is a directory"));
    }
}
