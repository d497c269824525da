#pragma once
// The table of mbx commands: the `mbx` front dispatches from it (git style: `mbx quota ...`
// runs `mbx-quota ...` from the same directory) and `mbx help` lists it. Adding a command
// means a row here, a tools/mbx-<name>/ directory and a docs/commands/<name>.md page
// (tools/README.md has the checklist; a unit test checks all three agree).

#include <span>
#include <string_view>

namespace mbx::cli {

struct CommandInfo {
    std::string_view name;    ///< "quota"
    std::string_view summary; ///< one line
};

/// Every shipped command, alphabetically.
std::span<const CommandInfo> command_table();

/// The row for `name`, or nullptr.
const CommandInfo* find_command(std::string_view name);

} // namespace mbx::cli
