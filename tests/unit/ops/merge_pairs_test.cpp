#include "mbx/ops/merge.hpp"

#include <catch2/catch.hpp>

using mbx::Error;
using mbx::ErrorCategory;
using mbx::ExitCode;
namespace merge = mbx::ops::merge;

namespace {

merge::FolderResult folder(std::uint64_t to_copy, std::uint64_t copied, std::optional<std::uint64_t> missing) {
    merge::FolderResult f;
    f.messages = to_copy + 10;
    f.to_copy = to_copy;
    f.bytes_to_copy = to_copy * 1000;
    f.copied = copied;
    f.bytes_copied = copied * 1000;
    f.missing = missing;
    f.status = mbx::ops::merge::FolderStatus::ok;
    return f;
}

} // namespace

TEST_CASE("merge totals: sums over folders and pairs, the worst exit, the longest pair", "[merge]") {
    merge::Result a;
    a.folders = {folder(5, 5, 0), folder(3, 3, 0)};
    a.folders[1].normalised = 2;
    a.folders[1].normalised_how = {{"header added: x-spam", 2}};
    a.seconds = 4;
    merge::Result b;
    b.folders = {folder(7, 6, 1)};
    b.folders[0].failed = 1;
    b.folders[0].flags_fixed = 3;
    b.folders[0].extra = 1;
    b.exit = ExitCode::data;
    b.seconds = 9;
    const std::vector<merge::PairOutcome> outcomes{{{"alice", "alice2"}, a, std::nullopt, ExitCode::ok},
                                                   {{"bob", "bob2"}, b, std::nullopt, ExitCode::data}};
    const merge::Totals t = merge::totals_of(outcomes);
    CHECK(t.worst == ExitCode::data);
    CHECK(t.pairs == 2);
    CHECK(t.pairs_ok == 1);
    CHECK(t.folders == 3);
    CHECK(t.to_copy == 15);
    CHECK(t.copied == 14);
    CHECK(t.bytes_copied == 14000);
    CHECK(t.failed == 1);
    CHECK(t.missing == 1);
    CHECK(t.flags_fixed == 3);
    CHECK(t.normalised == 2);
    CHECK(t.extra == 1);
    CHECK(t.seconds == 9);
    CHECK(t.verified_all);
    CHECK(merge::summary_of(t, false) ==
          "14 of 15 messages copied (13.7 KiB) in 9.0s; 1 failed, 1 missing; 1 of 2 pairs verified complete; flags "
          "of 3 copies from the interrupted run set again as on the source; 1 second copies on the target (a server "
          "stored an interrupted run's messages after this run looked; none removed); 2 copies present though the "
          "target's server changed their bytes (header added: x-spam ×2)");
    // One merge alone sums the same way.
    const merge::Totals one = merge::totals_of(b);
    CHECK(one.copied == 6);
    CHECK(one.pairs_ok == 0);
    CHECK(one.worst == ExitCode::data);
}

TEST_CASE("merge totals: a pair that failed before any write, or a folder not verified", "[merge]") {
    merge::Result a;
    a.folders = {folder(2, 2, std::nullopt)}; // --no-verify
    const std::vector<merge::PairOutcome> outcomes{
        {{"alice", "alice2"}, a, std::nullopt, ExitCode::ok},
        {{"carol", "carol2"}, std::nullopt, Error(ErrorCategory::auth, "login refused"), ExitCode::auth}};
    const merge::Totals t = merge::totals_of(outcomes);
    CHECK(t.worst == ExitCode::auth);
    CHECK(t.pairs == 2);
    CHECK(t.folders == 1);
    CHECK_FALSE(t.verified_all);
    CHECK(merge::summary_of(t, false) ==
          "2 of 2 messages copied (2.0 KiB) in 0.0s; 0 failed, not all verified; 1 of 2 pairs verified complete");
    CHECK(merge::summary_of(t, true) == "dry run: 2 messages (2.0 KiB) to copy in 1 folders; nothing written");
}

TEST_CASE("merge counts text: how a server changed bytes, with counts", "[merge]") {
    CHECK(merge::counts_text({}).empty());
    CHECK(merge::counts_text({{"body changed", 1}, {"header added: x-a", 4}}) ==
          "body changed ×1, header added: x-a ×4");
}
