#include "mbx/audit/capabilities.hpp"

#include "mbx/audit/compat.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"

#include <fmt/format.h>

namespace mbx::audit {
namespace {

bool in_range(const Capability& row, std::string_view client_version) {
    if (row.from.empty() && row.below.empty()) return true;
    if (client_version.empty()) return false;
    if (!row.from.empty() && compare_versions(client_version, row.from) < 0) return false;
    return row.below.empty() || compare_versions(client_version, row.below) < 0;
}

} // namespace

const std::vector<Capability>& default_capabilities() {
    // Sources in full: docs/commands/audit.md, "Client capabilities". A row says only what its
    // source says; a client without one is judged by what the logs show.
    // A table laid out by hand: a client a row.
    // clang-format off
    static const std::vector<Capability> kRows = {
        {"iOS", "10", "", "16.1", "16.1",
         "Exchange Team blog 2025-12-15 (MC1197103): iOS Mail speaks 16.1 since iOS 10"},
        {"iOS", "9", "10", "16.0", "16.0",
         "EAS 16.0 shipped in iOS 9 (Exchange Team, 2015-06); 16.1 only since iOS 10 (Exchange Team, 2025-12-15)"},
        {"iOS", "", "9", "", "14.1", "EAS 16 came to iOS with iOS 9 (Exchange Team, 2015-06); 14.1 is the version before 16.0"},
        // "0": only when the user agent gave a version; a device id (`androidc…`) alone may be
        // another app's.
        {"Android (Exchange app)", "0", "", "", "14.1",
         "AOSP Exchange app (packages/apps/Exchange, Eas.java): 14.1 is the highest protocol it knows"},
        {"Windows Phone", "", "10", "", "14.1", "Windows Phone 7 and 8.x predate EAS 16.0 (published 2015-06): by release date"},
        {"Windows Mobile (Pocket PC)", "", "", "", "14.1", "Windows Mobile ended with 6.5 (2010), before EAS 16.0: by release date"},
        {"Windows Mobile (Smartphone)", "", "", "", "14.1", "Windows Mobile ended with 6.5 (2010), before EAS 16.0: by release date"},
        {"Pocket PC", "", "", "", "14.1", "Pocket PC 2002/2003 predate EAS 12.0 (2006): by release date"},
        {"Nokia Mail for Exchange", "", "", "", "14.1", "Mail for Exchange (Symbian) ended before EAS 16.0: by release date"},
    };
    // clang-format on
    return kRows;
}

std::string capability_label(const Capability& row) {
    // "0": any version, but a version there must be (see the Android row).
    if ((row.from.empty() || row.from == "0") && row.below.empty()) return row.family;
    if (row.below.empty()) return fmt::format("{} {} and later", row.family, row.from);
    if (row.from.empty()) return fmt::format("{} before {}", row.family, row.below);
    return fmt::format("{} {} to before {}", row.family, row.from, row.below);
}

const Capability* find_capability(const std::vector<Capability>& rows, std::string_view family,
                                  std::string_view client_version) {
    for (const auto& row : rows)
        if (iequals(row.family, family) && in_range(row, client_version)) return &row;
    return nullptr;
}

std::optional<std::string> first_client_speaking(const std::vector<Capability>& rows, std::string_view family,
                                                 std::string_view version) {
    std::optional<std::string> best;
    for (const auto& row : rows) {
        if (!iequals(row.family, family) || row.speaks.empty() || row.from.empty()) continue;
        if (compare_versions(row.speaks, version) < 0) continue;
        if (!best || compare_versions(row.from, *best) < 0) best = row.from;
    }
    return best;
}

const std::vector<NamedTarget>& named_targets() {
    static const std::vector<NamedTarget> kTargets = {
        {"exchange-online", "16.1",
         "Exchange Online accepts only ActiveSync 16.1 from 2026-03-01 (Exchange Team blog, 2025-12-15; MC1197103)"},
    };
    return kTargets;
}

const NamedTarget& find_named_target(std::string_view name) {
    std::string names;
    for (const auto& t : named_targets()) {
        if (iequals(t.name, name)) return t;
        names += (names.empty() ? "" : ", ") + std::string(t.name);
    }
    throw Error(ErrorCategory::usage, fmt::format("unknown target '{}'", out::printable(name)),
                fmt::format("known targets: {}; or give --target-versions LIST", names));
}

Capability parse_capability(std::string_view rest, std::string_view where) {
    std::string_view words[4];
    for (auto& w : words) w = take_word(rest);
    auto field = [](std::string_view w) { return w == "-" ? std::string() : std::string(w); };
    Capability row{.family = std::string(trim(rest)),
                   .from = field(words[0]),
                   .below = field(words[1]),
                   .speaks = field(words[2]),
                   .at_most = field(words[3]),
                   .source = std::string(where)};
    const bool versions_ok =
        (row.speaks.empty() || is_version(row.speaks)) && (row.at_most.empty() || is_version(row.at_most)) &&
        (row.speaks.empty() || row.at_most.empty() || compare_versions(row.speaks, row.at_most) <= 0);
    if (words[3].empty() || row.family.empty() || !versions_ok || (row.speaks.empty() && row.at_most.empty()))
        throw Error(ErrorCategory::data, "bad capability rule at " + out::printable(where),
                    "write 'capability FROM BELOW SPEAKS AT-MOST FAMILY' with '-' for an empty field, e.g. "
                    "'capability 6.2 - 16.1 16.1 Samsung Email'");
    return row;
}

} // namespace mbx::audit
