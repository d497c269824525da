// mbx merge: the copy. A batch is fetched from the source and streamed into the target as
// pipelined APPENDs (MULTIAPPEND groups when the target has it), journaled before a byte is
// sent and after with the target UIDs; refused groups are retried one by one; flags repaired.
#include "mbx/ops/merge_impl.hpp"
#include "mbx/ops/actions.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iterator>
#include <thread>
#include <tuple>

namespace mbx::ops::merge::detail {

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
        if (ids &&
            (ids->uidvalidity != st.known_target_uidvalidity || st.known_source_uidvalidity != st.source_uidvalidity)) {
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
    batch.begun = ops::begin(session_, {.kind = kind::kMergeBatch,
                                        .subject = req_.to.label + "/" + st.result.plan.target,
                                        .after = json{{"source_folder", st.result.plan.source},
                                                      {"source_uidvalidity", st.source_uidvalidity},
                                                      {"sending", imap::uid_set_of(uids)}}});
    imap::uid_fetch(*src_, imap::uid_set_of(uids), "(UID FLAGS INTERNALDATE BODY.PEEK[])", [&](imap::FetchItem& f) {
        if (!f.uid || !wanted.contains(*f.uid)) return;  // an unsolicited FETCH (flag change)
        if (stopping_ || session_.should_stop()) return; // read the rest of the batch, send nothing
        send(st, f, *f.uid, multi);
        show(st);
    });
    close_group();
    batches_[id].sent = true;
    if (batches_[id].groups == 0) finish_batch(st, id);
    show(st);
    if (session_.should_stop() && !stopping_)
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
    if (!journal_) return;
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
    ops::finish(session_, batch.begun, std::move(after));
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
    for (const auto& [flags, uids] : to_set) {
        after.push_back({{"uids", imap::uid_set_of(uids)}, {"flags", flags}});
        fixed += uids.size();
    }
    ops::apply(session_,
               {{.kind = kind::kMergeFlags,
                 .subject = req_.to.label + "/" + p.target,
                 .before = json{{"target_uidvalidity", st.target_uidvalidity}, {"messages", std::move(before)}},
                 .after = json{{"source_folder", p.source}, {"fixed", fixed}, {"messages", std::move(after)}},
                 .apply = [&] {
                     writes_started_ = true;
                     for (const auto& [flags, uids] : to_set)
                         imap::uid_store(*dst_, imap::uid_set_of(uids), "FLAGS.SILENT", flags);
                 }}});
    st.result.flags_fixed += fixed;
    st.reflag.clear();
}

} // namespace mbx::ops::merge::detail
