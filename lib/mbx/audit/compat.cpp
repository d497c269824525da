#include "mbx/audit/compat.hpp"

#include "mbx/audit/eas_query.hpp"

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
        const bool na = !pa.empty() && std::all_of(pa.begin(), pa.end(),
                                                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        const bool nb = !pb.empty() && std::all_of(pb.begin(), pb.end(),
                                                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
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

std::string_view basis_name(Basis b) {
    switch (b) {
    case Basis::observed: return "observed";
    case Basis::capability: return "capability";
    case Basis::unknown: break;
    }
    return "unknown";
}

namespace {

// "speaks up to 16.1", "speaks at most 14.1", "speaks 16.0".
std::string capability_text(const Capability& row) {
    if (!row.speaks.empty() && row.speaks == row.at_most) return "speaks up to " + row.speaks;
    if (row.speaks.empty()) return "speaks at most " + row.at_most;
    if (row.at_most.empty()) return "speaks " + row.speaks;
    return fmt::format("speaks {}, at most {}", row.speaks, row.at_most);
}

const std::string& higher(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return compare_versions(a, b) >= 0 ? a : b;
}

// The device as the judge sees it: what it surely speaks, what it cannot exceed.
struct Facts {
    std::vector<std::string> used; ///< seen, ascending
    std::string now;               ///< the version it uses now ("" when none seen)
    const Capability* row = nullptr;
    std::string speaks;            ///< the highest version it surely speaks (seen or by its row)
    std::string at_most;           ///< it speaks nothing above this ("" unknown)
    bool row_contradicted = false; ///< the logs show a version above the row's at_most
};

Facts facts_of(const DeviceVersions& d, const std::vector<Capability>& rows) {
    Facts f;
    for (const auto& v : d.seen)
        if (!v.empty()) f.used.push_back(v);
    std::sort(f.used.begin(), f.used.end(), [](const auto& x, const auto& y) { return compare_versions(x, y) < 0; });
    f.now = !d.last.empty() ? d.last : f.used.empty() ? std::string() : f.used.back();
    f.row = find_capability(rows, d.family, d.client_version);
    const std::string seen_top = f.used.empty() ? std::string() : f.used.back();
    f.speaks = higher(f.row ? f.row->speaks : std::string(), seen_top);
    if (f.row && !f.row->at_most.empty()) {
        f.row_contradicted = !seen_top.empty() && compare_versions(seen_top, f.row->at_most) > 0;
        if (!f.row_contradicted) f.at_most = f.row->at_most;
    }
    return f;
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
    return std::any_of(list.begin(), list.end(), [&](const auto& x) { return compare_versions(x, v) == 0; });
}

// "; or keep 14.1 on the server" where the admin can change the server's versions.
std::string or_keep(const TargetInfo& target, std::string_view version) {
    if (target.fixed || version.empty()) return {};
    return fmt::format(", or keep {} on the server", version);
}

// One device against one target: what judge() decides from.
struct Case {
    const DeviceVersions& d;
    const TargetInfo& target;
    const std::vector<Capability>& rows;
    std::string who;            ///< the client's name, or "the client"
    std::vector<std::string> t; ///< the target's versions, ascending
    Facts f;
    std::string label;         ///< the capability row's label, if there is a row
    std::string contradiction; ///< " (the logs show 16.1, above ...)" when the logs contradict the row
};

// What it may negotiate (`best`: the highest target version under its bound; a version it was
// not seen using counts only when it is a released one), and what it surely can (`sure`: the
// highest one under what it is known to speak).
void reachable_versions(const Case& c, std::string& best, std::string& sure) {
    for (const auto& v : c.t) {
        if (!is_known_version(v) && !contains(c.f.used, v)) continue;
        if (!c.f.at_most.empty() && compare_versions(v, c.f.at_most) > 0) continue;
        best = v;
        if (!c.f.speaks.empty() && compare_versions(v, c.f.speaks) <= 0) sure = v;
    }
}

// Every version the target keeps is above what its client can speak.
Judgement judge_breaks(const Case& c) {
    Judgement j;
    j.verdict = Verdict::breaks;
    j.basis = Basis::capability;
    j.reason = fmt::format("{} speaks at most {}; the target keeps only {}", c.who, c.f.at_most, joined(c.t));
    if (const auto first = first_client_speaking(c.rows, c.d.family, c.t.front()))
        j.remediation = fmt::format("update to {} {} or later, which speaks {}{}", c.d.family, *first, c.t.front(),
                                    or_keep(c.target, c.f.at_most));
    else
        j.remediation = fmt::format("move the user to a client that speaks {} or later{}", c.t.front(),
                                    or_keep(c.target, c.f.at_most));
    return j;
}

// It may have to speak a version above what it is known to speak.
Judgement judge_unsure(const Case& c, const std::string& best, const std::string& sure) {
    const Facts& f = c.f;
    // What it would have to speak: with nothing sure, the lowest version the target keeps
    // above what it is known to speak (any one is enough); else the higher one it may reach.
    std::string wanted = best.empty() ? c.t.back() : best;
    if (sure.empty())
        for (const auto& v : c.t)
            if ((is_known_version(v) || contains(f.used, v)) &&
                (f.speaks.empty() || compare_versions(v, f.speaks) > 0) &&
                (f.at_most.empty() || compare_versions(v, f.at_most) <= 0)) {
                wanted = v;
                break;
            }
    Judgement j;
    j.verdict = Verdict::at_risk;
    j.basis = f.row ? Basis::capability : Basis::unknown;
    j.best_common = sure;
    const std::string seen = f.used.empty() ? std::string("no version in the logs") : "seen using " + joined(f.used);
    if (f.row)
        j.reason =
            fmt::format("{}; {} {}: whether it speaks {} is not known", seen, c.label, capability_text(*f.row), wanted);
    else
        j.reason = fmt::format("{}; whether {} speaks {} is not known (no capability row for it){}", seen, c.who,
                               wanted, c.contradiction);
    if (!sure.empty())
        j.reason +=
            fmt::format("; if not, it falls back to {}{}", sure, contains(f.used, sure) ? " (it has used it)" : "");
    j.remediation = fmt::format("check one such device with `mbx audit probe URL --as-version {}` or add its "
                                "capability with --rules; update {} if it cannot{}",
                                wanted, c.who, or_keep(c.target, f.used.empty() ? std::string() : f.used.back()));
    return j;
}

// It surely speaks `best`, a version the target keeps: how that compares with what it uses now.
Judgement judge_sure(const Case& c, const std::string& best) {
    const Facts& f = c.f;
    Judgement j;
    j.best_common = best;
    const bool seen_best = contains(f.used, best);
    const bool row_speaks = f.row && !f.row->speaks.empty() && compare_versions(best, f.row->speaks) <= 0;
    j.basis = seen_best || !row_speaks ? Basis::observed : Basis::capability;
    if (f.now.empty()) { // no version in the logs, but its row speaks `best`
        j.verdict = Verdict::ok;
        j.reason = fmt::format("no version in the logs; {} {}: it will use {}", c.label, capability_text(*f.row), best);
        return j;
    }
    const int cmp = compare_versions(best, f.now);
    if (cmp == 0) {
        j.verdict = Verdict::ok;
        j.basis = Basis::observed;
        j.reason = fmt::format("uses {}, which the target keeps{}", f.now, c.contradiction);
        return j;
    }
    if (cmp > 0) {
        if (row_speaks) {
            j.verdict = Verdict::ok;
            j.basis = Basis::capability;
            j.reason = fmt::format("uses {} now; {} {}: it will negotiate {} with the target", f.now, c.label,
                                   capability_text(*f.row), best);
            return j;
        }
        j.verdict = Verdict::at_risk;
        j.reason = fmt::format("uses {} now, below {}, which it has used and the target keeps", f.now, best);
        j.remediation = fmt::format("re-create the device partnership so that {} negotiates {} again", c.who, best);
        return j;
    }
    // The target drops the version it uses now: it must fall back (new client, older server).
    j.verdict = Verdict::at_risk;
    const std::string why = seen_best    ? "it has used it"
                            : row_speaks ? fmt::format("{} {}", c.label, capability_text(*f.row))
                                         : "clients negotiate down; the logs do not show it using it";
    j.reason = fmt::format("uses {}, which the target drops; it will have to fall back to {} ({})", f.now, best, why);
    j.remediation = c.target.fixed ? fmt::format("check that {} falls back to {} before the change", c.who, best)
                                   : fmt::format("keep {} on the server, or check that {} falls back to {} before the "
                                                 "change (`mbx audit probe URL --as-version {}`)",
                                                 f.now, c.who, best, best);
    return j;
}

} // namespace

Judgement judge(const DeviceVersions& d, const TargetInfo& target, const std::vector<Capability>& rows) {
    Case c{d, target, rows, d.client.empty() ? std::string("the client") : d.client, target.versions, {}, {}, {}};
    // ascending, whoever built it
    std::sort(c.t.begin(), c.t.end(), [](const auto& x, const auto& y) { return compare_versions(x, y) < 0; });
    if (c.t.empty())
        throw Error(ErrorCategory::usage, "no target versions given", "e.g. --target-versions 14.1,16.0,16.1");
    c.f = facts_of(d, rows);
    const Facts& f = c.f;
    if (f.used.empty() && !f.row) {
        Judgement j;
        j.reason = "the logs show no protocol version for this device and no capability row covers its client";
        j.remediation = "log the MS-ASProtocolVersion header (nginx $http_ms_asprotocolversion, Apache "
                        "%{MS-ASProtocolVersion}i) or probe the device class with `mbx audit probe`";
        return j;
    }
    c.label = f.row ? capability_label(*f.row) : std::string();
    if (f.row_contradicted)
        c.contradiction =
            fmt::format(" (the logs show {}, above the {} row's {})", f.used.back(), c.label, f.row->at_most);
    std::string best, sure;
    reachable_versions(c, best, sure);
    Judgement j;
    if (best.empty() && !f.at_most.empty()) j = judge_breaks(c);
    // Above what it is known to speak, unless what it surely speaks keeps it where it is.
    else if (best.empty() || (best != sure && (sure.empty() || compare_versions(sure, f.now) < 0)))
        j = judge_unsure(c, best, sure);
    else j = judge_sure(c, sure);
    if (f.row)
        j.capability = fmt::format("{}: {} ({})", capability_label(*f.row), capability_text(*f.row), f.row->source);
    return j;
}

} // namespace mbx::audit
