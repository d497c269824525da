#pragma once
// What mbxkit reads from a message itself (pure): header fields, the Message-ID, and the
// identity that says "this is the same message" across mailboxes and servers (cleanup's undo,
// merge's dedup and verification).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mbx::ops {

/// The value of the first header field `name` (case-insensitive) in the header of the RFC 5322
/// `message` (or of a `BODY[HEADER.FIELDS (...)]` section), unfolded and trimmed, or nullopt.
/// Stops at the end of the header. Pure.
std::optional<std::string> header_value(std::string_view message, std::string_view name);

/// The Message-ID of `message` kept only when it is printable ASCII of at most 998 bytes (it
/// goes into JSON and IMAP SEARCH), else empty. Pure.
std::string message_id_of(std::string_view message);

/// A 128-bit digest (the first half of a SHA-256).
struct Fingerprint {
    std::array<unsigned char, 16> bytes{};
    bool operator==(const Fingerprint&) const = default;
    auto operator<=>(const Fingerprint&) const = default;
};

struct FingerprintHash {
    std::size_t operator()(const Fingerprint& f) const noexcept;
};

/// A message's identity across mailboxes and servers (merge's dedup and verification, cleanup's
/// undo), from header fields no server rewrites in a way that matters, and never from its size
/// or bytes: servers change those on APPEND (line endings, added header fields, 8-bit bytes;
/// docs/commands/merge.md, "Message identity"). Each value is unfolded with whitespace runs
/// folded to one space, and runs of bytes >= 0x80 or `X` read as one `?` (Cyrus's munge8bit
/// turns each 8-bit header byte into an `X`).
struct Identity {
    Fingerprint message_id = {}; ///< of the Message-ID; meaningful when has_message_id
    Fingerprint header = {};     ///< of Date, From and Subject
    bool has_message_id = false;
    bool operator==(const Identity&) const = default;
};

/// The identity of a message from its header (the whole message, its header, or a
/// `HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)` section). Pure.
Identity identity_of(std::string_view header);

/// The FETCH item that gives identity_of() what it needs without the body.
inline constexpr std::string_view kFingerprintFetch = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)]";
/// The section name under which a server answers kFingerprintFetch.
inline constexpr std::string_view kFingerprintSection = "BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)]";

} // namespace mbx::ops
