#include "mbx/audit/wbxml.hpp"

#include "mbx/core/error.hpp"

#include <array>
#include <fmt/format.h>

namespace mbx::audit::wbxml {
namespace {

// WBXML 1.3 global tokens (WAP-192-WBXML §7.1).
constexpr std::uint8_t kSwitchPage = 0x00, kEnd = 0x01, kEntity = 0x02, kStrI = 0x03, kLiteral = 0x04, kStrT = 0x83,
                       kOpaque = 0xC3;
constexpr std::uint8_t kHasContent = 0x40, kHasAttributes = 0x80;

struct Name {
    std::uint8_t page;
    std::uint8_t token;
    std::string_view name;
};

// [MS-ASWBXML] 2.1.2.1.8 (FolderHierarchy), 2.1.2.1.15 (Provision), 2.1.2.1.19 (Settings); the
// tokens were checked against libwbxml's ACTIVESYNC tables (xml2wbxml / wbxml2xml).
constexpr std::array<Name, 45> kNames = {{
    {0, 0x05, "Sync"},
    {0, 0x0B, "SyncKey"},
    {0, 0x0E, "Status"},
    {0, 0x0F, "Collections"},
    {0, 0x12, "CollectionId"},
    {7, 0x05, "Folders"},
    {7, 0x06, "Folder"},
    {7, 0x07, "DisplayName"},
    {7, 0x08, "ServerId"},
    {7, 0x09, "ParentId"},
    {7, 0x0A, "Type"},
    {7, 0x0C, "Status"},
    {7, 0x0D, "ContentClass"},
    {7, 0x0E, "Changes"},
    {7, 0x0F, "Add"},
    {7, 0x10, "Delete"},
    {7, 0x11, "Update"},
    {7, 0x12, "SyncKey"},
    {7, 0x13, "FolderCreate"},
    {7, 0x14, "FolderDelete"},
    {7, 0x15, "FolderUpdate"},
    {7, 0x16, "FolderSync"},
    {7, 0x17, "Count"},
    {14, 0x05, "Provision"},
    {14, 0x06, "Policies"},
    {14, 0x07, "Policy"},
    {14, 0x08, "PolicyType"},
    {14, 0x09, "PolicyKey"},
    {14, 0x0A, "Data"},
    {14, 0x0B, "Status"},
    {14, 0x0C, "RemoteWipe"},
    {14, 0x0D, "EASProvisionDoc"},
    {18, 0x05, "Settings"},
    {18, 0x06, "Status"},
    {18, 0x07, "Get"},
    {18, 0x08, "Set"},
    {18, 0x16, "DeviceInformation"},
    {18, 0x17, "Model"},
    {18, 0x18, "IMEI"},
    {18, 0x19, "FriendlyName"},
    {18, 0x1A, "OS"},
    {18, 0x1B, "OSLanguage"},
    {18, 0x1C, "PhoneNumber"},
    {18, 0x20, "UserAgent"},
    {18, 0x22, "MobileOperator"},
}};

Error malformed(std::string_view why, std::size_t offset) {
    return Error(ErrorCategory::data, fmt::format("malformed WBXML at byte {}: {}", offset, why));
}

void encode_element(const Element& e, std::uint8_t& page, std::string& out) {
    if (e.token < 0x05 || e.token > 0x3F)
        throw Error(ErrorCategory::internal, fmt::format("WBXML tag token 0x{:02x} out of range", e.token));
    if (!e.children.empty() && !e.text.empty())
        throw Error(ErrorCategory::internal, "WBXML element with both children and text");
    if (e.page != page) {
        out += static_cast<char>(kSwitchPage);
        out += static_cast<char>(e.page);
        page = e.page;
    }
    const bool content = !e.children.empty() || !e.text.empty();
    out += static_cast<char>(e.token | (content ? kHasContent : 0));
    if (!content) return;
    if (!e.text.empty() && e.opaque) {
        out += static_cast<char>(kOpaque);
        auto n = static_cast<std::uint32_t>(e.text.size());
        // mb_u_int32: 7 bits per byte, most significant first, continuation bit 0x80.
        std::string len(1, static_cast<char>(n & 0x7F));
        while (n >>= 7) len.insert(len.begin(), static_cast<char>(0x80 | (n & 0x7F)));
        out += len;
        out += e.text;
    } else if (!e.text.empty()) {
        if (e.text.find('\0') != std::string::npos)
            throw Error(ErrorCategory::internal, "WBXML inline string holds a NUL byte");
        out += static_cast<char>(kStrI);
        out += e.text;
        out += '\0';
    }
    for (const auto& c : e.children) encode_element(c, page, out);
    out += static_cast<char>(kEnd);
}

class Decoder {
public:
    Decoder(std::string_view in, const Limits& limits) : in_(in), limits_(limits) {}

    Element document() {
        if (in_.size() > limits_.max_input_bytes) throw malformed("document too large", 0);
        const std::uint8_t version = byte("version");
        if (version > 0x03) throw malformed(fmt::format("unsupported WBXML version 0x{:02x}", version), 0);
        if (mb_u_int32("public id") == 0) (void)mb_u_int32("public id index");
        (void)mb_u_int32("charset");
        const std::uint32_t table = mb_u_int32("string table length");
        if (table > in_.size() - pos_) throw malformed("string table past the end", pos_);
        strings_ = in_.substr(pos_, table);
        pos_ += table;
        skip_page_switches();
        Element root = element(0);
        if (pos_ != in_.size()) throw malformed("bytes after the root element", pos_);
        return root;
    }

private:
    std::uint8_t byte(std::string_view what) {
        if (pos_ >= in_.size()) throw malformed(fmt::format("truncated ({})", what), pos_);
        return static_cast<std::uint8_t>(in_[pos_++]);
    }

    std::uint32_t mb_u_int32(std::string_view what) {
        std::uint32_t v = 0;
        for (int i = 0; i < 5; ++i) {
            const std::uint8_t b = byte(what);
            if (v > (0xFFFFFFFFu >> 7)) throw malformed(fmt::format("{} overflows 32 bits", what), pos_);
            v = (v << 7) | (b & 0x7F);
            if (!(b & 0x80)) return v;
        }
        throw malformed(fmt::format("{} longer than 5 bytes", what), pos_);
    }

    void skip_page_switches() {
        while (pos_ < in_.size() && static_cast<std::uint8_t>(in_[pos_]) == kSwitchPage) {
            ++pos_;
            page_ = byte("code page");
        }
    }

    std::string inline_string() {
        const auto end = in_.find('\0', pos_);
        if (end == std::string_view::npos) throw malformed("unterminated inline string", pos_);
        std::string s(in_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return s;
    }

    std::string table_string() {
        const std::uint32_t offset = mb_u_int32("string table offset");
        if (offset >= strings_.size()) throw malformed("string table reference out of range", pos_);
        const auto end = strings_.find('\0', offset);
        if (end == std::string_view::npos) throw malformed("unterminated table string", pos_);
        return std::string(strings_.substr(offset, end - offset));
    }

    std::string opaque() {
        const std::uint32_t n = mb_u_int32("opaque length");
        if (n > in_.size() - pos_) throw malformed("opaque data past the end", pos_);
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }

    Element element(std::size_t depth) {
        if (depth >= limits_.max_depth) throw malformed("nested too deep", pos_);
        if (++elements_ > limits_.max_elements) throw malformed("too many elements", pos_);
        const std::size_t at = pos_;
        const std::uint8_t b = byte("tag");
        if (b & kHasAttributes) throw malformed("attributes (not used by ActiveSync)", at);
        Element e;
        e.page = page_;
        e.token = b & 0x3F;
        if (e.token < 0x05) throw malformed(fmt::format("global token 0x{:02x} where a tag was expected", b), at);
        if (!(b & kHasContent)) return e;
        for (;;) {
            skip_page_switches();
            const std::size_t here = pos_;
            const std::uint8_t t = byte("content");
            if (t == kEnd) return e;
            if (t == kStrI || t == kStrT || t == kOpaque) {
                if (!e.children.empty()) throw malformed("text mixed with elements", here);
                std::string piece = t == kStrI ? inline_string() : t == kStrT ? table_string() : opaque();
                if (t == kOpaque) e.opaque = true;
                e.text += piece;
                continue;
            }
            if (t == kEntity || t == kLiteral || (t & 0x3F) <= 0x04)
                throw malformed(fmt::format("token 0x{:02x} not used by ActiveSync", t), here);
            if (!e.text.empty()) throw malformed("elements mixed with text", here);
            --pos_;
            e.children.push_back(element(depth + 1));
        }
    }

    std::string_view in_;
    Limits limits_;
    std::string_view strings_;
    std::size_t pos_ = 0;
    std::size_t elements_ = 0;
    std::uint8_t page_ = 0;
};

void render(const Element& e, int depth, std::string& out) {
    const std::string name = tag_name(e.page, e.token);
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
    if (e.children.empty() && e.text.empty()) {
        out += fmt::format("<{}/>\n", name);
        return;
    }
    if (e.children.empty()) {
        out += e.opaque ? fmt::format("<{}>[{} bytes opaque]</{}>\n", name, e.text.size(), name)
                        : fmt::format("<{}>{}</{}>\n", name, e.text, name);
        return;
    }
    out += fmt::format("<{}>\n", name);
    for (const auto& c : e.children) render(c, depth + 1, out);
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
    out += fmt::format("</{}>\n", name);
}

} // namespace

const Element* Element::child(std::uint8_t child_page, std::uint8_t child_token) const {
    for (const auto& c : children)
        if (c.page == child_page && c.token == child_token) return &c;
    return nullptr;
}

const Element* Element::find(std::initializer_list<std::pair<std::uint8_t, std::uint8_t>> path) const {
    const Element* e = this;
    for (const auto& [p, t] : path) {
        e = e->child(p, t);
        if (!e) return nullptr;
    }
    return e;
}

Element text_element(std::uint8_t page, std::uint8_t token, std::string text) {
    Element e;
    e.page = page;
    e.token = token;
    e.text = std::move(text);
    return e;
}

Element parent_element(std::uint8_t page, std::uint8_t token, std::vector<Element> children) {
    Element e;
    e.page = page;
    e.token = token;
    e.children = std::move(children);
    return e;
}

std::string encode(const Element& root) {
    std::string out("\x03\x01\x6a\x00", 4);
    std::uint8_t page = 0;
    encode_element(root, page, out);
    return out;
}

Element decode(std::string_view bytes, const Limits& limits) { return Decoder(bytes, limits).document(); }

std::string tag_name(std::uint8_t page, std::uint8_t token) {
    for (const auto& n : kNames)
        if (n.page == page && n.token == token) return std::string(n.name);
    return fmt::format("page{}:0x{:02x}", page, token);
}

std::string to_text(const Element& root) {
    std::string out;
    render(root, 0, out);
    return out;
}

} // namespace mbx::audit::wbxml
