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
#include <map>
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
    std::int64_t action = 0;
    bool done = false;
};

struct Baseline {
    std::uint64_t uidvalidity = 0;
    std::uint64_t uid = 1;
};

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
    void send(FolderState& st, imap::FetchItem& f, std::uint64_t uid, bool multi, std::vector<std::uint64_t>& copied);
    void close_group();
    void complete_one(FolderState& st, std::vector<std::uint64_t>& copied_uids);
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
    };
    std::deque<Group> pending_;
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

    // The target's messages are only counted as they stream (a multiset of fingerprints), never
    // kept. The copies this run (or the run it resumes) made, UIDs from the baseline on, must
    // also match their source message's flags: each pairs with the first source message of its
    // fingerprint not yet paired (`by_fingerprint`: source indexes sorted by fingerprint, then
    // UID; 4 bytes a message).
    FingerprintCounts available;
    std::vector<std::uint32_t> by_fingerprint(chosen.size());
    std::vector<bool> paired(chosen.size());
    for (std::uint32_t i = 0; i < chosen.size(); ++i) by_fingerprint[i] = i;
    std::sort(by_fingerprint.begin(), by_fingerprint.end(), [&](std::uint32_t x, std::uint32_t y) {
        return std::tie(chosen[x].fingerprint, chosen[x].uid) < std::tie(chosen[y].fingerprint, chosen[y].uid);
    });
    st.reflag.clear();
    auto pair_with_source = [&](const Message& copy) {
        auto it = std::lower_bound(by_fingerprint.begin(), by_fingerprint.end(), copy.fingerprint,
                                   [&](std::uint32_t i, const Fingerprint& fp) { return chosen[i].fingerprint < fp; });
        for (; it != by_fingerprint.end() && chosen[*it].fingerprint == copy.fingerprint; ++it) {
            if (paired[*it]) continue;
            paired[*it] = true;
            if (chosen[*it].flags != copy.flags) st.reflag.emplace_back(chosen[*it].uid, copy.uid);
            return;
        }
    };
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
                const bool mine = m.uid >= st.baseline;
                if (opt_.mode == Mode::missing || mine) ++available[m.fingerprint];
                if (mine) pair_with_source(m);
            },
            opened);
    } else {
        st.baseline = 1;
        baselines_.try_emplace(r.plan.target, Baseline{0, 1});
    }
    auto missing = missing_messages(chosen, available);
    st.todo.clear();
    st.todo.reserve(missing.size());
    std::uint64_t bytes = 0;
    for (auto i : missing) {
        st.todo.push_back({chosen[i].uid, chosen[i].size});
        bytes += chosen[i].size;
    }
    if (count_source) {
        r.present = chosen.size() - missing.size();
        r.to_copy = missing.size();
        r.bytes_to_copy = bytes;
    }
}

void Merger::plan() {
    auto source = list_folders(*src_);
    auto target = dst_ ? list_folders(*dst_) : std::vector<Folder>{};
    for (auto& p : plan_folders(source, target, opt_.folders)) {
        if (!dst_ && p.reason == "inbox") p.create = false; // made by the first login
        FolderState st;
        st.target_exists = dst_ && !p.create;
        st.result.plan = std::move(p);
        folders_.push_back(std::move(st));
    }
    for (auto& st : folders_) {
        throw_if_interrupted();
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

void Merger::complete_one(FolderState& st, std::vector<std::uint64_t>& copied_uids) {
    Group g = std::move(pending_.front());
    pending_.pop_front();
    imap::Response r = dst_->wait(g.tag);
    FolderResult& fr = st.result;
    if (r.ok()) {
        for (const auto& m : g.messages) {
            ++fr.copied;
            fr.bytes_copied += m.size;
            ++copied_;
            copied_bytes_ += m.size;
            copied_uids.push_back(m.uid);
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
    if (code == "LIMIT" || code == "UNAVAILABLE" || code == "INUSE" || code == "SERVERBUG") throw Transient{error};
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

void Merger::send(FolderState& st, imap::FetchItem& f, std::uint64_t uid, bool multi,
                  std::vector<std::uint64_t>& copied) {
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
        pending_.push_back(std::move(g));
    } else {
        if (!open_group_) open_group_ = Group{dst_->submit_streamed(*start), {}, 0};
        dst_->send_raw(imap::multiappend_item(flags, *f.internaldate_text, bytes.size()));
        dst_->send_raw(bytes);
        open_group_->messages.push_back(std::move(sent));
        open_group_->bytes += size;
        if (open_group_->messages.size() >= opt_.group_messages || open_group_->bytes >= opt_.group_bytes)
            close_group();
    }
    while (pending_.size() > opt_.in_flight) complete_one(st, copied);
}

void Merger::copy_batch(FolderState& st, const std::vector<Todo>& todo, bool multi) {
    std::map<std::uint64_t, std::uint64_t> sizes; // uid -> planned size
    std::vector<std::uint64_t> uids;
    for (const auto& t : todo) {
        uids.push_back(t.uid);
        sizes[t.uid] = t.size;
    }
    std::vector<std::uint64_t> copied_uids;
    retry_single_.clear();
    imap::uid_fetch(*src_, imap::uid_set_of(uids), "(UID FLAGS INTERNALDATE BODY.PEEK[])", [&](imap::FetchItem& f) {
        if (!f.uid || !sizes.contains(*f.uid)) return; // an unsolicited FETCH (flag change)
        if (stopping_ || interrupt_requested()) return; // read the rest of the batch, send nothing
        send(st, f, *f.uid, multi, copied_uids);
        show(st);
    });
    close_group();
    while (!pending_.empty()) complete_one(st, copied_uids);
    show(st);
    if (req_.journal && !copied_uids.empty()) {
        std::uint64_t bytes = 0;
        for (auto u : copied_uids) bytes += sizes[u];
        req_.journal->add_action(req_.run_id,
                                 {.kind = "merge.batch",
                                  .subject = req_.to.label + "/" + st.result.plan.target,
                                  .after = json{{"source_folder", st.result.plan.source},
                                                {"source_uidvalidity", st.source_uidvalidity},
                                                {"source_uids", imap::uid_set_of(copied_uids)},
                                                {"copied", copied_uids.size()},
                                                {"bytes", bytes}},
                                  .status = journal::ActionStatus::done});
    }
    if (!retry_single_.empty() && !stopping_) {
        std::vector<Todo> again;
        for (auto u : retry_single_) again.push_back({u, sizes[u]});
        copy_batch(st, again, false);
    }
    if (interrupt_requested() && !stopping_)
        stopping_ = Error(ErrorCategory::interrupted, "stopped on request",
                          "run the same command again to continue where it stopped");
    if (stopping_) throw Stop{*stopping_};
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

void Merger::verify() {
    for (auto& st : folders_) {
        if (st.result.status == "failed") continue;
        throw_if_interrupted();
        progress_.update("verify " + st.result.plan.source, 0, 0);
        scan_folder(st, false);
        st.result.missing = st.todo.size();
    }
    if (req_.journal) {
        json folders = json::array();
        std::uint64_t missing = 0;
        for (const auto& st : folders_) {
            folders.push_back({{"source", st.result.plan.source}, {"target", st.result.plan.target},
                               {"missing", st.result.missing.value_or(0)}});
            missing += st.result.missing.value_or(0);
        }
        req_.journal->add_action(req_.run_id, {.kind = "merge.verify",
                                               .subject = pair(),
                                               .after = json{{"missing", missing}, {"folders", std::move(folders)}},
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
                        scan_folder(st, false);
                    }
                    copy_folder(st);
                    break;
                } catch (const Transient& t) {
                    if (attempt >= opt_.retries) throw Stop{t.error};
                    pending_.clear();
                    open_group_.reset();
                    backoff(attempt, t.error);
                } catch (const Error& e) {
                    if (!retryable(e) || attempt >= opt_.retries) throw;
                    pending_.clear();
                    open_group_.reset();
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

std::optional<std::int64_t> find_unfinished_run(journal::Journal& journal, const std::string& from,
                                                const std::string& to) {
    const std::string subject = from + " -> " + to;
    for (const auto& run : journal.list_runs({.tool = "merge", .limit = 100})) {
        bool this_pair = false;
        for (const auto& a : journal.actions_of(run.id))
            if (a.kind == "merge.plan" && a.subject == subject && a.after) this_pair = true;
        if (!this_pair) continue;
        if (run.status == journal::RunStatus::ok || run.dry_run) {
            if (run.status == journal::RunStatus::ok) return std::nullopt; // finished: start afresh
            continue;
        }
        return run.id;
    }
    return std::nullopt;
}

} // namespace mbx::ops::merge
