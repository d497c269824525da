#pragma once
// What mbxkit reads from a message itself (pure): header fields, the Message-ID, and the
// fingerprint that says "this is the same message" across mailboxes and servers (cleanup's
// undo, merge's dedup and verification).

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

/// A message's identity for deduplication: a 128-bit digest of its Message-ID and RFC822.SIZE,
/// or, without a Message-ID, of its Date, From and Subject (whitespace runs folded to one
/// space, so a server's re-folding does not change it) and size. Two copies of one message
/// have equal fingerprints on any server; different messages collide with negligible
/// probability.
struct Fingerprint {
    std::array<unsigned char, 16> bytes{};
    bool operator==(const Fingerprint&) const = default;
    auto operator<=>(const Fingerprint&) const = default;
};

struct FingerprintHash {
    std::size_t operator()(const Fingerprint& f) const noexcept;
};

/// The fingerprint of a message from its header (the whole message, its header, or a
/// `HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)` section) and its RFC822.SIZE. Pure.
Fingerprint fingerprint_of(std::string_view header, std::uint64_t size);

/// The FETCH item that gives fingerprint_of() what it needs without the body.
inline constexpr std::string_view kFingerprintFetch = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)]";
/// The section name under which a server answers kFingerprintFetch.
inline constexpr std::string_view kFingerprintSection = "BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)]";

} // namespace mbx::ops
