#pragma once
// A small WBXML codec for ActiveSync bodies ([MS-ASWBXML], WBXML 1.3): an encoder from a tiny
// element tree and a bounded decoder back to it. Only what ActiveSync uses: code pages,
// tags with and without content, inline strings, string-table references and opaque data.
// Attributes, entities, literals and extensions do not occur in ActiveSync and are refused.
//
// The decoder reads untrusted server bytes: it never reads past its input, limits depth, the
// number of elements and the bytes it copies, and throws mbx::Error(data) for anything
// malformed. Text it returns keeps the bytes it decoded: pass it through mbx::out::printable
// before showing it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::audit::wbxml {

/// Code pages ([MS-ASWBXML] 2.1.2.1) this project names and builds requests for. (Enumerators
/// that are plain bytes: `page::airsync` converts to std::uint8_t where an Element wants one.)
namespace page {
enum : std::uint8_t { airsync = 0, folder_hierarchy = 7, provision = 14, settings = 18 };
} // namespace page

/// Tag tokens (without the 0x40 content bit) of those pages.
// Tables laid out by hand: the tokens of a page together.
// clang-format off
namespace tag {
// FolderHierarchy (page 7)
enum : std::uint8_t {
    display_name = 0x07, server_id = 0x08, parent_id = 0x09, type = 0x0A, fh_status = 0x0C, changes = 0x0E, add = 0x0F,
    fh_delete = 0x10, update = 0x11, sync_key = 0x12, folder_sync = 0x16, count = 0x17
};
// Provision (page 14)
enum : std::uint8_t {
    provision = 0x05, policies = 0x06, policy = 0x07, policy_type = 0x08, policy_key = 0x09, data = 0x0A,
    prov_status = 0x0B, remote_wipe = 0x0C
};
// Settings (page 18)
enum : std::uint8_t {
    settings = 0x05, set_status = 0x06, get = 0x07, set = 0x08, device_information = 0x16, model = 0x17,
    friendly_name = 0x19, os = 0x1A, os_language = 0x1B, user_agent = 0x20
};
} // namespace tag
// clang-format on

/// One element: its code page and tag token, then either children or text (an inline string,
/// or opaque bytes when `opaque`). An element with neither is sent without content.
struct Element {
    std::uint8_t page = 0;
    std::uint8_t token = 0; ///< 0x05..0x3F
    std::vector<Element> children = {};
    std::string text = {};
    bool opaque = false;

    /// The first direct child with `page`/`token`, or nullptr.
    const Element* child(std::uint8_t child_page, std::uint8_t child_token) const;
    /// Follows direct children along `path` ({page, token} pairs); nullptr when one is missing.
    const Element* find(std::initializer_list<std::pair<std::uint8_t, std::uint8_t>> path) const;
};

/// A text element (inline string).
Element text_element(std::uint8_t page, std::uint8_t token, std::string text);
/// An element with children.
Element parent_element(std::uint8_t page, std::uint8_t token, std::vector<Element> children);

/// Bounds on what decode() accepts.
struct Limits {
    std::size_t max_input_bytes = 16u << 20;
    std::size_t max_depth = 32;
    std::size_t max_elements = 100000;
};

/// The WBXML bytes of `root`: header 03 01 6A 00 (WBXML 1.3, unknown public id, UTF-8, no
/// string table), SWITCH_PAGE where the page changes, tokens, STR_I / OPAQUE content, END.
/// Throws mbx::Error(internal) for a token outside 0x05..0x3F, an inline string holding NUL,
/// or an element with both children and text. Pure.
std::string encode(const Element& root);

/// Decodes a WBXML document into its root element. Throws mbx::Error(data) for a truncated or
/// malformed document, anything ActiveSync does not use (attributes, entities, LITERAL, EXT_*,
/// PI), trailing bytes after the root, or exceeding `limits`. Pure.
Element decode(std::string_view bytes, const Limits& limits = {});

/// The tag's name for the pages above ("FolderSync", "Status"), or "page7:0x2a" for others.
/// Pure.
std::string tag_name(std::uint8_t page, std::uint8_t token);

/// An indented XML-like rendering for tests and --verbose notes (text shown raw). Pure.
std::string to_text(const Element& root);

} // namespace mbx::audit::wbxml
