// The IMAP response grammar parser and its typed decoders, with RFC examples and hostile input.
#include "mbx/imap/parser.hpp"

#include "mbx/imap/mailbox_ops.hpp"

#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>

using namespace mbx::imap;

namespace {

ResponseLine line_of(std::string head) {
    ResponseLine line;
    line.segments.push_back(std::move(head));
    return line;
}

// A line with literals: segments[i] ends with a marker whose bytes are literals[i].
ResponseLine line_of(std::vector<std::string> segments, std::vector<std::string> literals) {
    ResponseLine line;
    line.segments = std::move(segments);
    line.literals = std::move(literals);
    return line;
}

Untagged parse(const std::string& head) { return parse_untagged(line_of(head)); }

bool data_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const mbx::Error& e) {
        return e.category() == mbx::ErrorCategory::data;
    }
    return false;
}

} // namespace

TEST_CASE("parser: values of every kind", "[imap]") {
    Untagged u = parse(R"(* 7 X-TEST atom 42 "a \"q\" \\ b" NIL nil () (\Seen (1 "x")) )"
                       R"(BODY[HEADER.FIELDS (MESSAGE-ID "X-A")]<0> 18446744073709551615)");
    REQUIRE(u.number == 7u);
    CHECK(u.keyword == "X-TEST");
    REQUIRE(u.arguments.size() == 9);
    CHECK(u.arguments[0].is_atom());
    CHECK(u.arguments[0].as_string() == "atom");
    CHECK(u.arguments[1].as_number() == 42);
    CHECK(u.arguments[1].as_string() == "42");
    CHECK(u.arguments[2].kind == Value::Kind::quoted);
    CHECK(u.arguments[2].as_string() == R"(a "q" \ b)");
    CHECK(u.arguments[3].is_nil());
    CHECK(u.arguments[4].is_nil());
    CHECK(u.arguments[5].list().empty());
    REQUIRE(u.arguments[6].list().size() == 2);
    CHECK(u.arguments[6].list()[0].as_string() == "\\Seen");
    CHECK(u.arguments[6].list()[1].list()[1].as_string() == "x");
    CHECK(u.arguments[7].as_string() == R"(BODY[HEADER.FIELDS (MESSAGE-ID "X-A")]<0>)");
    CHECK(u.arguments[8].as_number() == 18446744073709551615ull);

    CHECK(data_error([&] { (void)u.arguments[0].as_number(); }));
    CHECK(data_error([&] { (void)u.arguments[3].as_string(); }));
    CHECK(data_error([&] { (void)u.arguments[5].as_string(); }));
    CHECK(data_error([&] { (void)u.arguments[1].list(); }));
    CHECK_FALSE(u.arguments[3].as_nstring());
}

TEST_CASE("parser: literals come from the ResponseLine in order", "[imap]") {
    auto line = line_of({"* 1 FETCH (BODY[] {5}", " BODY[HEADER] ~{3}", " X {0+}", ")"}, {"hello", "a\r\n", ""});
    Untagged u = parse_untagged(line);
    const auto& items = u.arguments.at(0).list();
    REQUIRE(items.size() == 6);
    CHECK(items[1].kind == Value::Kind::literal);
    CHECK(items[1].as_string() == "hello");
    CHECK(items[3].as_string() == "a\r\n");
    CHECK(items[5].as_string().empty());
}

TEST_CASE("parser: status responses keep code and text", "[imap]") {
    Untagged u = parse("* OK [UIDVALIDITY 3857529045] UIDs valid");
    CHECK(u.keyword == "OK");
    CHECK(u.code == "UIDVALIDITY 3857529045");
    CHECK(u.text == "UIDs valid");
    CHECK(u.arguments.empty());
    auto code = parse_values(u.code);
    REQUIRE(code.size() == 2);
    CHECK(code[1].as_number() == 3857529045u);
    CHECK(parse("* 3 EXISTS").number == 3u);
    CHECK(parse("* SEARCH").arguments.empty());
}

TEST_CASE("parser: hostile and malformed lines are data errors", "[imap]") {
    for (const char* bad : {"",
                            "*",
                            "* ",
                            "+ go",
                            "M1 OK done",
                            "* 12",
                            "* 12 ",
                            "* FOO(",
                            "* X \"unterminated",
                            "* X \"bad \\n escape\"",
                            "* X (a",
                            "* X a)",
                            "* X (a  b)",
                            "* X  a",
                            "* X ( a)",
                            "* X (a(b))",
                            "* X ((a)b)",
                            "* X {5}",
                            "* X 18446744073709551616",
                            "* X BODY[HEADER",
                            "* X {}",
                            "* X a{3}",
                            "* X BODY[{3}]",
                            "* 99999999999999999999 EXISTS"}) {
        INFO(bad);
        CHECK(data_error([&] { (void)parse(bad); }));
    }
    // A marker whose literal is missing or has the wrong size.
    CHECK(data_error([] { (void)parse_untagged(line_of({"* X {3}", ""}, {"ab"})); }));
    CHECK(data_error([] { (void)parse_untagged(line_of({"* X \"a{3}", "\""}, {"abc"})); }));
}

TEST_CASE("parser: depth and element limits hold", "[imap]") {
    std::string deep = "* X " + std::string(64, '(') + std::string(64, ')');
    CHECK_NOTHROW(parse(deep));
    std::string deeper = "* X " + std::string(65, '(') + std::string(65, ')');
    CHECK(data_error([&] { (void)parse(deeper); }));
    std::string huge = "* X " + std::string(100000, '(');
    CHECK(data_error([&] { (void)parse(huge); }));
    std::string many = "* SEARCH";
    for (int i = 1; i <= 20; ++i) many += " " + std::to_string(i);
    CHECK(data_error([&] { (void)parse_untagged(line_of(many), ParserLimits{64, 10}); }));
}

TEST_CASE("decode_quota_root and decode_quota (RFC 9208)", "[imap]") {
    QuotaRoot root = decode_quota_root(parse(R"(* QUOTAROOT INBOX "User quota")"));
    CHECK(root.mailbox == "INBOX");
    CHECK(root.roots == std::vector<std::string>{"User quota"});
    CHECK(decode_quota_root(parse("* QUOTAROOT comp.mail.mime")).roots.empty());

    Quota q = decode_quota(parse(R"(* QUOTA "User quota" (STORAGE 10 512 MESSAGE 3 1000))"));
    CHECK(q.root == "User quota");
    REQUIRE(q.find("storage"));
    CHECK(q.find("STORAGE")->usage == 10 * 1024);
    CHECK(q.find("STORAGE")->limit == 512 * 1024);
    CHECK(q.find("MESSAGE")->usage == 3);
    CHECK(q.find("MESSAGE")->limit == 1000);
    CHECK_FALSE(q.find("MAILBOX"));
    CHECK(decode_quota(parse(R"(* QUOTA "" ())")).resources.empty());

    for (const char* bad :
         {"* QUOTA \"\" (STORAGE 10)", "* QUOTA \"\" STORAGE", "* QUOTA \"\" (STORAGE 18014398509481984 1)",
          "* QUOTA (STORAGE 1 2)", "* QUOTA \"\" (\"STORAGE\" 1 2)", "* QUOTAROOT", "* LIST () NIL x"}) {
        INFO(bad);
        CHECK(data_error([&] {
            Untagged u = parse(bad);
            if (u.keyword == "QUOTAROOT") (void)decode_quota_root(u);
            else (void)decode_quota(u);
        }));
    }
}

TEST_CASE("decode_list (RFC 3501 §7.2.2, RFC 6154)", "[imap]") {
    ListEntry e = decode_list(parse(R"(* LIST (\HasNoChildren \Sent) "/" "Sent")"));
    CHECK(e.attributes == std::vector<std::string>{"\\HasNoChildren", "\\Sent"});
    CHECK(e.has_attribute("\\sent"));
    CHECK_FALSE(e.has_attribute("\\Trash"));
    CHECK(e.delimiter == '/');
    CHECK(e.name == "Sent");

    ListEntry flat = decode_list(parse(R"(* LIST (\Noselect) NIL inbox)"));
    CHECK_FALSE(flat.delimiter);
    CHECK(flat.name == "INBOX");

    ListEntry escaped = decode_list(parse(R"(* LIST () "\\" "Quote \"me\" \\ &- Entw&APw-rfe")"));
    CHECK(escaped.delimiter == '\\');
    CHECK(escaped.name == "Quote \"me\" \\ & Entwürfe");

    auto lit = line_of({"* LIST () \".\" {9}", ""}, {"Entw&APw-"});
    CHECK(decode_list(parse_untagged(lit)).name == "Entwü");
    CHECK(decode_list(parse(R"(* LIST () "/" "Entwürfe")"), true).name == "Entwürfe");
    const std::string extended = R"x(* LIST () "/" "x" ("CHILDINFO" ("SUBSCRIBED")))x";
    CHECK(decode_list(parse(extended)).name == "x");

    for (const char* bad : {R"(* LIST () "/" "Entwürfe")", R"(* LIST () "//" x)", R"(* LIST ("\Sent") "/" x)",
                            R"(* LIST () "/")", R"(* LIST () "/" "&Jjo")", R"(* LIST \Sent "/" x)"}) {
        INFO(bad);
        CHECK(data_error([&] { (void)decode_list(parse(bad)); }));
    }
}

TEST_CASE("decode_namespace (RFC 2342 §5): Dovecot, Cyrus, extensions, hostile shapes", "[imap]") {
    // Dovecot's default layout, and one with shared namespaces (its documentation's example).
    Namespaces d = decode_namespace(parse(R"(* NAMESPACE (("" "/")) NIL NIL)"));
    REQUIRE(d.personal.size() == 1);
    CHECK(d.personal[0].prefix.empty());
    CHECK(d.personal[0].delimiter == '/');
    CHECK(d.other_users.empty());
    CHECK(d.shared.empty());
    // Debian's Cyrus IMAP (altnamespace: no, unixhierarchysep: no).
    Namespaces c = decode_namespace(parse(R"(* NAMESPACE (("INBOX." ".")) (("user." ".")) (("" ".")))"));
    CHECK(c.personal[0].prefix == "INBOX.");
    CHECK(c.personal[0].delimiter == '.');
    CHECK(c.other_users[0].prefix == "user.");
    CHECK(c.shared[0].prefix.empty());
    // RFC 2342 §5 example 5.7 (two personal namespaces), an extension, modified UTF-7, NIL delimiter.
    Namespaces r = decode_namespace(parse(
        R"x(* NAMESPACE (("" "/")("#mh/" "/" "X-PARAM" ("FLAG1" "FLAG2"))) (("~" "/")) (("#shared/" "/")("#public/" "/")("Entw&APw-rfe/" NIL)))x"));
    REQUIRE(r.personal.size() == 2);
    CHECK(r.personal[1].prefix == "#mh/");
    CHECK(r.other_users[0].prefix == "~");
    REQUIRE(r.shared.size() == 3);
    CHECK(r.shared[2].prefix == "Entwürfe/");
    CHECK_FALSE(r.shared[2].delimiter);
    for (const char* bad :
         {R"(* NAMESPACE (("" "/")) NIL)", R"(* NAMESPACE ("" "/") NIL NIL)", R"(* NAMESPACE (("")) NIL NIL)",
          R"(* NAMESPACE (("" "//")) NIL NIL)", R"(* NAMESPACE (("" /)) NIL NIL)",
          R"(* NAMESPACE (("&Jjo" "/")) NIL NIL)", R"(* LIST () "/" x)"}) {
        INFO(bad);
        CHECK(data_error([&] { (void)decode_namespace(parse(bad)); }));
    }
}

TEST_CASE("decode_status (RFC 3501 §7.2.4)", "[imap]") {
    StatusEntry s = decode_status(parse(R"(* STATUS "INBOX" (MESSAGES 3 UIDNEXT 8 UIDVALIDITY 1 UNSEEN 0 SIZE 1234))"));
    CHECK(s.mailbox == "INBOX");
    CHECK(s.get("MESSAGES") == 3u);
    CHECK(s.get("UIDNEXT") == 8u);
    CHECK(s.get("UNSEEN") == 0u);
    CHECK(s.get("SIZE") == 1234u);
    CHECK_FALSE(s.get("RECENT"));
    for (const char* bad :
         {"* STATUS INBOX (MESSAGES)", "* STATUS INBOX (MESSAGES x)", "* STATUS INBOX (MESSAGES 1 MESSAGES 2)",
          "* STATUS INBOX", "* STATUS INBOX (MESSAGES -1)"}) {
        INFO(bad);
        CHECK(data_error([&] { (void)decode_status(parse(bad)); }));
    }
}

TEST_CASE("decode_fetch (RFC 3501 §7.4.2)", "[imap]") {
    auto line = line_of({R"(* 12 FETCH (UID 42 FLAGS (\Seen $Forwarded) INTERNALDATE )"
                         R"("17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 BODY[] {11})",
                         R"( BODY[HEADER.FIELDS (MESSAGE-ID)] NIL ENVELOPE (NIL "s" NIL)))"},
                        {"Subject: x\n"});
    FetchItem f = decode_fetch(parse_untagged(line));
    CHECK(f.sequence == 12);
    CHECK(f.uid == 42u);
    REQUIRE(f.flags);
    CHECK(*f.flags == std::vector<std::string>{"\\Seen", "$Forwarded"});
    CHECK(f.internaldate_text == "17-Jul-1996 02:44:25 -0700");
    REQUIRE(f.internaldate);
    // 1996-07-17 09:44:25 UTC
    CHECK(f.internaldate->time_since_epoch().count() == 837596665);
    CHECK(f.size == 4286u);
    CHECK(f.sections.at("BODY[]") == "Subject: x\n");
    CHECK_FALSE(f.sections.at("BODY[HEADER.FIELDS (MESSAGE-ID)]"));

    FetchItem empty = decode_fetch(parse("* 1 FETCH (FLAGS ())"));
    CHECK(empty.flags->empty());
    CHECK_FALSE(empty.uid);

    for (const char* bad : {"* FETCH (UID 1)", "* 1 FETCH (UID)", "* 1 FETCH UID 1", "* 1 FETCH (UID x)",
                            "* 1 FETCH (FLAGS (\"x\"))", "* 1 FETCH (INTERNALDATE \"32-Jul-1996 02:44:25 -0700\")",
                            "* 1 FETCH (INTERNALDATE 5)", "* 1 FETCH (BODY[] ())"}) {
        INFO(bad);
        CHECK(data_error([&] { (void)decode_fetch(parse(bad)); }));
    }
}

TEST_CASE("parse_internaldate handles zones and rejects impossible dates", "[imap]") {
    using std::chrono::sys_days;
    using namespace std::chrono;
    CHECK(parse_internaldate(" 1-Jan-2000 00:00:00 +0000") == sys_days(year(2000) / 1 / 1));
    CHECK(parse_internaldate("01-jan-2000 01:30:00 +0130") == sys_days(year(2000) / 1 / 1));
    CHECK(parse_internaldate("31-Dec-1999 23:00:00 -0100") == sys_days(year(2000) / 1 / 1));
    CHECK(parse_internaldate("29-Feb-2024 12:00:00 +0000") == sys_days(year(2024) / 2 / 29) + hours(12));
    for (const char* bad : {"29-Feb-2023 12:00:00 +0000", "17-Jux-1996 02:44:25 -0700", "17-Jul-1996 24:00:00 -0700",
                            "17-Jul-1996 02:44:25 0700", "7-Jul-1996 02:44:25 -0700", "17-Jul-1996 02:44:25 -0760",
                            "17-Jul-1996T02:44:25 -0700", "", "00-Jul-1996 02:44:25 -0700"}) {
        INFO(bad);
        CHECK(data_error([&] { (void)parse_internaldate(bad); }));
    }
}

TEST_CASE("decode_search (RFC 3501 §7.2.5, RFC 7162)", "[imap]") {
    CHECK(decode_search(parse("* SEARCH 2 3 6")).ids == std::vector<std::uint64_t>{2, 3, 6});
    CHECK(decode_search(parse("* SEARCH")).ids.empty());
    SearchResult m = decode_search(parse("* SEARCH 2 5 (MODSEQ 917162500)"));
    CHECK(m.ids.size() == 2);
    CHECK(m.highest_modseq == 917162500u);
    for (const char* bad : {"* SEARCH a", "* SEARCH 0", "* SEARCH (MODSEQ 1) 2", "* SEARCH (FOO 1)", "* STATUS x ()"}) {
        INFO(bad);
        CHECK(data_error([&] { (void)decode_search(parse(bad)); }));
    }
}

TEST_CASE("command_error classifies NO/BAD by response code (RFC 5530)", "[imap]") {
    auto error_for = [](Status status, const std::string& code) {
        Response r;
        r.status = status;
        r.code = code;
        r.text = "server text";
        return command_error("append to 'INBOX'", r);
    };
    mbx::Error over = error_for(Status::no, "OVERQUOTA");
    CHECK(over.category() == mbx::ErrorCategory::temporary);
    CHECK(over.hint() == "raise the quota with `mbx quota raise`");
    CHECK(std::string(over.what()) == "cannot append to 'INBOX': the server said 'NO [OVERQUOTA] server text'");
    CHECK(error_for(Status::no, "NONEXISTENT").category() == mbx::ErrorCategory::data);
    CHECK(error_for(Status::no, "UNAVAILABLE").category() == mbx::ErrorCategory::temporary);
    CHECK(error_for(Status::no, "limit").category() == mbx::ErrorCategory::temporary);
    CHECK(error_for(Status::no, "").category() == mbx::ErrorCategory::data);
    mbx::Error bad = error_for(Status::bad, "CLIENTBUG");
    CHECK(bad.category() == mbx::ErrorCategory::data);
    CHECK(std::string(bad.what()).find("BAD [CLIENTBUG] server text") != std::string::npos);
}

TEST_CASE("server_kind_of: the ID name field of Dovecot and Cyrus; anything else is other", "[imap]") {
    using F = std::vector<std::pair<std::string, std::string>>;
    CHECK(server_kind_of(F{{"name", "Dovecot"}}) == ServerKind::dovecot);
    CHECK(server_kind_of(F{{"NAME", "Dovecot (Ubuntu)"}, {"version", "2.3.19"}}) == ServerKind::dovecot);
    CHECK(server_kind_of(F{{"name", "Cyrus IMAPD"}, {"version", "3.6.1"}, {"vendor", "Project Cyrus"}}) ==
          ServerKind::cyrus);
    CHECK(server_kind_of(F{{"vendor", "Dovecot"}}) == ServerKind::other); // only the name counts
    CHECK(server_kind_of(F{{"name", "Microsoft Exchange"}}) == ServerKind::other);
    CHECK(server_kind_of(F{}) == ServerKind::other);
    CHECK(server_kind_name(ServerKind::cyrus) == "cyrus");
}
