// Fuzzes the WBXML decoder with hostile server bytes: any input must decode or throw
// mbx::Error(data), and what decodes must re-encode and decode to the same tree.
#include "mbx/audit/wbxml.hpp"
#include "mbx/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

bool same(const mbx::audit::wbxml::Element& a, const mbx::audit::wbxml::Element& b) {
    if (a.page != b.page || a.token != b.token || a.text != b.text || a.children.size() != b.children.size())
        return false;
    for (std::size_t i = 0; i < a.children.size(); ++i)
        if (!same(a.children[i], b.children[i])) return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace wb = mbx::audit::wbxml;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    wb::Element root;
    try {
        root = wb::decode(bytes, {.max_input_bytes = 1u << 20, .max_depth = 16, .max_elements = 4096});
    } catch (const mbx::Error& e) {
        if (e.category() != mbx::ErrorCategory::data) __builtin_trap();
        return 0;
    }
    (void)wb::to_text(root);
    std::string again;
    try {
        again = wb::encode(root);
    } catch (const mbx::Error&) {
        return 0; // e.g. inline strings with NUL from opaque data: not re-encodable, fine
    }
    if (!same(wb::decode(again), root)) __builtin_trap();
    return 0;
}
