#include "mbx/imap/parser.hpp"
#include "mbx/core/text.hpp"

#include "mbx/core/error.hpp"
#include "mbx/imap/mutf7.hpp"
#include "mbx/imap/response.hpp"

namespace mbx::imap {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw Error(ErrorCategory::data, "cannot parse IMAP response: " + what,
                "the server sent data that does not follow the IMAP grammar (RFC 3501 §9)");
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

std::uint64_t to_number(std::string_view digits) {
    std::uint64_t n = 0;
    for (char c : digits) {
        auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) fail("number too large: '" + std::string(digits.substr(0, 40)) + "'");
        n = n * 10 + d;
    }
    return n;
}

// ASTRING-CHAR plus the list-wildcards (RFC 3501 §9): flags such as `\*` and mailbox names
// sent as atoms use them. "[" opens a section and is handled by the caller.
bool is_atom_char(unsigned char c) {
    if (c <= 0x20 || c >= 0x7f) return false;
    return c != '(' && c != ')' && c != '{' && c != '"' && c != '[';
}

// Walks the segments and literals of one ResponseLine. A literal marker must end its
// segment; the literal's bytes follow and parsing resumes at the start of the next segment.
class Parser {
public:
    Parser(const ResponseLine& line, const ParserLimits& limits, std::size_t pos)
        : line_(line), limits_(limits), pos_(pos) {}
    /// Literals are moved out of `line` instead of copied (a 50 MB body is held once).
    Parser(ResponseLine& line, const ParserLimits& limits, std::size_t pos, bool move_literals)
        : line_(line), movable_(move_literals ? &line : nullptr), limits_(limits), pos_(pos) {}

    // Values separated by single spaces up to the end of the line.
    std::vector<Value> parse_top() {
        std::vector<Value> out;
        if (at_end()) return out;
        for (;;) {
            out.push_back(parse_value(0));
            if (at_end()) break;
            expect(' ');
            // Some servers end "* SEARCH 1 2 " with a space; nothing else is tolerated.
            if (at_end()) break;
        }
        return out;
    }

private:
    std::string_view cur() const { return line_.segments[seg_]; }
    bool at_segment_end() const { return pos_ >= cur().size(); }
    bool at_end() const { return at_segment_end() && seg_ + 1 >= line_.segments.size(); }
    int peek() const { return at_segment_end() ? -1 : static_cast<unsigned char>(cur()[pos_]); }

    void expect(char c) {
        if (peek() != static_cast<unsigned char>(c)) {
            fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_) + " of segment " +
                 std::to_string(seg_));
        }
        ++pos_;
    }

    Value make(Value::Kind kind) {
        if (++elements_ > limits_.max_elements) {
            fail("more than " + std::to_string(limits_.max_elements) + " values in one line");
        }
        Value v;
        v.kind = kind;
        return v;
    }

    Value parse_value(std::size_t depth) {
        int c = peek();
        if (c == '(') return parse_list(depth + 1);
        if (c == '"') return parse_quoted();
        if (c == '{' || (c == '~' && pos_ + 1 < cur().size() && cur()[pos_ + 1] == '{')) {
            return parse_literal();
        }
        return parse_atom();
    }

    Value parse_list(std::size_t depth) {
        if (depth > limits_.max_depth) {
            fail("lists nested deeper than " + std::to_string(limits_.max_depth));
        }
        Value v = make(Value::Kind::list);
        expect('(');
        if (peek() == ')') {
            ++pos_;
            return v;
        }
        for (;;) {
            v.items.push_back(parse_value(depth));
            if (peek() == ')') {
                ++pos_;
                return v;
            }
            // RFC 2342 §5 writes a NAMESPACE group's descriptors without a space between them:
            // `(("" "/")("#shared/" "/"))`. A list directly after a list is taken as the next item.
            if (v.items.back().is_list() && peek() == '(') continue;
            expect(' ');
        }
    }

    Value parse_quoted() {
        Value v = make(Value::Kind::quoted);
        expect('"');
        for (;;) {
            int c = peek();
            if (c < 0) fail("unterminated quoted string");
            ++pos_;
            if (c == '"') return v;
            if (c == 0) fail("NUL in a quoted string");
            if (c == '\\') {
                // RFC 3501 §9 quoted-specials: only `\"` and `\\` are escapes.
                int e = peek();
                if (e != '"' && e != '\\') fail("invalid escape in a quoted string");
                ++pos_;
                c = e;
            }
            v.text += static_cast<char>(c);
        }
    }

    Value parse_literal() {
        Value v = make(Value::Kind::literal);
        if (peek() == '~') ++pos_; // literal8 (RFC 3516)
        expect('{');
        std::size_t start = pos_;
        while (peek() >= '0' && peek() <= '9') ++pos_;
        std::string_view digits = cur().substr(start, pos_ - start);
        if (digits.empty()) fail("literal marker without a size");
        std::uint64_t size = to_number(digits);
        if (peek() == '+') ++pos_; // RFC 7888
        expect('}');
        if (!at_segment_end() || lit_ >= line_.literals.size()) {
            fail("literal marker not at the end of a line");
        }
        if (line_.literals[lit_].size() != size) fail("literal size does not match its marker");
        if (movable_) v.text = std::move(movable_->literals[lit_++]);
        else v.text = line_.literals[lit_++];
        ++seg_;
        pos_ = 0;
        return v;
    }

    // An atom, possibly with sections: `BODY[HEADER.FIELDS (MESSAGE-ID)]<0>`.
    Value parse_atom() {
        std::size_t start = pos_;
        bool section = false;
        for (;;) {
            int c = peek();
            if (c == '[') {
                skip_section();
                section = true;
            } else if (c >= 0 && is_atom_char(static_cast<unsigned char>(c))) {
                ++pos_;
            } else {
                break;
            }
        }
        std::string_view text = cur().substr(start, pos_ - start);
        if (text.empty()) fail("unexpected character at offset " + std::to_string(pos_));
        if (!section && all_digits(text)) {
            Value v = make(Value::Kind::number);
            v.number = to_number(text);
            v.text = std::string(text);
            return v;
        }
        if (ascii_upper(text) == "NIL") return make(Value::Kind::nil);
        Value v = make(Value::Kind::atom);
        v.text = std::string(text);
        return v;
    }

    // section = "[" [section-spec] "]": atoms, spaces, parentheses and quoted header names.
    void skip_section() {
        expect('[');
        for (;;) {
            int c = peek();
            if (c < 0) fail("unterminated section");
            if (c == ']') {
                ++pos_;
                return;
            }
            if (c == '"') {
                parse_quoted();
                continue;
            }
            if (c < 0x20 || c >= 0x7f || c == '[' || c == '{') fail("invalid character in a section");
            ++pos_;
        }
    }

    const ResponseLine& line_;
    ResponseLine* movable_ = nullptr;
    const ParserLimits& limits_;
    std::size_t seg_ = 0;
    std::size_t pos_;
    std::size_t lit_ = 0;
    std::size_t elements_ = 0;
};

bool is_keyword_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

bool is_status_keyword(const std::string& k) {
    return k == "OK" || k == "NO" || k == "BAD" || k == "BYE" || k == "PREAUTH";
}

std::string decode_name(const Value& v, bool utf8_accept) {
    const std::string& raw = v.as_string();
    std::string name = utf8_accept ? raw : decode_mailbox_name(raw);
    if (ascii_upper(name) == "INBOX") name = "INBOX"; // RFC 3501 §5.1: INBOX is case-insensitive
    return name;
}

void expect_keyword(const Untagged& u, std::string_view keyword) {
    if (u.keyword != keyword) {
        fail("expected " + std::string(keyword) + " response, got '" + u.keyword + "'");
    }
}

} // namespace

const std::string& Value::as_string() const {
    if (kind == Kind::nil || kind == Kind::list) fail("expected a string, got NIL or a list");
    return text;
}

std::optional<std::string> Value::as_nstring() const {
    if (kind == Kind::nil) return std::nullopt;
    return as_string();
}

std::uint64_t Value::as_number() const {
    if (kind != Kind::number) fail("expected a number");
    return number;
}

const std::vector<Value>& Value::list() const {
    if (kind != Kind::list) fail("expected a parenthesised list");
    return items;
}

std::string Value::keyword() const {
    if (kind != Kind::atom) fail("expected an atom");
    return ascii_upper(text);
}

namespace {

Untagged parse_untagged_impl(const ResponseLine& line, ResponseLine* movable, const ParserLimits& limits) {
    if (line.segments.empty()) fail("empty line");
    const std::string& head = line.head();
    if (!head.starts_with("* ")) fail("not an untagged response");
    Untagged u;
    std::size_t pos = 2;
    auto next_word = [&]() {
        std::size_t start = pos;
        while (pos < head.size() && is_keyword_char(head[pos])) ++pos;
        return std::string_view(head).substr(start, pos - start);
    };
    std::string_view word = next_word();
    if (all_digits(word)) {
        u.number = to_number(word);
        if (pos >= head.size() || head[pos] != ' ') fail("message number without a keyword");
        ++pos;
        word = next_word();
    }
    if (word.empty()) fail("untagged response without a keyword");
    u.keyword = ascii_upper(word);
    if (pos < head.size() && head[pos] != ' ') fail("invalid character after the keyword");
    if (pos < head.size()) ++pos;
    if (is_status_keyword(u.keyword)) {
        // resp-text is free text (RFC 3501 §7.1), never literals.
        if (!line.literals.empty()) fail("literal in a status response");
        split_resp_text(std::string_view(head).substr(pos), u.code, u.text);
        return u;
    }
    u.arguments = movable ? Parser(*movable, limits, pos, true).parse_top() : Parser(line, limits, pos).parse_top();
    return u;
}

} // namespace

Untagged parse_untagged(const ResponseLine& line, const ParserLimits& limits) {
    return parse_untagged_impl(line, nullptr, limits);
}

Untagged parse_untagged(ResponseLine&& line, const ParserLimits& limits) {
    return parse_untagged_impl(line, &line, limits);
}

std::vector<Value> parse_values(std::string_view text, const ParserLimits& limits) {
    ResponseLine line;
    line.segments.emplace_back(text);
    return Parser(line, limits, 0).parse_top();
}

const QuotaResource* Quota::find(std::string_view name) const {
    std::string wanted = ascii_upper(name);
    for (const auto& r : resources) {
        if (r.name == wanted) return &r;
    }
    return nullptr;
}

bool ListEntry::has_attribute(std::string_view attribute) const {
    std::string wanted = ascii_upper(attribute);
    for (const auto& a : attributes) {
        if (ascii_upper(a) == wanted) return true;
    }
    return false;
}

std::optional<std::uint64_t> StatusEntry::get(const std::string& name) const {
    auto it = items.find(name);
    if (it == items.end()) return std::nullopt;
    return it->second;
}

QuotaRoot decode_quota_root(const Untagged& u, bool utf8_accept) {
    expect_keyword(u, "QUOTAROOT");
    if (u.arguments.empty()) fail("QUOTAROOT without a mailbox");
    QuotaRoot q;
    q.mailbox = decode_name(u.arguments[0], utf8_accept);
    for (std::size_t i = 1; i < u.arguments.size(); ++i) {
        q.roots.push_back(u.arguments[i].as_string());
    }
    return q;
}

Quota decode_quota(const Untagged& u) {
    expect_keyword(u, "QUOTA");
    if (u.arguments.size() != 2) fail("QUOTA needs a root and a resource list");
    Quota q;
    q.root = u.arguments[0].as_string();
    const auto& items = u.arguments[1].list();
    if (items.size() % 3 != 0) fail("QUOTA resource list is not (name usage limit)...");
    for (std::size_t i = 0; i < items.size(); i += 3) {
        QuotaResource r{items[i].keyword(), items[i + 1].as_number(), items[i + 2].as_number()};
        if (r.name == "STORAGE") {
            // RFC 9208 §5.1: STORAGE is counted in units of 1024 octets.
            constexpr std::uint64_t kKib = 1024;
            if (r.usage > UINT64_MAX / kKib || r.limit > UINT64_MAX / kKib) {
                fail("QUOTA STORAGE value too large");
            }
            r.usage *= kKib;
            r.limit *= kKib;
        }
        q.resources.push_back(std::move(r));
    }
    return q;
}

ListEntry decode_list(const Untagged& u, bool utf8_accept) {
    if (u.keyword != "LIST" && u.keyword != "LSUB") expect_keyword(u, "LIST");
    // mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
    // [SP mbox-list-extended] (RFC 5258 §9); the extended data is not used.
    if (u.arguments.size() < 3 || u.arguments.size() > 4) fail("LIST with a wrong shape");
    ListEntry e;
    for (const auto& a : u.arguments[0].list()) {
        if (!a.is_atom()) fail("LIST attribute is not an atom");
        e.attributes.push_back(a.text);
    }
    const Value& delim = u.arguments[1];
    if (!delim.is_nil()) {
        if (delim.kind != Value::Kind::quoted || delim.text.size() != 1) {
            fail("LIST delimiter is not one quoted character");
        }
        e.delimiter = delim.text[0];
    }
    e.name = decode_name(u.arguments[2], utf8_accept);
    return e;
}

StatusEntry decode_status(const Untagged& u, bool utf8_accept) {
    expect_keyword(u, "STATUS");
    if (u.arguments.size() != 2) fail("STATUS needs a mailbox and a list");
    StatusEntry s;
    s.mailbox = decode_name(u.arguments[0], utf8_accept);
    const auto& items = u.arguments[1].list();
    if (items.size() % 2 != 0) fail("STATUS list is not (name value)...");
    for (std::size_t i = 0; i < items.size(); i += 2) {
        if (!s.items.emplace(items[i].keyword(), items[i + 1].as_number()).second) {
            fail("STATUS item repeated");
        }
    }
    return s;
}

Namespaces decode_namespace(const Untagged& u, bool utf8_accept) {
    expect_keyword(u, "NAMESPACE");
    if (u.arguments.size() != 3) fail("NAMESPACE needs three groups (personal, other users, shared)");
    auto group = [&](const Value& v) {
        std::vector<NamespaceEntry> out;
        if (v.is_nil()) return out;
        for (const auto& d : v.list()) {
            // Namespace = "(" string SP (<"> QUOTED_CHAR <"> / nil) *(Namespace_Response_Extension) ")"
            const auto& items = d.list();
            if (items.size() < 2) fail("NAMESPACE descriptor without a prefix and a delimiter");
            NamespaceEntry e;
            e.prefix = decode_name(items[0], utf8_accept);
            const Value& delim = items[1];
            if (!delim.is_nil()) {
                if (delim.kind != Value::Kind::quoted || delim.text.size() != 1)
                    fail("NAMESPACE delimiter is not one quoted character");
                e.delimiter = delim.text[0];
            }
            out.push_back(std::move(e));
        }
        return out;
    };
    Namespaces n;
    n.personal = group(u.arguments[0]);
    n.other_users = group(u.arguments[1]);
    n.shared = group(u.arguments[2]);
    return n;
}

namespace {

bool is_section_item(const std::string& name) {
    return name.starts_with("BODY[") || name.starts_with("BINARY[") || name == "RFC822" || name == "RFC822.HEADER" ||
           name == "RFC822.TEXT";
}

// `movable`: the same value, whose bytes may be moved out (rvalue decode_fetch), or nullptr.
void decode_fetch_pair(FetchItem& f, const std::string& name, const Value& value, Value* movable) {
    if (name == "UID") {
        f.uid = value.as_number();
    } else if (name == "FLAGS") {
        std::vector<std::string> flags;
        for (const auto& flag : value.list()) {
            if (!flag.is_atom()) fail("FLAGS item is not an atom");
            flags.push_back(flag.text);
        }
        f.flags = std::move(flags);
    } else if (name == "INTERNALDATE") {
        if (value.kind != Value::Kind::quoted) fail("INTERNALDATE is not a quoted string");
        f.internaldate = parse_internaldate(value.text);
        f.internaldate_text = value.text;
    } else if (name == "RFC822.SIZE") {
        f.size = value.as_number();
    } else if (is_section_item(name)) {
        if (movable && !value.is_nil() && !value.is_list()) f.sections[name] = std::move(movable->text);
        else f.sections[name] = value.as_nstring();
    }
    // Anything else (ENVELOPE, BODYSTRUCTURE, MODSEQ, ...) was parsed and is not used.
}

FetchItem decode_fetch_impl(const Untagged& u, Untagged* movable) {
    expect_keyword(u, "FETCH");
    if (!u.number) fail("FETCH without a message number");
    if (u.arguments.size() != 1) fail("FETCH needs one list");
    FetchItem f;
    f.sequence = *u.number;
    const auto& items = u.arguments[0].list();
    if (items.size() % 2 != 0) fail("FETCH list is not (name value)...");
    for (std::size_t i = 0; i < items.size(); i += 2) {
        decode_fetch_pair(f, items[i].keyword(), items[i + 1], movable ? &movable->arguments[0].items[i + 1] : nullptr);
    }
    return f;
}

} // namespace

FetchItem decode_fetch(const Untagged& u) { return decode_fetch_impl(u, nullptr); }

FetchItem decode_fetch(Untagged&& u) { return decode_fetch_impl(u, &u); }

SearchResult decode_search(const Untagged& u) {
    expect_keyword(u, "SEARCH");
    SearchResult r;
    for (std::size_t i = 0; i < u.arguments.size(); ++i) {
        const Value& v = u.arguments[i];
        if (v.is_list() && i + 1 == u.arguments.size()) {
            // RFC 7162 §3.1.5: "* SEARCH 2 5 (MODSEQ 917162500)".
            const auto& m = v.list();
            if (m.size() != 2 || m[0].keyword() != "MODSEQ") fail("SEARCH with a bad MODSEQ");
            r.highest_modseq = m[1].as_number();
        } else {
            std::uint64_t id = v.as_number();
            if (id == 0) fail("SEARCH result 0 is not a message");
            r.ids.push_back(id);
        }
    }
    return r;
}

namespace {

int digits_at(std::string_view s, std::size_t pos, std::size_t count) {
    int n = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (s[i] < '0' || s[i] > '9') fail("invalid date-time '" + std::string(s) + "'");
        n = n * 10 + (s[i] - '0');
    }
    return n;
}

} // namespace

std::chrono::sys_seconds parse_internaldate(std::string_view s) {
    // date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    // (RFC 3501 §9), e.g. "17-Jul-1996 02:44:25 -0700" or " 7-Jul-1996 ...": 26 characters.
    static constexpr std::string_view kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    const std::string bad = "invalid date-time '" + std::string(s.substr(0, 40)) + "'";
    if (s.size() != 26 || s[2] != '-' || s[6] != '-' || s[11] != ' ' || s[14] != ':' || s[17] != ':' || s[20] != ' ' ||
        (s[21] != '+' && s[21] != '-')) {
        fail(bad);
    }
    int day = s[0] == ' ' ? digits_at(s, 1, 1) : digits_at(s, 0, 2);
    std::string month_name = ascii_upper(s.substr(3, 3));
    unsigned month = 0;
    for (unsigned i = 0; i < 12; ++i) {
        if (kMonths[i] == month_name) month = i + 1;
    }
    int year = digits_at(s, 7, 4);
    int hour = digits_at(s, 12, 2), minute = digits_at(s, 15, 2), second = digits_at(s, 18, 2);
    int zone_h = digits_at(s, 22, 2), zone_m = digits_at(s, 24, 2);
    std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                    std::chrono::day(static_cast<unsigned>(day))};
    if (month == 0 || !ymd.ok() || hour > 23 || minute > 59 || second > 60 || zone_m > 59) {
        fail(bad);
    }
    using std::chrono::hours, std::chrono::minutes, std::chrono::seconds;
    auto local = std::chrono::sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second);
    // The zone is the local offset from UTC: UTC = local - offset.
    minutes offset = hours(zone_h) + minutes(zone_m);
    return s[21] == '+' ? local - offset : local + offset;
}

} // namespace mbx::imap
