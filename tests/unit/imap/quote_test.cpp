#include "mbx/imap/quote.hpp"

#include "mbx/core/error.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using namespace mbx::imap;
using Form = AString::Form;
using namespace std::string_literals;

TEST_CASE("quote_astring keeps atoms as they are", "[imap]") {
    for (const char* v : {"INBOX", "alice", "Sent.2024", "a]b", "user@example.org", "&-"}) {
        INFO(v);
        AString a = quote_astring(v);
        CHECK(a.form == Form::atom);
        CHECK(a.text == v);
    }
}

TEST_CASE("quote_astring quotes what is not an atom", "[imap]") {
    mbx::test::check_table([](std::string_view v) { return quote_astring(v).text; },
                           {{"", "\"\""},
                            {"two words", "\"two words\""},
                            {"say \"hi\"", "\"say \\\"hi\\\"\""},
                            {"C:\\dir", "\"C:\\\\dir\""},
                            {"a*", "\"a*\""},
                            {"50%", "\"50%\""},
                            {"(x)", "\"(x)\""},
                            {"{5}", "\"{5}\""},
                            {"NIL", "\"NIL\""}});
    CHECK(quote_astring("nil").form == Form::quoted);
    CHECK(quote_astring("tab\t").form == Form::quoted);
}

TEST_CASE("quote_astring asks for a literal for CR, LF and 8-bit bytes", "[imap]") {
    for (std::string v : {"line\r\nbreak"s, "lf\n"s, "Entwürfe"s, "\x80"s}) {
        AString a = quote_astring(v);
        CHECK(a.form == Form::literal);
        CHECK(a.text == v); // the raw bytes, sent after the {N} marker
    }
}

TEST_CASE("quote_astring refuses NUL, which no IMAP4rev1 string carries", "[imap]") {
    CHECK_THROWS_AS(quote_astring("a\0b"s), mbx::Error);
}
