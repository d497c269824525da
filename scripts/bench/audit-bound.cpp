// A lower bound for `mbx audit clients` on an IIS log (scripts/bench/audit-bound runs it).
//
// Not mbxkit code and not a parser to ship: a deliberately stripped prototype of the fastest
// design we know for the job, to measure how close any implementation could come to the
// issue 6 target (50% of `grep -c Microsoft-Server-ActiveSync`). It does the least the job
// needs and skips the rest, so a real implementation can only be slower:
//   - read(2) into a page-aligned 128 KiB buffer, the partial last line moved in front of it;
//   - one AVX2 pass per 64 bytes for the LF and space bits, fields from the bits;
//   - only ActiveSync lines decoded: the query's User, DeviceId, Cmd and the Log= Ver1 token,
//     the base64 form's device id and command;
//   - a fold into an open-addressing table of 128-byte records (key in an arena, counters and
//     command/status counts by a small index, the user agent compared to the last one).
// It skips: the #Fields: roles (it assumes Exchange's default field order), escapes, device id
// normalisation, the per-device caps and lists, client classification, probes' totals,
// malformed-line reasons, overlong lines, gzip, sorting and any output or journal.
//
//   g++ -std=c++20 -O2 -mavx2 scripts/bench/audit-bound.cpp -o audit-bound && audit-bound IIS.LOG

#include <immintrin.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

using u8 = std::uint8_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

u64 word_at(const char* p) {
    u64 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

__extension__ typedef unsigned __int128 u128;
u64 mix(u64 a, u64 b) {
    const u128 r = static_cast<u128>(a) * b;
    return static_cast<u64>(r) ^ static_cast<u64>(r >> 64);
}

u64 key_hash(const char* s, std::size_t n) {
    u64 h = 0x243f6a8885a308d3ull ^ (n * 0xa0761d6478bd642full);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) h = mix(h ^ word_at(s + i) ^ 0xe7037ed1a0b428dbull, 0xa0761d6478bd642full);
    u64 tail = 0;
    for (; i < n; ++i) tail = tail << 8 | static_cast<u8>(s[i]);
    return mix(h ^ tail, 0xe7037ed1a0b428dbull);
}

struct alignas(64) Record {
    u64 requests = 0;
    u32 first = 0, last = 0, agent = 0, version = 0, key_at = 0;
    u8 key_size = 0;
    u32 commands[16] = {}; // by a command index
    u32 statuses[6] = {};  // 200, 401, 403, 449, 451, other
};

class Devices {
public:
    Record& find(const char* key, std::size_t n) {
        const u64 h = key_hash(key, n);
        const auto tag = static_cast<u32>(h >> 32);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            const Slot s = slots_[i];
            if (s.index == 0) {
                if (2 * (records_.size() + 1) > slots_.size()) return grow(), find(key, n);
                Record& r = records_.emplace_back();
                r.key_at = static_cast<u32>(keys_.size());
                r.key_size = static_cast<u8>(n);
                keys_.append(key, n);
                slots_[i] = {tag, static_cast<u32>(records_.size())};
                return r;
            }
            if (s.tag == tag) {
                Record& r = records_[s.index - 1];
                if (r.key_size == n && std::memcmp(keys_.data() + r.key_at, key, n) == 0) return r;
            }
        }
    }
    std::size_t size() const { return records_.size(); }
    std::vector<std::string> agents;

private:
    struct Slot {
        u32 tag = 0, index = 0;
    };
    void grow() {
        slots_.assign(slots_.size() * 2, Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (u32 k = 0; k < records_.size(); ++k) {
            const u64 h = key_hash(keys_.data() + records_[k].key_at, records_[k].key_size);
            std::size_t i = h & mask;
            while (slots_[i].index != 0) i = (i + 1) & mask;
            slots_[i] = {static_cast<u32>(h >> 32), k + 1};
        }
    }
    std::vector<Record> records_;
    std::vector<Slot> slots_ = std::vector<Slot>(1024);
    std::string keys_;
};

int command_index(std::string_view c) {
    if (c == "Sync") return 1;
    if (c == "Ping") return 2;
    if (c == "FolderSync") return 3;
    return 4 + static_cast<int>(c.size() % 12);
}

int status_index(std::string_view s) {
    if (s.size() != 3) return 5;
    switch ((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0')) {
    case 200: return 0;
    case 401: return 1;
    case 403: return 2;
    case 449: return 3;
    case 451: return 4;
    default: return 5;
    }
}

signed char base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return static_cast<signed char>(c - 'A');
    if (c >= 'a' && c <= 'z') return static_cast<signed char>(c - 'a' + 26);
    if (c >= '0' && c <= '9') return static_cast<signed char>(c - '0' + 52);
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

bool iprefix(std::string_view s, std::string_view lower) {
    if (s.size() < lower.size()) return false;
    for (std::size_t i = 0; i < lower.size(); ++i)
        if ((s[i] | 0x20) != lower[i]) return false;
    return true;
}

struct Counts {
    u64 lines = 0, activesync = 0, probes = 0, with_version = 0;
};

class Folder {
public:
    // One data line; `spaces` holds the offsets of its first spaces (at most 32).
    void line(const char* l, std::size_t size, const u32* spaces, int n_spaces) {
        ++counts.lines;
        if (size == 0 || l[0] == '#' || n_spaces < 14) return;
        // date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip
        // cs(User-Agent) cs(Referer) sc-status ...
        const auto field = [&](int i) {
            const std::size_t start = i == 0 ? 0 : spaces[i - 1] + 1;
            return std::string_view(l + start, spaces[i] - start);
        };
        const std::string_view stem = field(4);
        // "/Microsoft-Server-ActiveSync", any case: two words of letters, the dashes exact
        if (stem.size() < 28 || (word_at(stem.data() + 1) | 0x2020202020202020ull) != word_at("microsof") ||
            (word_at(stem.data() + 18) | 0x2020202020202020ull) != word_at("activesy") || stem[10] != '-' ||
            stem[17] != '-')
            return;
        ++counts.activesync;
        const std::string_view query = field(5), user = field(7), agent = field(9), status = field(11);
        std::string_view query_user, device_id, command, version;
        bool first = true;
        for (std::size_t pos = 0; pos < query.size();) {
            const auto* amp = static_cast<const char*>(std::memchr(query.data() + pos, '&', query.size() - pos));
            const std::size_t end = amp != nullptr ? static_cast<std::size_t>(amp - query.data()) : query.size();
            const std::string_view item = query.substr(pos, end - pos);
            pos = end + 1;
            if (item.substr(0, 4) == "Log=") {
                version = log_version(item);
            } else if (item.substr(0, 5) == "User=") {
                query_user = item.substr(5);
            } else if (item.substr(0, 9) == "DeviceId=") {
                device_id = item.substr(9);
            } else if (item.substr(0, 4) == "Cmd=") {
                command = item.substr(4);
            } else if (first && item.size() >= 8 && item.find('=') == std::string_view::npos) {
                base64(item, device_id, command);
            }
            first = false;
        }
        if (iprefix(user.substr(user.find('\\') + 1), "healthmailbox")) {
            ++counts.probes;
            return;
        }
        if (device_id.empty()) return;
        std::string_view account = user;
        if (const auto slash = account.rfind('\\'); slash != std::string_view::npos) account.remove_prefix(slash + 1);
        account = account.substr(0, account.find('@'));
        if (account == "-") account = query_user;
        std::size_t n = 0;
        const auto put = [&](std::string_view s) {
            for (const char c : s)
                if (n < sizeof key_) key_[n++] = static_cast<char>(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
        };
        put(account);
        key_[n++] = ':';
        put(device_id);
        Record& r = devices.find(key_, n);
        const u32 t = seconds(l);
        if (r.first == 0) r.first = t;
        r.last = t;
        ++r.requests;
        ++r.commands[command_index(command)];
        ++r.statuses[status_index(status)];
        if (r.agent == 0 || devices.agents[r.agent - 1] != agent) {
            devices.agents.emplace_back(agent);
            r.agent = static_cast<u32>(devices.agents.size());
        }
        if (version.size() == 3) {
            r.version = static_cast<u32>((version[0] - '0') * 100 + (version[1] - '0') * 10 + (version[2] - '0'));
            ++counts.with_version;
        }
    }

    Devices devices;
    Counts counts;

private:
    // "Log=...Ver1:141_...": the three digits after the first "Ver1:" in the first 64 bytes.
    static std::string_view log_version(std::string_view item) {
        const std::size_t limit = item.size() < 64 ? item.size() : 64;
        for (std::size_t at = 4; at + 8 <= limit; ++at) {
            const auto* v = static_cast<const char*>(std::memchr(item.data() + at, 'V', limit - 8 - at + 1));
            if (v == nullptr) break;
            at = static_cast<std::size_t>(v - item.data());
            if (std::memcmp(v, "Ver1:", 5) == 0) return item.substr(at + 5, 3);
        }
        return {};
    }
    // MS-ASHTTP base64 query: version, command code, locale (2), device id length and bytes.
    void base64(std::string_view item, std::string_view& device_id, std::string_view& command) {
        std::size_t out = 0;
        for (std::size_t i = 0; i + 4 <= item.size() && out + 3 <= sizeof bytes_; i += 4) {
            const int a = base64_value(item[i]), b = base64_value(item[i + 1]);
            const int c = base64_value(item[i + 2]), d = base64_value(item[i + 3]);
            bytes_[out++] = static_cast<char>(a << 2 | b >> 4);
            bytes_[out++] = static_cast<char>(b << 4 | c >> 2);
            bytes_[out++] = static_cast<char>(c << 6 | d);
        }
        if (out < 5) return;
        const std::size_t id_size = static_cast<u8>(bytes_[4]);
        if (5 + id_size > out) return;
        device_id = std::string_view(bytes_ + 5, id_size);
        command = std::string_view(bytes_ + 1, 1);
    }
    // Seconds of the month from "2026-11-01 10:00:00", converted once per second of the log.
    u32 seconds(const char* l) {
        if (std::memcmp(last_time_, l, 19) != 0) {
            std::memcpy(last_time_, l, 19);
            const auto two = [&](int at) { return static_cast<u32>((l[at] - '0') * 10 + (l[at + 1] - '0')); };
            last_seconds_ = two(17) + 60 * two(14) + 3600 * two(11) + 86400 * two(8);
        }
        return last_seconds_;
    }
    char key_[256] = {};
    char bytes_[256] = {};
    char last_time_[19] = {};
    u32 last_seconds_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: audit-bound IIS.LOG\n");
        return 64;
    }
    const int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        std::perror(argv[1]);
        return 66;
    }
    constexpr std::size_t kRead = 128 * 1024, kCarry = 64 * 1024; // lines of up to 64 KiB
    auto* base = static_cast<char*>(std::aligned_alloc(4096, kCarry + kRead + 64));
    char* const region = base + kCarry;
    Folder folder;
    const __m256i lf = _mm256_set1_epi8('\n'), space = _mm256_set1_epi8(' ');
    std::size_t carried = 0;
    u32 spaces[32];
    while (true) {
        const ssize_t got = ::read(fd, region, kRead);
        if (got <= 0) break;
        char* const buf = region - carried; // the partial line, then what was read
        const std::size_t size = carried + static_cast<std::size_t>(got);
        std::memset(buf + size, 0, 64);
        std::size_t line_start = 0;
        int n_spaces = 0;
        for (std::size_t i = 0; i < size; i += 64) {
            const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(buf + i));
            const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(buf + i + 32));
            const u64 lfs = static_cast<u32>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, lf))) |
                            static_cast<u64>(static_cast<u32>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, lf)))) << 32;
            const u64 sps = static_cast<u32>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, space))) |
                            static_cast<u64>(static_cast<u32>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, space)))) << 32;
            u64 bits = lfs | sps;
            if (size - i < 64) bits &= (u64{1} << (size - i)) - 1;
            for (; bits != 0; bits &= bits - 1) {
                const unsigned bit = static_cast<unsigned>(__builtin_ctzll(bits));
                const std::size_t at = i + bit;
                if ((lfs >> bit) & 1) {
                    folder.line(buf + line_start, at - line_start, spaces, n_spaces);
                    line_start = at + 1;
                    n_spaces = 0;
                } else if (n_spaces < 32) {
                    spaces[n_spaces++] = static_cast<u32>(at - line_start);
                }
            }
        }
        carried = size - line_start;
        if (carried > kCarry) carried = 0; // an overlong line: dropped
        std::memmove(region - carried, buf + line_start, carried);
    }
    ::close(fd);
    const Counts& c = folder.counts;
    std::printf("%llu lines, %llu ActiveSync, %llu probes, %zu devices, %llu requests with Ver1\n",
                static_cast<unsigned long long>(c.lines), static_cast<unsigned long long>(c.activesync),
                static_cast<unsigned long long>(c.probes), folder.devices.size(),
                static_cast<unsigned long long>(c.with_version));
    std::free(base);
    return 0;
}
