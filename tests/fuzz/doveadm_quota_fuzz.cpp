// Fuzzes the doveadm HTTP API quotaGet reply decoder: any bytes must give results or an
// mbx::Error, never a crash, a hang or unbounded memory.
#include "mbx/ops/doveadm.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    try {
        mbx::ops::decode_quota_response(body, [](const mbx::ops::DoveadmResult& r) {
            if (r.quota.used_bytes && *r.quota.used_bytes < 0) __builtin_trap();
            if (r.quota.limit_bytes && *r.quota.limit_bytes <= 0) __builtin_trap();
        });
    } catch (const mbx::Error&) {
    }
    return 0;
}
