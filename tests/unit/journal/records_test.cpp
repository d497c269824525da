#include "mbx/journal/records.hpp"

#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>

using namespace mbx::journal;
using namespace std::chrono;

TEST_CASE("run and action statuses round-trip through their stable strings", "[journal]") {
    for (auto s : {RunStatus::running, RunStatus::ok, RunStatus::warning, RunStatus::critical, RunStatus::failed,
                   RunStatus::interrupted})
        CHECK(parse_run_status(to_string(s)) == s);
    for (auto s :
         {ActionStatus::planned, ActionStatus::done, ActionStatus::failed, ActionStatus::skipped, ActionStatus::undone})
        CHECK(parse_action_status(to_string(s)) == s);
    CHECK(to_string(RunStatus::interrupted) == "interrupted");
    CHECK(to_string(ActionStatus::undone) == "undone");
}

TEST_CASE("an unknown status is a usage error listing the valid ones", "[journal]") {
    try {
        parse_run_status("Done");
        FAIL("no exception");
    } catch (const mbx::Error& e) {
        CHECK(e.category() == mbx::ErrorCategory::usage);
        CHECK(std::string(e.what()) == "unknown run status 'Done'");
        CHECK(e.hint().find("interrupted") != std::string::npos);
    }
    CHECK_THROWS_AS(parse_action_status(""), mbx::Error);
}

TEST_CASE("timestamps are ISO 8601 UTC with milliseconds", "[journal]") {
    TimePoint t = sys_days{year{2026} / 11 / 24} + hours{18} + minutes{52} + seconds{3} + milliseconds{123};
    CHECK(format_timestamp(t) == "2026-11-24T18:52:03.123Z");
    CHECK(format_timestamp(sys_days{year{1970} / 1 / 1} - milliseconds{1}) == "1969-12-31T23:59:59.999Z");
    CHECK(parse_timestamp("2026-11-24T18:52:03.123Z") == t);
    CHECK(parse_timestamp("2026-11-24 18:52:03.123") == t);
    CHECK(parse_timestamp("2026-11-24T18:52:03Z") == t - milliseconds{123});
    CHECK(parse_timestamp("2026-11-24T18:52") == t - seconds{3} - milliseconds{123});
    CHECK(parse_timestamp("2026-11-24") == TimePoint(sys_days{year{2026} / 11 / 24}));
    CHECK(parse_timestamp(format_timestamp(t)) == t);
}

TEST_CASE("malformed timestamps are refused, not guessed", "[journal]") {
    for (const char* bad : {"", "2026", "2026-11", "2026-13-01", "2026-02-30", "2026-11-24T", "2026-11-24T18",
                            "2026-11-24T18:52:03.", "2026-11-24x", "yesterday", "2026-11-24T18:52:03+02:00"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_timestamp(bad), mbx::Error);
    }
}
