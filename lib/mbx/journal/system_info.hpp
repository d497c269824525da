#pragma once
// INTERNAL to mbx::journal (and its unit tests): facts about this process and host that the
// journal records with each run, and the rule for the default journal path.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace mbx::journal::detail {

/// Login name of the real uid (getpwuid_r), else $USER, else the uid as a decimal string.
std::string operator_login_name();

/// This host's name (gethostname), or "localhost" if that fails.
std::string host_name();

/// 32 lower-case hex digits from the kernel's CSPRNG. Failure: mbx::Error(internal).
std::string random_uuid_hex();

/// False only when `pid` certainly does not exist on this host (kill(pid, 0) gives ESRCH).
bool process_exists(std::int64_t pid);

/// The default journal path rule of default_journal_path() with its inputs made explicit:
/// uid 0 -> /var/lib/mbxkit/journal.sqlite; else an absolute `xdg_state_home` ->
/// <it>/mbxkit/journal.sqlite; else a non-empty `home` -> <it>/.local/state/mbxkit/journal.sqlite.
/// Failure: mbx::Error(config) when none applies.
std::filesystem::path default_journal_path_for(std::int64_t uid, const std::optional<std::string>& xdg_state_home,
                                               const std::optional<std::string>& home);

/// Creates the missing directories of `dir` with mode 0700 (existing ones are untouched).
/// Failure: mbx::Error(io) naming the directory.
void create_private_directories(const std::filesystem::path& dir);

/// Creates `file` with mode 0600 if it does not exist (an empty file is a valid empty SQLite
/// database). Failure: mbx::Error(io) naming the file.
void create_private_file(const std::filesystem::path& file);

} // namespace mbx::journal::detail
