#pragma once
// Who a command works on, from a file: the one reader of users files (a uid a line: `mbx quota
// check|sweep --users-file`) and of pairs files (`first,second` a line: `mbx merge
// --users-file`, `mbx reprovision --users-file`).

#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops {

/// Reads uids from a users file: one per line, surrounding blanks trimmed, blank lines and
/// lines starting with `#` skipped. Throws Error(io) naming the file when it cannot be read
/// (or is too large, or has a line over kMaxUserLine).
std::vector<std::string> read_users_file(const std::string& path);

/// One line of a pairs file.
struct NamePair {
    std::string first;
    std::string second;
};

/// Reads a pairs file: `first,second` per line, each trimmed, further columns ignored; blank
/// lines and `#` comments skipped. `option` names the option in messages ("--users-file"), `example` is a good line
/// ("alice,alice2"). Throws Error(usage) for a file that cannot be read, Error(data) naming
/// FILE:LINE for a line that is not two non-empty names, and for a file without pairs.
std::vector<NamePair> read_pairs_file(const std::string& path, std::string_view option, std::string_view example);

} // namespace mbx::ops
