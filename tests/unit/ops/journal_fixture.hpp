#pragma once
// A journal in a throwaway directory and sessions on it: what the tests of the executor (apply,
// apply_batch, a resumed run's apply) start from.

#include "mbx/core/config.hpp"
#include "mbx/core/progress.hpp"
#include "mbx/core/session.hpp"
#include "mbx/journal/journal.hpp"
#include "../test_support.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mbx::test {

struct JournalFixture {
    TempDir tmp;
    journal::Journal journal = journal::Journal::open(tmp / "j.sqlite");
    NullProgress progress;
    config::Config cfg;

    /// A session journaling to `run`.
    Session session_in(std::int64_t run, bool dry_run = false) {
        return {
            .config = cfg, .secrets = {}, .journal = &journal, .run_id = run, .progress = progress, .dry_run = dry_run};
    }
    /// The actions of `run` in order, each "KIND SUBJECT STATUS" (without the kind unless
    /// `with_kind`), and ": ERROR" after it when `with_error` and the action has one.
    std::vector<std::string> statuses(std::int64_t run, bool with_kind = true, bool with_error = false) {
        std::vector<std::string> out;
        for (const auto& a : journal.actions_of(run))
            out.push_back((with_kind ? a.kind + " " : std::string()) + a.subject + " " +
                          std::string(journal::to_string(a.status)) + (with_error && a.error ? ": " + *a.error : ""));
        return out;
    }
};

} // namespace mbx::test
