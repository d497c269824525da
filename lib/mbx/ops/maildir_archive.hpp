#pragma once
// Where destructive steps keep what they remove: one Maildir per run (tmp/new/cur) plus a
// manifest.jsonl, every file and rename fsynced, so `mbx journal undo` can put messages back.
// Used by `mbx quota cleanup`; layout in docs/commands/quota-cleanup.md.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mbx::ops {

/// The Maildir info flags (`:2,` suffix letters, ASCII order) of IMAP flags: \Draft D,
/// \Flagged F, \Answered R, \Seen S, \Deleted T; keywords and \Recent have no letter. Pure.
std::string maildir_info_flags(const std::vector<std::string>& flags);

/// `text` made safe as one path component: bytes other than [A-Za-z0-9._@+-] become %XX,
/// and a component of only dots is escaped too, so a uid can never climb out of the archive
/// directory. Pure.
std::string archive_path_component(std::string_view text);

/// SHA-256 of `data` as 64 lower-case hex digits (OpenSSL). Pure.
std::string sha256_hex(std::string_view data);

/// One run's archive: ROOT/<uid>/<run>-<yyyymmddThhmmssZ>/{tmp,new,cur,manifest.jsonl}, mode
/// 0700, files 0600. Every method throws mbx::Error(io) naming the path (the hint names
/// [quota] archive-dir) when the disk refuses. Not thread-safe. Movable.
class MaildirArchive {
public:
    /// Creates the run's directories and manifest, fsynced. Filesystem.
    MaildirArchive(const std::filesystem::path& root, const std::string& uid, std::int64_t run,
                   std::chrono::sys_seconds now);
    MaildirArchive(MaildirArchive&&) noexcept;
    MaildirArchive& operator=(MaildirArchive&&) noexcept;
    ~MaildirArchive();

    /// The run's archive directory.
    const std::filesystem::path& dir() const;

    /// Writes one message to tmp/, fsyncs it, sets its mtime to `date`, renames it into cur/
    /// with its flags' info letters. Returns the path relative to dir() ("cur/..."). Filesystem.
    std::string write(std::string_view bytes, const std::vector<std::string>& flags, std::chrono::sys_seconds date);

    /// Appends one JSON line to manifest.jsonl (durable after sync()). Filesystem.
    void add_to_manifest(const nlohmann::json& entry);

    /// Makes the renames into cur/ and the manifest lines durable. Filesystem.
    void sync();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace mbx::ops
