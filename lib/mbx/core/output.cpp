#include "mbx/core/output.hpp"

#include "mbx/core/output_sinks.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>

namespace mbx::out {

std::string_view format_name(Format f) {
    switch (f) {
    case Format::table: return "table";
    case Format::csv: return "csv";
    case Format::json: return "json";
    case Format::nagios: return "nagios";
    case Format::prometheus: return "prometheus";
    }
    return "table";
}

Format parse_format(std::string_view text, std::span<const Format> allowed) {
    std::string names;
    for (Format f : allowed) {
        if (text == format_name(f)) return f;
        names += names.empty() ? "" : ", ";
        names += format_name(f);
    }
    throw Error(ErrorCategory::usage, fmt::format("unknown format '{}'", printable(text)), "use one of: " + names);
}

std::unique_ptr<Sink> make_sink(Format format, std::ostream& out) {
    switch (format) {
    case Format::table: return make_table_sink(out);
    case Format::csv: return make_csv_sink(out);
    case Format::json: return make_json_sink(out);
    case Format::nagios: return make_nagios_sink(out);
    case Format::prometheus: return make_prometheus_sink(out);
    }
    return make_table_sink(out);
}

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not valid UTF-8 (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((b(k) & 0xC0) != 0x80) return 0;
    if (n == 2 && c < 0xC2) return 0;
    if (n == 3 && ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) >= 0xA0))) return 0;
    if (n == 4 && ((c == 0xF0 && b(1) < 0x90) || c > 0xF4 || (c == 0xF4 && b(1) >= 0x90))) return 0;
    return n;
}

} // namespace

std::string quoted(std::string_view text) { return "'" + printable(text) + "'"; }

std::string printable(std::string_view text) {
    // Printable ASCII throughout (nearly every value): one pass, one copy.
    if (std::all_of(text.begin(), text.end(), [](char ch) { return ch >= 0x20 && ch < 0x7F; }))
        return std::string(text);
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        std::size_t n = utf8_sequence_length(text, i);
        // C1 controls (U+0080..U+009F, encoded C2 80..C2 9F) act as escapes on some terminals.
        bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
        if (n == 0 || c1 || (n == 1 && (c < 0x20 || c == 0x7F))) {
            out += fmt::format("\\x{:02x}", c);
            i += 1;
            continue;
        }
        out.append(text.substr(i, n));
        i += n;
    }
    return out;
}

std::string human_bytes(std::int64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes);
    int unit = 0;
    while ((v >= 1024.0 || v <= -1024.0) && unit < 5) {
        v /= 1024.0;
        ++unit;
    }
    if (unit == 0) return fmt::format("{} B", bytes);
    return fmt::format("{:.1f} {}", v, kUnits[unit]);
}

std::string_view status_word(ExitCode code) {
    switch (code) {
    case ExitCode::ok: return "ok";
    case ExitCode::warning: return "warning";
    case ExitCode::critical: return "critical";
    default: return "unknown";
    }
}

} // namespace mbx::out
