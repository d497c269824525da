// mbx quota cleanup's undo: each archived message appended back to its folder with its flags
// and date, unless a copy is already there (a crash after the append, before the journal said so).
#include "mbx/ops/quota_cleanup.hpp"

#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
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

template <typename T>
T field(const std::optional<nlohmann::json>& j, const char* key, std::int64_t action) {
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

} // namespace

UndoOutcome undo_quota_cleanup_message(UndoContext& ctx, const journal::ActionRecord& a) {
    UndoOutcome o{a.id, a.kind, a.subject, UndoResult::failed, {}};
    const auto user = field<std::string>(a.before, "user", a.id);
    const auto folder = field<std::string>(a.before, "folder", a.id);
    const auto uidvalidity = field<std::uint64_t>(a.before, "uidvalidity", a.id);
    const auto uid = field<std::uint64_t>(a.before, "uid", a.id);
    if (!a.after) {
        o.result = UndoResult::already;
        o.detail = "the message was never archived, so never expunged";
        return o;
    }
    const auto flags = field<std::vector<std::string>>(a.before, "flags", a.id);
    const auto internaldate = field<std::string>(a.before, "internaldate", a.id);
    const auto size = field<std::uint64_t>(a.before, "size", a.id);
    const auto message_id = field<std::string>(a.before, "message_id", a.id);
    const auto file = field<std::string>(a.after, "file", a.id);
    const auto sha = field<std::string>(a.after, "sha256", a.id);

    auto& s = undo_session(ctx, user);
    const bool exists = std::find(s.folders.begin(), s.folders.end(), folder) != s.folders.end();
    const bool original_deleted =
        std::any_of(flags.begin(), flags.end(), [](const auto& f) { return iequals(f, "\\Deleted"); });
    if (exists && a.status == journal::ActionStatus::planned) {
        // A crash between archive and expunge: the message may still be there.
        const auto info = imap::select(s.conn, folder, true);
        if (info.uidvalidity == uidvalidity && !imap::uid_search(s.conn, "UID " + std::to_string(uid)).empty()) {
            bool deleted = false;
            imap::uid_fetch(s.conn, std::to_string(uid), "(UID FLAGS)", [&](const imap::FetchItem& m) {
                deleted = deleted || (m.uid == uid && has_flag(m.flags, "\\Deleted"));
            });
            if (!deleted || original_deleted) {
                o.result = UndoResult::already;
                o.detail = fmt::format("UID {} is still in {}: it was never expunged", uid, out::quoted(folder));
                return o;
            }
            o.detail = fmt::format("UID {} in {} is marked \\Deleted but not expunged: remove the flag", uid,
                                   out::quoted(folder));
            o.result = UndoResult::would_undo;
            if (ctx.dry_run) return o;
            imap::select(s.conn, folder, false);
            imap::uid_store(s.conn, std::to_string(uid), "-FLAGS.SILENT", {"\\Deleted"});
            o.result = UndoResult::undone;
            o.detail = fmt::format("removed the \\Deleted flag of UID {} in {}", uid, out::quoted(folder));
            return o;
        }
    }

    const auto bytes = read_file(file);
    if (!bytes) {
        o.detail = fmt::format("cannot read the archive file {}", out::quoted(file));
        return o;
    }
    if (sha256_hex(*bytes) != sha) {
        o.detail = fmt::format("the archive file {} does not match its SHA-256: not appended", out::quoted(file));
        return o;
    }
    if (exists) {
        imap::select(s.conn, folder, true);
        if (const auto copy = find_copy(s.conn, message_id, size, internaldate)) {
            o.result = UndoResult::already;
            o.detail = fmt::format("already in {} as UID {}", out::quoted(folder), *copy);
            return o;
        }
    }
    if (ctx.dry_run) {
        o.result = UndoResult::would_undo;
        o.detail =
            fmt::format("would append {} bytes to {}{}", bytes->size(), out::quoted(folder), exists ? "" : " (created)");
        return o;
    }
    if (!exists) {
        imap::create_mailbox(s.conn, folder);
        s.folders.push_back(folder);
    }
    std::vector<std::string> keep;
    for (const auto& f : flags)
        if (!iequals(f, "\\Deleted") && !iequals(f, "\\Recent")) keep.push_back(f);
    const auto appended = imap::append(s.conn, folder, keep, internaldate, *bytes);
    o.result = UndoResult::undone;
    o.detail = appended.uid ? fmt::format("appended to {} as UID {}", out::quoted(folder), *appended.uid)
                            : fmt::format("appended to {}", out::quoted(folder));
    return o;
}

} // namespace mbx::ops
