#include "mbx/imap/response_reader.hpp"

#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

using namespace mbx::imap;

namespace {

// A byte source over a fixed string that hands out at most `chunk` bytes per call, so lines
// and literals arrive split at every possible place.
ResponseReader::Source string_source(std::string data, std::size_t chunk) {
    auto state = std::make_shared<std::pair<std::string, std::size_t>>(std::move(data), 0);
    return [state, chunk](char* buffer, std::size_t size) {
        auto& [bytes, pos] = *state;
        std::size_t n = std::min({size, chunk, bytes.size() - pos});
        std::memcpy(buffer, bytes.data() + pos, n);
        pos += n;
        return n;
    };
}

mbx::ErrorCategory category_of(ResponseReader& reader) {
    try {
        reader.read();
    } catch (const mbx::Error& e) {
        return e.category();
    }
    FAIL("no error");
    return mbx::ErrorCategory::internal;
}

} // namespace

TEST_CASE("ResponseReader splits lines and literals", "[imap]") {
    std::string wire = "* OK [CAPABILITY IMAP4rev1] ready\r\n"
                       "* 1 FETCH (BODY[] {12}\r\nhello\r\nworld UID 7 BODY[1] {0}\r\n)\r\n"
                       "M1 OK done\r\n";
    for (std::size_t chunk : {1u, 2u, 5u, 4096u}) {
        INFO(chunk);
        ResponseReader reader(string_source(wire, chunk), "test");
        auto first = reader.read();
        CHECK(first.segments == std::vector<std::string>{"* OK [CAPABILITY IMAP4rev1] ready"});
        CHECK(first.literals.empty());
        auto fetch = reader.read();
        REQUIRE(fetch.literals.size() == 2);
        CHECK(fetch.segments[0] == "* 1 FETCH (BODY[] {12}");
        CHECK(fetch.literals[0] == "hello\r\nworld");
        CHECK(fetch.segments[1] == " UID 7 BODY[1] {0}");
        CHECK(fetch.literals[1].empty());
        CHECK(fetch.segments[2] == ")");
        CHECK(fetch.wire() == "* 1 FETCH (BODY[] {12}\r\nhello\r\nworld UID 7 BODY[1] {0}\r\n)\r\n");
        CHECK(reader.read().head() == "M1 OK done");
        CHECK(category_of(reader) == mbx::ErrorCategory::unavailable); // end of stream
    }
}

TEST_CASE("ResponseReader finds lines after the buffer was compacted", "[imap]") {
    // Each call hands out exactly one response, as a server answering one command at a time
    // does: the consumed bytes are dropped before the next read, and a shorter response
    // follows a longer one.
    std::vector<std::string> responses = {"* CAPABILITY " + std::string(300, 'X') + "\r\n", "M1 OK\r\n",
                                          "M2 BAD no\r\n"};
    std::size_t next = 0;
    ResponseReader reader(
        [&](char* buffer, std::size_t size) -> std::size_t {
            if (next == responses.size()) return 0;
            const std::string& r = responses[next++];
            REQUIRE(r.size() <= size);
            std::memcpy(buffer, r.data(), r.size());
            return r.size();
        },
        "test");
    CHECK(reader.read().head().size() == 313);
    CHECK(reader.read().head() == "M1 OK");
    CHECK(reader.read().head() == "M2 BAD no");
}

TEST_CASE("literal_size recognises literal markers", "[imap]") {
    CHECK(literal_size("* 1 FETCH (BODY[] {42}") == 42);
    CHECK(literal_size("x {0}") == 0);
    CHECK(literal_size("x {7+}") == 7);
    CHECK(literal_size("x ~{7}") == 7);
    CHECK(literal_size("x {}") == -1);
    CHECK(literal_size("x {a}") == -1);
    CHECK(literal_size("x {1} y") == -1);
    CHECK(literal_size("}") == -1);
    CHECK_THROWS_AS(literal_size("x {99999999999999999999999}"), mbx::Error);
}

TEST_CASE("ResponseReader enforces its limits against a hostile server", "[imap]") {
    ReaderLimits limits;
    limits.max_line = 100;
    limits.max_literal = 1000;
    limits.max_response = 1500;

    SECTION("an endless line") {
        ResponseReader reader(string_source(std::string(100000, 'x'), 4096), "test", limits);
        CHECK(category_of(reader) == mbx::ErrorCategory::data);
    }
    SECTION("a line just at the limit is fine") {
        ResponseReader reader(string_source(std::string(100, 'x') + "\r\n", 7), "test", limits);
        CHECK(reader.read().head().size() == 100);
    }
    SECTION("a huge announced literal is refused before any allocation") {
        ResponseReader reader(string_source("* 1 FETCH (BODY[] {18446744073709551}\r\n", 4096), "test", limits);
        CHECK(category_of(reader) == mbx::ErrorCategory::data);
    }
    SECTION("a literal just over the limit") {
        ResponseReader reader(string_source("* X {1001}\r\n" + std::string(1001, 'a') + "\r\n", 4096), "test", limits);
        CHECK(category_of(reader) == mbx::ErrorCategory::data);
    }
    SECTION("many literals, each within the limit, exceed the response limit") {
        std::string wire = "* X";
        for (int i = 0; i < 3; ++i) wire += " {900}\r\n" + std::string(900, 'a');
        wire += "\r\n";
        ResponseReader reader(string_source(wire, 4096), "test", limits);
        CHECK(category_of(reader) == mbx::ErrorCategory::data);
    }
    SECTION("the stream ends inside a literal") {
        ResponseReader reader(string_source("* X {10}\r\nabc", 4096), "test", limits);
        CHECK(category_of(reader) == mbx::ErrorCategory::unavailable);
    }
}
