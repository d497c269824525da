#include "mbx/audit/scan.hpp"
// A reference model for `mbx audit clients` (DESIGN.md "Testing": every fast path is checked
// against a plain reference on random inputs). A seeded generator writes whole access logs (IIS
// W3C and nginx/Apache combined, every line form the readers accept, gzip sometimes, several
// files sometimes) and knows what each line means from the documented formats
// (docs/commands/audit.md, access_log.hpp, eas_query.hpp), never by asking the parser. The real
// path (scan_access_log into Inventory) and a deliberately plain model of the documented folding
// rules (std::map and std::string: no interning, no hashing, no SIMD) must agree on every field
// of every device and on every total, with the AVX2 code and without it.
//
// A failure names the seed and the log, shows what differs and the log cut down to the lines
// that still make it differ (each with what it means), and replays with
//   MBX_TEST_SEED=SEED MBX_TEST_LOG=INDEX build/tests/unit/mbx_unit_tests "[model]"
// MBX_TEST_LOGS=N reads N logs instead of kLogs (a longer soak: MBX_TEST_LOGS=200000).

#include "mbx/audit/access_log.hpp"
#include "mbx/audit/clients.hpp"
#include "mbx/audit/inventory.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

using namespace mbx::audit;

namespace {

/// Logs per run: about 2.5 s in RelWithDebInfo, 12 s with ASan and UBSan (measured 2026-12).
constexpr std::size_t kLogs = 3000;

// --- random numbers -------------------------------------------------------------------------------

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/// The generator's randomness: plain modulo arithmetic on mt19937_64, so that a seed gives the
/// same logs with every standard library.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : engine_(seed) {}
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(engine_() % n); }
    int between(int low, int high) { return low + static_cast<int>(below(static_cast<std::size_t>(high - low + 1))); }
    bool chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }
    std::uint8_t byte() { return static_cast<std::uint8_t>(engine_()); }
    template <typename C> const auto& pick(const C& c) { return c[below(c.size())]; }
    template <typename T> void shuffle(std::vector<T>& v) {
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }

private:
    std::mt19937_64 engine_;
};

// --- what the generator covered ---------------------------------------------------------------------

/// Line forms and situations the generator must have produced in a run: checked at its end, so
/// that a change to the generator cannot quietly stop covering one.
namespace form {
// A table of names, a row of them a line.
// clang-format off
enum Form : std::size_t {
    iis_file, iis_exchange_fields, iis_shuffled_fields, iis_fields_mid_file, iis_date_directive,
    iis_no_username_field, iis_version_field, iis_plus_in_agent, iis_dash_value, iis_401_query_user,
    combined_file, combined_version_field, combined_common, combined_zone_offset, combined_escapes,
    combined_loose_spacing, combined_absolute_target, combined_extras_past_16,
    plain_query, plain_shuffled, plain_without_user, plain_without_type, plain_without_cmd, url_escape,
    plain_binary_id_hex, plain_binary_id_escaped, base64_query, base64_without_user, base64_binary_id,
    base64_percent_escaped, base64_unpadded, log_token_v, log_token_ver1, log_token_2003,
    header_over_base64, header_over_log_token, base64_over_log_token, user_backslash, user_upn, user_bare,
    device_id_case, options, no_device, probe_device_type, probe_health_mailbox, not_activesync,
    malformed_iis_count, malformed_iis_before_fields, malformed_combined_cut, malformed_combined_status,
    malformed_garbage, malformed_overlong, longest_line, empty_line, no_time, leap_second, out_of_order,
    crlf, gzip, gzip_members, several_files, userless_folded, userless_alone, userless_shared_id,
    userless_beside_devices, many_devices, query_user_differs, zone_change, avx2_off, count
};
// clang-format on
} // namespace form
using form::Form;

constexpr std::array<std::string_view, form::count> kFormNames = {
    "iis_file",
    "iis_exchange_fields",
    "iis_shuffled_fields",
    "iis_fields_mid_file",
    "iis_date_directive",
    "iis_no_username_field",
    "iis_version_field",
    "iis_plus_in_agent",
    "iis_dash_value",
    "iis_401_query_user",
    "combined_file",
    "combined_version_field",
    "combined_common",
    "combined_zone_offset",
    "combined_escapes",
    "combined_loose_spacing",
    "combined_absolute_target",
    "combined_extras_past_16",
    "plain_query",
    "plain_shuffled",
    "plain_without_user",
    "plain_without_type",
    "plain_without_cmd",
    "url_escape",
    "plain_binary_id_hex",
    "plain_binary_id_escaped",
    "base64_query",
    "base64_without_user",
    "base64_binary_id",
    "base64_percent_escaped",
    "base64_unpadded",
    "log_token_v",
    "log_token_ver1",
    "log_token_2003",
    "header_over_base64",
    "header_over_log_token",
    "base64_over_log_token",
    "user_backslash",
    "user_upn",
    "user_bare",
    "device_id_case",
    "options",
    "no_device",
    "probe_device_type",
    "probe_health_mailbox",
    "not_activesync",
    "malformed_iis_count",
    "malformed_iis_before_fields",
    "malformed_combined_cut",
    "malformed_combined_status",
    "malformed_garbage",
    "malformed_overlong",
    "longest_line",
    "empty_line",
    "no_time",
    "leap_second",
    "out_of_order",
    "crlf",
    "gzip",
    "gzip_members",
    "several_files",
    "userless_folded",
    "userless_alone",
    "userless_shared_id",
    "userless_beside_devices",
    "many_devices",
    "query_user_differs",
    "zone_change",
    "avx2_off",
};

struct Coverage {
    std::array<std::uint64_t, form::count> hits{};
    void hit(Form f) { ++hits[f]; }
};

// --- plain versions of the documented rules -----------------------------------------------------------

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/// The account part of a user (docs/commands/audit.md): after the last `\`, before the first `@`.
std::string account_of(std::string_view user) {
    if (const auto bs = user.rfind('\\'); bs != std::string_view::npos) user.remove_prefix(bs + 1);
    return std::string(user.substr(0, user.find('@')));
}

/// Monitoring traffic (access_log.hpp is_probe): the two probe device types, or a user starting
/// with HealthMailbox after any `DOMAIN\`.
bool probe_of(std::string_view user, std::string_view device_type) {
    const std::string type = lower(device_type);
    if (type == "testactivesyncconnectivity" || type == "mbxkitprobe") return true;
    if (const auto bs = user.rfind('\\'); bs != std::string_view::npos) user.remove_prefix(bs + 1);
    return lower(user.substr(0, 13)) == "healthmailbox";
}

std::string hex_of(std::string_view bytes, bool upper = false) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

bool printable_id(std::string_view id) {
    for (char c : id)
        if (c < 0x21 || c > 0x7E) return false;
    return true;
}

/// A device id as the inventory shows it (eas_query.hpp normalise_device_id): printable ASCII as
/// it is, anything else in lower-case hex.
std::string normalised(std::string_view id) { return printable_id(id) ? std::string(id) : hex_of(id); }

/// RFC 4648 base64 with padding.
std::string base64_of(std::string_view bytes) {
    static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        std::uint32_t group = 0;
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        for (std::size_t k = 0; k < 3; ++k)
            group = group << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
    }
    return out;
}

std::tm civil(std::int64_t t) {
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return tm;
}

std::int64_t utc_of(int year, int month, int day, int hour, int minute, int second) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second; // 60 is the next minute's first second
    return static_cast<std::int64_t>(timegm(&tm));
}

std::string two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }
std::string ymd(const std::tm& tm) {
    return std::to_string(tm.tm_year + 1900) + "-" + two(tm.tm_mon + 1) + "-" + two(tm.tm_mday);
}
std::string hms(const std::tm& tm) { return two(tm.tm_hour) + ":" + two(tm.tm_min) + ":" + two(tm.tm_sec); }

/// [MS-ASHTTP] 2.2.1.1.1.1.2: the command codes of the base64 form (5-8 unassigned).
constexpr std::array<std::string_view, 23> kCommandCodes = {"Sync",
                                                            "SendMail",
                                                            "SmartForward",
                                                            "SmartReply",
                                                            "GetAttachment",
                                                            "",
                                                            "",
                                                            "",
                                                            "",
                                                            "FolderSync",
                                                            "FolderCreate",
                                                            "FolderDelete",
                                                            "FolderUpdate",
                                                            "MoveItems",
                                                            "GetItemEstimate",
                                                            "MeetingResponse",
                                                            "Search",
                                                            "Settings",
                                                            "Ping",
                                                            "ItemOperations",
                                                            "Provision",
                                                            "ResolveRecipients",
                                                            "ValidateCert"};

/// The base64 code of a command name; "Command<n>" is what the decoder calls code n.
std::optional<std::uint8_t> command_code(std::string_view name) {
    for (std::size_t i = 0; i < kCommandCodes.size(); ++i)
        if (!kCommandCodes[i].empty() && kCommandCodes[i] == name) return static_cast<std::uint8_t>(i);
    constexpr std::string_view kPrefix = "Command";
    if (name.substr(0, kPrefix.size()) == kPrefix && name.size() > kPrefix.size()) {
        const int n = std::stoi(std::string(name.substr(kPrefix.size())));
        if (n <= 255) return static_cast<std::uint8_t>(n);
    }
    return std::nullopt;
}

/// The version byte of the base64 form: version × 10 ("14.1" → 141).
std::uint8_t version_byte(std::string_view version) {
    const auto dot = version.find('.');
    return static_cast<std::uint8_t>(std::stoi(std::string(version.substr(0, dot))) * 10 + (version[dot + 1] - '0'));
}

/// The digits of a version in Exchange's Log= tokens: "14.1" → "141", "2.5" → "25".
std::string log_digits(std::string_view version) {
    std::string out;
    for (char c : version)
        if (c != '.') out += c;
    return out;
}

// --- what lines mean, and the model ---------------------------------------------------------------------

/// What one line means, as far as the inventory uses it: a Request's fields, owned.
struct Truth {
    LineKind kind = LineKind::directive;
    std::int64_t time = 0;
    std::string user, device_id, device_type, agent, version, command, method;
    VersionSource source = VersionSource::none;
    int status = 0;
};

Truth truth_of(LineKind kind) {
    Truth t;
    t.kind = kind;
    return t;
}

struct Outcome {
    std::vector<Device> devices;
    Totals totals;
};

/// How the model's fold went, for the coverage check.
struct FoldStats {
    std::size_t folded = 0, alone = 0, shared = 0, beside = 0;
};

/// The inventory as documented, as plainly as it can be written: a std::map from (account name,
/// device id), both lower-cased, to a Device built field by field.
class Model {
public:
    explicit Model(const ClientClassifier& classifier) : classifier_(classifier) {}

    void add(const Truth& t) {
        ++totals_.lines;
        switch (t.kind) {
        case LineKind::directive: ++totals_.directives; return;
        case LineKind::skipped: ++totals_.skipped; return;
        case LineKind::malformed: ++totals_.malformed; return;
        case LineKind::request: break;
        }
        ++totals_.requests;
        if (probe_of(t.user, t.device_type)) {
            ++totals_.probes;
            return;
        }
        if (t.device_id.empty()) {
            ++totals_.no_device;
            return;
        }
        Entry& e = entries_[{lower(account_of(t.user)), lower(t.device_id)}];
        Device& d = e.device;
        if (d.requests == 0) { // a new device: the first spelling and id seen
            d.user = t.user;
            d.device_id = t.device_id;
        }
        if (!e.qualified && account_of(t.user) != t.user) { // the first spelling with a domain
            d.user = t.user;
            e.qualified = true;
        }
        if (!t.device_type.empty()) d.device_type = t.device_type;
        if (!t.agent.empty()) {
            d.user_agent = t.agent;
            d.user_agents.insert(t.agent);
        }
        if (!t.version.empty()) {
            d.protocol_versions.insert(t.version);
            // The newest request's version; a request without a time is newer than those
            // before it (inventory.hpp: last_version, last_version_time).
            if (t.time == 0 || t.time >= d.last_version_time) {
                d.last_version = t.version;
                if (t.time != 0) d.last_version_time = t.time;
            }
        }
        if (t.source != VersionSource::none) d.version_sources.insert(t.source);
        ++d.commands[!t.command.empty() ? t.command : !t.method.empty() ? t.method : "-"];
        ++d.statuses[t.status];
        if (t.time != 0) {
            if (d.first_seen == 0 || t.time < d.first_seen) d.first_seen = t.time;
            d.last_seen = std::max(d.last_seen, t.time);
        }
        ++d.requests;
    }

    const Totals& totals() const { return totals_; }

    /// The devices: classified, the userless ones folded into the one user device with their
    /// id, sorted by lower-cased user then device id.
    std::vector<Device> devices(FoldStats* stats) const {
        std::vector<Device> list, userless;
        for (const auto& [key, e] : entries_) {
            Device d = e.device;
            d.client = classifier_.classify(d.user_agent, d.device_type, d.device_id);
            (d.user.empty() ? userless : list).push_back(std::move(d));
        }
        std::multimap<std::string, std::size_t> by_id; // lower-case device id -> user device
        for (std::size_t i = 0; i < list.size(); ++i) by_id.emplace(lower(list[i].device_id), i);
        std::vector<Device> kept;
        for (const Device& u : userless) {
            std::vector<Device*> same;
            const auto [from, to] = by_id.equal_range(lower(u.device_id));
            for (auto it = from; it != to; ++it) same.push_back(&list[it->second]);
            if (same.size() == 1) {
                fold(*same.front(), u);
                if (stats != nullptr) ++stats->folded;
                continue;
            }
            if (stats != nullptr) ++(same.empty() ? stats->alone : stats->shared);
            kept.push_back(u);
        }
        if (stats != nullptr && !kept.empty() && !list.empty()) ++stats->beside;
        list.insert(list.end(), kept.begin(), kept.end());
        std::sort(list.begin(), list.end(), [](const Device& a, const Device& b) {
            return std::pair(lower(a.user), lower(a.device_id)) < std::pair(lower(b.user), lower(b.device_id));
        });
        return list;
    }

private:
    struct Entry {
        Device device;
        bool qualified = false; ///< device.user is a spelling with a domain
    };

    /// `from` (the requests that named no user) into `into` (the one user device with its id).
    void fold(Device& into, const Device& from) const {
        into.user_agents.insert(from.user_agents.begin(), from.user_agents.end());
        into.protocol_versions.insert(from.protocol_versions.begin(), from.protocol_versions.end());
        into.version_sources.insert(from.version_sources.begin(), from.version_sources.end());
        if (!from.last_version.empty() &&
            (into.last_version.empty() || from.last_version_time > into.last_version_time)) {
            into.last_version = from.last_version;
            into.last_version_time = from.last_version_time;
        }
        for (const auto& [command, n] : from.commands) into.commands[command] += n;
        for (const auto& [status, n] : from.statuses) into.statuses[status] += n;
        if (from.first_seen != 0 && (into.first_seen == 0 || from.first_seen < into.first_seen))
            into.first_seen = from.first_seen;
        into.last_seen = std::max(into.last_seen, from.last_seen);
        into.requests += from.requests;
        if (into.device_type.empty()) into.device_type = from.device_type;
        if (into.user_agent.empty()) into.user_agent = from.user_agent;
        into.client = classifier_.classify(into.user_agent, into.device_type, into.device_id);
    }

    const ClientClassifier& classifier_;
    std::map<std::pair<std::string, std::string>, Entry> entries_;
    Totals totals_;
};

// --- generated logs ------------------------------------------------------------------------------------

struct LineOut {
    std::string text; ///< without the line end
    Truth truth;
    bool crlf = false;
};

struct FileOut {
    std::vector<LineOut> lines;
    bool iis = false;
    bool final_eol = true;
    bool gzip = false, two_members = false;
    LogFormat given = LogFormat::auto_detect; ///< what scan_access_log is told
};

struct Log {
    std::vector<FileOut> files;
};

/// The bytes of a file as written.
std::string text_of(const FileOut& f) {
    std::string out;
    for (std::size_t i = 0; i < f.lines.size(); ++i) {
        out += f.lines[i].text;
        // An empty last line only exists with its line end.
        if (i + 1 < f.lines.size() || f.final_eol || f.lines[i].text.empty()) out += f.lines[i].crlf ? "\r\n" : "\n";
    }
    return out;
}

std::string gzip_of(std::string_view text) {
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::string packed(deflateBound(&z, text.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(packed.data());
    z.avail_out = static_cast<uInt>(packed.size());
    const int rc = deflate(&z, Z_FINISH);
    packed.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
    return packed;
}

std::string bytes_of(const FileOut& f) {
    const std::string text = text_of(f);
    if (!f.gzip) return text;
    if (!f.two_members) return gzip_of(text);
    const std::size_t half = text.size() / 2; // anywhere, mid-line included (`cat a.gz b.gz`)
    return gzip_of(std::string_view(text).substr(0, half)) + gzip_of(std::string_view(text).substr(half));
}

// --- the generator's material ---------------------------------------------------------------------------

struct Account {
    std::string name, netbios, dns;
};

/// One phone (or app) as its requests carry it: its id and the values it sends. Each palette is
/// small, so that a device stays under kMaxDistinctPerDevice and the results are exact.
struct Identity {
    std::string id; ///< the bytes the client sends (base64 form); binary when not all printable
    bool binary = false;
    std::vector<std::size_t> accounts; ///< 0 (only userless requests), 1, or 2 (one id, two users)
    bool userless = false;             ///< also sends requests that name no user
    std::vector<std::string> agents, types, versions, commands;
    std::vector<int> statuses;
};

const std::vector<std::string> kNames = {"alice", "bob",  "carol", "dave",  "erin",  "frank",  "grace",      "heidi",
                                         "ivan",  "judy", "oscar", "peggy", "trent", "walter", "jos\xC3\xA9"};
const std::vector<std::string> kNetbios = {"EXAMPLE", "CORP", "Contoso"};
const std::vector<std::string> kDns = {"example.org", "corp.example", "contoso.com"};

const std::vector<std::string> kAgents = {
    "Apple-iPhone9C3/1504.100",
    "Apple-iPhone14C2/2101.329",
    "Apple-iPad7C3/1602.92",
    "Android/4.4.2-EAS-2.0",
    "Android-Mail/2023.09.10.565",
    "SAMSUNG-SM-G900F/101.40402",
    "MSFT-PPC/5.2.5082",
    "Microsoft-PocketPC/3.0",
    "MSFT-WP/8.0.10521",
    "Outlook-iOS/2.0",
    "Nine/4.9.4b",
    "TouchDown(MSEAS)/8.1.00052",
    "BlackBerry9700/5.0.0.351",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)",
    "WindowsMail/17.5.9600.20315",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Windows Mail",
    "Nokia/Mail for Exchange 3.0",
    "Mail%20App/1.0",
};
/// User agents only a combined log carries as they are (IIS would log '+' for the space it
/// stands for; nginx and Apache escape quotes, backslashes and control bytes).
const std::vector<std::string> kCombinedAgents = {
    "Acme+Mail/1.0 (+info)", "Evil\"Quote/1", "Back\\slash/2.0",   "\x1b]0;owned\x07\x1b[31mred",
    "Caf\xC3\xA9Mail/1.0",   "Tab\tAgent/1",  "=HYPERLINK(\"x\")",
};
const std::vector<std::string> kTypes = {"iPhone",        "iPad",    "Android",        "SmartPhone", "PocketPC",
                                         "WindowsMail",   "Outlook", "SAMSUNGSMG900F", "BlackBerry", "WP8",
                                         "Windows Phone", "Nine",    "Kiosk%zz"};
const std::vector<std::string> kVersions = {"1.0", "2.0", "2.1", "2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"};
const std::vector<std::string> kCommands = {"Sync",
                                            "Ping",
                                            "FolderSync",
                                            "Provision",
                                            "Settings",
                                            "SendMail",
                                            "SmartReply",
                                            "ItemOperations",
                                            "GetItemEstimate",
                                            "MoveItems",
                                            "Search",
                                            "MeetingResponse",
                                            "ResolveRecipients",
                                            "ValidateCert",
                                            "GetAttachment",
                                            "FolderCreate",
                                            "GetHierarchy",
                                            "Command5",
                                            "Command200",
                                            "Command201",
                                            "Command250",
                                            "sync"}; // the last four: names alike in size and first 8 bytes, and case
const std::vector<int> kStatuses = {449, 401, 403, 451, 500, 503, 0};

const std::vector<std::string> kIisPaths = {"/Microsoft-Server-ActiveSync/default.eas",
                                            "/Microsoft-Server-ActiveSync/Proxy/default.eas",
                                            "/Microsoft-Server-ActiveSync", "/microsoft-server-activesync/default.eas"};
const std::vector<std::string> kCombinedPaths = {"/Microsoft-Server-ActiveSync", "/SOGo/Microsoft-Server-ActiveSync",
                                                 "/Microsoft-Server-ActiveSync/",
                                                 "/MICROSOFT-SERVER-ACTIVESYNC/default.eas"};
const std::vector<std::string> kOtherPaths = {"/owa/",
                                              "/ews/Exchange.asmx",
                                              "/Autodiscover/Autodiscover.xml",
                                              "/mapi/emsmdb/",
                                              "/Microsoft-Server-ActiveSyncX",
                                              "/x/Microsoft-Server-ActiveSync.bak",
                                              "/Microsoft-Server-Active-Sync",
                                              "/",
                                              "/SOGo/so/alice"};

const std::vector<std::string> kExchangeFields = {
    "date", "time",           "s-ip",        "cs-method", "cs-uri-stem",  "cs-uri-query",    "s-port",    "cs-username",
    "c-ip", "cs(User-Agent)", "cs(Referer)", "sc-status", "sc-substatus", "sc-win32-status", "time-taken"};
const std::vector<std::string> kIgnoredFields = {
    "s-ip",           "s-port",     "cs(Referer)", "sc-substatus", "sc-win32-status", "time-taken", "s-sitename",
    "s-computername", "cs-version", "cs-host",     "sc-bytes",     "cs-bytes",        "cs(Cookie)"};

const std::vector<std::string> kLogFillers = {"PrxFrom:10.0.0.5",
                                              "Dc:1",
                                              "Sst:1",
                                              "Fc:0",
                                              "SrchP:",
                                              "Error:ItemNotFound",
                                              "DevOS:iOS%2017.0%2021A329",
                                              "DevOS:Android+4.4",
                                              "As:AllowedG",
                                              "Cpo:3",
                                              "Mbx:MBX01.example.org",
                                              "SC1:2",
                                              "SrvCnt:0",
                                              "Fet:0",
                                              "Vss:1",
                                              "Ver1:x",
                                              "Ver2:161",
                                              "Prx",
                                              "ABTimeout:0",
                                              ""};

/// The W3C fields the readers give a meaning to (docs/commands/audit.md), by #Fields name.
enum class Field { ignored, date, time, ip, method, stem, query, user, agent, status, version };

Field field_of(std::string_view name) {
    static const std::map<std::string, Field> kRoles = {
        {"date", Field::date},        {"time", Field::time},
        {"c-ip", Field::ip},          {"cs-method", Field::method},
        {"cs-uri-stem", Field::stem}, {"cs-uri-query", Field::query},
        {"cs-username", Field::user}, {"cs(user-agent)", Field::agent},
        {"sc-status", Field::status}, {"cs(ms-asprotocolversion)", Field::version}};
    const auto it = kRoles.find(lower(name));
    return it == kRoles.end() ? Field::ignored : it->second;
}

/// What a query says.
struct Query {
    std::string text; ///< as logged, without the `?`
    std::string user, device_id, device_type, command, base64_version, log_version;
    bool base64 = false;
};

/// One request line's parts, before a format writes them.
struct Parts {
    std::int64_t time = 0; ///< 0: the line has no usable time
    bool leap = false;     ///< written as second 60 of the minute before
    std::string method = "POST", path, ip = "10.0.0.1", log_user, agent, header;
    std::string raw_request; ///< combined: this request line instead (garbage sent to the server)
    int status = 200;
    Query query;
    bool activesync = true;
};

/// Which values a log format (an IIS field set, a combined layout) writes.
struct Caps {
    bool iis = false, user = true, header = false, agent = true;
};

struct IisState {
    std::vector<std::string> fields;
    std::string date; ///< of the last #Date:
};

struct CombinedStyle {
    bool common = false, apache = false, loose = false, leading = false, version_quoted = true;
    std::vector<bool> extras; ///< after the user agent: true for the version field
    int offset = 0;           ///< seconds east of UTC
    std::string zone = "+0000";
    std::size_t version_at() const {
        return static_cast<std::size_t>(std::find(extras.begin(), extras.end(), true) - extras.begin());
    }
};

/// Where the parts of a combined line are: the places a cut surely makes it malformed.
struct Marks {
    std::size_t first = 0, request_close = 0, status_start = 0, status_end = 0, bytes_start = 0;
    std::size_t referer_open = 0, agent_close = 0;
};

/// Writes random logs and what each line means.
class Generator {
public:
    Generator(std::uint64_t seed, Coverage& coverage) : rng_(seed), cov_(coverage) {}

    Log log() {
        make_world();
        clock_ = utc_of(rng_.between(2015, 2030), rng_.between(1, 12), rng_.between(1, 28), rng_.between(0, 23),
                        rng_.between(0, 59), rng_.between(0, 59));
        Log out;
        const int files = rng_.chance(0.2) ? rng_.between(2, 3) : 1;
        if (files > 1) cov_.hit(form::several_files);
        for (int k = 0; k < files; ++k) out.files.push_back(file());
        return out;
    }

private:
    // --- the world of one log: accounts and devices ---

    void make_world() {
        accounts_.clear();
        identities_.clear();
        std::vector<std::string> names = kNames;
        rng_.shuffle(names);
        // Now and then a crowd: more devices than the inventory's first table has room for.
        crowd_ = rng_.chance(0.004);
        if (crowd_) cov_.hit(form::many_devices);
        for (int i = 0; crowd_ && i < 60; ++i) names.push_back("user" + std::to_string(i));
        const int n_accounts = crowd_ ? rng_.between(20, 60) : rng_.between(1, 5);
        for (int i = 0; i < n_accounts; ++i)
            accounts_.push_back({names[static_cast<std::size_t>(i)], rng_.pick(kNetbios), rng_.pick(kDns)});
        std::set<std::string> ids;
        const int n_identities = crowd_ ? rng_.between(600, 2100) : rng_.between(1, 7);
        while (identities_.size() < static_cast<std::size_t>(n_identities)) {
            Identity d = identity();
            if (ids.insert(lower(normalised(d.id))).second) identities_.push_back(std::move(d));
        }
    }

    Identity identity() {
        Identity d;
        d.binary = rng_.chance(0.25);
        if (d.binary) {
            const std::size_t n = rng_.chance(0.9) ? static_cast<std::size_t>(rng_.between(1, 20)) : 64;
            for (std::size_t i = 0; i < n; ++i) d.id += static_cast<char>(rng_.byte());
            if (printable_id(d.id)) d.id[0] = static_cast<char>(rng_.chance(0.5) ? 0x01 : 0xAB);
        } else {
            static const std::vector<std::string> kPrefixes = {"Appl", "android", "SEC", "WP", "BB",
                                                               "Nine", "MBX",     "TD",  ""};
            static constexpr std::string_view kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            static constexpr std::string_view kOdd = "-_.+&=%#\\\"";
            d.id = rng_.pick(kPrefixes);
            const int n = rng_.chance(0.03) ? rng_.between(60, 90) : rng_.between(4, 12); // long: past the inline key
            for (int i = 0; i < n; ++i) d.id += kAlnum[rng_.below(kAlnum.size())];
            if (rng_.chance(0.15)) d.id.insert(rng_.below(d.id.size() + 1), 1, kOdd[rng_.below(kOdd.size())]);
        }
        const double r = static_cast<double>(rng_.below(100)) / 100;
        const std::size_t n_accounts = r < 0.12 ? 0 : r < 0.82 ? 1 : 2;
        std::vector<std::size_t> all(accounts_.size());
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
        rng_.shuffle(all);
        for (std::size_t i = 0; i < std::min(n_accounts, all.size()); ++i) d.accounts.push_back(all[i]);
        d.userless = d.accounts.empty() || rng_.chance(0.35);
        const auto some = [&](const std::vector<std::string>& pool, int most) {
            std::vector<std::string> out;
            const int n = rng_.between(1, most);
            for (int i = 0; i < n; ++i) {
                const std::string& v = rng_.pick(pool);
                if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
            }
            return out;
        };
        d.agents = some(kAgents, 3);
        if (rng_.chance(0.15)) d.agents.push_back(rng_.pick(kCombinedAgents));
        if (rng_.chance(0.2))
            d.agents.push_back("Client" + std::to_string(rng_.between(1, 99)) + "/" +
                               std::to_string(rng_.between(1, 9)) + ".0 (Phone; x)");
        d.types = some(kTypes, 2);
        d.versions = some(kVersions, 4);
        if (rng_.chance(0.03)) d.versions.push_back(rng_.chance(0.5) ? "17.0" : "9.9");
        d.commands = some(kCommands, 5);
        d.statuses = {200};
        for (int i = rng_.between(0, 2); i > 0; --i) {
            const int s = rng_.pick(kStatuses);
            if (std::find(d.statuses.begin(), d.statuses.end(), s) == d.statuses.end()) d.statuses.push_back(s);
        }
        return d;
    }

    std::string case_variant(std::string_view s) {
        std::string out(s);
        for (char& c : out)
            if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && rng_.chance(0.5)) c = static_cast<char>(c ^ 0x20);
        return out;
    }

    /// A spelling of an account: bare, `DOMAIN\name` (not in a combined log's user field:
    /// nginx would escape the backslash) or `name@domain`, in any ASCII case.
    std::string spell(const Account& a, bool backslash_ok) {
        const std::string name = rng_.chance(0.2) ? case_variant(a.name) : a.name;
        switch (rng_.below(backslash_ok ? 3 : 2)) {
        case 0: cov_.hit(form::user_bare); return name;
        case 1: cov_.hit(form::user_upn); return name + "@" + (rng_.chance(0.2) ? case_variant(a.dns) : a.dns);
        default:
            cov_.hit(form::user_backslash);
            return (rng_.chance(0.2) ? case_variant(a.netbios) : a.netbios) + "\\" + name;
        }
    }

    /// The query's User beside a logged user: mostly the same account, sometimes another one
    /// (the logged user counts).
    std::string other_user(const Account& a) {
        if (!rng_.chance(0.05)) return spell(a, true);
        cov_.hit(form::query_user_differs);
        return spell(rng_.pick(accounts_), true);
    }

    std::string ip() {
        return "10." + std::to_string(rng_.below(256)) + "." + std::to_string(rng_.below(256)) + "." +
               std::to_string(rng_.below(256));
    }

    // --- the clock: mostly forward, sometimes back (logs of several servers), sometimes days on ---

    void tick() {
        clock_ += rng_.between(0, 90);
        if (rng_.chance(0.03)) {
            clock_ -= rng_.between(60, 7200);
            cov_.hit(form::out_of_order);
        }
        if (rng_.chance(0.01)) clock_ += 86400 * rng_.between(1, 5);
    }

    /// The time of the next line: the clock's, sometimes none, sometimes a leap second (the
    /// minute's start written as second 60 of the minute before).
    void set_time(Parts& p) {
        p.time = clock_;
        if (rng_.chance(0.02)) {
            p.time = 0;
            cov_.hit(form::no_time);
        } else if (rng_.chance(0.005)) {
            p.time = clock_ - clock_ % 60;
            p.leap = true;
            cov_.hit(form::leap_second);
        }
    }

    /// The civil time a line shows for `t` (UTC plus `offset`), second 60 for a leap second.
    static std::tm shown(std::int64_t t, bool leap, int offset) {
        std::tm tm = civil((leap ? t - 60 : t) + offset);
        if (leap) tm.tm_sec = 60;
        return tm;
    }

    // --- queries ---

    std::string escape_byte(char c) {
        const std::string h = hex_of(std::string_view(&c, 1), rng_.chance(0.8));
        return "%" + h;
    }

    /// A query value URL-encoded as clients do, with random choices among the equivalent forms
    /// (a space as `+` or `%20`, safe characters escaped or not, a `%` that starts no escape
    /// written as it is or as %25).
    std::string url_encode(std::string_view v) {
        static constexpr std::string_view kUnreserved = "-._~", kSub = "!$'()*,;:@/?\\";
        std::string out;
        for (std::size_t i = 0; i < v.size(); ++i) {
            const char c = v[i];
            const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            std::string piece;
            if (c == ' ') piece = rng_.chance(0.5) ? "+" : "%20";
            else if (alnum || kUnreserved.find(c) != std::string_view::npos)
                piece = rng_.chance(0.03) ? escape_byte(c) : std::string(1, c);
            else if (kSub.find(c) != std::string_view::npos)
                piece = rng_.chance(0.5) ? escape_byte(c) : std::string(1, c);
            else if (c == '%' && !(i + 2 < v.size() && is_hex_digit(v[i + 1]) && is_hex_digit(v[i + 2])) &&
                     rng_.chance(0.5))
                piece = "%";
            else piece = escape_byte(c);
            if (piece.size() == 3 || piece == "+") cov_.hit(form::url_escape);
            out += piece;
        }
        return out;
    }

    std::string param(std::string_view name) { return rng_.chance(0.12) ? case_variant(name) : std::string(name); }

    struct LogValue {
        std::string text, version;
    };

    /// Exchange's Log= value: `_`-separated tokens; the version from `Ver1:<digits>`, else from
    /// the first `V<digits>` token (eas_query.hpp parse_exchange_log). `version` empty: none.
    LogValue log_value(const std::string& version) {
        std::vector<std::string> tokens;
        for (int i = rng_.between(0, 5); i > 0; --i) tokens.push_back(rng_.pick(kLogFillers));
        if (rng_.chance(0.05)) // Exchange's values run long
            tokens.push_back("Prx:" + std::string(static_cast<std::size_t>(rng_.between(100, 900)), 'x'));
        LogValue out;
        out.version = version;
        if (version.empty()) return join_log(tokens, out);
        const auto v_token = [&](const std::string& v) {
            if ((v == "1.0" || v == "2.0" || v == "2.1") && rng_.chance(0.5)) { // Exchange 2003: V1, V2, V3
                cov_.hit(form::log_token_2003);
                return std::string(v == "1.0" ? "V1" : v == "2.0" ? "V2" : "V3") + (rng_.chance(0.5) ? "TCo" : "");
            }
            cov_.hit(form::log_token_v);
            return "V" + log_digits(v);
        };
        const auto put = [&](std::string token, bool first) {
            tokens.insert(tokens.begin() + static_cast<std::ptrdiff_t>(first ? 0 : rng_.below(tokens.size() + 1)),
                          std::move(token));
        };
        const std::size_t mode = rng_.below(10);
        if (mode < 5) { // V only; maybe a second V token after it, which does not count
            put(v_token(version), rng_.chance(0.6));
            if (rng_.chance(0.1)) {
                const auto first_v = std::find_if(tokens.begin(), tokens.end(), [](const std::string& t) {
                    return !t.empty() && t[0] == 'V' && t.size() > 1 && t[1] >= '0' && t[1] <= '9';
                });
                if (first_v != tokens.end()) tokens.insert(first_v + 1, "V" + log_digits(rng_.pick(kVersions)));
            }
        } else { // Ver1, with or without a V token (Ver1 wins)
            cov_.hit(form::log_token_ver1);
            put("Ver1:" + log_digits(version), false);
            if (mode >= 7) put("V" + log_digits(rng_.pick(kVersions)), rng_.chance(0.5));
        }
        return join_log(tokens, out);
    }

    LogValue join_log(const std::vector<std::string>& tokens, LogValue& out) {
        for (std::size_t i = 0; i < tokens.size(); ++i) out.text += (i == 0 ? "" : "_") + tokens[i];
        if (rng_.chance(0.5)) out.text += "_";
        return out;
    }

    std::string log_item(const LogValue& log) {
        return (rng_.chance(0.9) ? "Log" : case_variant("log")) + "=" + log.text;
    }

    /// The plain form ([MS-ASHTTP] 2.2.1.1.1.2): parameters in any order, names in any case,
    /// values URL-encoded; an absent optional is an absent parameter.
    Query make_plain_query(const std::optional<std::string>& command, const std::optional<std::string>& user,
                           const std::optional<std::string>& id, const std::optional<std::string>& type,
                           const LogValue* log) {
        cov_.hit(form::plain_query);
        Query q;
        std::vector<std::string> items;
        const auto item = [&](std::string_view name, std::string_view value) {
            items.push_back(param(name) + "=" + url_encode(value));
        };
        if (command) {
            item("Cmd", *command);
            q.command = *command;
        } else {
            cov_.hit(form::plain_without_cmd);
        }
        if (user) item("User", *user);
        else cov_.hit(form::plain_without_user);
        q.user = user.value_or("");
        if (id) {
            item("DeviceId", *id);
            q.device_id = normalised(*id);
        }
        if (type) item("DeviceType", *type);
        else cov_.hit(form::plain_without_type);
        q.device_type = type.value_or("");
        static const std::vector<std::pair<std::string, std::string>> kOthers = {{"CollectionId", "12"},
                                                                                 {"ItemId", "1:23"},
                                                                                 {"SaveInSent", "F"},
                                                                                 {"AttachmentName", "my file.txt"},
                                                                                 {"Occurrence", "2024-03-01T10:00:00Z"},
                                                                                 {"LongId", "RgAAAA%2F"},
                                                                                 {"X-Extra", "1"}};
        for (int i = rng_.between(-2, 2); i > 0; --i) {
            const auto& [name, value] = rng_.pick(kOthers);
            item(name, value);
        }
        if (rng_.chance(0.03)) // lines past 1 KiB, which the combined fast path leaves to the full splitter
            item("LongId", std::string(static_cast<std::size_t>(rng_.between(100, 2000)), 'R'));
        if (items.size() > 1 && rng_.chance(0.7)) {
            rng_.shuffle(items);
            cov_.hit(form::plain_shuffled);
        }
        if (log != nullptr) {
            const std::size_t at = rng_.chance(0.85) ? items.size() : rng_.below(items.size() + 1);
            items.insert(items.begin() + static_cast<std::ptrdiff_t>(at), log_item(*log));
            q.log_version = log->version;
        }
        if (rng_.chance(0.05))
            items.insert(items.begin() + static_cast<std::ptrdiff_t>(rng_.below(items.size() + 1)), ""); // `&&`
        for (std::size_t i = 0; i < items.size(); ++i) q.text += (i == 0 ? "" : "&") + items[i];
        return q;
    }

    /// The base64 form ([MS-ASHTTP] 2.2.1.1.1.1): version byte, command code, locale (2 bytes,
    /// little-endian), device id (length byte and bytes), policy key (length 0 or 4 and bytes),
    /// device type (length byte and bytes), then parameters as (tag, length, value), User being
    /// tag 8. Base64 with or without padding, sometimes percent-escaped as proxies log it.
    Query make_base64_query(const std::string& version, const std::string& command, const std::string& id,
                            const std::string& type, const std::optional<std::string>& user, const LogValue* log) {
        cov_.hit(form::base64_query);
        std::string b;
        b += static_cast<char>(version_byte(version));
        b += static_cast<char>(*command_code(command));
        const std::uint16_t locale = rng_.chance(0.8) ? 0x0409 : static_cast<std::uint16_t>(rng_.below(65536));
        b += static_cast<char>(locale & 0xFF);
        b += static_cast<char>(locale >> 8);
        b += static_cast<char>(id.size());
        b += id;
        if (rng_.chance(0.5)) {
            b += '\x04';
            for (int i = 0; i < 4; ++i) b += static_cast<char>(rng_.byte());
        } else {
            b += '\x00';
        }
        b += static_cast<char>(type.size());
        b += type;
        std::vector<std::pair<std::uint8_t, std::string>> parameters;
        static const std::vector<std::pair<std::uint8_t, std::string>> kParameters = {
            {0, "att.txt"}, {1, "12"}, {3, "1:23"}, {4, "RgAAAA"}, {6, "2024-03-01"}, {7, std::string(1, '\x03')},
            {9, "x"}};
        for (int i = rng_.between(-1, 2); i > 0; --i) parameters.push_back(rng_.pick(kParameters));
        if (user) parameters.emplace_back(8, *user);
        else cov_.hit(form::base64_without_user);
        rng_.shuffle(parameters);
        for (const auto& [tag, value] : parameters) {
            b += static_cast<char>(tag);
            b += static_cast<char>(value.size());
            b += value;
        }
        std::string text = base64_of(b);
        if (text.back() == '=' && rng_.chance(0.3)) {
            while (text.back() == '=') text.pop_back();
            cov_.hit(form::base64_unpadded);
        }
        if (rng_.chance(0.15)) { // a proxy escapes a character always or never
            const bool plus = rng_.chance(0.8), slash = rng_.chance(0.8), pad = rng_.chance(0.8);
            std::string escaped;
            for (char c : text)
                escaped +=
                    (c == '+' && plus) || (c == '/' && slash) || (c == '=' && pad) ? escape_byte(c) : std::string(1, c);
            if (escaped != text) cov_.hit(form::base64_percent_escaped);
            text = escaped;
        }
        if (!printable_id(id)) cov_.hit(form::base64_binary_id);
        Query q;
        q.base64 = true;
        q.text = text;
        q.base64_version = version;
        q.command = command;
        q.device_id = normalised(id);
        q.device_type = type;
        q.user = user.value_or("");
        if (log != nullptr) {
            q.text += (rng_.chance(0.1) ? "&&" : "&") + log_item(*log);
            q.log_version = log->version;
        }
        return q;
    }

    // --- request parts ---

    Parts base_parts(const Caps& caps) {
        Parts p;
        set_time(p);
        p.method = rng_.chance(0.92) ? "POST" : "GET";
        p.path = rng_.pick(caps.iis ? kIisPaths : kCombinedPaths);
        p.ip = ip();
        return p;
    }

    /// An agent of `d` that the format can carry, or none.
    std::string agent_of(const Identity& d, const Caps& caps) {
        std::vector<std::string> usable;
        for (const auto& a : d.agents)
            if (!caps.iis || a.find_first_of("+\t\x1b\"\\") == std::string::npos) usable.push_back(a);
        if (usable.empty() || rng_.chance(0.05)) return {};
        return rng_.pick(usable);
    }

    /// A request of one of the world's devices.
    Parts device_parts(const Caps& caps) {
        const Identity& d = rng_.pick(identities_);
        Parts p = base_parts(caps);
        p.status = rng_.pick(d.statuses);
        std::optional<std::string> query_user;
        const bool userless = d.accounts.empty() || (d.userless && rng_.chance(0.3));
        if (!userless) {
            const Account& a = accounts_[rng_.pick(d.accounts)];
            if (caps.iis && caps.user && rng_.chance(0.2)) { // 401: IIS logs no user; the query's User names it
                query_user = spell(a, true);
                if (rng_.chance(0.7)) p.status = 401;
            } else if (caps.iis && caps.user) {
                p.log_user = spell(a, true);
                if (rng_.chance(0.6)) query_user = other_user(a);
            } else if (caps.iis) {
                if (rng_.chance(0.9)) query_user = spell(a, true);
            } else if (rng_.chance(0.6)) {
                p.log_user = spell(a, false);
                if (rng_.chance(0.5)) query_user = other_user(a);
            } else {
                query_user = spell(a, true);
            }
        }
        p.agent = agent_of(d, caps);
        const std::string command = rng_.pick(d.commands);
        const std::string type = rng_.chance(0.1) ? std::string() : rng_.pick(d.types);
        if (caps.header && rng_.chance(0.4)) p.header = rng_.pick(d.versions);
        std::optional<LogValue> log;
        if (rng_.chance(caps.iis ? 0.6 : 0.1))
            log = log_value(rng_.chance(0.85) ? rng_.pick(d.versions) : std::string());
        const LogValue* log_ptr = log ? &*log : nullptr;
        std::string id = d.id;
        if (!d.binary && rng_.chance(0.25)) {
            id = case_variant(id);
            cov_.hit(form::device_id_case);
        }
        if (command_code(command) && rng_.chance(0.4)) {
            p.query = make_base64_query(rng_.pick(d.versions), command, id, type, query_user, log_ptr);
        } else {
            if (d.binary) { // a server logs a binary id as hex text; some clients send it escaped
                if (rng_.chance(0.7)) {
                    id = hex_of(d.id, rng_.chance(0.5));
                    cov_.hit(form::plain_binary_id_hex);
                } else {
                    cov_.hit(form::plain_binary_id_escaped);
                }
            }
            const auto type_param = type.empty() && rng_.chance(0.5) ? std::nullopt : std::optional<std::string>(type);
            p.query = make_plain_query(rng_.chance(0.95) ? std::optional<std::string>(command) : std::nullopt,
                                       query_user, id, type_param, log_ptr);
        }
        return p;
    }

    Parts options_parts(const Caps& caps) {
        cov_.hit(form::options);
        Parts p = base_parts(caps);
        p.method = "OPTIONS";
        if (rng_.chance(0.6)) p.log_user = spell(rng_.pick(accounts_), caps.iis);
        if (rng_.chance(0.15)) { // a User, no DeviceId
            const std::string user = spell(rng_.pick(accounts_), true);
            p.query = make_plain_query(std::nullopt, user, std::nullopt, std::nullopt, nullptr);
        }
        p.agent = agent_of(rng_.pick(identities_), caps);
        p.status = rng_.chance(0.8) ? 200 : 401;
        return p;
    }

    Parts no_device_parts(const Caps& caps) {
        cov_.hit(form::no_device);
        Parts p = base_parts(caps);
        const std::optional<std::string> id = rng_.chance(0.5) ? std::optional<std::string>("") : std::nullopt;
        p.query =
            make_plain_query(rng_.pick(kCommands), spell(rng_.pick(accounts_), true), id, rng_.pick(kTypes), nullptr);
        return p;
    }

    Parts probe_parts(const Caps& caps) {
        Parts p = base_parts(caps);
        std::string user, type;
        if (rng_.chance(0.5)) {
            cov_.hit(form::probe_device_type);
            type = case_variant(rng_.chance(0.5) ? "TestActiveSyncConnectivity" : std::string(kMbxkitProbeDeviceType));
            if (rng_.chance(0.6)) user = spell(rng_.pick(accounts_), true);
        } else {
            cov_.hit(form::probe_health_mailbox);
            const std::string name =
                case_variant("HealthMailbox") + hex_of(std::string(1, static_cast<char>(rng_.byte())));
            user = rng_.chance(0.4) ? name : rng_.chance(0.5) ? "EXAMPLE\\" + name : name + "@example.org";
            type = rng_.pick(kTypes);
        }
        std::string id = rng_.chance(0.3) ? rng_.pick(identities_).id
                                          : "MBXPROBE" + hex_of(std::string(4, static_cast<char>(rng_.byte())));
        if (id.empty() || !printable_id(id)) id = "TestActiveSyncConnectivity";
        if (!user.empty() && caps.user && rng_.chance(0.4) && (caps.iis || user.find('\\') == std::string::npos))
            p.log_user = user;
        const auto query_user = user.empty() ? std::nullopt : std::optional<std::string>(user);
        const auto id_param = rng_.chance(0.9) ? std::optional<std::string>(id) : std::nullopt; // plain: maybe none
        if (rng_.chance(0.3)) p.query = make_base64_query(rng_.pick(kVersions), "Sync", id, type, query_user, nullptr);
        else p.query = make_plain_query("Sync", query_user, id_param, type, nullptr);
        return p;
    }

    Parts other_parts(const Caps& caps) {
        cov_.hit(form::not_activesync);
        Parts p = base_parts(caps);
        p.activesync = false;
        p.path = rng_.pick(kOtherPaths);
        static const std::vector<std::string> kQueries = {"", "", "a=1&b=2", "Cmd=Sync&DeviceId=X1&DeviceType=iPhone"};
        p.query.text = rng_.pick(kQueries);
        if (rng_.chance(0.5)) p.log_user = spell(rng_.pick(accounts_), caps.iis);
        if (!caps.iis && rng_.chance(0.2)) p.raw_request = rng_.chance(0.5) ? "-" : "\x16\x03\x01\x00\xA5\x01";
        return p;
    }

    Parts any_parts(const Caps& caps) {
        const std::size_t r = rng_.below(100);
        if (r < 75) return device_parts(caps);
        if (r < 80) return options_parts(caps);
        if (r < 83) return no_device_parts(caps);
        if (r < 88) return probe_parts(caps);
        return other_parts(caps);
    }

    // --- IIS W3C ---

    std::vector<std::string> iis_fields() {
        std::vector<std::string> fields;
        if (rng_.chance(0.35)) {
            cov_.hit(form::iis_exchange_fields);
            fields = kExchangeFields;
            if (rng_.chance(0.3)) fields.push_back("cs(MS-ASProtocolVersion)");
        } else {
            cov_.hit(form::iis_shuffled_fields);
            fields.push_back("cs-uri-stem");
            const std::vector<std::pair<std::string, double>> kOptional = {
                {"date", 0.75},           {"time", 0.85},         {"c-ip", 0.7},
                {"cs-method", 0.85},      {"cs-uri-query", 0.95}, {"cs-username", 0.8},
                {"cs(User-Agent)", 0.85}, {"sc-status", 0.85},    {"cs(MS-ASProtocolVersion)", 0.5}};
            for (const auto& [name, p] : kOptional)
                if (rng_.chance(p)) fields.push_back(name);
            std::vector<std::string> ignored = kIgnoredFields;
            rng_.shuffle(ignored);
            for (std::size_t i = 0; i < ignored.size() && (i < 2 || fields.size() < 4); ++i)
                if (i < 2 ? rng_.chance(0.5) : true) fields.push_back(ignored[i]);
            rng_.shuffle(fields);
            if (rng_.chance(0.05))
                for (auto& f : fields) f = case_variant(f);
        }
        return fields;
    }

    std::string fields_line(const std::vector<std::string>& fields) {
        std::string line = "#Fields:";
        for (const auto& f : fields) line += (rng_.chance(0.03) ? (rng_.chance(0.5) ? "\t" : "  ") : " ") + f;
        return line;
    }

    void directive(FileOut& f, std::string text) { f.lines.push_back({std::move(text), Truth{}, false}); }

    /// A header block as IIS writes it when it starts a log or restarts: #Software, #Version,
    /// #Date, #Fields, any of them.
    void iis_header(FileOut& f, IisState& st, bool first) {
        if (rng_.chance(first ? 0.7 : 0.4)) directive(f, "#Software: Microsoft Internet Information Services 10.0");
        if (rng_.chance(first ? 0.6 : 0.4)) directive(f, "#Version: 1.0");
        if (rng_.chance(first ? 0.8 : 0.6)) {
            const std::tm tm = civil(clock_);
            st.date = ymd(tm);
            directive(f, "#Date: " + st.date + " " + hms(tm));
        }
        if (!first && rng_.chance(0.1)) directive(f, "#Remark: restarted");
        // Malformed, but only after a `#` line (or with --log-format iis): as the first line it
        // would make auto-detection choose combined.
        const bool hashed = std::any_of(f.lines.begin(), f.lines.end(),
                                        [](const LineOut& l) { return !l.text.empty() && l.text[0] == '#'; });
        if (first && (hashed || f.given == LogFormat::iis) && rng_.chance(0.05)) {
            cov_.hit(form::malformed_iis_before_fields);
            f.lines.push_back({"2024-03-01 10:00:00 POST /Microsoft-Server-ActiveSync Cmd=Sync&DeviceId=X 200",
                               truth_of(LineKind::malformed), false});
        }
        if (first || rng_.chance(0.8)) {
            if (!first) cov_.hit(form::iis_fields_mid_file);
            st.fields = iis_fields();
            directive(f, fields_line(st.fields));
        }
    }

    LineOut write_iis(const Parts& p, const IisState& st) {
        std::array<bool, 11> has{};
        std::vector<std::string> values;
        const std::tm tm = shown(p.time, p.leap, 0);
        bool dash = false;
        const auto value_or_dash = [&](const std::string& v) {
            dash = dash || v.empty();
            return v.empty() ? std::string("-") : v;
        };
        for (const auto& name : st.fields) {
            const Field role = field_of(name);
            has[static_cast<std::size_t>(role)] = true;
            switch (role) {
            case Field::date: values.push_back(p.time != 0 ? ymd(tm) : "-"); break;
            case Field::time: values.push_back(p.time != 0 ? hms(tm) : "-"); break;
            case Field::ip: values.push_back(p.ip); break;
            case Field::method: values.push_back(value_or_dash(p.method)); break;
            case Field::stem: values.push_back(p.path); break;
            case Field::query: values.push_back(value_or_dash(p.query.text)); break;
            case Field::user: values.push_back(value_or_dash(p.log_user)); break;
            case Field::agent: {
                std::string agent = p.agent; // IIS logs a space in a header value as '+'
                std::replace(agent.begin(), agent.end(), ' ', '+');
                values.push_back(value_or_dash(agent));
                break;
            }
            case Field::status: values.push_back(p.status != 0 ? std::to_string(p.status) : "-"); break;
            case Field::version: values.push_back(value_or_dash(p.header)); break;
            case Field::ignored: {
                static const std::vector<std::string> kFillers = {"-",      "443",    "0",       "64",
                                                                  "W3SVC1", "EXCH01", "HTTP/1.1"};
                values.push_back(rng_.pick(kFillers));
                break;
            }
            }
        }
        LineOut out;
        for (std::size_t i = 0; i < values.size(); ++i) out.text += (i == 0 ? "" : " ") + values[i];
        const auto with = [&](Field role) { return has[static_cast<std::size_t>(role)]; };
        Truth& t = out.truth;
        t.kind = p.activesync ? LineKind::request : LineKind::skipped;
        if (!p.activesync) return out;
        if (dash) cov_.hit(form::iis_dash_value);
        if (p.time != 0 && with(Field::time)) {
            if (with(Field::date)) {
                t.time = p.time;
            } else if (!st.date.empty()) { // the date of the last #Date:
                cov_.hit(form::iis_date_directive);
                t.time = utc_of(std::stoi(st.date.substr(0, 4)), std::stoi(st.date.substr(5, 2)),
                                std::stoi(st.date.substr(8, 2)), tm.tm_hour, tm.tm_min, tm.tm_sec);
            }
        }
        if (!with(Field::user)) cov_.hit(form::iis_no_username_field);
        const Query none;
        const Query& q = with(Field::query) ? p.query : none;
        t.user = with(Field::user) && !p.log_user.empty() ? p.log_user : q.user;
        if (with(Field::user) && p.log_user.empty() && !q.user.empty() && p.status == 401)
            cov_.hit(form::iis_401_query_user);
        t.agent = with(Field::agent) ? p.agent : "";
        if (t.agent.find(' ') != std::string::npos) cov_.hit(form::iis_plus_in_agent);
        t.status = with(Field::status) ? p.status : 0;
        t.method = with(Field::method) ? p.method : "";
        set_request_truth(t, q, with(Field::version) ? p.header : "");
        if (with(Field::version) && !p.header.empty()) cov_.hit(form::iis_version_field);
        return out;
    }

    /// The fields a request's query and header give, by the documented priorities.
    void set_request_truth(Truth& t, const Query& q, const std::string& header) {
        t.device_id = q.device_id;
        t.device_type = q.device_type;
        t.command = q.command;
        if (!header.empty()) {
            t.version = header;
            t.source = VersionSource::header;
            if (q.base64) cov_.hit(form::header_over_base64);
            else if (!q.log_version.empty()) cov_.hit(form::header_over_log_token);
        } else if (q.base64) {
            t.version = q.base64_version;
            t.source = VersionSource::base64;
            if (!q.log_version.empty()) cov_.hit(form::base64_over_log_token);
        } else if (!q.log_version.empty()) {
            t.version = q.log_version;
            t.source = VersionSource::log_token;
        }
    }

    /// A line that is surely no line of the field set: a valid one cut at a field boundary or
    /// given one value too many.
    LineOut iis_malformed(const IisState& st) {
        const Caps caps = iis_caps(st);
        LineOut out = write_iis(device_parts(caps), st);
        std::vector<std::string> values;
        for (std::size_t start = 0;;) {
            const auto sp = out.text.find(' ', start);
            values.push_back(out.text.substr(start, sp == std::string::npos ? sp : sp - start));
            if (sp == std::string::npos) break;
            start = sp + 1;
        }
        std::size_t keep = values.size() + 1;
        if (rng_.chance(0.7)) keep = 1 + rng_.below(values.size() - 1);
        else values.push_back("extra");
        out.text.clear();
        for (std::size_t i = 0; i < std::min(keep, values.size()); ++i) out.text += (i == 0 ? "" : " ") + values[i];
        out.truth = truth_of(LineKind::malformed);
        cov_.hit(form::malformed_iis_count);
        return out;
    }

    static Caps iis_caps(const IisState& st) {
        Caps caps;
        caps.iis = true;
        caps.user = caps.header = caps.agent = false;
        for (const auto& f : st.fields) {
            const Field role = field_of(f);
            caps.user = caps.user || role == Field::user;
            caps.header = caps.header || role == Field::version;
            caps.agent = caps.agent || role == Field::agent;
        }
        return caps;
    }

    void iis_lines(FileOut& f, std::size_t n) {
        cov_.hit(form::iis_file);
        IisState st;
        while (rng_.chance(0.05)) directive(f, rng_.chance(0.5) ? "" : " ");
        iis_header(f, st, true);
        for (std::size_t i = 0; i < n; ++i) {
            tick();
            const std::size_t r = rng_.below(100);
            if (r < 2) iis_header(f, st, false);
            else if (r < 4) blank(f);
            else if (r < 7) f.lines.push_back(iis_malformed(st));
            else if (r < 8) f.lines.push_back(garbage());
            else f.lines.push_back(write_iis(any_parts(iis_caps(st)), st));
        }
        maybe_long_lines(
            f, [&](const Parts& p) { return write_iis(p, st); }, iis_caps(st));
    }

    // --- nginx / Apache combined ---

    CombinedStyle combined_style() {
        CombinedStyle st;
        st.common = rng_.chance(0.1);
        st.apache = rng_.chance(0.5);
        st.loose = rng_.chance(0.08);
        st.leading = st.loose && rng_.chance(0.3);
        if (st.loose) cov_.hit(form::combined_loose_spacing);
        static const std::vector<std::pair<std::string, int>> kZones = {
            {"+0100", 3600},  {"+0200", 7200},   {"-0500", -18000}, {"-0700", -25200}, {"+0530", 19800},
            {"+0545", 20700}, {"-0930", -34200}, {"+1300", 46800},  {"+1400", 50400},  {"-1200", -43200}};
        if (rng_.chance(0.5)) {
            std::tie(st.zone, st.offset) = rng_.pick(kZones);
            cov_.hit(form::combined_zone_offset);
        }
        if (st.common) {
            cov_.hit(form::combined_common);
            return st;
        }
        st.version_quoted = rng_.chance(0.8);
        if (rng_.chance(0.6)) {
            const int before = rng_.chance(0.03) ? 16 : rng_.between(0, 2);
            st.extras.assign(static_cast<std::size_t>(before), false);
            st.extras.push_back(true);
            for (int i = rng_.between(-1, 1); i > 0; --i) st.extras.push_back(false);
            if (before >= 16) cov_.hit(form::combined_extras_past_16);
        } else if (rng_.chance(0.3)) {
            st.extras.assign(static_cast<std::size_t>(rng_.between(1, 2)), false);
        }
        return st;
    }

    static Caps combined_caps(const CombinedStyle& st) {
        Caps caps;
        caps.agent = !st.common;
        caps.header = !st.common && st.version_at() < std::min<std::size_t>(st.extras.size(), 16);
        return caps;
    }

    /// A quoted token as nginx (`\xHH` for `"`, `\` and bytes outside 0x20-0x7E) or Apache (`\"`,
    /// `\\`, `\xhh` for control bytes) writes it.
    std::string quote(std::string_view raw, bool apache) {
        std::string out = "\"";
        for (char c : raw) {
            const auto b = static_cast<unsigned char>(c);
            std::string piece(1, c);
            if (apache && (c == '"' || c == '\\')) piece = std::string("\\") + c;
            else if (apache && (b < 0x20 || b == 0x7F)) piece = "\\x" + hex_of(std::string(1, c));
            else if (!apache && (c == '"' || c == '\\' || b < 0x20 || b >= 0x7F))
                piece = "\\x" + hex_of(std::string(1, c), true);
            if (piece.size() > 1) cov_.hit(form::combined_escapes);
            out += piece;
        }
        return out + "\"";
    }

    LineOut write_combined(const Parts& p, const CombinedStyle& st, Marks* marks = nullptr) {
        static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        const auto sep = [&] {
            return st.loose ? std::string(static_cast<std::size_t>(rng_.between(1, 3)), ' ') : std::string(" ");
        };
        Marks m;
        std::string line = st.leading ? std::string(static_cast<std::size_t>(rng_.between(1, 2)), ' ') : "";
        m.first = line.size();
        line += p.ip + sep() + "-" + sep() + (p.log_user.empty() ? "-" : p.log_user) + sep();
        if (p.time != 0) {
            const std::tm tm = shown(p.time, p.leap, st.offset);
            line += "[" + two(tm.tm_mday) + "/" + std::string(kMonths[static_cast<std::size_t>(tm.tm_mon)]) + "/" +
                    std::to_string(tm.tm_year + 1900) + ":" + hms(tm) + " " + st.zone + "]";
        } else {
            line += rng_.chance(0.5) ? "[-]" : "[yesterday]";
        }
        std::string request = p.raw_request;
        if (request.empty()) {
            const bool absolute = rng_.chance(0.05);
            if (absolute) cov_.hit(form::combined_absolute_target);
            request = p.method + " " + (absolute ? "https://mail.example.org" : "") + p.path +
                      (p.query.text.empty() ? (rng_.chance(0.05) ? "?" : "") : "?" + p.query.text);
            const std::size_t proto = rng_.below(20);
            request += proto == 0 ? "" : proto == 1 ? " HTTP/2.0" : " HTTP/1.1";
        }
        line += sep() + quote(request, st.apache);
        m.request_close = line.size() - 1;
        line += sep();
        m.status_start = line.size();
        line += p.status != 0 ? std::to_string(p.status) : "-";
        m.status_end = line.size();
        line += sep();
        m.bytes_start = line.size();
        line += rng_.chance(0.95) ? std::to_string(rng_.below(100000)) : "-";
        const bool header_logged = !st.common && st.version_at() < std::min<std::size_t>(st.extras.size(), 16);
        if (!st.common) {
            line += sep();
            m.referer_open = line.size();
            line += quote(rng_.chance(0.8) ? "-" : "https://mail.example.org/owa/", st.apache);
            line += sep() + quote(p.agent.empty() ? "-" : p.agent, st.apache);
            m.agent_close = line.size() - 1;
            static const std::vector<std::string> kOthers = {
                "\"-\"", "0.123", "\"mail.example.org\"", "10.0.0.1:443", "\"upstream 1\"", "-", "\"\""};
            for (bool version : st.extras) {
                line += sep();
                if (!version) line += rng_.pick(kOthers);
                else if (st.version_quoted) line += "\"" + (p.header.empty() ? "-" : p.header) + "\"";
                else line += p.header.empty() ? "-" : p.header;
            }
            if (!st.extras.empty() && rng_.chance(0.1)) line += sep(); // trailing spaces end nothing
        }
        if (marks != nullptr) *marks = m;
        LineOut out;
        out.text = std::move(line);
        Truth& t = out.truth;
        t.kind = p.activesync && p.raw_request.empty() ? LineKind::request : LineKind::skipped;
        if (t.kind != LineKind::request) return out;
        t.time = p.time;
        t.user = !p.log_user.empty() ? p.log_user : p.query.user;
        t.agent = st.common ? "" : p.agent;
        t.status = p.status;
        t.method = p.method;
        set_request_truth(t, p.query, header_logged ? p.header : "");
        if (header_logged && !p.header.empty()) cov_.hit(form::combined_version_field);
        return out;
    }

    /// A line that is surely not combined: a valid one cut inside its [time], request line,
    /// status, referer or user agent (a cut in the size or the extra fields leaves a valid
    /// line), or with a status that is not a number.
    LineOut combined_malformed(const CombinedStyle& st) {
        Marks m;
        Parts p = device_parts(combined_caps(st));
        LineOut out = write_combined(p, st, &m);
        if (rng_.chance(0.2)) {
            static const std::vector<std::string> kBad = {"abc", "2x0", "1234", "20"};
            out.text.replace(m.status_start, m.status_end - m.status_start, rng_.pick(kBad));
            cov_.hit(form::malformed_combined_status);
        } else {
            std::vector<std::pair<std::size_t, std::size_t>> ranges = {{m.first + 1, m.request_close},
                                                                       {m.status_start, m.bytes_start - 1}};
            if (!st.common) ranges.emplace_back(m.referer_open + 1, m.agent_close);
            const auto& [low, high] = rng_.pick(ranges);
            out.text.resize(low + rng_.below(high - low + 1));
            cov_.hit(form::malformed_combined_cut);
        }
        out.truth = truth_of(LineKind::malformed);
        return out;
    }

    void combined_lines(FileOut& f, std::size_t n) {
        cov_.hit(form::combined_file);
        CombinedStyle st = combined_style();
        for (std::size_t i = 0; i < n; ++i) {
            tick();
            if (rng_.chance(0.01)) { // summer time begins or ends
                st.offset += st.offset % 7200 == 0 ? 3600 : -3600;
                st.zone = std::string(st.offset < 0 ? "-" : "+") + two(std::abs(st.offset) / 3600) +
                          two(std::abs(st.offset) % 3600 / 60);
                cov_.hit(form::zone_change);
            }
            const std::size_t r = rng_.below(100);
            if (r < 3) blank(f);
            else if (r < 6) f.lines.push_back(combined_malformed(st));
            else if (r < 7) f.lines.push_back(garbage());
            else f.lines.push_back(write_combined(any_parts(combined_caps(st)), st));
        }
        maybe_long_lines(
            f, [&](const Parts& p) { return write_combined(p, st); }, combined_caps(st));
    }

    // --- lines of either format ---

    void blank(FileOut& f) {
        cov_.hit(form::empty_line);
        static const std::vector<std::string> kBlank = {"", "", " ", "\t", "  \t "};
        directive(f, rng_.pick(kBlank));
    }

    /// Bytes that are no line of either format: no space (so one IIS value against a field set
    /// of four or more, one combined token), no white space, no leading `#`.
    LineOut garbage() {
        cov_.hit(form::malformed_garbage);
        std::string text;
        const int n = rng_.between(1, 40);
        for (int i = 0; i < n; ++i) {
            char c = static_cast<char>(rng_.byte());
            while ((c >= '\t' && c <= '\r') || c == ' ' || (i == 0 && c == '#')) c = static_cast<char>(rng_.byte());
            text += c;
        }
        return {text, truth_of(LineKind::malformed), false};
    }

    /// Now and then, a line of exactly kMaxLineBytes (the longest a reader takes), or one byte
    /// more, or far more: the user agent padded to the length.
    template <typename Write> void maybe_long_lines(FileOut& f, Write write, const Caps& caps) {
        if (!rng_.chance(0.01)) return;
        if (rng_.chance(0.3)) {
            cov_.hit(form::malformed_overlong);
            f.lines.push_back({std::string(kMaxLineBytes + static_cast<std::size_t>(rng_.between(1, 70000)), 'x'),
                               truth_of(LineKind::malformed), false});
            return;
        }
        if (!caps.agent) return;
        Parts p = device_parts(caps);
        p.agent = "Padded/1.0 ";
        const std::size_t target = kMaxLineBytes + (rng_.chance(0.5) ? 0 : 1);
        const Rng replay = rng_; // the second write makes the first one's random choices
        LineOut line = write(p);
        if (line.text.size() >= target) return;
        p.agent += std::string(target - line.text.size(), 'A');
        rng_ = replay;
        line = write(p);
        if (line.text.size() != target) return; // a random choice in the writer changed the length
        if (target > kMaxLineBytes) {
            line.truth = truth_of(LineKind::malformed);
            cov_.hit(form::malformed_overlong);
        } else {
            cov_.hit(form::longest_line);
        }
        f.lines.push_back(std::move(line)); // at the end: in the last field set written
    }

    FileOut file() {
        FileOut f;
        f.iis = rng_.chance(0.5);
        f.gzip = rng_.chance(0.25);
        f.two_members = f.gzip && rng_.chance(0.3);
        if (f.gzip) cov_.hit(form::gzip);
        if (f.two_members) cov_.hit(form::gzip_members);
        f.final_eol = !rng_.chance(0.1);
        if (rng_.chance(0.4)) f.given = f.iis ? LogFormat::iis : LogFormat::combined;
        const std::size_t r = rng_.below(100);
        std::size_t n = r < 10   ? rng_.below(6)
                        : r < 70 ? static_cast<std::size_t>(rng_.between(5, 40))
                                 : static_cast<std::size_t>(rng_.between(40, 150));
        if (crowd_) n = 2 * identities_.size();
        if (rng_.chance(0.01)) return f; // an empty file
        if (f.iis) iis_lines(f, n);
        else combined_lines(f, n);
        const bool use_crlf = rng_.chance(f.iis ? 0.7 : 0.15), mixed = rng_.chance(0.05);
        for (auto& line : f.lines) line.crlf = mixed ? rng_.chance(0.5) : use_crlf;
        if (use_crlf || mixed) cov_.hit(form::crlf);
        return f;
    }

    Rng rng_;
    Coverage& cov_;
    std::vector<Account> accounts_;
    std::vector<Identity> identities_;
    std::int64_t clock_ = 0;
    bool crowd_ = false;
};

// --- the comparison -------------------------------------------------------------------------------------

Outcome run_model(const Log& log, FoldStats* stats) {
    static const ClientClassifier classifier;
    Model model(classifier);
    for (const auto& f : log.files)
        for (const auto& line : f.lines) model.add(line.truth);
    return {model.devices(stats), model.totals()};
}

Outcome run_real(const Log& log, const std::filesystem::path& dir) {
    Inventory inventory;
    for (std::size_t k = 0; k < log.files.size(); ++k) {
        const auto path = dir / ("access" + std::to_string(k) + ".log");
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes_of(log.files[k]);
        scan_access_log(path, log.files[k].given, inventory);
    }
    return {inventory.devices(), inventory.totals()};
}

template <typename Set> std::string list_of(const Set& set) {
    std::string out;
    for (const auto& v : set) out += (out.empty() ? "" : ",") + mbx::out::printable(v);
    return out;
}

std::string sources_of(const std::set<VersionSource>& sources) {
    std::string out;
    for (auto s : sources) out += (out.empty() ? "" : ",") + std::string(version_source_name(s));
    return out;
}

template <typename Map> std::string counts_of(const Map& map) {
    std::ostringstream out;
    for (const auto& [k, n] : map) out << (out.tellp() == 0 ? "" : ",") << k << ":" << n;
    return mbx::out::printable(out.str());
}

std::string client_of(const ClientInfo& c) {
    return c.family + "|" + c.version + "|" + c.model + "|" + c.build + "|" +
           std::to_string(static_cast<int>(c.matched_on));
}

/// Every field of a device, as text, by name: what the comparison compares.
std::vector<std::pair<std::string_view, std::string>> fields_of(const Device& d) {
    return {{"user", mbx::out::printable(d.user)},
            {"device_id", mbx::out::printable(d.device_id)},
            {"device_type", mbx::out::printable(d.device_type)},
            {"user_agent", mbx::out::printable(d.user_agent)},
            {"user_agents", list_of(d.user_agents)},
            {"client", client_of(d.client)},
            {"protocol_versions", list_of(d.protocol_versions)},
            {"version_sources", sources_of(d.version_sources)},
            {"last_version", d.last_version},
            {"last_version_time", std::to_string(d.last_version_time)},
            {"commands", counts_of(d.commands)},
            {"statuses", counts_of(d.statuses)},
            {"first_seen", std::to_string(d.first_seen)},
            {"last_seen", std::to_string(d.last_seen)},
            {"requests", std::to_string(d.requests)}};
}

std::string describe(const Device& d) {
    std::string out;
    for (const auto& [name, value] : fields_of(d))
        out += std::string(name) + "=" + (value.size() > 200 ? value.substr(0, 200) + "..." : value) + " ";
    return out;
}

/// What differs between the model's outcome and the real one; empty when nothing does.
std::string differences(const Outcome& model, const Outcome& real) {
    std::ostringstream out;
    const auto total = [&](std::string_view name, std::uint64_t m, std::uint64_t r) {
        if (m != r) out << "totals." << name << ": model " << m << ", real " << r << "\n";
    };
    total("lines", model.totals.lines, real.totals.lines);
    total("requests", model.totals.requests, real.totals.requests);
    total("skipped", model.totals.skipped, real.totals.skipped);
    total("malformed", model.totals.malformed, real.totals.malformed);
    total("probes", model.totals.probes, real.totals.probes);
    total("no_device", model.totals.no_device, real.totals.no_device);
    total("directives", model.totals.directives, real.totals.directives);
    for (std::size_t i = 0; i < std::min(model.devices.size(), real.devices.size()); ++i) {
        const auto m = fields_of(model.devices[i]), r = fields_of(real.devices[i]);
        std::ostringstream fields;
        for (std::size_t k = 0; k < m.size(); ++k)
            if (m[k].second != r[k].second)
                fields << "  " << m[k].first << ": model '" << m[k].second.substr(0, 300) << "', real '"
                       << r[k].second.substr(0, 300) << "'\n";
        if (fields.tellp() != 0) {
            out << "device " << i << " of " << model.devices.size() << ":\n" << fields.str();
            out << "  model: " << describe(model.devices[i]) << "\n  real:  " << describe(real.devices[i]) << "\n";
            break;
        }
    }
    if (model.devices.size() != real.devices.size()) {
        out << "devices: model " << model.devices.size() << ", real " << real.devices.size() << "\n";
        for (const auto& d : model.devices) out << "  model: " << describe(d) << "\n";
        for (const auto& d : real.devices) out << "  real:  " << describe(d) << "\n";
    }
    return out.str();
}

std::string compare(const Log& log, const std::filesystem::path& dir, FoldStats* stats = nullptr) {
    const Outcome model = run_model(log, stats);
    try {
        return differences(model, run_real(log, dir));
    } catch (const std::exception& e) {
        return std::string("the real path threw: ") + e.what() + "\n";
    }
}

/// The log with every line removed that is not needed for it to differ still (directives stay:
/// they give the lines after them their meaning; the other lines mean what they mean alone).
Log shrink(Log log, const std::filesystem::path& dir) {
    for (std::size_t k = log.files.size(); k-- > 0 && log.files.size() > 1;) {
        Log smaller = log;
        smaller.files.erase(smaller.files.begin() + static_cast<std::ptrdiff_t>(k));
        if (!compare(smaller, dir).empty()) log = std::move(smaller);
    }
    // Until a pass removes nothing (a line may only become removable once a later one is gone),
    // or a few thousand tries on a log of thousands of lines.
    std::size_t tries = 0;
    for (bool removed = true; removed && tries < 5000;) {
        removed = false;
        for (std::size_t k = 0; k < log.files.size(); ++k)
            for (std::size_t i = log.files[k].lines.size(); i-- > 0 && ++tries < 5000;) {
                if (log.files[k].lines[i].truth.kind == LineKind::directive) continue;
                Log smaller = log;
                smaller.files[k].lines.erase(smaller.files[k].lines.begin() + static_cast<std::ptrdiff_t>(i));
                if (compare(smaller, dir).empty()) continue;
                log = std::move(smaller);
                removed = true;
            }
    }
    return log;
}

std::size_t line_count(const Log& log) {
    std::size_t n = 0;
    for (const auto& f : log.files) n += f.lines.size();
    return n;
}

/// The log as text, each request line followed by what it means.
std::string show(const Log& log) {
    static constexpr std::array<std::string_view, 4> kKinds = {"request", "directive", "skipped", "malformed"};
    std::ostringstream out;
    for (std::size_t k = 0; k < log.files.size(); ++k) {
        const FileOut& f = log.files[k];
        out << "--- file " << k << ": " << (f.iis ? "iis" : "combined") << (f.gzip ? ", gzip" : "")
            << (f.two_members ? " (2 members)" : "") << ", --log-format " << log_format_name(f.given)
            << (f.final_eol ? "" : ", no final line end") << "\n";
        for (std::size_t i = 0; i < f.lines.size(); ++i) {
            const LineOut& line = f.lines[i];
            const std::string text = line.text.size() > 400 ? line.text.substr(0, 400) + "... (" +
                                                                  std::to_string(line.text.size()) + " bytes)"
                                                            : line.text;
            out << i + 1 << (line.crlf ? " (CRLF)" : "") << ": " << mbx::out::printable(text) << "\n";
            const Truth& t = line.truth;
            if (t.kind != LineKind::request) {
                if (t.kind != LineKind::directive) out << "    -> " << kKinds[static_cast<std::size_t>(t.kind)] << "\n";
                continue;
            }
            out << "    -> request time=" << t.time << " user='" << mbx::out::printable(t.user) << "' id='"
                << mbx::out::printable(t.device_id) << "' type='" << mbx::out::printable(t.device_type) << "' agent='"
                << mbx::out::printable(t.agent.substr(0, 80)) << "' version='" << t.version << "' ("
                << version_source_name(t.source) << ") command='" << mbx::out::printable(t.command) << "' method='"
                << t.method << "' status=" << t.status << "\n";
        }
    }
    return out.str();
}

std::optional<std::uint64_t> env_number(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::stoull(v, nullptr, 0);
}

/// Turns the AVX2 code off for its scope (the SSE2 and scalar paths then run).
class Avx2Off {
public:
    explicit Avx2Off(bool off) {
        if (off) mbx::audit::scan::set_avx2(false);
    }
    ~Avx2Off() { mbx::audit::scan::set_avx2(true); }
    Avx2Off(const Avx2Off&) = delete;
    Avx2Off& operator=(const Avx2Off&) = delete;
};

Truth request(std::string user, std::string id, std::int64_t time, std::string version, std::string agent = "",
              std::string type = "") {
    Truth t;
    t.kind = LineKind::request;
    t.user = std::move(user);
    t.device_id = std::move(id);
    t.time = time;
    t.version = std::move(version);
    t.source = t.version.empty() ? VersionSource::none : VersionSource::header;
    t.agent = std::move(agent);
    t.device_type = std::move(type);
    t.command = "Sync";
    t.status = 200;
    return t;
}

} // namespace

TEST_CASE("the inventory agrees with a plain model on random access logs", "[audit][inventory][model]") {
    std::random_device random;
    const std::uint64_t seed =
        env_number("MBX_TEST_SEED").value_or((static_cast<std::uint64_t>(random()) << 32) ^ random());
    const std::optional<std::uint64_t> only = env_number("MBX_TEST_LOG");
    const std::uint64_t logs = env_number("MBX_TEST_LOGS").value_or(kLogs);
    CAPTURE(seed);
    // Also on stderr: a sanitizer that stops the process prints no Catch2 message.
    std::cerr << "inventory model: seed " << seed << " (replay: MBX_TEST_SEED=" << seed << ")\n";
    mbx::test::TempDir dir;
    Coverage coverage;
    const std::uint64_t first = only.value_or(0), end = only ? *only + 1 : logs;
    for (std::uint64_t index = first; index < end; ++index) {
        const bool avx2 = index % 3 != 2; // a third of the logs on the SSE2 and scalar paths
        const Avx2Off off(!avx2);
        if (!avx2) coverage.hit(form::avx2_off);
        Generator generator(splitmix64(seed ^ splitmix64(index)), coverage);
        const Log log = generator.log();
        if (only) std::cerr << show(log); // a replayed log is shown, failing or not
        FoldStats stats;
        const std::string diff = compare(log, dir.path(), &stats);
        if (stats.folded > 0) coverage.hit(form::userless_folded);
        if (stats.alone > 0) coverage.hit(form::userless_alone);
        if (stats.shared > 0) coverage.hit(form::userless_shared_id);
        if (stats.beside > 0) coverage.hit(form::userless_beside_devices);
        if (diff.empty()) continue;
        const Log small = shrink(log, dir.path());
        INFO("log " << index << (avx2 ? "" : " (AVX2 off)") << "; replay with MBX_TEST_SEED=" << seed
                    << " MBX_TEST_LOG=" << index);
        INFO("what differs (on the whole log):\n" << diff);
        INFO("the log cut down to " << line_count(small) << " of its " << line_count(log)
                                    << " lines, still differing in:\n"
                                    << compare(small, dir.path()) << show(small));
        FAIL("the inventory and its model disagree");
    }
    if (only || logs < kLogs) return; // a short run need not cover every form
    for (std::size_t f = 0; f < form::count; ++f) {
        INFO("the generator never produced " << kFormNames[f] << " in " << logs << " logs");
        CHECK(coverage.hits[f] > 0);
    }
}

TEST_CASE("the model folds the requests that name no user as documented", "[audit][inventory][model]") {
    // The model is the reference: its own fold rules, checked by hand (docs/commands/audit.md).
    const ClientClassifier classifier;
    Model model(classifier);
    model.add(request("EXAMPLE\\alice", "ApplX1", 100, "14.1", "", "iPhone"));
    // Folds into alice's: a newer version, and the agent she had none of (not the type: she had one).
    model.add(request("", "applx1", 200, "16.1", "Apple-iPhone9C3/1504.100", "iPad"));
    model.add(request("", "applx1", 0, "", "", ""));
    model.add(request("alice@example.org", "Shared1", 50, "12.1"));
    model.add(request("bob", "Shared1", 60, "12.1"));
    model.add(request("", "SHARED1", 70, "14.0")); // two users have it: stays
    model.add(request("", "Lost1", 0, "2.5"));     // nobody has it: stays
    FoldStats stats;
    const auto devices = model.devices(&stats);
    REQUIRE(devices.size() == 5);
    CHECK((stats.folded == 1 && stats.shared == 1 && stats.alone == 1 && stats.beside == 1));
    CHECK((devices[0].user.empty() && devices[0].device_id == "Lost1" && devices[0].last_version == "2.5"));
    CHECK((devices[1].user.empty() && devices[1].device_id == "SHARED1" && devices[1].requests == 1));
    CHECK((devices[2].user == "alice@example.org" && devices[2].device_id == "Shared1"));
    CHECK((devices[3].user == "bob" && devices[3].device_id == "Shared1"));
    const Device& a = devices[4];
    CHECK((a.user == "EXAMPLE\\alice" && a.device_id == "ApplX1" && a.requests == 3));
    CHECK((a.last_version == "16.1" && a.last_version_time == 200 && a.first_seen == 100 && a.last_seen == 200));
    CHECK((a.device_type == "iPhone" && a.user_agent == "Apple-iPhone9C3/1504.100" && a.client.family == "iOS"));
    CHECK(a.protocol_versions == std::set<std::string>{"14.1", "16.1"});
    CHECK(a.commands.at("Sync") == 3);
}

TEST_CASE("a request that names no user and cannot be folded leaves the other devices whole",
          "[audit][inventory][model]") {
    // The defect the model found first: Inventory::fold_userless moved every kept device onto
    // itself, which emptied every row.
    const std::string log =
        "10.0.0.1 - alice [01/Mar/2024:10:00:00 +0100] \"POST "
        "/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=ApplA&"
        "DeviceType=iPhone HTTP/1.1\" 200 10 \"-\" \"Apple-iPhone9C3/1504.100\" \"14.1\"\n"
        "10.0.0.2 - bob [01/Mar/2024:10:00:05 +0100] \"POST /Microsoft-Server-ActiveSync?Cmd=Ping&DeviceId=Andr1&"
        "DeviceType=Android HTTP/1.1\" 200 10 \"-\" \"Android/4.4.2-EAS-2.0\" \"12.1\"\n"
        "10.0.0.3 - - [01/Mar/2024:10:00:09 +0100] \"POST /Microsoft-Server-ActiveSync?Cmd=FolderSync&DeviceId=Lost1&"
        "DeviceType=SmartPhone HTTP/1.1\" 401 0 \"-\" \"-\" \"14.0\"\n";
    mbx::test::TempDir dir;
    Inventory inventory;
    scan_access_log(dir.write("access.log", log), LogFormat::auto_detect, inventory);
    const auto devices = inventory.devices();
    REQUIRE(devices.size() == 3);
    CHECK((devices[0].user.empty() && devices[0].device_id == "Lost1" && devices[0].device_type == "SmartPhone"));
    CHECK((devices[1].user == "alice" && devices[1].device_id == "ApplA" &&
           devices[1].user_agent == "Apple-iPhone9C3/1504.100"));
    CHECK((devices[1].last_version == "14.1" && devices[1].first_seen == unix_time(2024, 3, 1, 9, 0, 0)));
    CHECK((devices[2].user == "bob" && devices[2].device_id == "Andr1" && devices[2].commands.at("Ping") == 1));
}
