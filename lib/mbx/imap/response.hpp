#pragma once
// The outcome of one tagged IMAP command, and the minimal splitting of response lines the
// connection layer needs (tag, status, response code, text). A full response grammar parser
// (FETCH, LIST, QUOTA data) works on ResponseLine and can replace the splitting here.

#include "mbx/imap/response_reader.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::imap {

/// Completion status of a tagged command (RFC 3501 §7.1).
enum class Status { ok, no, bad };

/// What a tagged command produced.
struct Response {
    std::string tag;
    Status status = Status::bad;
    std::string code; ///< the response code inside `[...]` without the brackets, or empty
    std::string text; ///< the human-readable text after the code
    /// Untagged (`* ...`) lines received after the previous completion and before this one.
    std::vector<ResponseLine> untagged;

    bool ok() const noexcept { return status == Status::ok; }
    /// Untagged lines whose first word after `* ` (or after `* <number> `) is `keyword`,
    /// case-insensitively ("CAPABILITY", "STATUS", "EXISTS").
    std::vector<const ResponseLine*> data(std::string_view keyword) const;
};

/// A tagged status line split into its parts.
struct Completion {
    std::string tag;
    Status status = Status::bad;
    std::string code;
    std::string text;
};

/// Splits a tagged completion line (`tag SP (OK|NO|BAD) SP [ "[" code "]" SP ] text`), or
/// returns nullopt when `line` is untagged (`*`), a continuation request (`+`), or not a
/// status response. No side effects.
std::optional<Completion> parse_completion(std::string_view line);

/// Splits `resp-text` (RFC 3501 §9) into the response code and the text.
void split_resp_text(std::string_view resp_text, std::string& code, std::string& text);

/// The first word of an untagged line after `* ` and an optional message number, upper-cased
/// ("* 3 EXISTS" -> "EXISTS"), or empty. No side effects.
std::string untagged_keyword(std::string_view line);

} // namespace mbx::imap
