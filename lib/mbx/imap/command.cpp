#include "mbx/imap/command.hpp"

#include "mbx/core/error.hpp"
#include "mbx/imap/mutf7.hpp"
#include "mbx/imap/quote.hpp"

namespace mbx::imap {

Command::Command(std::string_view name) { raw(name); }

Command& Command::raw(std::string_view text) {
    if (text.find_first_of("\r\n") != std::string_view::npos) {
        // A CR or LF would end the command early and let the rest run as a second command.
        throw Error(ErrorCategory::internal, "cannot build IMAP command: raw text contains a line break");
    }
    pieces_.push_back({std::string(text), false});
    return *this;
}

Command& Command::astring(std::string_view value) {
    AString a = quote_astring(value);
    pieces_.push_back({std::move(a.text), a.form == AString::Form::literal});
    return *this;
}

Command& Command::mailbox(std::string_view name) { return astring(encode_mailbox_name(name)); }

Command& Command::literal(std::string_view bytes) {
    pieces_.push_back({std::string(bytes), true});
    return *this;
}

Command& Command::literal(std::string&& bytes) {
    pieces_.push_back({std::move(bytes), true});
    return *this;
}

bool Command::has_literals() const noexcept {
    for (const auto& p : pieces_) {
        if (p.literal) return true;
    }
    return false;
}

std::string Command::describe() const {
    std::string out;
    for (const auto& p : pieces_) {
        if (!out.empty()) out += ' ';
        out += p.literal ? "{" + std::to_string(p.text.size()) + "}" : p.text;
    }
    return out;
}

} // namespace mbx::imap
