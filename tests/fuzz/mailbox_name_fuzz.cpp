// Fuzzes modified UTF-7 mailbox-name decoding (names come from the server's LIST) and checks
// that whatever decodes re-encodes to a name that decodes to the same text.
#include "mbx/core/error.hpp"
#include "mbx/imap/mutf7.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    try {
        std::string utf8 = mbx::imap::decode_mailbox_name(input);
        if (mbx::imap::decode_mailbox_name(mbx::imap::encode_mailbox_name(utf8)) != utf8) __builtin_trap();
    } catch (const mbx::Error&) {
    }
    return 0;
}
