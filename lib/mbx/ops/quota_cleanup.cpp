#include "mbx/ops/quota_cleanup.hpp"
#include "mbx/ops/actions.hpp"
#include "mbx/ops/plan.hpp"

#include "mbx/core/text.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/maildir_archive.hpp"

#include "mbx/core/output.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/ops/user_schema.hpp"
#include "mbx/ops/quota_cleanup_impl.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace mbx::ops {

std::string_view folder_outcome_name(FolderOutcome o) {
    switch (o) {
    case FolderOutcome::planned: return "planned";
    case FolderOutcome::would_remove: return "would-remove";
    case FolderOutcome::nothing: return "nothing";
    case FolderOutcome::done: return "done";
    case FolderOutcome::partial: return "partial";
    case FolderOutcome::failed: return "failed";
    case FolderOutcome::interrupted: return "interrupted";
    case FolderOutcome::not_started: return "not-started";
    }
    return "failed";
}
namespace {

namespace fs = std::filesystem;
using std::chrono::sys_seconds;

constexpr std::size_t kBatchMessages = 200;
constexpr std::uint64_t kBatchBytes = 20ull * 1024 * 1024;
constexpr std::size_t kFetchChunk = 1000; // UIDs per planning FETCH: keeps command lines short

// "2026-11-24T18:52:03Z" / "20261124T185203Z" for `t`.
std::string utc_text(sys_seconds t, bool compact) {
    const std::time_t tt = t.time_since_epoch().count();
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string in_quotes(std::string_view s) { return out::quoted(s); }

} // namespace

namespace cleanup_detail {

bool has_flag(const std::optional<std::vector<std::string>>& flags, std::string_view flag) {
    return flags && std::any_of(flags->begin(), flags->end(), [&](const auto& f) { return iequals(f, flag); });
}

void for_each_uid_chunk(const std::vector<std::uint64_t>& uids, const std::function<void(const std::string&)>& fn) {
    for (std::size_t i = 0; i < uids.size(); i += kFetchChunk) {
        const auto end = uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), i + kFetchChunk));
        fn(imap::uid_set_of({uids.begin() + static_cast<std::ptrdiff_t>(i), end}));
    }
}

} // namespace cleanup_detail

using cleanup_detail::for_each_uid_chunk;
using cleanup_detail::has_flag;

namespace {

// The request as the run carries it out: with the session's dry run and journal run.
struct CleanupRun : CleanupRequest {
    bool dry_run = false;                    // plan only: EXAMINE and FETCH, never STORE/EXPUNGE
    std::optional<std::int64_t> run_id = {}; // the journal run (names the archive directory)
};

} // namespace

// ---- archive helpers (pure) ----------------------------------------------------------------

namespace {

// ---- directory and mailbox -------------------------------------------------------------------

struct CleanupUser {
    std::string uid;
    std::optional<std::int64_t> ldap_limit;
};

// The user's entry, found as `mbx quota check` finds it: exactly one entry, or Error(data).
CleanupUser find_cleanup_user(const config::Config& cfg, const SecretProvider& secrets, const std::string& uid) {
    auto dir = directory::Directory::connect(ldap_config(cfg, secrets));
    const config::Config dcfg = directory_config(dir, cfg);
    const UserInfo info = user_info(find_user(dir, dcfg, uid, quota_attributes(dcfg)), dcfg);
    return {info.uid.empty() ? uid : info.uid, info.ldap_limit};
}

// STORAGE usage and limit of INBOX's quota root, when the server has QUOTA.
void read_storage(imap::Connection& conn, std::optional<std::int64_t>& usage, std::optional<std::int64_t>& limit) {
    if (!conn.has_capability("QUOTA")) return;
    for (const auto& q : imap::get_quota_root(conn, "INBOX").quotas) {
        if (const auto* s = q.find("STORAGE")) {
            usage = static_cast<std::int64_t>(s->usage);
            if (s->limit > 0) limit = static_cast<std::int64_t>(s->limit);
            return;
        }
    }
}

// The folder names for the --folder entries, checked against LIST.
std::vector<std::string> resolve_folders(imap::Connection& conn, const std::vector<FolderSpec>& specs,
                                         const std::string& uid) {
    const auto boxes = imap::list_mailboxes(conn);
    std::vector<std::string> names;
    for (const auto& spec : specs) {
        std::vector<const imap::ListEntry*> hits;
        for (const auto& b : boxes) {
            const bool match = spec.special_use.empty()
                                   ? (b.name == spec.name || (b.name == "INBOX" && iequals(spec.name, "INBOX")))
                                   : b.has_attribute(spec.special_use);
            if (match) hits.push_back(&b);
        }
        if (hits.empty())
            throw Error(ErrorCategory::data, fmt::format("{} has no folder {}", in_quotes(uid), in_quotes(spec.text())),
                        "list the folders with an IMAP client; names are case-sensitive, `\\Trash` means the "
                        "folder with that special-use");
        if (hits.size() > 1)
            throw Error(
                ErrorCategory::data,
                fmt::format("{} has {} folders with special-use {}", in_quotes(uid), hits.size(), spec.special_use),
                "name the folder instead");
        if (hits.front()->has_attribute("\\Noselect") || hits.front()->has_attribute("\\NonExistent"))
            throw Error(ErrorCategory::data, fmt::format("folder {} of {} cannot be opened (\\Noselect)",
                                                         in_quotes(hits.front()->name), in_quotes(uid)));
        if (std::find(names.begin(), names.end(), hits.front()->name) != names.end())
            throw Error(ErrorCategory::usage, fmt::format("folder {} is given twice", in_quotes(hits.front()->name)),
                        "name each folder once");
        names.push_back(hits.front()->name);
    }
    return names;
}

// EXAMINE, UID SEARCH and the sizes and dates of the old undeleted messages of one folder.
void plan_folder(imap::Connection& conn, CleanupFolder& f, std::size_t index, sys_seconds cutoff,
                 std::vector<CleanupCandidate>& out) {
    f.uidvalidity = imap::select(conn, f.folder, true).uidvalidity;
    const auto uids = imap::uid_search(conn, cleanup_search_criteria(cutoff));
    for_each_uid_chunk(uids, [&](const std::string& set) {
        imap::uid_fetch(conn, set, "(UID RFC822.SIZE INTERNALDATE FLAGS)", [&](const imap::FetchItem& m) {
            if (!m.uid || !m.size || !m.internaldate || has_flag(m.flags, "\\Deleted") || *m.internaldate >= cutoff)
                return;
            ++f.matched;
            out.push_back({index, *m.uid, *m.size, *m.internaldate});
        });
    });
}

nlohmann::json folder_summary(const CleanupFolder& f, const std::string& cutoff) {
    return {{"folder", f.folder},     {"uidvalidity", f.uidvalidity},
            {"cutoff", cutoff},       {"matched", f.matched},
            {"selected", f.selected}, {"bytes", f.bytes},
            {"removed", f.removed},   {"vanished", f.vanished},
            {"kept", f.kept},         {"result", folder_outcome_name(f.result)}};
}

// ---- apply ---------------------------------------------------------------------------------

struct Removal {
    std::uint64_t uid = 0;
    bool vanished = false;
    bool was_deleted = false;
    std::uint64_t size = 0;
    bool kept = false; // still there after UID EXPUNGE
};

class Applier {
public:
    Applier(imap::Connection& conn, MaildirArchive& archive, const Session& session, const std::string& uid,
            std::int64_t total)
        : conn_(conn), archive_(archive), session_(session), uid_(uid), total_(total) {}

    // Cleans one folder in batches; returns false when interrupted.
    bool folder(CleanupFolder& f, const std::vector<CleanupCandidate>& selected) {
        const auto info = imap::select(conn_, f.folder, false);
        if (info.read_only)
            throw Error(ErrorCategory::data, fmt::format("folder {} opened read-only", in_quotes(f.folder)),
                        "the master user needs write access (Dovecot: master user ACLs)");
        if (info.uidvalidity != f.uidvalidity)
            throw Error(ErrorCategory::temporary,
                        fmt::format("the UIDVALIDITY of {} changed since the plan", in_quotes(f.folder)),
                        "the folder was recreated meanwhile: run the cleanup again");
        for (std::size_t i = 0; i < selected.size();) {
            if (session_.should_stop()) return false;
            std::size_t end = i;
            std::uint64_t bytes = 0;
            while (end < selected.size() && end - i < kBatchMessages && (end == i || bytes < kBatchBytes))
                bytes += selected[end++].size;
            batch(f, {selected.begin() + static_cast<std::ptrdiff_t>(i),
                      selected.begin() + static_cast<std::ptrdiff_t>(end)});
            i = end;
        }
        return true;
    }

private:
    // Archives one message; nullopt when it is gone.
    std::optional<Removal> archive_one(const CleanupFolder& f, std::uint64_t uid, BatchedAction& action) {
        std::optional<Removal> r;
        imap::uid_fetch(
            conn_, std::to_string(uid), "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])",
            [&](const imap::FetchItem& m) {
                const auto body = m.sections.find("BODY[]");
                if (m.uid != uid || body == m.sections.end() || !body->second || !m.internaldate_text ||
                    !m.internaldate)
                    return;
                auto flags = m.flags.value_or(std::vector<std::string>{});
                std::erase_if(flags, [](const auto& flag) { return iequals(flag, "\\Recent"); }); // session state
                const std::string& bytes = *body->second;
                const std::string file = archive_.write(bytes, flags, *m.internaldate);
                const std::string sha = sha256_hex(bytes);
                const std::string mid = message_id_of(bytes);
                const std::uint64_t size = m.size.value_or(bytes.size());
                archive_.add_to_manifest({{"folder", f.folder},
                                          {"uidvalidity", f.uidvalidity},
                                          {"uid", uid},
                                          {"flags", flags},
                                          {"internaldate", *m.internaldate_text},
                                          {"size", size},
                                          {"sha256", sha},
                                          {"file", file},
                                          {"message_id", mid}});
                action.before = {{"user", uid_}, {"folder", f.folder}, {"uidvalidity", f.uidvalidity},
                                 {"uid", uid},   {"flags", flags},     {"internaldate", *m.internaldate_text},
                                 {"size", size}, {"message_id", mid}};
                action.after = {{"file", (archive_.dir() / file).string()}, {"sha256", sha}};
                r = Removal{uid, false, has_flag(m.flags, "\\Deleted"), size};
            });
        return r;
    }

    // Archives the batch's messages (fsynced), then has ops::apply_batch journal a
    // quota.cleanup.message action per message (skipped for one that vanished) before the one
    // UID STORE/UID EXPUNGE of them all, and done (or failed) after.
    void batch(CleanupFolder& f, const std::vector<CleanupCandidate>& msgs) {
        std::vector<Removal> removals;
        PlannedBatch plan;
        for (const auto& c : msgs) {
            BatchedAction action{.kind = kind::kQuotaCleanupMessage,
                                 .subject = fmt::format("{}/{}:{}", uid_, f.folder, c.uid)};
            auto r = archive_one(f, c.uid, action);
            if (!r) {
                r = Removal{c.uid, true, false, c.size};
                action.before = {{"user", uid_}, {"folder", f.folder}, {"uidvalidity", f.uidvalidity}, {"uid", c.uid}};
                action.skipped = "the message vanished before it was archived";
            }
            removals.push_back(*r);
            plan.actions.push_back(std::move(action));
        }
        archive_.sync();
        bool refused = false;
        plan.apply = [&] { return expunge(removals, refused); };
        // After a network failure the outcome is unknown: the actions stay planned, which undo
        // handles either way.
        plan.outcome_unknown = [](const Error& e) { return e.category() == ErrorCategory::unavailable; };
        try {
            apply_batch(session_, plan);
        } catch (const Error& e) {
            if (!refused) throw;
            throw Error(e.category(), fmt::format("cannot expunge from {}: {}", in_quotes(f.folder), e.what()),
                        e.hint());
        }
        finish_batch(f, removals);
    }

    // UID STORE +FLAGS.SILENT (\Deleted) and UID EXPUNGE of exactly the archived messages, then
    // UID SEARCH for them: what the server still has is marked kept, and is the batch's unmade.
    PlannedBatch::Unmade expunge(std::vector<Removal>& removals, bool& refused) {
        std::vector<std::uint64_t> uids;
        for (const auto& r : removals)
            if (!r.vanished) uids.push_back(r.uid);
        const std::string set = imap::uid_set_of(uids);
        try {
            imap::uid_store(conn_, set, "+FLAGS.SILENT", {"\\Deleted"});
            imap::uid_expunge(conn_, set);
            const auto left = imap::uid_search(conn_, "UID " + set);
            const std::set<std::uint64_t> kept(left.begin(), left.end());
            PlannedBatch::Unmade unmade;
            std::vector<std::uint64_t> ours;
            for (std::size_t i = 0; i < removals.size(); ++i) {
                auto& r = removals[i];
                if (r.vanished || !kept.contains(r.uid)) continue;
                r.kept = true;
                unmade.emplace(i, "the server kept the message after UID EXPUNGE");
                if (!r.was_deleted) ours.push_back(r.uid);
            }
            if (!ours.empty()) imap::uid_store(conn_, imap::uid_set_of(ours), "-FLAGS.SILENT", {"\\Deleted"});
            return unmade;
        } catch (const Error& e) {
            // The server refused (NO/BAD): nothing was expunged; take our \Deleted flags back,
            // and apply_batch journals the batch failed.
            if (e.category() == ErrorCategory::unavailable) throw;
            refused = true;
            std::vector<std::uint64_t> ours;
            for (const auto& r : removals)
                if (!r.vanished && !r.was_deleted) ours.push_back(r.uid);
            try {
                if (!ours.empty()) imap::uid_store(conn_, imap::uid_set_of(ours), "-FLAGS.SILENT", {"\\Deleted"});
            } catch (const Error&) {
            }
            throw;
        }
    }

    void finish_batch(CleanupFolder& f, const std::vector<Removal>& removals) {
        for (const auto& r : removals) {
            if (r.vanished) {
                ++f.vanished;
                continue;
            }
            if (r.kept) {
                ++f.kept;
                continue;
            }
            ++f.removed;
            f.removed_bytes += static_cast<std::int64_t>(r.size);
        }
        done_ += static_cast<std::int64_t>(removals.size());
        session_.progress.update("archive and expunge", static_cast<std::uint64_t>(done_),
                                 static_cast<std::uint64_t>(total_), out::printable(f.folder));
    }

    imap::Connection& conn_;
    MaildirArchive& archive_;
    const Session& session_;
    const std::string& uid_;
    std::int64_t total_;
    std::int64_t done_ = 0;
};

// A folder's action is its report: what the plan selected, then (updated in apply_all) what
// became of it. It changes nothing itself (the messages' actions are the changes, made through
// ops::apply_batch), so it is journaled here, not by the executor.
void journal_folder_plans(journal::Journal* journal, const CleanupRun& req, const CleanupReport& report,
                          std::vector<std::int64_t>& ids) {
    if (!journal || !req.run_id) return;
    auto tx = journal->batch();
    for (const auto& f : report.folders)
        ids.push_back(journal->add_action(*req.run_id, {.kind = kind::kQuotaCleanupFolder,
                                                        .subject = fmt::format("{}/{}", report.user, f.folder),
                                                        .after = folder_summary(f, report.cutoff),
                                                        .status = journal::ActionStatus::planned}));
    tx.commit();
}

void apply_all(imap::Connection& conn, const Session& session, const CleanupRun& req, CleanupReport& report,
               const std::vector<std::vector<CleanupCandidate>>& per_folder, const std::vector<std::int64_t>& ids,
               const fs::path& archive_root) {
    if (!conn.has_capability("UIDPLUS"))
        throw Error(ErrorCategory::unavailable,
                    fmt::format("the IMAP server {} has no UIDPLUS (RFC 4315)", in_quotes(conn.uri())),
                    "mbxkit never sends a plain EXPUNGE, which could remove other deleted messages");
    std::int64_t total = 0;
    for (const auto& f : report.folders) total += f.selected;
    MaildirArchive archive(archive_root, report.user, req.run_id.value_or(0), req.now);
    report.archive = archive.dir().string();
    Applier applier(conn, archive, session, report.user, total);
    journal::Journal* journal = session.journal;
    bool interrupted = false;
    for (std::size_t i = 0; i < report.folders.size(); ++i) {
        auto& f = report.folders[i];
        if (f.selected == 0) {
            if (journal && !ids.empty())
                journal->update_action(ids[i], journal::ActionStatus::done, folder_summary(f, report.cutoff));
            continue;
        }
        if (interrupted || session.should_stop()) {
            interrupted = true;
            f.result = FolderOutcome::not_started;
            f.error = "interrupted before this folder";
            continue;
        }
        try {
            interrupted = !applier.folder(f, per_folder[i]);
            f.result = interrupted ? FolderOutcome::interrupted : FolderOutcome::done;
            if (interrupted) f.error = "interrupted; run the cleanup again to go on";
            if (f.kept > 0 && !interrupted) {
                f.result = f.removed > 0 ? FolderOutcome::partial : FolderOutcome::failed;
                f.error = fmt::format("the server kept {} of the messages after UID EXPUNGE", f.kept);
                report.code = combine_exit_codes(report.code, ExitCode::unavailable);
            }
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::io || e.category() == ErrorCategory::config) throw;
            f.result = f.removed > 0 ? FolderOutcome::partial : FolderOutcome::failed;
            f.error = e.one_line();
            report.code = combine_exit_codes(report.code, e.exit_code());
        }
        if (journal && !ids.empty())
            journal->update_action(
                ids[i], f.result == FolderOutcome::done ? journal::ActionStatus::done : journal::ActionStatus::failed,
                folder_summary(f, report.cutoff), f.error.empty() ? std::nullopt : std::optional(f.error));
    }
    if (interrupted) report.code = ExitCode::interrupted;
}

// Releases a mailbox claim however the cleanup ends; a crash leaves it to the stale-run check.
class ClaimHeld {
public:
    ClaimHeld(journal::Journal& journal, std::int64_t id) : journal_(journal), id_(id) {}
    ClaimHeld(const ClaimHeld&) = delete;
    ClaimHeld& operator=(const ClaimHeld&) = delete;
    ~ClaimHeld() {
        try {
            journal_.update_action(id_, journal::ActionStatus::done);
        } catch (const Error&) {
            // The run ends next; a claim of an ended run is no claim.
        }
    }

private:
    journal::Journal& journal_;
    std::int64_t id_;
};

} // namespace

namespace {

// Refuses a cleanup without folders or age, and (unless a dry run) without an archive. Returns
// the archive's root.
fs::path check_cleanup_request(const config::Config& cfg, const CleanupRun& req) {
    if (req.folders.empty()) throw Error(ErrorCategory::usage, "no folder to clean", "give --folder Trash,Junk");
    if (req.older_than <= std::chrono::seconds(0))
        throw Error(ErrorCategory::usage, "refusing to clean without an age", "give --older-than, e.g. 30d");
    if (req.dry_run) return {};
    if (!cfg.has("quota.archive-dir"))
        throw Error(ErrorCategory::config,
                    "missing [quota] archive-dir: cleanup archives every message before expunging it",
                    "set archive-dir = /var/lib/mbxkit/archive in [quota] of the config, or give "
                    "--quota-archive-dir DIR (or use --dry-run to see the plan)");
    return fs::absolute(cfg.get("quota.archive-dir"));
}

// --until-below as bytes of the limit, or nullopt without it.
std::optional<double> below_bytes(const CleanupRun& req, const CleanupReport& report) {
    if (!req.until_below) return std::nullopt;
    if (!report.limit)
        throw Error(ErrorCategory::data, fmt::format("{} has no limit to be below", in_quotes(report.user)),
                    "drop --until-below, or set a quota first (mbx quota raise)");
    if (!report.usage_before)
        throw Error(ErrorCategory::data,
                    fmt::format("cannot read the usage of {}: the server has no QUOTA", in_quotes(report.user)),
                    "drop --until-below, or enable Dovecot's imap_quota plugin");
    return *req.until_below * static_cast<double>(*report.limit) / 100.0;
}

// Each folder's candidates, and which of them go: the report's folders get their counts and
// results, the return value the selected messages by folder.
std::vector<std::vector<CleanupCandidate>> plan_cleanup(imap::Connection& conn, const CleanupRun& req,
                                                        CleanupReport& report, sys_seconds cutoff, Progress& progress) {
    const std::optional<double> below = below_bytes(req, report);
    const auto names = resolve_folders(conn, req.folders, report.user);
    std::vector<CleanupCandidate> candidates;
    for (std::size_t i = 0; i < names.size(); ++i) {
        report.folders.push_back({.requested = req.folders[i].text(), .folder = names[i]});
        progress.update("plan", i, names.size(), out::printable(names[i]));
        plan_folder(conn, report.folders.back(), i, cutoff, candidates);
    }
    std::vector<std::vector<CleanupCandidate>> per_folder(names.size());
    std::int64_t freed = 0;
    for (const auto& c : select_for_cleanup(std::move(candidates), req.order, report.usage_before.value_or(0), below)) {
        per_folder[c.folder].push_back(c);
        auto& f = report.folders[c.folder];
        ++f.selected;
        f.bytes += static_cast<std::int64_t>(c.size);
        freed += static_cast<std::int64_t>(c.size);
    }
    if (report.usage_before) report.estimated_after = std::max<std::int64_t>(0, *report.usage_before - freed);
    for (auto& f : report.folders)
        f.result = f.selected == 0 ? FolderOutcome::nothing
                   : req.dry_run   ? FolderOutcome::would_remove
                                   : FolderOutcome::planned;
    return per_folder;
}

} // namespace

CleanupReport cleanup_mailbox(const Session& session, const CleanupRequest& request) {
    const CleanupRun req{request, session.dry_run, session.run_id};
    const config::Config& cfg = session.config;
    journal::Journal* journal = session.journal;
    const fs::path archive_root = check_cleanup_request(cfg, req);
    const CleanupUser user = find_cleanup_user(cfg, session.secrets, req.user);
    CleanupReport report;
    report.user = user.uid;
    // One mutation of a mailbox at a time: the claim is taken before the plan, so a second
    // cleanup refuses before it plans (and later counts) any of the first's messages.
    std::optional<ClaimHeld> claim;
    if (!req.dry_run && journal && req.run_id) claim.emplace(*journal, journal->claim_mailbox(*req.run_id, user.uid));
    const sys_seconds cutoff = req.now - req.older_than;
    report.cutoff = utc_text(cutoff, false);

    auto conn = imap::Connection::open(imap_master_config(cfg, session.secrets, user.uid));
    read_storage(conn, report.usage_before, report.limit);
    if (!report.limit && user.ldap_limit && *user.ldap_limit > 0) report.limit = user.ldap_limit;
    const auto per_folder = plan_cleanup(conn, req, report, cutoff, session.progress);

    std::vector<std::int64_t> ids;
    journal_folder_plans(journal, req, report, ids);
    const bool nothing = std::all_of(report.folders.begin(), report.folders.end(),
                                     [](const CleanupFolder& f) { return f.selected == 0; });
    if (req.dry_run) {
        conn.logout();
        return report;
    }
    if (nothing) {
        for (std::size_t i = 0; i < ids.size(); ++i)
            journal->update_action(ids[i], journal::ActionStatus::done,
                                   folder_summary(report.folders[i], report.cutoff));
    } else {
        apply_all(conn, session, req, report, per_folder, ids, archive_root);
    }
    try {
        std::optional<std::int64_t> limit;
        read_storage(conn, report.usage_after, limit);
        conn.logout();
    } catch (const Error&) {
        // The cleanup is done; a failed re-read only leaves "usage after" empty.
    }
    return report;
}

} // namespace mbx::ops
