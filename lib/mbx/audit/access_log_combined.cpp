#include "mbx/audit/access_log_parser.hpp"
#include "mbx/audit/scan.hpp"

#include <array>
#include <cstring>

// nginx/Apache "combined" logs: the tokens of a line (the plain lines nearly every log holds
// split from bit masks of the whole line, the others token by token, decoding escapes), then a
// Request from them.

namespace mbx::audit {
using detail::dash_empty;
using detail::number_at;
using detail::parse_status;
using scan::find_byte;
using scan::find_either;
namespace {

// Combined "10/Oct/2000:13:55:36 -0700", converted to UTC.
std::int64_t combined_time(std::string_view s) {
    static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':') return 0;
    int month = 0;
    for (std::size_t i = 0; i < kMonths.size() && month == 0; ++i)
        if (s[3] == kMonths[i][0] && s[4] == kMonths[i][1] && s[5] == kMonths[i][2]) month = static_cast<int>(i) + 1;
    std::int64_t t = unix_time(number_at(s, 7, 4), month, number_at(s, 0, 2), number_at(s, 12, 2), number_at(s, 15, 2),
                               number_at(s, 18, 2));
    if (t == 0 || s.size() < 26 || s[20] != ' ' || (s[21] != '+' && s[21] != '-')) return t;
    const int hh = number_at(s, 22, 2), mm = number_at(s, 24, 2);
    if (hh < 0 || mm < 0) return t;
    const std::int64_t offset = hh * 3600 + mm * 60;
    return s[21] == '+' ? t - offset : t + offset;
}

// "14.1", "2.5": what an MS-ASProtocolVersion value looks like. Other values are kept as logged
// when they come from a named header field; extra combined fields must look like this.
bool looks_like_version(std::string_view v) {
    const auto dot = v.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot > 2 || v.size() - dot - 1 != 1) return false;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (i != dot && (v[i] < '0' || v[i] > '9')) return false;
    return true;
}

// One token of a combined line: bare up to a space, "quoted" (nginx `\xHH`, Apache `\"` `\\`
// decoded) or [bracketed].
class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}
    bool done() {
        skip_spaces();
        return s_.empty();
    }
    bool bare(std::string_view& out) {
        skip_spaces();
        if (s_.empty()) return false;
        const auto sp = find_byte(s_, ' ');
        out = s_.substr(0, sp);
        s_.remove_prefix(out.size());
        return true;
    }
    bool bracketed(std::string_view& out) {
        skip_spaces();
        if (s_.empty() || s_[0] != '[') return false;
        const auto close = find_byte(s_, ']');
        if (close == std::string_view::npos) return false;
        out = s_.substr(1, close - 1);
        s_.remove_prefix(close + 1);
        return true;
    }
    // A "quoted" value: a view into the line when it has no backslash (the common case: no
    // copy), else decoded into `buffer` and a view of that.
    bool quoted(std::string_view& out, std::string& buffer) {
        skip_spaces();
        if (s_.empty() || s_[0] != '"') return false;
        // The closing quote, unless a backslash comes first: one inline search.
        const std::string_view body = s_.substr(1);
        const std::size_t quote = find_either(body, '"', '\\');
        if (quote != std::string_view::npos && body[quote] == '"') {
            out = body.substr(0, quote);
            s_.remove_prefix(quote + 2);
            return true;
        }
        buffer.clear();
        for (std::size_t i = 1; i < s_.size(); ++i) {
            const char c = s_[i];
            if (c == '"') {
                s_.remove_prefix(i + 1);
                out = buffer;
                return true;
            }
            if (c != '\\' || i + 1 >= s_.size()) {
                buffer += c;
                continue;
            }
            const char e = s_[++i];
            if (e == 'x' && i + 2 < s_.size() && hex(s_[i + 1]) >= 0 && hex(s_[i + 2]) >= 0) {
                buffer += static_cast<char>(hex(s_[i + 1]) * 16 + hex(s_[i + 2]));
                i += 2;
            } else if (e == '"' || e == '\\') {
                buffer += e;
            } else {
                buffer += '\\';
                buffer += e;
            }
        }
        return false; // no closing quote
    }

private:
    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    void skip_spaces() {
        while (!s_.empty() && s_[0] == ' ') s_.remove_prefix(1);
    }
    std::string_view s_;
};

} // namespace

namespace detail {

std::string_view split_combined(std::string_view line, CombinedFields& out, CombinedBuffers& buffers) {
    out = CombinedFields{};
    Cursor c(line);
    if (!c.bare(out.ip) || !c.bare(out.ident) || !c.bare(out.user)) return "fewer fields than combined";
    if (!c.bracketed(out.when)) return "no [time] field";
    if (!c.quoted(out.request_line, buffers.request_line)) return "no quoted request line";
    if (!c.bare(out.status) || !c.bare(out.bytes)) return "no status and size";
    if (!c.done() && (!c.quoted(out.referer, buffers.referer) || !c.quoted(out.user_agent, buffers.user_agent)))
        return "referer and user agent not quoted";
    // Extra fields after the user agent: the first that looks like a version is the logged
    // MS-ASProtocolVersion header ("$http_ms_asprotocolversion" / "%{MS-ASProtocolVersion}i").
    std::string_view value;
    for (int extra = 0; !c.done() && extra < 16; ++extra) {
        if (!c.quoted(value, buffers.value) && !c.bare(value)) return "unterminated quoted field";
        if (out.header_version.empty() && looks_like_version(value)) {
            buffers.header_version.assign(value); // "14.1": no allocation; buffers.value is reused
            out.header_version = buffers.header_version;
        }
    }
    return {};
}

namespace {

// Where a combined line's spaces are, and its quotes and backslashes: a bit per byte, found for
// the whole line at once (64 bytes a step). The steps of split_plain_combined() then find each
// token's end from the bits: a few instructions and a branch that nearly always goes the same
// way, where a search per token paid for its setup and for a loop exit the CPU mispredicts.
struct LineMasks {
    static constexpr std::size_t kMaxBytes = 1024; ///< longer lines take split_combined()
    std::array<std::uint64_t, kMaxBytes / 64> space, quote;
    std::size_t words = 0, size = 0;

    // The first position at or after `pos` with its bit set in `mask`, else size.
    [[gnu::always_inline]] std::size_t next(const std::array<std::uint64_t, kMaxBytes / 64>& mask,
                                            std::size_t pos) const {
        std::size_t w = pos >> 6;
        if (w >= words) return size;
        std::uint64_t bits = mask[w] & (~std::uint64_t{0} << (pos & 63));
        while (bits == 0) {
            if (++w == words) return size;
            bits = mask[w];
        }
        return (w << 6) + static_cast<std::size_t>(__builtin_ctzll(bits));
    }
};

// The bits of the 64 bytes at `p`: bit i of `space` for p[i] == ' ', of `quote` for '"' or '\'.
[[gnu::always_inline]] inline void block_masks(const char* p, std::uint64_t& space, std::uint64_t& quote) {
    std::uint64_t s = 0, q = 0;
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' '), dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (unsigned j = 0; j < 4; ++j) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * j));
        s |= static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, sp)))) << (16 * j);
        q |= static_cast<std::uint64_t>(
                 static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)))))
             << (16 * j);
    }
#else
    for (unsigned i = 0; i < 64; ++i) {
        s |= static_cast<std::uint64_t>(p[i] == ' ') << i;
        q |= static_cast<std::uint64_t>(p[i] == '"' || p[i] == '\\') << i;
    }
#endif
    space = s;
    quote = q;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void block_masks_avx2(const char* p, std::uint64_t& space, std::uint64_t& quote) {
    const __m256i sp = _mm256_set1_epi8(' '), dq = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\');
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const auto bits = [](int low, int high) {
        return static_cast<std::uint64_t>(static_cast<std::uint32_t>(low)) |
               static_cast<std::uint64_t>(static_cast<std::uint32_t>(high)) << 32;
    };
    space = bits(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, sp)), _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, sp)));
    quote = bits(_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(lo, dq), _mm256_cmpeq_epi8(lo, bs))),
                 _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(hi, dq), _mm256_cmpeq_epi8(hi, bs))));
}
#endif

// The masks of `line` (at most LineMasks::kMaxBytes): whole 64-byte blocks, then the last
// partial block read as the line's last 64 bytes (or, for a shorter line, from a zero-padded
// copy) and shifted down: never a byte past the line.
template <typename Block>
[[gnu::always_inline]] inline void line_masks(std::string_view line, LineMasks& m, Block block) {
    const std::size_t n = line.size();
    m.size = n;
    m.words = (n + 63) / 64;
    std::size_t w = 0;
    for (; (w + 1) * 64 <= n; ++w) block(line.data() + w * 64, m.space[w], m.quote[w]);
    const std::size_t rest = n - w * 64;
    if (rest == 0) return;
    std::uint64_t space = 0, quote = 0;
    if (n >= 64) {
        block(line.data() + n - 64, space, quote);
        m.space[w] = space >> (64 - rest);
        m.quote[w] = quote >> (64 - rest);
    } else {
        char padded[64] = {};
        std::memcpy(padded, line.data(), n);
        block(padded, m.space[w], m.quote[w]);
    }
}

// The steps of split_plain_combined(): `pos` moves along `line`; each step is false where the
// line is not plain.

// A token up to the next space or the end (not empty); pos lands on that space or the end.
[[gnu::always_inline]] inline bool plain_bare(std::string_view line, const LineMasks& m, std::size_t& pos,
                                              std::string_view& out) {
    if (pos >= line.size() || line[pos] == ' ') return false;
    const std::size_t end = m.next(m.space, pos);
    out = std::string_view(line.data() + pos, end - pos);
    pos = end;
    return true;
}

// Exactly one space, with a token after it.
[[gnu::always_inline]] inline bool plain_space(std::string_view line, std::size_t& pos) {
    if (pos + 1 >= line.size() || line[pos] != ' ' || line[pos + 1] == ' ') return false;
    ++pos;
    return true;
}

// A "quoted" token without a backslash (split_combined() decodes those).
[[gnu::always_inline]] inline bool plain_quoted(std::string_view line, const LineMasks& m, std::size_t& pos,
                                                std::string_view& out) {
    if (pos >= line.size() || line[pos] != '"') return false;
    const std::size_t close = m.next(m.quote, pos + 1);
    if (close == line.size() || line[close] != '"') return false;
    out = std::string_view(line.data() + pos + 1, close - pos - 1);
    pos = close + 1;
    return true;
}

} // namespace

bool split_plain_combined(std::string_view line, CombinedFields& out) {
    out = CombinedFields{};
    if (line.size() > LineMasks::kMaxBytes) return false;
    LineMasks m;
#if defined(__x86_64__)
    if (scan::has_avx2()) line_masks(line, m, block_masks_avx2);
    else
#endif
        line_masks(line, m,
                   [](const char* p, std::uint64_t& space, std::uint64_t& quote) { block_masks(p, space, quote); });
    std::size_t pos = 0;
    if (!plain_bare(line, m, pos, out.ip) || !plain_space(line, pos) || !plain_bare(line, m, pos, out.ident) ||
        !plain_space(line, pos) || !plain_bare(line, m, pos, out.user) || !plain_space(line, pos) || line[pos] != '[')
        return false;
    const std::size_t close = find_byte(line, ']', pos);
    if (close == std::string_view::npos) return false;
    out.when = std::string_view(line.data() + pos + 1, close - pos - 1);
    pos = close + 1;
    if (!plain_space(line, pos) || !plain_quoted(line, m, pos, out.request_line) || !plain_space(line, pos) ||
        !plain_bare(line, m, pos, out.status) || !plain_space(line, pos) || !plain_bare(line, m, pos, out.bytes))
        return false;
    if (pos == line.size()) return true; // the common format
    if (!plain_space(line, pos) || !plain_quoted(line, m, pos, out.referer) || !plain_space(line, pos) ||
        !plain_quoted(line, m, pos, out.user_agent))
        return false;
    std::string_view value;
    for (int extra = 0; pos < line.size() && extra < 16; ++extra) {
        if (!plain_space(line, pos)) return false;
        if (line[pos] == '"' ? !plain_quoted(line, m, pos, value) : !plain_bare(line, m, pos, value)) return false;
        if (out.header_version.empty() && looks_like_version(value)) out.header_version = value;
    }
    return true;
}

} // namespace detail

LineKind AccessLogParser::parse_combined(std::string_view line, Request& out) {
    detail::CombinedFields f;
    if (!detail::split_plain_combined(line, f))
        if (const std::string_view why = detail::split_combined(line, f, combined_); !why.empty())
            return malformed(why);
    Raw raw;
    raw.ip = f.ip;
    raw.status = parse_status(f.status);
    if (raw.status == 0 && f.status != "-") return malformed("status is not a number");
    raw.user = dash_empty(f.user);
    raw.time = line_time({}, f.when, 18, [&] { return combined_time(f.when); }); // "10/Oct/2000:13:55:36 -0700"
    raw.user_agent = f.user_agent == "-" ? std::string_view{} : f.user_agent;
    raw.header_version = f.header_version;
    // "METHOD target HTTP/x"; the target may be absolute ("https://host/path").
    std::string_view req = f.request_line, target;
    const auto sp1 = find_byte(req, ' ');
    if (sp1 == std::string_view::npos) return LineKind::skipped; // "-" or garbage sent to the server
    raw.method = req.substr(0, sp1);
    target = req.substr(sp1 + 1);
    target = target.substr(0, find_byte(target, ' '));
    if (!target.empty() && target[0] == '/') {
        // origin form, nearly every line: no scheme to look for
    } else if (const auto scheme = target.find("://"); scheme != std::string_view::npos && scheme < target.find('/')) {
        const auto path_start = target.find('/', scheme + 3);
        target = path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
    }
    const auto question = find_byte(target, '?');
    raw.path = target.substr(0, question);
    if (question != std::string_view::npos) raw.query = target.substr(question + 1);
    if (!is_activesync_path(raw.path)) return LineKind::skipped;
    fill(raw, out);
    return LineKind::request;
}

} // namespace mbx::audit
