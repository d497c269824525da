// mbx quota cleanup's undo: each archived message appended back to its folder with its flags
// and date, unless a copy is already there (a crash after the append, before the journal said so).
#include "mbx/ops/quota_cleanup.hpp"

#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/maildir_archive.hpp"
#include "mbx/ops/quota_cleanup_impl.hpp"
#include "mbx/ops/undo.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <iterator>

namespace mbx::ops {

using cleanup_detail::for_each_uid_chunk;
using cleanup_detail::has_flag;

namespace {

// The undo's IMAP session of one user, kept across the actions of one undo run.
struct UndoSession {
    imap::Connection conn;
    std::vector<std::string> folders; // from LIST, plus the ones the undo created
};

UndoSession& undo_session(UndoContext& ctx, const std::string& user) {
    auto& slot = ctx.state("imap:" + user);
    if (!slot) {
        auto conn = imap::Connection::open(imap_master_config(ctx.cfg, ctx.secrets, user));
        std::vector<std::string> folders;
        for (const auto& b : imap::list_mailboxes(conn))
            if (!b.has_attribute("\\Noselect") && !b.has_attribute("\\NonExistent")) folders.push_back(b.name);
        slot = std::make_shared<UndoSession>(UndoSession{std::move(conn), std::move(folders)});
    }
    return *static_cast<UndoSession*>(slot.get());
}

template <typename T> T field(const std::optional<nlohmann::json>& j, const char* key, std::int64_t action) {
    if (!j || !j->is_object() || !j->contains(key))
        throw Error(ErrorCategory::data, fmt::format("action {} has no '{}' in its journal record", action, key),
                    "the record is incomplete; restore the message from the archive by hand");
    try {
        return j->at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw Error(ErrorCategory::data,
                    fmt::format("action {}: '{}' in its journal record is malformed", action, key));
    }
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return std::nullopt;
    return bytes;
}

// A message already in the selected folder that is this one: same Message-ID and size, or,
// without a Message-ID, same size and INTERNALDATE.
std::optional<std::uint64_t> find_copy(imap::Connection& conn, const std::string& message_id, std::uint64_t size,
                                       const std::string& internaldate) {
    imap::Command criteria(message_id.empty() ? "ALL" : "HEADER");
    if (!message_id.empty()) criteria.astring("Message-ID").astring(message_id);
    if (size > 0) criteria.raw(fmt::format("LARGER {}", size - 1));
    criteria.raw(fmt::format("SMALLER {}", size + 1));
    const auto uids = imap::uid_search(conn, criteria);
    if (uids.empty()) return std::nullopt;
    if (!message_id.empty()) return uids.front();
    const auto want = imap::parse_internaldate(internaldate);
    std::optional<std::uint64_t> hit;
    for_each_uid_chunk(uids, [&](const std::string& set) {
        imap::uid_fetch(conn, set, "(UID INTERNALDATE)", [&](const imap::FetchItem& m) {
            if (!hit && m.uid && m.internaldate == want) hit = m.uid;
        });
    });
    return hit;
}

// What the cleanup journaled of one message.
struct Cleaned {
    std::string user = {}, folder = {};
    std::uint64_t uidvalidity = 0, uid = 0, size = 0;
    std::vector<std::string> flags = {};
    std::string internaldate = {}, message_id = {}, file = {}, sha = {};
};

// nullopt when the message was never archived (the action has no after-state).
std::optional<Cleaned> cleaned_of(const journal::ActionRecord& a) {
    Cleaned m{.user = field<std::string>(a.before, "user", a.id),
              .folder = field<std::string>(a.before, "folder", a.id),
              .uidvalidity = field<std::uint64_t>(a.before, "uidvalidity", a.id),
              .uid = field<std::uint64_t>(a.before, "uid", a.id)};
    if (!a.after) return std::nullopt;
    m.flags = field<std::vector<std::string>>(a.before, "flags", a.id);
    m.internaldate = field<std::string>(a.before, "internaldate", a.id);
    m.size = field<std::uint64_t>(a.before, "size", a.id);
    m.message_id = field<std::string>(a.before, "message_id", a.id);
    m.file = field<std::string>(a.after, "file", a.id);
    m.sha = field<std::string>(a.after, "sha256", a.id);
    return m;
}

// A crash between archive and expunge: the message may still be in its folder. Fills `o` and
// returns true when it is (never expunged, or only flagged \Deleted, which is taken back).
bool still_there(UndoContext& ctx, UndoSession& s, const Cleaned& m, UndoOutcome& o) {
    const auto info = imap::select(s.conn, m.folder, true);
    if (info.uidvalidity != m.uidvalidity || imap::uid_search(s.conn, "UID " + std::to_string(m.uid)).empty())
        return false;
    const bool original_deleted =
        std::any_of(m.flags.begin(), m.flags.end(), [](const auto& f) { return iequals(f, "\\Deleted"); });
    bool deleted = false;
    imap::uid_fetch(s.conn, std::to_string(m.uid), "(UID FLAGS)", [&](const imap::FetchItem& f) {
        deleted = deleted || (f.uid == m.uid && has_flag(f.flags, "\\Deleted"));
    });
    if (!deleted || original_deleted) {
        o.result = UndoResult::already;
        o.detail = fmt::format("UID {} is still in {}: it was never expunged", m.uid, out::quoted(m.folder));
        return true;
    }
    o.detail =
        fmt::format("UID {} in {} is marked \\Deleted but not expunged: remove the flag", m.uid, out::quoted(m.folder));
    o.result = UndoResult::would_undo;
    if (ctx.dry_run) return true;
    imap::select(s.conn, m.folder, false);
    imap::uid_store(s.conn, std::to_string(m.uid), "-FLAGS.SILENT", {"\\Deleted"});
    o.result = UndoResult::undone;
    o.detail = fmt::format("removed the \\Deleted flag of UID {} in {}", m.uid, out::quoted(m.folder));
    return true;
}

// The archived copy appended again, with its flags (less \Deleted and \Recent) and date.
void append_back(UndoSession& s, const Cleaned& m, bool exists, const std::string& bytes, UndoOutcome& o) {
    if (!exists) {
        imap::create_mailbox(s.conn, m.folder);
        s.folders.push_back(m.folder);
    }
    std::vector<std::string> keep;
    for (const auto& f : m.flags)
        if (!iequals(f, "\\Deleted") && !iequals(f, "\\Recent")) keep.push_back(f);
    const auto appended = imap::append(s.conn, m.folder, keep, m.internaldate, bytes);
    o.result = UndoResult::undone;
    o.detail = appended.uid ? fmt::format("appended to {} as UID {}", out::quoted(m.folder), *appended.uid)
                            : fmt::format("appended to {}", out::quoted(m.folder));
}

} // namespace

UndoOutcome undo_quota_cleanup_message(UndoContext& ctx, const journal::ActionRecord& a) {
    UndoOutcome o{a.id, a.kind, a.subject, UndoResult::failed, {}};
    const auto cleaned = cleaned_of(a);
    if (!cleaned) {
        o.result = UndoResult::already;
        o.detail = "the message was never archived, so never expunged";
        return o;
    }
    const Cleaned& m = *cleaned;
    auto& s = undo_session(ctx, m.user);
    const bool exists = std::find(s.folders.begin(), s.folders.end(), m.folder) != s.folders.end();
    if (exists && a.status == journal::ActionStatus::planned && still_there(ctx, s, m, o)) return o;

    const auto bytes = read_file(m.file);
    if (!bytes) {
        o.detail = fmt::format("cannot read the archive file {}", out::quoted(m.file));
        return o;
    }
    if (sha256_hex(*bytes) != m.sha) {
        o.detail = fmt::format("the archive file {} does not match its SHA-256: not appended", out::quoted(m.file));
        return o;
    }
    if (exists) {
        imap::select(s.conn, m.folder, true);
        if (const auto copy = find_copy(s.conn, m.message_id, m.size, m.internaldate)) {
            o.result = UndoResult::already;
            o.detail = fmt::format("already in {} as UID {}", out::quoted(m.folder), *copy);
            return o;
        }
    }
    if (ctx.dry_run) {
        o.result = UndoResult::would_undo;
        o.detail = fmt::format("would append {} bytes to {}{}", bytes->size(), out::quoted(m.folder),
                               exists ? "" : " (created)");
        return o;
    }
    append_back(s, m, exists, *bytes, o);
    return o;
}

} // namespace mbx::ops
