#include "mbx/ops/merge.hpp"

#include "mbx/core/interrupt.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <fmt/format.h>
#include <iterator>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

namespace mbx::ops::merge {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// Byte counts for messages, through the one formatter the sinks use.
std::string human_bytes(std::uint64_t n) { return out::human_bytes(static_cast<std::int64_t>(n)); }

// A throttling answer or a dropped connection: reconnect, rescan, go on.
struct Transient {
    Error error;
};

// The run must stop after the current batch (over quota, error budget, interrupt).
struct Stop {
    Error error;
};

bool retryable(const Error& e) { return e.category() == ErrorCategory::unavailable; }

// One folder's scan: every message, no bodies, each handed to `take` as it arrives.
struct Scan {
    std::uint64_t uidvalidity = 0;
    std::uint64_t uidnext = 0;
};

// `opened` learns the folder's UIDVALIDITY and UIDNEXT before the first message arrives.
Scan scan(imap::Connection& conn, const std::string& folder, const std::function<void(Message&&)>& take,
          const std::function<void(const Scan&)>& opened = {}) {
    auto info = imap::select(conn, folder, true);
    Scan s{info.uidvalidity, info.uidnext.value_or(0)};
    if (opened) opened(s);
    if (info.exists == 0) return s;
    const std::string items = "(UID FLAGS INTERNALDATE RFC822.SIZE " + std::string(kFingerprintFetch) + ")";
    imap::uid_fetch(conn, "1:*", items, [&](imap::FetchItem& f) { take(message_of(f)); });
    return s;
}

std::vector<Folder> list_folders(imap::Connection& conn) {
    auto list = imap::list_mailboxes(conn);
    auto subscribed = imap::subscribed_mailboxes(conn);
    return folders_of(list, subscribed);
}

// What is left to copy of one folder.
struct Todo {
    std::uint64_t uid = 0;
    std::uint64_t size = 0;
};

// Per folder: the result being built and the copy state.
struct FolderState {
    FolderResult result;
    bool target_exists = false;
    std::uint64_t target_uidvalidity = 0;
    std::uint64_t baseline = 1; ///< target UIDs from here on were copied by this run (or the one it resumes)
    std::uint64_t source_uidvalidity = 0;
    std::vector<Todo> todo;
    /// Copies made by this run whose flags differ from their source message's: (source UID,
    /// target UID). A server that crashed while storing them can have lost keyword names.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> reflag;
    /// The copies of this run (and of the run it resumes) that APPENDUID named: source UID ->
    /// target UID, valid while both folders keep these UIDVALIDITYs.
    KnownCopies known;
    std::uint64_t known_source_uidvalidity = 0, known_target_uidvalidity = 0;
    /// From the last scan: pairs whose sizes differ (the target changed the bytes), the first
    /// kMaxExplained of them as (source UID, target UID) to say how.
    std::uint64_t resized = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> resized_pairs;
    std::uint64_t extra = 0; ///< from the last scan: second copies made by this run or the ones it resumes
    std::int64_t action = 0;
    bool done = false;
};

// How a copy's header differs from its source's: "header added: X-Name" (the first field the
// target has and the source has not), "header rewritten", or "body changed" (equal headers).
std::string describe_change(std::string_view source, std::string_view target) {
    auto names = [](std::string_view header) {
        std::multiset<std::string> out;
        for (std::size_t pos = 0; pos < header.size();) {
            std::size_t eol = header.find('\n', pos);
            if (eol == std::string_view::npos) eol = header.size();
            std::string_view line = header.substr(pos, eol - pos);
            pos = eol + 1;
            const auto colon = line.find(':');
            if (line.empty() || line.front() == ' ' || line.front() == '\t' || colon == std::string_view::npos) continue;
            out.insert(ascii_lower(trim(line.substr(0, colon))));
        }
        return out;
    };
    const auto from = names(source), to = names(target);
    std::vector<std::string> added;
    std::set_difference(to.begin(), to.end(), from.begin(), from.end(), std::back_inserter(added));
    if (!added.empty()) return "header added: " + added.front();
    if (source == target) return "body changed";
    return "header rewritten";
}

struct Baseline {
    std::uint64_t uidvalidity = 0;
    std::uint64_t uid = 1;
};

// Known copies journaled by a run, per target folder.
struct Journaled {
    std::uint64_t source_uidvalidity = 0, target_uidvalidity = 0;
    KnownCopies copies;
};

// At most this many changed copies per folder are compared header to header (two FETCHes of
// headers each) to say how the target changed them.
constexpr std::size_t kMaxExplained = 50;
// At most this many missing messages per folder are named (folder, UID, Message-ID, date,
// subject) in the output and the journal; the count is always whole.
constexpr std::size_t kMaxNamedMissing = 1000;

class Merger {
public:
    Merger(const Request& req, Progress& progress) : req_(req), opt_(req.options), progress_(progress) {}

    Result run();

private:
    void connect();
    void plan();
    void scan_folder(FolderState& st, bool count_source);
    void preflight();
    void journal_plan();
    void copy_folder(FolderState& st);
    void fix_flags(FolderState& st);
    void copy_batch(FolderState& st, const std::vector<Todo>& todo, bool multi);
    void drain(FolderState& st);
    void finish_batch(FolderState& st, std::uint64_t id);
    void send(FolderState& st, imap::FetchItem& f, std::uint64_t uid, bool multi);
    void explain(FolderState& st);
    void name_missing(FolderState& st);
    void load_known();
    void settle(const std::string& folder);
    void close_group();
    void complete_one(FolderState& st);
    void verify();
    void throttle(std::uint64_t size);
    void backoff(int attempt, const Error& why);
    void show(const FolderState& st);
    ExitCode outcome() const;
    std::string pair() const { return req_.from.label + " -> " + req_.to.label; }

    const Request& req_;
    const Options& opt_;
    Progress& progress_;
    std::optional<imap::Connection> src_, dst_;
    std::vector<FolderState> folders_;
    std::map<std::string, Baseline> baselines_; // by target folder
    std::map<std::string, Journaled> journaled_; // by target folder, from the resumed runs
    std::set<std::string> in_doubt_; // target folders where a resumed run died while sending
    Result result_;
    Clock::time_point start_ = Clock::now();
    std::uint64_t total_to_copy_ = 0, total_bytes_ = 0, copied_ = 0, copied_bytes_ = 0;
    std::uint64_t throttled_messages_ = 0, throttled_bytes_ = 0;
    Clock::time_point throttle_start_ = Clock::now();
    std::optional<Error> stopping_;
    bool writes_started_ = false;

    // One message sent in an APPEND whose completion is awaited.
    struct Sent {
        std::uint64_t uid = 0;
        std::uint64_t size = 0;
        std::string message_id;
    };
    // One APPEND command in flight: one message, or many with MULTIAPPEND (all or none).
    struct Group {
        std::string tag;
        std::vector<Sent> messages;
        std::uint64_t bytes = 0;
        std::uint64_t batch = 0; ///< the batch it belongs to (batches_)
    };
    std::deque<Group> pending_;
    // A batch whose APPENDs may still be in flight: it is journaled done when its last group
    // completes, so the next batch's FETCH overlaps the target's commit of this one.
    struct Batch {
        std::int64_t action = 0;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> copied; ///< (source UID, target UID or 0)
        std::uint64_t bytes = 0;
        std::size_t groups = 0; ///< groups sent and not completed
        bool sent = false;      ///< every group of it is sent
    };
    std::map<std::uint64_t, Batch> batches_;
    std::uint64_t next_batch_ = 0, current_batch_ = 0;
    void handle_completion(FolderState& st, Group& g, const imap::Response& r);
    std::optional<Group> open_group_; // a MULTIAPPEND still being streamed
    bool multiappend_ = false;         // the target has MULTIAPPEND and LITERAL+
    std::vector<std::uint64_t> retry_single_; // UIDs of a refused MULTIAPPEND, to send one by one
};

void Merger::connect() {
    src_.reset();
    dst_.reset();
    src_.emplace(imap::Connection::open(req_.from.imap));
    if (opt_.dry_run && opt_.target_absent) return;
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
    const bool known_valid = st.known_source_uidvalidity == st.source_uidvalidity &&
                             st.known_target_uidvalidity == st.target_uidvalidity;
    const Matching match = match_messages(chosen, copies, known_valid ? st.known : kNone);
    st.reflag.clear();
    st.resized = match.resized;
    st.resized_pairs.clear();
    for (const auto& [si, ti] : match.pairs) {
        const Message& from = chosen[si];
        const Message& copy = copies[ti];
        if (copy.uid >= st.baseline && from.flags != copy.flags) st.reflag.emplace_back(from.uid, copy.uid);
        if (from.size != copy.size && st.resized_pairs.size() < kMaxExplained) st.resized_pairs.emplace_back(from.uid, copy.uid);
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
        for (const auto& a : req_.journal->actions_of(*run)) {
            if (!a.after || !a.after->is_object()) continue;
            const json& after = *a.after;
            if (a.kind == "merge.plan" && after.contains("resumes_run") && after["resumes_run"].is_number_integer())
                earlier = after["resumes_run"].get<std::int64_t>();
            const std::string prefix = req_.to.label + "/";
            if (a.kind != "merge.batch" || !a.subject.starts_with(prefix)) continue;
            if (a.status == journal::ActionStatus::planned) in_doubt_.insert(a.subject.substr(prefix.size()));
            if (!after.contains("target_uidvalidity") || !after.contains("source_uids")) continue;
            try {
                const auto source_uids = imap::parse_uid_set(after["source_uids"].get<std::string>(), 1u << 20);
                if (!source_uids) continue;
                std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
                if (after.contains("target_uids")) {
                    const auto target_uids = imap::parse_uid_set(after["target_uids"].get<std::string>(), 1u << 20);
                    if (!target_uids || target_uids->size() != source_uids->size()) continue;
                    for (std::size_t i = 0; i < source_uids->size(); ++i) pairs.emplace_back((*source_uids)[i], (*target_uids)[i]);
                } else if (after.contains("uid_pairs")) {
                    for (const auto& p : after["uid_pairs"]) pairs.emplace_back(p.at(0).get<std::uint64_t>(), p.at(1).get<std::uint64_t>());
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
        const std::pair<std::uint64_t, std::uint64_t> now{info.get("MESSAGES").value_or(0), info.get("UIDNEXT").value_or(0)};
        if (now != last) {
            last = now;
            quiet_since = Clock::now();
        } else if (Clock::now() - quiet_since >= opt_.settle_quiet) {
            return;
        }
        if (Clock::now() >= deadline) return;
        throw_if_interrupted();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

void Merger::plan() {
    auto source = list_folders(*src_);
    auto target = dst_ ? list_folders(*dst_) : std::vector<Folder>{};
    for (auto& p : plan_folders(source, target, opt_.folders)) {
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
        throw_if_interrupted();
        if (st.target_exists && in_doubt_.contains(st.result.plan.target)) settle(st.result.plan.target);
        progress_.update("scan " + st.result.plan.source, 0, 0);
        scan_folder(st, true);
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
                throw Error(ErrorCategory::temporary,
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
    if (!req_.journal) return;
    json folders = json::array();
    for (const auto& st : folders_) {
        const auto& r = st.result;
        json f = {{"source", r.plan.source},       {"target", r.plan.target},   {"create", r.plan.create},
                  {"reason", r.plan.reason},       {"messages", r.messages},    {"excluded", r.excluded},
                  {"present", r.present},          {"to_copy", r.to_copy},      {"bytes_to_copy", r.bytes_to_copy}};
        f["target_uidvalidity"] = st.target_uidvalidity;
        f["baseline_uid"] = st.baseline;
        folders.push_back(std::move(f));
    }
    json after = {{"from", req_.from.label},
                  {"to", req_.to.label},
                  {"mode", opt_.mode == Mode::always ? "always" : "missing"},
                  {"to_copy", total_to_copy_},
                  {"bytes_to_copy", total_bytes_},
                  {"folders", std::move(folders)}};
    if (req_.resume_run) after["resumes_run"] = *req_.resume_run;
    req_.journal->add_action(req_.run_id, {.kind = "merge.plan",
                                           .subject = pair(),
                                           .after = std::move(after),
                                           .status = opt_.dry_run ? journal::ActionStatus::planned
                                                                  : journal::ActionStatus::done});
}

void Merger::throttle(std::uint64_t size) {
    ++throttled_messages_;
    throttled_bytes_ += size;
    double wait = 0;
    if (opt_.max_messages_per_second > 0) wait = throttled_messages_ / opt_.max_messages_per_second;
    if (opt_.max_bytes_per_second > 0)
        wait = std::max(wait, static_cast<double>(throttled_bytes_) / static_cast<double>(opt_.max_bytes_per_second));
    if (wait <= 0) return;
    auto until = throttle_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait));
    if (until > Clock::now()) std::this_thread::sleep_until(until);
}

void Merger::show(const FolderState& st) {
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    std::string detail = fmt::format("{}, {}/s", human_bytes(copied_bytes_),
                                     human_bytes(secs > 0 ? static_cast<std::uint64_t>(copied_bytes_ / secs) : 0));
    if (secs > 1 && copied_ > 0 && total_to_copy_ > copied_) {
        const double eta = secs * static_cast<double>(total_to_copy_ - copied_) / static_cast<double>(copied_);
        detail += fmt::format(", ETA {}s", static_cast<std::uint64_t>(eta));
    }
    if (result_.retries > 0) detail += fmt::format(", {} retries", result_.retries);
    progress_.update("copy " + st.result.plan.source, copied_, total_to_copy_, detail);
}

void Merger::complete_one(FolderState& st) {
    Group g = std::move(pending_.front());
    pending_.pop_front();
    const imap::Response r = dst_->wait(g.tag);
    handle_completion(st, g, r); // may throw Transient: the batch then stays planned (in doubt)
    auto b = batches_.find(g.batch);
    if (b != batches_.end() && --b->second.groups == 0 && b->second.sent) finish_batch(st, g.batch);
}

void Merger::handle_completion(FolderState& st, Group& g, const imap::Response& r) {
    FolderResult& fr = st.result;
    auto& copied = batches_[g.batch].copied;
    if (r.ok()) {
        // UIDPLUS: the server says which UID each copy got; resume, verification and flag
        // repair of these copies then need no identity at all.
        const auto ids = imap::append_uids(r.code, g.messages.size());
        if (ids && (ids->uidvalidity != st.known_target_uidvalidity || st.known_source_uidvalidity != st.source_uidvalidity)) {
            st.known.clear();
            st.known_target_uidvalidity = ids->uidvalidity;
            st.known_source_uidvalidity = st.source_uidvalidity;
        }
        for (std::size_t i = 0; i < g.messages.size(); ++i) {
            const auto& m = g.messages[i];
            ++fr.copied;
            fr.bytes_copied += m.size;
            ++copied_;
            copied_bytes_ += m.size;
            copied.emplace_back(m.uid, ids ? ids->uids[i] : 0);
            batches_[g.batch].bytes += m.size;
            if (ids) st.known[m.uid] = ids->uids[i];
        }
        return;
    }
    const std::string code = ascii_upper(r.code.substr(0, r.code.find(' ')));
    Error error = imap::command_error("append to " + in_quotes(fr.plan.target), r);
    if (code == "OVERQUOTA" && g.messages.size() > 1) {
        // The group is one transaction: none of it was saved. One by one, the target takes
        // what still fits (--force fills it up), and the first refusal stops the run.
        for (const auto& m : g.messages) retry_single_.push_back(m.uid);
        return;
    }
    if (code == "OVERQUOTA") {
        if (!stopping_)
            stopping_ = Error(ErrorCategory::temporary,
                              fmt::format("stopped: the target mailbox {} is over quota", in_quotes(req_.to.label)),
                              fmt::format("raise the quota with `mbx quota raise {} --by SIZE`, then run the same "
                                          "command again: it continues where it stopped",
                                          req_.to.imap.user));
        return;
    }
    // [LIMIT] on one message is a refusal of that message (Dovecot's quota_max_mail_size says
    // "NO [LIMIT] Mail size is larger than the maximum size"; RFC 7889's [TOOBIG] likewise):
    // reported and skipped, never retried in this run. A group gets split first.
    const bool refused_message = code == "LIMIT" || code == "TOOBIG";
    if (!refused_message && (code == "UNAVAILABLE" || code == "INUSE" || code == "SERVERBUG" || code == "THROTTLED"))
        throw Transient{error};
    if (g.messages.size() > 1) {
        // A MULTIAPPEND is all or nothing: find the message the target refuses one by one.
        for (const auto& m : g.messages) retry_single_.push_back(m.uid);
        return;
    }
    ++fr.failed;
    result_.rejected.push_back({fr.plan.source, g.messages.front().uid, g.messages.front().message_id, error.what()});
    if (result_.rejected.size() > opt_.errors_max && !stopping_)
        stopping_ = Error(ErrorCategory::data,
                          fmt::format("stopped: the target rejected {} messages (--errors-max {})",
                                      result_.rejected.size(), opt_.errors_max),
                          "see the rejected messages in the output; fix them or raise --errors-max");
}

void Merger::close_group() {
    if (!open_group_) return;
    dst_->send_raw("\r\n");
    pending_.push_back(std::move(*open_group_));
    open_group_.reset();
}

void Merger::send(FolderState& st, imap::FetchItem& f, std::uint64_t uid, bool multi) {
    auto body = f.sections.find("BODY[]");
    if (body == f.sections.end() || !body->second || !f.flags || !f.internaldate_text) {
        throw Error(ErrorCategory::data, fmt::format("the source sent no body, flags or date for UID {} in {}", uid,
                                                     in_quotes(st.result.plan.source)));
    }
    const std::vector<std::string> flags = settable_flags(*f.flags);
    std::string& bytes = *body->second;
    const std::uint64_t size = bytes.size();
    throttle(size);
    Sent sent{uid, size, message_id_of(bytes)};
    const std::string& target = st.result.plan.target;
    writes_started_ = true;
    const auto start = multi ? imap::multiappend_start(target) : std::nullopt;
    if (!start) {
        Group g;
        g.tag = dst_->submit(imap::append_command(target, flags, *f.internaldate_text, std::move(bytes)));
        g.messages.push_back(std::move(sent));
        g.bytes = size;
        g.batch = current_batch_;
        ++batches_[current_batch_].groups;
        pending_.push_back(std::move(g));
    } else {
        if (!open_group_) {
            open_group_ = Group{dst_->submit_streamed(*start), {}, 0, current_batch_};
            ++batches_[current_batch_].groups;
        }
        dst_->send_raw(imap::multiappend_item(flags, *f.internaldate_text, bytes.size()));
        dst_->send_raw(bytes);
        open_group_->messages.push_back(std::move(sent));
        open_group_->bytes += size;
        if (open_group_->messages.size() >= opt_.group_messages || open_group_->bytes >= opt_.group_bytes)
            close_group();
    }
    while (pending_.size() > opt_.in_flight) complete_one(st);
}

void Merger::copy_batch(FolderState& st, const std::vector<Todo>& todo, bool multi) {
    std::set<std::uint64_t> wanted;
    std::vector<std::uint64_t> uids;
    for (const auto& t : todo) {
        uids.push_back(t.uid);
        wanted.insert(t.uid);
    }
    const std::uint64_t id = next_batch_++;
    current_batch_ = id;
    Batch& batch = batches_[id];
    // The batch is journaled before a byte is sent: if the run dies, the next one knows that
    // the server may still be storing part of it (see settle()).
    if (req_.journal)
        batch.action = req_.journal->add_action(req_.run_id,
                                                {.kind = "merge.batch",
                                                 .subject = req_.to.label + "/" + st.result.plan.target,
                                                 .after = json{{"source_folder", st.result.plan.source},
                                                               {"source_uidvalidity", st.source_uidvalidity},
                                                               {"sending", imap::uid_set_of(uids)}},
                                                 .status = journal::ActionStatus::planned});
    imap::uid_fetch(*src_, imap::uid_set_of(uids), "(UID FLAGS INTERNALDATE BODY.PEEK[])", [&](imap::FetchItem& f) {
        if (!f.uid || !wanted.contains(*f.uid)) return; // an unsolicited FETCH (flag change)
        if (stopping_ || interrupt_requested()) return; // read the rest of the batch, send nothing
        send(st, f, *f.uid, multi);
        show(st);
    });
    close_group();
    batches_[id].sent = true;
    if (batches_[id].groups == 0) finish_batch(st, id);
    show(st);
    if (interrupt_requested() && !stopping_)
        stopping_ = Error(ErrorCategory::interrupted, "stopped on request",
                          "run the same command again to continue where it stopped");
    if (stopping_) {
        drain(st);
        throw Stop{*stopping_};
    }
}

// Waits for every APPEND in flight (their batches are journaled as they complete).
void Merger::drain(FolderState& st) {
    while (!pending_.empty()) complete_one(st);
}

void Merger::finish_batch(FolderState& st, std::uint64_t id) {
    auto it = batches_.find(id);
    if (it == batches_.end()) return;
    Batch batch = std::move(it->second);
    batches_.erase(it);
    if (!req_.journal) return;
    const auto& copied = batch.copied;
    std::vector<std::uint64_t> source_uids, target_uids;
    for (const auto& [s, t] : copied) {
        source_uids.push_back(s);
        if (t != 0) target_uids.push_back(t);
    }
    json after{{"source_folder", st.result.plan.source},
               {"source_uidvalidity", st.source_uidvalidity},
               {"source_uids", source_uids.empty() ? std::string() : imap::uid_set_of(source_uids)},
               {"copied", copied.size()},
               {"bytes", batch.bytes}};
    // Which target UID each copy got (APPENDUID): as a second UID set when both ascend
    // together (the usual case), else as pairs.
    if (!copied.empty() && target_uids.size() == copied.size()) {
        auto sorted = copied;
        std::sort(sorted.begin(), sorted.end());
        const bool together = std::is_sorted(sorted.begin(), sorted.end(),
                                             [](const auto& a, const auto& b) { return a.second < b.second; });
        after["target_uidvalidity"] = st.known_target_uidvalidity;
        if (together) {
            after["target_uids"] = imap::uid_set_of(target_uids);
        } else {
            json pairs = json::array();
            for (const auto& [s, t] : sorted) pairs.push_back({s, t});
            after["uid_pairs"] = std::move(pairs);
        }
    }
    req_.journal->update_action(batch.action, journal::ActionStatus::done, std::move(after));
}

void Merger::copy_folder(FolderState& st) {
    FolderPlan& p = st.result.plan;
    if (!st.target_exists) {
        imap::create_mailbox(*dst_, p.target, p.special_use);
        writes_started_ = true;
        st.target_exists = true;
        st.result.created = true;
    }
    if (p.subscribe) {
        imap::subscribe(*dst_, p.target);
        writes_started_ = true;
        p.subscribe = false;
    }
    if (!st.todo.empty()) {
        imap::select(*src_, p.source, true);
        std::size_t i = 0;
        while (i < st.todo.size()) {
            std::size_t j = i;
            std::uint64_t bytes = 0;
            while (j < st.todo.size() && j - i < opt_.batch_messages &&
                   (j == i || bytes + st.todo[j].size <= opt_.batch_bytes))
                bytes += st.todo[j++].size;
            copy_batch(st, std::vector<Todo>(st.todo.begin() + i, st.todo.begin() + j), multiappend_);
            i = j;
        }
        drain(st);
        // Messages of a refused MULTIAPPEND, one by one (the refused one, or what still fits
        // under the quota).
        std::map<std::uint64_t, std::uint64_t> sizes;
        for (const auto& t : st.todo) sizes[t.uid] = t.size;
        while (!retry_single_.empty() && !stopping_) {
            std::vector<Todo> again;
            for (auto u : retry_single_) again.push_back({u, sizes[u]});
            retry_single_.clear();
            copy_batch(st, again, false);
            drain(st);
        }
        retry_single_.clear();
        if (stopping_) throw Stop{*stopping_};
    }
    fix_flags(st);
}

// The copies of this run (or of the run it resumes) whose flags differ from their source get
// the source's flags exactly (UID STORE FLAGS.SILENT, one command per distinct set of flags).
// What they had is journaled. This repairs what a server crash can leave (keyword names lost,
// shown as unknown-N) and, on a later pass of mbx reprovision, flags changed on the source since.
void Merger::fix_flags(FolderState& st) {
    if (st.reflag.empty()) return;
    const FolderPlan& p = st.result.plan;
    std::map<std::uint64_t, std::vector<std::string>> source_flags, target_flags;
    std::vector<std::uint64_t> source_uids, target_uids;
    for (const auto& [s, t] : st.reflag) {
        source_uids.push_back(s);
        target_uids.push_back(t);
    }
    imap::select(*src_, p.source, true);
    imap::uid_fetch(*src_, imap::uid_set_of(source_uids), "(UID FLAGS)", [&](imap::FetchItem& f) {
        if (f.uid && f.flags) source_flags[*f.uid] = settable_flags(*f.flags);
    });
    imap::select(*dst_, p.target, false);
    imap::uid_fetch(*dst_, imap::uid_set_of(target_uids), "(UID FLAGS)", [&](imap::FetchItem& f) {
        if (f.uid && f.flags) target_flags[*f.uid] = settable_flags(*f.flags);
    });
    std::map<std::vector<std::string>, std::vector<std::uint64_t>> to_set, had;
    for (const auto& [s, t] : st.reflag) {
        auto from = source_flags.find(s);
        auto was = target_flags.find(t);
        if (from == source_flags.end() || was == target_flags.end()) continue; // expunged since
        if (flags_hash(from->second) == flags_hash(was->second)) continue;
        to_set[from->second].push_back(t);
        had[was->second].push_back(t);
    }
    if (to_set.empty()) return;
    json before = json::array(), after = json::array();
    for (const auto& [flags, uids] : had) before.push_back({{"uids", imap::uid_set_of(uids)}, {"flags", flags}});
    std::uint64_t fixed = 0;
    writes_started_ = true;
    for (const auto& [flags, uids] : to_set) {
        imap::uid_store(*dst_, imap::uid_set_of(uids), "FLAGS.SILENT", flags);
        after.push_back({{"uids", imap::uid_set_of(uids)}, {"flags", flags}});
        fixed += uids.size();
    }
    st.result.flags_fixed += fixed;
    st.reflag.clear();
    if (req_.journal)
        req_.journal->add_action(req_.run_id, {.kind = "merge.flags",
                                               .subject = req_.to.label + "/" + p.target,
                                               .before = json{{"target_uidvalidity", st.target_uidvalidity},
                                                              {"messages", std::move(before)}},
                                               .after = json{{"source_folder", p.source},
                                                             {"fixed", fixed},
                                                             {"messages", std::move(after)}},
                                               .status = journal::ActionStatus::done});
}

void Merger::backoff(int attempt, const Error& why) {
    ++result_.retries;
    auto wait = opt_.backoff * (1 << std::min(attempt, 5));
    wait = std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(30));
    progress_.update(fmt::format("retry {}/{} in {}s: {}", attempt + 1, opt_.retries, wait.count() / 1000,
                                 out::printable(why.what()).substr(0, 60)),
                     copied_, total_to_copy_);
    for (auto until = Clock::now() + wait; Clock::now() < until;) {
        throw_if_interrupted();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

// How the target changed the copies whose sizes differ from their source's: their headers
// side by side (the first kMaxExplained of a folder). Both folders are selected by the scan.
void Merger::explain(FolderState& st) {
    if (st.resized_pairs.empty()) return;
    std::vector<std::uint64_t> source_uids, target_uids;
    for (const auto& [s, t] : st.resized_pairs) {
        source_uids.push_back(s);
        target_uids.push_back(t);
    }
    std::map<std::uint64_t, std::string> source_headers, target_headers;
    auto header_of = [](imap::FetchItem& f) {
        for (auto& [name, value] : f.sections)
            if (name.starts_with("BODY[HEADER") && value) return std::move(*value);
        return std::string();
    };
    imap::uid_fetch(*src_, imap::uid_set_of(source_uids), "(UID BODY.PEEK[HEADER])",
                    [&](imap::FetchItem& f) { if (f.uid) source_headers[*f.uid] = header_of(f); });
    imap::uid_fetch(*dst_, imap::uid_set_of(target_uids), "(UID BODY.PEEK[HEADER])",
                    [&](imap::FetchItem& f) { if (f.uid) target_headers[*f.uid] = header_of(f); });
    auto& how = st.result.normalised_how;
    for (const auto& [s, t] : st.resized_pairs)
        ++how[describe_change(source_headers[s], target_headers[t])];
    if (st.resized > st.resized_pairs.size()) how["not examined"] += st.resized - st.resized_pairs.size();
}

// The missing messages by name: Message-ID, date and subject from the source (the first
// kMaxNamedMissing of a folder). The source folder is selected by the scan.
void Merger::name_missing(FolderState& st) {
    if (st.todo.empty()) return;
    std::vector<std::uint64_t> uids;
    for (const auto& t : st.todo) {
        if (uids.size() >= kMaxNamedMissing) break;
        uids.push_back(t.uid);
    }
    imap::uid_fetch(*src_, imap::uid_set_of(uids), "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE SUBJECT)])",
                    [&](imap::FetchItem& f) {
                        if (!f.uid) return;
                        std::string header;
                        for (const auto& [name, value] : f.sections)
                            if (name.starts_with("BODY[HEADER") && value) header = *value;
                        result_.missing_messages.push_back({.folder = st.result.plan.source,
                                                            .uid = *f.uid,
                                                            .message_id = message_id_of(header),
                                                            .date = header_value(header, "Date").value_or(""),
                                                            .subject = header_value(header, "Subject").value_or("")});
                    });
}

void Merger::verify() {
    result_.missing_messages.clear();
    for (auto& st : folders_) {
        if (st.result.status == "failed") continue;
        throw_if_interrupted();
        progress_.update("verify " + st.result.plan.source, 0, 0);
        scan_folder(st, false);
        st.result.missing = st.todo.size();
        st.result.normalised = st.resized;
        st.result.extra = st.extra;
        st.result.normalised_how.clear();
        explain(st);
        name_missing(st);
    }
    if (req_.journal) {
        json folders = json::array();
        std::uint64_t missing = 0, normalised = 0;
        for (const auto& st : folders_) {
            folders.push_back({{"source", st.result.plan.source},
                               {"target", st.result.plan.target},
                               {"missing", st.result.missing.value_or(0)},
                               {"normalised", st.result.normalised.value_or(0)},
                               {"extra", st.result.extra.value_or(0)},
                               {"normalised_how", st.result.normalised_how}});
            missing += st.result.missing.value_or(0);
            normalised += st.result.normalised.value_or(0);
        }
        json named = json::array();
        for (const auto& m : result_.missing_messages)
            named.push_back({{"folder", m.folder}, {"uid", m.uid}, {"message_id", m.message_id}, {"date", m.date},
                             {"subject", m.subject}});
        req_.journal->add_action(req_.run_id, {.kind = "merge.verify",
                                               .subject = pair(),
                                               .after = json{{"missing", missing},
                                                             {"normalised", normalised},
                                                             {"folders", std::move(folders)},
                                                             {"missing_messages", std::move(named)}},
                                               .status = journal::ActionStatus::done});
    }
}

ExitCode Merger::outcome() const {
    if (result_.stopped) return result_.stopped->exit_code();
    for (const auto& st : folders_) {
        const auto& r = st.result;
        if (r.failed > 0 || r.missing.value_or(0) > 0 || r.status != "ok") return ExitCode::data;
    }
    return ExitCode::ok;
}

Result Merger::run() {
    if (req_.resume_run && req_.journal) {
        for (const auto& a : req_.journal->actions_of(*req_.resume_run)) {
            if (a.kind != "merge.plan" || !a.after || !a.after->contains("folders")) continue;
            for (const auto& f : (*a.after)["folders"])
                if (f.contains("baseline_uid"))
                    baselines_[f["target"].get<std::string>()] = {f["target_uidvalidity"].get<std::uint64_t>(),
                                                                  f["baseline_uid"].get<std::uint64_t>()};
        }
        load_known();
    }
    connect();
    plan();
    if (opt_.dry_run) {
        // The plan says whether the real run would be refused; nothing is written either way.
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
        result_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
        return result_;
    }
    if (!opt_.force) preflight();
    journal_plan();
    throttle_start_ = Clock::now();
    for (auto& st : folders_) {
        if (req_.journal)
            st.action = req_.journal->add_action(
                req_.run_id, {.kind = "merge.folder",
                              .subject = req_.to.label + "/" + st.result.plan.target,
                              .before = json{{"source_folder", st.result.plan.source},
                                             {"target_exists", st.target_exists},
                                             {"target_uidvalidity", st.target_uidvalidity}},
                              .status = journal::ActionStatus::planned});
    }
    try {
        for (auto& st : folders_) {
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
            st.result.status = st.result.failed > 0 ? "incomplete" : "ok";
            if (req_.journal && st.action)
                req_.journal->update_action(st.action, journal::ActionStatus::done,
                                            json{{"copied", st.result.copied},
                                                 {"bytes_copied", st.result.bytes_copied},
                                                 {"failed", st.result.failed}});
        }
        if (opt_.verify) {
            for (int attempt = 0;; ++attempt) {
                try {
                    if (attempt > 0) connect();
                    verify();
                    break;
                } catch (const Error& e) {
                    if (!retryable(e) || attempt >= opt_.retries) throw;
                    backoff(attempt, e);
                }
            }
        }
    } catch (const Stop& s) {
        result_.stopped = s.error;
    } catch (const Error& e) {
        if (!writes_started_) throw;
        result_.stopped = e;
    }
    for (auto& st : folders_) {
        if (!st.done) {
            st.result.status = "failed";
            if (req_.journal && st.action)
                req_.journal->update_action(st.action, journal::ActionStatus::failed,
                                            json{{"copied", st.result.copied}, {"failed", st.result.failed}},
                                            result_.stopped ? std::optional<std::string>(result_.stopped->what())
                                                            : std::nullopt);
        } else if (st.result.missing.value_or(0) > 0) {
            st.result.status = "incomplete";
        }
        result_.folders.push_back(st.result);
    }
    if (src_) {
        try {
            src_->logout();
        } catch (const Error&) {
        }
    }
    if (dst_) {
        try {
            dst_->logout();
        } catch (const Error&) {
        }
    }
    result_.exit = outcome();
    result_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return result_;
}

} // namespace

Result run(const Request& request, Progress& progress) {
    Merger m(request, progress);
    return m.run();
}

} // namespace mbx::ops::merge
