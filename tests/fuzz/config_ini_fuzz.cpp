// Fuzzes the INI configuration parser: any bytes must give entries or an mbx::Error, never a
// crash, a hang or unbounded memory.
#include "mbx/core/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto entries = mbx::config::parse_ini(text, "fuzz.conf");
        for (const auto& e : entries)
            if (e.section.empty() || e.key.empty() || e.line < 1) __builtin_trap();
    } catch (const mbx::Error&) {
    }
    return 0;
}
