// Fuzzes the access-log parsers through the line splitter: the first byte picks the chunk
// size (1..64) the "file" arrives in and the format (IIS with a #Fields: line first, combined,
// or auto detection), so lines split anywhere and over-long lines are tried under a small
// limit. Every line must give a LineKind, never a crash, and where the plain combined splitter
// takes a line it must give the full splitter's tokens.
#include "mbx/audit/access_log.hpp"
#include "mbx/audit/access_log_parser.hpp"
#include "mbx/audit/inventory.hpp"
#include "mbx/audit/log_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mbx::audit;
    if (size < 1) return 0;
    const std::size_t chunk = 1 + data[0] % 64;
    const int mode = (data[0] >> 6) % 3;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

    const LogFormat format = mode == 0 ? LogFormat::iis : mode == 1 ? LogFormat::combined : LogFormat::auto_detect;
    AccessLogParser parser(format);
    Inventory inventory;
    Request request;
    LineSplitter splitter(4096);
    detail::CombinedFields plain, full;
    detail::CombinedBuffers buffers;
    auto on_line = [&](const LogLine& line) {
        if (line.overlong && !line.text.empty()) __builtin_trap();
        if (detail::split_plain_combined(line.text, plain)) {
            if (!detail::split_combined(line.text, full, buffers).empty()) __builtin_trap();
            if (!(plain == full)) __builtin_trap();
        }
        if (line.text.size() > 4097) __builtin_trap();
        const LineKind kind = line.overlong ? LineKind::malformed : parser.parse_line(line.text, request);
        if (kind == LineKind::request && !is_activesync_path(request.uri_path)) __builtin_trap();
        inventory.add(kind, request);
    };
    if (mode == 0) {
        Request ignored;
        (void)parser.parse_line("#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query cs-username "
                                "cs(User-Agent) sc-status cs(MS-ASProtocolVersion)",
                                ignored);
    }
    while (!rest.empty()) {
        const std::size_t n = std::min(chunk, rest.size());
        splitter.feed(rest.substr(0, n), on_line);
        rest.remove_prefix(n);
    }
    splitter.finish(on_line);
    const auto& t = inventory.totals();
    if (t.lines != splitter.lines()) __builtin_trap();
    if (t.directives + t.skipped + t.malformed + t.requests != t.lines) __builtin_trap();
    for (const Device& d : inventory.devices())
        if (d.commands.size() > kMaxDistinctPerDevice + 1 || d.requests == 0) __builtin_trap();
    return 0;
}
