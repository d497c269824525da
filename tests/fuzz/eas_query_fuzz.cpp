// Fuzzes the ActiveSync query decoders with hostile log bytes: the base64 form (raw bytes are
// also base64-encoded so the byte-level decoder is reached directly), the plain form, Exchange's
// Log= tokens and the client classifier. Any input must decode or give an error value, and the
// inventory's fast paths (QueryScanner, exchange_log_version) must agree with the full ones.
#include "mbx/audit/clients.hpp"
#include "mbx/audit/eas_query.hpp"
#include "mbx/audit/query_scanner.hpp"
#include "mbx/core/text.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    using namespace mbx::audit;

    EasQuery direct;
    const QueryError e = decode_base64_query(mbx::base64_encode(text), direct);
    if (e == QueryError::bad_base64) __builtin_trap(); // our own encoding is always base64
    if (e == QueryError::none && (direct.device_id.empty() || !direct.command_code)) __builtin_trap();

    const ParsedQuery parsed = parse_query(text);
    if (parsed.log.fields.size() > kMaxLogFields) __builtin_trap();
    if (parsed.query.parameters.size() > 32) __builtin_trap();
    // The inventory's scanner decodes the same fields as the full decoders.
    static QueryScanner scanner; // reused, as the log parser reuses it: stale fields would show
    const QueryView& fast = scanner.scan(text);
    const EasQuery& a = parsed.query;
    if (a.form != fast.form || a.protocol_version != fast.protocol_version || a.command != fast.command ||
        a.user != fast.user || a.device_id != fast.device_id || a.device_type != fast.device_type ||
        parsed.error != fast.error || parsed.has_log != fast.has_log || parsed.log_value != fast.log_value ||
        parsed.log.protocol_version != fast.log_version)
        __builtin_trap();
    if (exchange_log_version(text) != parse_exchange_log(text).protocol_version) __builtin_trap();
    (void)percent_decode(text);
    (void)normalise_device_id(text);
    if (auto bytes = mbx::base64_decode(text);
        bytes && text.size() >= 2 && mbx::base64_encode(*bytes).size() < text.size() - 2)
        __builtin_trap(); // decoding never invents or drops more than the padding

    static const ClientClassifier classifier;
    const ClientInfo info = classifier.classify(text, parsed.query.device_type, parsed.query.device_id);
    if (info.family.empty()) __builtin_trap();
    (void)ios_version_for_build(text);
    return 0;
}
