#pragma once
// The files an admin hands to a command (the configuration, users files, rules files): read whole,
// with bounds, so that `--users-file /dev/zero` or one 300 MB line is a clear error instead of
// gigabytes of memory and a journal to match.

#include "mbx/core/error.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace mbx {

/// The longest line of a list of users or pairs (a user name is an LDAP value, not a novel).
inline constexpr std::size_t kMaxUserLine = 4u << 10;

/// What a file is and how its failures are reported.
struct InputFile {
    std::string_view what;                         ///< "users file", "--rules", "configuration file"
    ErrorCategory unreadable = ErrorCategory::io;  ///< missing, unreadable, a directory
    ErrorCategory too_large = ErrorCategory::data; ///< over max_bytes, or a line over max_line
    std::size_t max_bytes = 64u << 20;
    std::size_t max_line = 64u << 10;
};

/// The text of `path` (a regular file, a FIFO or a character device such as /dev/stdin; never a
/// directory), at most `spec.max_bytes` bytes with no line longer than `spec.max_line`. Throws
/// Error(spec.unreadable) naming the file and why, or Error(spec.too_large) naming the bound
/// and, for a line, its number. Reads the file (stops one byte past the bound).
std::string read_input_file(const std::filesystem::path& path, const InputFile& spec);

} // namespace mbx
