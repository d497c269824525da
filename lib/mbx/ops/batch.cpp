#include "mbx/ops/batch.hpp"

#include "mbx/core/output.hpp"
#include "mbx/journal/journal.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <fmt/format.h>
#include <mutex>
#include <thread>

namespace mbx::ops {

namespace {

SubjectOutcome one(SubjectContext& ctx, const std::function<ExitCode(SubjectContext&)>& work) {
    try {
        return {work(ctx), std::nullopt};
    } catch (const Error& e) {
        return {e.exit_code(), e};
    }
}

// A subject not begun because the run was asked to stop: no journal run, no work.
SubjectOutcome not_started() {
    const Error e(ErrorCategory::interrupted, "not started: the run was stopped on request",
                  "run the same command again to continue");
    return {e.exit_code(), e};
}

} // namespace

std::vector<SubjectOutcome> run_batch(const Session& session, std::size_t count, unsigned parallel,
                                      const std::function<ExitCode(SubjectContext&)>& work) {
    std::vector<SubjectOutcome> outcomes(count);
    const unsigned workers_wanted =
        static_cast<unsigned>(std::clamp<std::size_t>(parallel, 1, std::max<std::size_t>(count, 1)));
    if (workers_wanted == 1) {
        for (std::size_t i = 0; i < count; ++i) {
            SubjectContext ctx{i, session};
            outcomes[i] = session.should_stop() ? not_started() : one(ctx, work);
        }
        session.progress.finish();
        return outcomes;
    }
    const std::optional<std::filesystem::path> path =
        session.journal ? std::optional(session.journal->path()) : std::nullopt;
    std::atomic<std::size_t> next{0};
    std::exception_ptr unexpected;
    std::mutex unexpected_mutex;
    std::vector<std::thread> workers;
    for (unsigned w = 0; w < workers_wanted; ++w) {
        workers.emplace_back([&] {
            NullProgress quiet;
            std::optional<journal::Journal> own;
            for (std::size_t i; (i = next++) < count;) {
                if (session.should_stop()) {
                    outcomes[i] = not_started();
                    continue;
                }
                try {
                    if (path && !own) own.emplace(journal::Journal::open(*path));
                    const Session worker{.config = session.config,
                                         .secrets = session.secrets,
                                         .journal = own ? &*own : nullptr,
                                         .run_id = session.run_id,
                                         .progress = quiet,
                                         .dry_run = session.dry_run,
                                         .stop_requested = session.stop_requested};
                    SubjectContext ctx{i, worker};
                    outcomes[i] = one(ctx, work);
                } catch (const Error& e) {
                    outcomes[i] = {e.exit_code(), e};
                } catch (...) {
                    const std::lock_guard lock(unexpected_mutex);
                    if (!unexpected) unexpected = std::current_exception();
                    next = count; // stop handing out subjects
                }
            }
        });
    }
    for (auto& t : workers) t.join();
    session.progress.finish();
    if (unexpected) std::rethrow_exception(unexpected);
    return outcomes;
}

std::int64_t resume_run_of(journal::Journal& journal, std::string_view reference, std::string_view tool) {
    const auto run = journal.find_run_by_reference(reference);
    if (!run || run->tool != tool)
        throw Error(ErrorCategory::usage, fmt::format("no {} run '{}' in the journal", tool, out::printable(reference)),
                    fmt::format("list them with `mbx journal list --tool {}`", tool));
    return run->id;
}

std::vector<std::string> subject_argv(const std::vector<std::string>& argv,
                                      std::initializer_list<std::string_view> batch_options,
                                      std::vector<std::string> subject_args) {
    std::vector<std::string> out = std::move(subject_args);
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& w = argv[i];
        bool drop = false;
        for (const auto o : batch_options) {
            const bool short_option = o.size() == 2 && o[0] == '-' && o[1] != '-';
            if (w == o) {
                ++i; // and its value
                drop = true;
            } else if (w.size() > o.size() && w.starts_with(o) && (w[o.size()] == '=' || short_option)) {
                drop = true; // --opt=V, or -oV
            }
            if (drop) break;
        }
        if (!drop) out.push_back(w);
    }
    return out;
}

} // namespace mbx::ops
