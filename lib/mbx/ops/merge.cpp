#include "mbx/ops/merge_impl.hpp"
#include "mbx/ops/actions.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iterator>
#include <thread>
#include <tuple>

namespace mbx::ops::merge::detail {

Scan scan(imap::Connection& conn, const std::string& folder, const std::function<void(Message&&)>& take,
          const std::function<void(const Scan&)>& opened) {
    auto info = imap::select(conn, folder, true);
    Scan s{info.uidvalidity, info.uidnext.value_or(0)};
    if (opened) opened(s);
    if (info.exists == 0) return s;
    const std::string items = "(UID FLAGS INTERNALDATE RFC822.SIZE " + std::string(kFingerprintFetch) + ")";
    imap::uid_fetch(conn, "1:*", items, [&](imap::FetchItem& f) { take(message_of(f)); });
    return s;
}

Hierarchy list_folders(imap::Connection& conn) {
    auto list = imap::list_mailboxes(conn);
    auto subscribed = imap::subscribed_mailboxes(conn);
    return {folders_of(list, subscribed), namespaces_of(imap::namespaces(conn))};
}

void Merger::connect() {
    src_.reset();
    dst_.reset();
    src_.emplace(imap::Connection::open(req_.from.imap));
    if (dry_run_ && opt_.target_absent) return;
    dst_.emplace(imap::Connection::open(req_.to.imap));
    // MULTIAPPEND (RFC 3502) saves a group of messages in one transaction: Dovecot then syncs
    // its index and directory once per group instead of once per message. Streaming it needs
    // LITERAL+ (RFC 7888); LITERAL- caps literals at 4 KiB, too small for mail.
    multiappend_ = opt_.multiappend && dst_->has_capability("MULTIAPPEND") && dst_->has_capability("LITERAL+");
}

void Merger::scan_folder(FolderState& st, bool count_source) {
    FolderResult& r = st.result;
    std::vector<Message> chosen;
    std::uint64_t all = 0;
    Scan source = scan(*src_, r.plan.source, [&](Message&& m) {
        ++all;
        if (selected(m, opt_.filter)) chosen.push_back(std::move(m));
    });
    st.source_uidvalidity = source.uidvalidity;
    std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
    if (count_source) {
        r.messages = all;
        r.excluded = all - chosen.size();
    }

    // The target's messages (no bodies: ~80 bytes each), paired with the source's by
    // match_messages: first the copies APPENDUID named, then by identity. In --mode always only
    // the copies this run (or the run it resumes) made, UIDs from the baseline on, count.
    std::vector<Message> copies;
    if (st.target_exists) {
        auto opened = [&](const Scan& target) {
            st.target_uidvalidity = target.uidvalidity;
            // UIDVALIDITY 0: the folder did not exist when the run began, so all of it is ours.
            auto b = baselines_.find(r.plan.target);
            if (b != baselines_.end() && (b->second.uidvalidity == 0 || b->second.uidvalidity == target.uidvalidity))
                st.baseline = b->second.uid;
            else if (b != baselines_.end()) st.baseline = 1; // recreated since: all of it is ours
            else st.baseline = std::max<std::uint64_t>(target.uidnext, 1);
            if (b == baselines_.end()) baselines_[r.plan.target] = {target.uidvalidity, st.baseline};
        };
        scan(
            *dst_, r.plan.target,
            [&](Message&& m) {
                if (opt_.mode == Mode::missing || m.uid >= st.baseline) copies.push_back(std::move(m));
            },
            opened);
    } else {
        st.baseline = 1;
        baselines_.try_emplace(r.plan.target, Baseline{0, 1});
    }
    static const KnownCopies kNone;
    const bool known_valid =
        st.known_source_uidvalidity == st.source_uidvalidity && st.known_target_uidvalidity == st.target_uidvalidity;
    const Matching match = match_messages(chosen, copies, known_valid ? st.known : kNone);
    st.reflag.clear();
    st.resized = match.resized;
    st.resized_pairs.clear();
    for (const auto& [si, ti] : match.pairs) {
        const Message& from = chosen[si];
        const Message& copy = copies[ti];
        if (copy.uid >= st.baseline && from.flags != copy.flags) st.reflag.emplace_back(from.uid, copy.uid);
        if (from.size != copy.size && st.resized_pairs.size() < kMaxExplained)
            st.resized_pairs.emplace_back(from.uid, copy.uid);
    }
    // Copies from the baseline on (made by this run or the ones it resumes) that pair with no
    // source message though one has their identity: a second copy. Reported, never removed.
    std::set<Fingerprint> ids;
    for (const auto& m : chosen) ids.insert(m.identity.has_message_id ? m.identity.message_id : m.identity.header);
    std::vector<bool> used(copies.size());
    for (const auto& p : match.pairs) used[p.second] = true;
    st.extra = 0;
    for (std::size_t t = 0; t < copies.size(); ++t)
        if (!used[t] && !copies[t].deleted && copies[t].uid >= st.baseline &&
            ids.contains(copies[t].identity.has_message_id ? copies[t].identity.message_id : copies[t].identity.header))
            ++st.extra;
    st.todo.clear();
    st.todo.reserve(match.missing.size());
    std::uint64_t bytes = 0;
    for (auto i : match.missing) {
        st.todo.push_back({chosen[i].uid, chosen[i].size});
        bytes += chosen[i].size;
    }
    if (count_source) {
        r.present = chosen.size() - match.missing.size();
        r.to_copy = match.missing.size();
        r.bytes_to_copy = bytes;
    }
}

// The copies the resumed run, and the runs it resumed in turn, journaled with their target
// UIDs (merge.batch). Bad or foreign entries are skipped: identity still finds those copies.
void Merger::load_known() {
    std::set<std::int64_t> seen;
    for (std::optional<std::int64_t> run = req_.resume_run; run && seen.size() < 50 && seen.insert(*run).second;) {
        std::optional<std::int64_t> earlier;
        for (const auto& a : journal_->actions_of(*run)) {
            if (!a.after || !a.after->is_object()) continue;
            const json& after = *a.after;
            if (a.kind == kind::kMergePlan && after.contains("resumes_run") && after["resumes_run"].is_number_integer())
                earlier = after["resumes_run"].get<std::int64_t>();
            const std::string prefix = req_.to.label + "/";
            if (a.kind != kind::kMergeBatch || !a.subject.starts_with(prefix)) continue;
            if (a.status == journal::ActionStatus::planned) in_doubt_.insert(a.subject.substr(prefix.size()));
            if (!after.contains("target_uidvalidity") || !after.contains("source_uids")) continue;
            try {
                const auto source_uids = imap::parse_uid_set(after["source_uids"].get<std::string>(), 1u << 20);
                if (!source_uids) continue;
                std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
                if (after.contains("target_uids")) {
                    const auto target_uids = imap::parse_uid_set(after["target_uids"].get<std::string>(), 1u << 20);
                    if (!target_uids || target_uids->size() != source_uids->size()) continue;
                    for (std::size_t i = 0; i < source_uids->size(); ++i)
                        pairs.emplace_back((*source_uids)[i], (*target_uids)[i]);
                } else if (after.contains("uid_pairs")) {
                    for (const auto& p : after["uid_pairs"])
                        pairs.emplace_back(p.at(0).get<std::uint64_t>(), p.at(1).get<std::uint64_t>());
                }
                Journaled& j = journaled_[a.subject.substr(prefix.size())];
                const auto sv = after["source_uidvalidity"].get<std::uint64_t>();
                const auto tv = after["target_uidvalidity"].get<std::uint64_t>();
                if (j.source_uidvalidity != sv || j.target_uidvalidity != tv) {
                    if (!j.copies.empty() && run != req_.resume_run) continue; // a newer run's entries win
                    j = Journaled{sv, tv, {}};
                }
                for (const auto& [s, t] : pairs) j.copies.try_emplace(s, t);
            } catch (const json::exception&) {
                continue;
            }
        }
        run = earlier;
    }
}

// A run that died while sending a batch leaves the server with what it had received: a server
// goes on storing the APPENDs still in its socket buffer after the client is gone (and Dovecot's
// IMAPSieve commits each rewritten copy on its own). Scanning before that ends would copy those
// messages a second time; so the folder is watched (STATUS MESSAGES UIDNEXT) until it has not
// changed for opt_.settle_quiet, at most opt_.settle_max.
void Merger::settle(const std::string& folder) {
    progress_.update("wait for " + folder + " to settle after the interrupted run", 0, 0);
    const auto deadline = Clock::now() + opt_.settle_max;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> last;
    auto quiet_since = Clock::now();
    for (;;) {
        imap::StatusEntry info;
        try {
            info = imap::status(*dst_, folder, {"MESSAGES", "UIDNEXT"});
        } catch (const Error& e) {
            // The wait is a precaution: a server that cannot answer STATUS now is left to the
            // scan, which says what is wrong (and is retried where the copy is).
            if (e.category() == ErrorCategory::interrupted) throw;
            connect();
            return;
        }
        const std::pair<std::uint64_t, std::uint64_t> now{info.get("MESSAGES").value_or(0),
                                                          info.get("UIDNEXT").value_or(0)};
        if (now != last) {
            last = now;
            quiet_since = Clock::now();
        } else if (Clock::now() - quiet_since >= opt_.settle_quiet) {
            return;
        }
        if (Clock::now() >= deadline) return;
        session_.throw_if_stopped();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

void Merger::plan() {
    auto source = list_folders(*src_);
    // A target not made yet is on the source's server: its namespaces are the source's.
    auto target = dst_ ? list_folders(*dst_) : Hierarchy{{}, source.namespaces};
    auto plans = plan_folders(source, target, opt_.folders);
    result_.foreign = std::move(plans.foreign);
    for (auto& p : plans.folders) {
        if (!dst_ && p.reason == "inbox") p.create = false; // made by the first login
        FolderState st;
        if (const auto j = journaled_.find(p.target); j != journaled_.end()) {
            st.known = j->second.copies;
            st.known_source_uidvalidity = j->second.source_uidvalidity;
            st.known_target_uidvalidity = j->second.target_uidvalidity;
        }
        st.target_exists = dst_ && !p.create;
        st.result.plan = std::move(p);
        folders_.push_back(std::move(st));
    }
    for (auto& st : folders_) {
        session_.throw_if_stopped();
        if (st.target_exists && in_doubt_.contains(st.result.plan.target)) settle(st.result.plan.target);
        progress_.update("scan " + st.result.plan.source, 0, 0);
        try {
            scan_folder(st, true);
        } catch (const Error& e) {
            // A folder the server will not open fails alone; a fresh connection for the next
            // (the refused command may have left this one in any state).
            if (!folder_error(e)) throw;
            st.result.status = FolderStatus::failed;
            st.result.error = e.one_line();
            st.skip = true;
            connect();
            continue;
        }
        total_to_copy_ += st.result.to_copy;
        total_bytes_ += st.result.bytes_to_copy;
    }
}

void Merger::preflight() {
    if (total_bytes_ == 0 || !dst_) return;
    if (!dst_->has_capability("QUOTA")) return;
    const imap::QuotaRootInfo info = imap::get_quota_root(*dst_, "INBOX");
    for (const auto& q : info.quotas) {
        const imap::QuotaResource* storage = q.find("STORAGE");
        if (storage && storage->limit > 0) {
            const std::uint64_t free = storage->limit > storage->usage ? storage->limit - storage->usage : 0;
            if (total_bytes_ > free) {
                const std::uint64_t short_by = total_bytes_ - free;
                const std::uint64_t mib = (short_by + (1u << 20) - 1) >> 20;
                throw Error(
                    ErrorCategory::temporary,
                    fmt::format("cannot merge into {}: {} to copy, but its quota leaves {} free ({} of {} used)",
                                in_quotes(req_.to.label), human_bytes(total_bytes_), human_bytes(free),
                                human_bytes(storage->usage), human_bytes(storage->limit)),
                    fmt::format("raise the quota with `mbx quota raise {} --by {}M` (or more), or copy "
                                "anyway with --force",
                                req_.to.imap.user, mib));
            }
        }
        const imap::QuotaResource* count = q.find("MESSAGE");
        if (count && count->limit > 0 && total_to_copy_ > count->limit - std::min(count->limit, count->usage))
            throw Error(ErrorCategory::temporary,
                        fmt::format("cannot merge into {}: {} messages to copy, but its message quota leaves {}",
                                    in_quotes(req_.to.label), total_to_copy_,
                                    count->limit - std::min(count->limit, count->usage)),
                        "raise the message limit of the target, or copy anyway with --force");
    }
}

void Merger::journal_plan() {
    if (!journal_) return;
    json folders = json::array();
    for (const auto& st : folders_) {
        const auto& r = st.result;
        json f = {{"source", r.plan.source}, {"target", r.plan.target}, {"create", r.plan.create},
                  {"reason", r.plan.reason}, {"messages", r.messages},  {"excluded", r.excluded},
                  {"present", r.present},    {"to_copy", r.to_copy},    {"bytes_to_copy", r.bytes_to_copy}};
        f["target_uidvalidity"] = st.target_uidvalidity;
        f["baseline_uid"] = st.baseline;
        if (!r.error.empty()) f["error"] = r.error;
        folders.push_back(std::move(f));
    }
    json after = {{"from", req_.from.label},
                  {"to", req_.to.label},
                  {"mode", opt_.mode == Mode::always ? "always" : "missing"},
                  {"to_copy", total_to_copy_},
                  {"bytes_to_copy", total_bytes_},
                  {"folders", std::move(folders)}};
    if (req_.resume_run) after["resumes_run"] = *req_.resume_run;
    if (!result_.foreign.empty()) {
        json foreign = json::array();
        for (const auto& f : result_.foreign)
            foreign.push_back({{"folder", f.name}, {"namespace", namespace_kind_name(f.kind)}});
        after["not_merged"] = std::move(foreign);
    }
    journal_->add_action(run_id_, {.kind = kind::kMergePlan,
                                   .subject = pair(),
                                   .after = std::move(after),
                                   .status = dry_run_ ? journal::ActionStatus::planned : journal::ActionStatus::done});
}

void Merger::backoff(int attempt, const Error& why) {
    ++result_.retries;
    auto wait = opt_.backoff * (1 << std::min(attempt, 5));
    wait = std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(30));
    progress_.update(fmt::format("retry {}/{} in {}s: {}", attempt + 1, opt_.retries, wait.count() / 1000,
                                 out::printable(why.what()).substr(0, 60)),
                     copied_, total_to_copy_);
    for (auto until = Clock::now() + wait; Clock::now() < until;) {
        session_.throw_if_stopped();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

// How the target changed the copies whose sizes differ from their source's: their headers
// side by side (the first kMaxExplained of a folder). Both folders are selected by the scan.

ExitCode Merger::outcome() const {
    if (result_.stopped) return result_.stopped->exit_code();
    for (const auto& st : folders_) {
        const auto& r = st.result;
        if (r.failed > 0 || r.missing.value_or(0) > 0 || r.status != FolderStatus::ok) return ExitCode::data;
    }
    return ExitCode::ok;
}

// A resumed run's baselines (the target's UIDNEXT when the first run began) and the copies it
// journaled.
void Merger::load_resumed() {
    if (!req_.resume_run || !journal_) return;
    for (const auto& a : journal_->actions_of(*req_.resume_run)) {
        if (a.kind != kind::kMergePlan || !a.after || !a.after->contains("folders")) continue;
        for (const auto& f : (*a.after)["folders"])
            if (f.contains("baseline_uid"))
                baselines_[f["target"].get<std::string>()] = {f["target_uidvalidity"].get<std::uint64_t>(),
                                                              f["baseline_uid"].get<std::uint64_t>()};
    }
    load_known();
}

// A dry run's result: the plan, and whether the real run would be refused. Nothing is written.
Result Merger::plan_only() {
    if (!opt_.force) {
        try {
            preflight();
        } catch (const Error& e) {
            result_.stopped = e;
        }
    }
    journal_plan();
    for (auto& st : folders_) {
        st.result.created = st.result.plan.create;
        result_.folders.push_back(st.result);
    }
    result_.exit = result_.stopped ? result_.stopped->exit_code() : ExitCode::ok;
    // A folder the server would not open fails the real run too: say so now.
    if (result_.exit == ExitCode::ok &&
        std::any_of(folders_.begin(), folders_.end(), [](const FolderState& st) { return st.skip; }))
        result_.exit = ExitCode::data;
    result_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return result_;
}

// Each folder is one action of the executor (ops::apply): journaled `planned` just before it is
// copied, then `done` with what was copied, or `failed` with what was copied and why. A folder
// the run never reached has no action. A Stop passes through as the error it carries, and on.
void Merger::copy_folders() {
    for (auto& st : folders_) {
        if (st.skip) continue;
        std::optional<Stop> stop;
        PlannedAction folder{.kind = kind::kMergeFolder,
                             .subject = req_.to.label + "/" + st.result.plan.target,
                             .before = json{{"source_folder", st.result.plan.source},
                                            {"target_exists", st.target_exists},
                                            {"target_uidvalidity", st.target_uidvalidity}},
                             .apply =
                                 [&] {
                                     try {
                                         copy_with_retries(st);
                                     } catch (const Stop& s) {
                                         stop = s;
                                         throw s.error;
                                     }
                                 },
                             .made = [&]() -> std::optional<json> {
                                 json after{{"copied", st.result.copied}, {"failed", st.result.failed}};
                                 if (st.done) after["bytes_copied"] = st.result.bytes_copied;
                                 return after;
                             }};
        try {
            ops::apply(session_, {std::move(folder)});
        } catch (const Error& e) {
            if (stop) throw *stop;
            if (!folder_error(e)) throw;
            // The server refused this folder (CREATE, SELECT, a write): it fails with its own
            // error, journaled by apply(); the next folder starts on fresh connections.
            st.result.error = e.one_line();
            st.result.status = FolderStatus::failed;
            pending_.clear();
            open_group_.reset();
            batches_.clear();
            connect();
        }
    }
}

// One folder copied, reconnecting (and scanning again) on a dropped connection or throttling.
void Merger::copy_with_retries(FolderState& st) {
    for (int attempt = 0;; ++attempt) {
        try {
            if (attempt > 0) {
                connect();
                // What the broken connection had sent may still be being stored.
                if (st.target_exists) settle(st.result.plan.target);
                scan_folder(st, false);
            }
            copy_folder(st);
            break;
        } catch (const Transient& t) {
            if (attempt >= opt_.retries) throw Stop{t.error};
            pending_.clear();
            open_group_.reset();
            batches_.clear(); // journaled planned: in doubt
            backoff(attempt, t.error);
        } catch (const Error& e) {
            if (!retryable(e) || attempt >= opt_.retries) throw;
            pending_.clear();
            open_group_.reset();
            batches_.clear();
            backoff(attempt, e);
        }
    }
    st.done = true;
    st.result.status = st.result.failed > 0 ? FolderStatus::incomplete : FolderStatus::ok;
}

void Merger::verify_with_retries() {
    for (int attempt = 0;; ++attempt) {
        try {
            if (attempt > 0) connect();
            verify();
            return;
        } catch (const Error& e) {
            if (!retryable(e) || attempt >= opt_.retries) throw;
            backoff(attempt, e);
        }
    }
}

// Each folder's final status in the result (copy_folders journaled the folders it began).
void Merger::finish_folders() {
    for (auto& st : folders_) {
        if (!st.done) st.result.status = FolderStatus::failed;
        else if (st.result.missing.value_or(0) > 0) st.result.status = FolderStatus::incomplete;
        result_.folders.push_back(st.result);
    }
}

void Merger::logout() {
    for (auto* side : {&src_, &dst_}) {
        if (!*side) continue;
        try {
            (*side)->logout();
        } catch (const Error&) {
        }
    }
}

Result Merger::run() {
    load_resumed();
    connect();
    plan();
    if (dry_run_) return plan_only();
    if (!opt_.force) preflight();
    journal_plan();
    throttle_start_ = Clock::now();
    try {
        copy_folders();
        if (opt_.verify) verify_with_retries();
    } catch (const Stop& s) {
        result_.stopped = s.error;
    } catch (const Error& e) {
        if (!writes_started_) throw;
        result_.stopped = e;
    }
    finish_folders();
    logout();
    result_.exit = outcome();
    result_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return result_;
}

} // namespace mbx::ops::merge::detail

namespace mbx::ops::merge {

Result run(const Session& session, const Request& request) {
    if (session.journal && !session.run_id) throw Error(ErrorCategory::internal, "a journaled merge needs its run");
    detail::Merger m(session, request);
    return m.run();
}

} // namespace mbx::ops::merge
