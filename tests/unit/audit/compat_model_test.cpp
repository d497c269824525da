// mbx::audit::judge against a deliberately plain model of the documented verdict rules
// (docs/commands/audit.md, "mbx audit compat"), on random devices and targets in every run.
// MBX_TEST_SEED replays a run; the seed is printed on failure.
#include "mbx/audit/capabilities.hpp"
#include "mbx/audit/clients.hpp"
#include "mbx/audit/compat.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace mbx::audit;

namespace {

// The released versions, in order: an index is a version.
const std::vector<std::string> kReleased = {"1.0", "2.0", "2.1", "2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"};

// A version's rank: released ones by index; "15.0" (no release) between 14.1 and 16.0; "17.0"
// after all.
double rank(const std::string& v) {
    const auto it = std::find(kReleased.begin(), kReleased.end(), v);
    if (it != kReleased.end()) return static_cast<double>(it - kReleased.begin());
    return v == "15.0" ? 7.5 : 100;
}
bool released(const std::string& v) { return std::find(kReleased.begin(), kReleased.end(), v) != kReleased.end(); }

struct Model {
    Verdict verdict;
    Basis basis;
    std::string best_common;
};

Model model(const DeviceVersions& d, const std::vector<std::string>& target, const std::vector<Capability>& rows) {
    std::vector<std::string> used;
    for (const auto& v : d.seen)
        if (!v.empty()) used.push_back(v);
    const Capability* row = find_capability(rows, d.family, d.client_version);
    if (used.empty() && !row) return {Verdict::unknown, Basis::unknown, ""};
    double top_seen = -1;
    for (const auto& v : used) top_seen = std::max(top_seen, rank(v));
    double speaks = top_seen;
    if (row && !row->speaks.empty()) speaks = std::max(speaks, rank(row->speaks));
    double bound = 1e9;
    if (row && !row->at_most.empty() && !(top_seen > rank(row->at_most))) bound = rank(row->at_most);
    std::string best, sure;
    double best_rank = -1, sure_rank = -1;
    for (const auto& v : target) {
        const bool usable = released(v) || std::find(used.begin(), used.end(), v) != used.end();
        if (!usable || rank(v) > bound) continue;
        if (rank(v) > best_rank) best_rank = rank(v), best = v;
        if (speaks >= 0 && rank(v) <= speaks && rank(v) > sure_rank) sure_rank = rank(v), sure = v;
    }
    if (best.empty() && bound < 1e9) return {Verdict::breaks, Basis::capability, ""};
    std::string now = d.last;
    if (now.empty() && !used.empty())
        now =
            *std::max_element(used.begin(), used.end(), [](const auto& a, const auto& b) { return rank(a) < rank(b); });
    const bool uncertain = best.empty() || (best != sure && (sure.empty() || (!now.empty() && sure_rank < rank(now))));
    if (uncertain) return {Verdict::at_risk, row ? Basis::capability : Basis::unknown, sure};
    const bool row_speaks = row && !row->speaks.empty() && sure_rank <= rank(row->speaks);
    if (now.empty()) return {Verdict::ok, Basis::capability, sure};
    if (sure == now) return {Verdict::ok, Basis::observed, sure};
    if (sure_rank > rank(now))
        return row_speaks ? Model{Verdict::ok, Basis::capability, sure}
                          : Model{Verdict::at_risk, Basis::observed, sure};
    const bool seen_sure = std::find(used.begin(), used.end(), sure) != used.end();
    return {Verdict::at_risk, seen_sure || !row_speaks ? Basis::observed : Basis::capability, sure};
}

std::uint64_t seed_of_run() {
    if (const char* s = std::getenv("MBX_TEST_SEED")) return std::strtoull(s, nullptr, 10);
    return (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
}

} // namespace

TEST_CASE("judge agrees with the plain model of the verdict rules on random devices", "[audit][compat][model]") {
    const std::uint64_t seed = seed_of_run();
    CAPTURE(seed); // MBX_TEST_SEED=<seed> replays this run
    std::mt19937_64 random(seed);
    auto pick = [&](const auto& list) { return list[random() % list.size()]; };
    const std::vector<std::string> families = {"iOS",  "Android (Exchange app)",     "Windows Phone", "Windows Mail",
                                               "Nine", "Windows Mobile (Pocket PC)", "Samsung Email", "",
                                               "ios"};
    const std::vector<std::string> client_versions = {"",   "3.x",   "8.4",        "9",          "9.3.5", "10.0.2",
                                                      "17", "4.4.2", "8.10.14157", "10.0.19045", "6.2.1", "6.1"};
    auto versions = kReleased;
    versions.push_back("15.0");
    versions.push_back("17.0");
    const std::vector<Capability> site = parse_rules("capability 6.2 - 16.1 16.1 Samsung Email\ncapability - - 14.0 - "
                                                     "Nine\ncapability - 7 - 12.1 Windows Mail\n",
                                                     "site.rules")
                                             .capabilities;
    std::vector<Capability> with_site = site;
    with_site.insert(with_site.end(), default_capabilities().begin(), default_capabilities().end());
    for (int n = 0; n < 20000; ++n) {
        DeviceVersions d;
        for (int k = static_cast<int>(random() % 4); k > 0; --k) d.seen.insert(pick(versions));
        if (random() % 7 == 0) d.seen.insert("");
        if (!d.seen.empty() && random() % 3 != 0) {
            auto it = d.seen.begin();
            std::advance(it, static_cast<long>(random() % d.seen.size()));
            d.last = *it;
        }
        d.family = pick(families);
        d.client_version = pick(client_versions);
        d.client = d.family + " " + d.client_version;
        TargetInfo target;
        while (target.versions.empty())
            for (const auto& v : versions)
                if (random() % 4 == 0) target.versions.push_back(v);
        std::shuffle(target.versions.begin(), target.versions.end(), random);
        target.fixed = random() % 2 == 0;
        const auto& rows = random() % 3 == 0 ? with_site : default_capabilities();
        const Model want = model(d, target.versions, rows);
        const Judgement got = judge(d, target, rows);
        if (got.verdict != want.verdict || got.basis != want.basis || got.best_common != want.best_common) {
            std::string seen;
            for (const auto& v : d.seen) seen += "'" + v + "' ";
            std::string t;
            for (const auto& v : target.versions) t += v + " ";
            INFO("case " << n << ": seen " << seen << "last '" << d.last << "' client '" << d.client << "' target " << t
                         << (&rows == &with_site ? "(site rows)" : ""));
            INFO("got " << verdict_name(got.verdict) << "/" << basis_name(got.basis) << "/" << got.best_common << ": "
                        << got.reason);
            INFO("want " << verdict_name(want.verdict) << "/" << basis_name(want.basis) << "/" << want.best_common);
            FAIL("judge differs from the model");
        }
        // Every judgement explains itself; only ok has no remediation.
        CHECK_FALSE(got.reason.empty());
        CHECK(got.remediation.empty() == (got.verdict == Verdict::ok));
        // A fixed target (Exchange Online) is never told to keep a version on the server.
        if (target.fixed) CHECK(got.remediation.find("on the server") == std::string::npos);
    }
}
