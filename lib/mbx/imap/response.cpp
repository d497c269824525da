#include "mbx/imap/response.hpp"
#include "mbx/core/text.hpp"

namespace mbx::imap {
namespace {

std::string_view next_word(std::string_view& rest) {
    std::size_t sp = rest.find(' ');
    std::string_view word = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    return word;
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

} // namespace

void split_resp_text(std::string_view resp_text, std::string& code, std::string& text) {
    code.clear();
    if (!resp_text.empty() && resp_text.front() == '[') {
        // resp-text-code may contain nested brackets only inside BADCHARSET/PERMANENTFLAGS
        // lists, never "]": the first "]" closes it.
        std::size_t close = resp_text.find(']');
        if (close != std::string_view::npos) {
            code = std::string(resp_text.substr(1, close - 1));
            resp_text.remove_prefix(close + 1);
            if (!resp_text.empty() && resp_text.front() == ' ') resp_text.remove_prefix(1);
        }
    }
    text = std::string(resp_text);
}

std::optional<Completion> parse_completion(std::string_view line) {
    std::string_view rest = line;
    std::string_view tag = next_word(rest);
    if (tag.empty() || tag == "*" || tag == "+") return std::nullopt;
    std::string status = ascii_upper(next_word(rest));
    Completion c;
    if (status == "OK") {
        c.status = Status::ok;
    } else if (status == "NO") {
        c.status = Status::no;
    } else if (status == "BAD") {
        c.status = Status::bad;
    } else {
        return std::nullopt;
    }
    c.tag = std::string(tag);
    split_resp_text(rest, c.code, c.text);
    return c;
}

std::string untagged_keyword(std::string_view line) {
    if (line.size() < 2 || line.substr(0, 2) != "* ") return {};
    std::string_view rest = line.substr(2);
    std::string_view word = next_word(rest);
    if (all_digits(word)) word = next_word(rest);
    return ascii_upper(word);
}

std::vector<const ResponseLine*> Response::data(std::string_view keyword) const {
    std::vector<const ResponseLine*> out;
    std::string wanted = ascii_upper(keyword);
    for (const auto& line : untagged) {
        if (untagged_keyword(line.head()) == wanted) out.push_back(&line);
    }
    return out;
}

} // namespace mbx::imap
