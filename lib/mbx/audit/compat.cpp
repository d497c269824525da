#include "mbx/audit/compat.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

namespace mbx::audit {
namespace {

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

} // namespace

bool is_version(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size() || text.size() > 16) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (i != dot && (text[i] < '0' || text[i] > '9')) return false;
    return true;
}

std::string_view verdict_name(Verdict v) {
    switch (v) {
    case Verdict::ok: return "ok";
    case Verdict::at_risk: return "at-risk";
    case Verdict::breaks: return "breaks";
    case Verdict::unknown: break;
    }
    return "unknown";
}

int compare_versions(std::string_view a, std::string_view b) {
    while (!a.empty() || !b.empty()) {
        if (a.empty()) return -1; // fewer parts sort first: 12 < 12.0
        if (b.empty()) return 1;
        const auto da = a.find('.'), db = b.find('.');
        const std::string_view pa = a.substr(0, da), pb = b.substr(0, db);
        const bool na = !pa.empty() && std::all_of(pa.begin(), pa.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        const bool nb = !pb.empty() && std::all_of(pb.begin(), pb.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (na && nb) {
            // Compare as numbers without overflow: strip leading zeros, then length, then text.
            auto strip = [](std::string_view s) {
                while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
                return s;
            };
            const auto sa = strip(pa), sb = strip(pb);
            if (sa.size() != sb.size()) return sa.size() < sb.size() ? -1 : 1;
            if (const int c = sa.compare(sb); c != 0) return c < 0 ? -1 : 1;
        } else if (na != nb) {
            return na ? -1 : 1;
        } else if (const int c = pa.compare(pb); c != 0) {
            return c < 0 ? -1 : 1;
        }
        a = da == std::string_view::npos ? std::string_view{} : a.substr(da + 1);
        b = db == std::string_view::npos ? std::string_view{} : b.substr(db + 1);
    }
    return 0;
}

std::vector<std::string> parse_versions(std::string_view list) {
    std::vector<std::string> out;
    for (auto& item : split_list(list)) {
        if (!is_version(item))
            throw Error(ErrorCategory::usage, fmt::format("'{}' is not a protocol version", out::printable(item)),
                        "write versions as major.minor, comma-separated: 14.1,16.0,16.1");
        out.push_back(std::move(item));
    }
    if (out.empty())
        throw Error(ErrorCategory::usage, "no protocol versions given", "e.g. --target-versions 14.1,16.0,16.1");
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return compare_versions(x, y) < 0; });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Judgement judge(const std::set<std::string>& seen, std::string_view last, const std::vector<std::string>& target,
                std::string_view client) {
    Judgement j;
    const std::string who = client.empty() ? std::string("the client") : std::string(client);
    auto kept = [&](std::string_view v) {
        return std::any_of(target.begin(), target.end(), [&](const auto& t) { return compare_versions(t, v) == 0; });
    };
    std::vector<std::string> used(seen.begin(), seen.end());
    std::erase_if(used, [](const auto& v) { return v.empty(); });
    std::sort(used.begin(), used.end(), [](const auto& x, const auto& y) { return compare_versions(x, y) < 0; });
    if (used.empty()) {
        j.reason = "the logs show no protocol version for this device";
        j.remediation = "log the MS-ASProtocolVersion header (nginx $http_ms_asprotocolversion, Apache "
                        "%{MS-ASProtocolVersion}i) or probe the device class with `mbx audit probe`";
        return j;
    }
    for (const auto& v : used)
        if (kept(v)) j.best_common = v; // ascending: the last kept one is the best
    const std::string now = last.empty() ? used.back() : std::string(last);
    if (j.best_common.empty()) {
        j.verdict = Verdict::breaks;
        j.reason = fmt::format("uses {}; the target keeps only {}: no version in common", joined(used), joined(target));
        j.remediation = fmt::format("update {} to one that speaks {} or later, or keep {} on the server", who,
                                    target.front(), used.back());
        return j;
    }
    if (!kept(now)) {
        j.verdict = Verdict::at_risk;
        j.reason = fmt::format("uses {} now, which the target drops; it has also used {}, which stays", now, j.best_common);
        j.remediation = fmt::format("keep {} on the server, or check {} on {} before the upgrade", now, who, j.best_common);
        return j;
    }
    if (compare_versions(now, j.best_common) < 0) {
        j.verdict = Verdict::at_risk;
        j.reason = fmt::format("uses {} now, below {}, which it has used and the target keeps", now, j.best_common);
        j.remediation = fmt::format("re-create the device partnership so that {} negotiates {} again", who, j.best_common);
        return j;
    }
    j.verdict = Verdict::ok;
    j.reason = fmt::format("uses {}, which the target keeps", now);
    return j;
}

} // namespace mbx::audit
