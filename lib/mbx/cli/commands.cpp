#include "mbx/cli/commands.hpp"

#include <algorithm>
#include <array>

namespace mbx::cli {
namespace {

constexpr std::array<CommandInfo, 8> kCommands{{
    {"audit", "ActiveSync versions of servers and clients, and who breaks in an upgrade (MIS_2)"},
    {"diagnose", "find which MIS code applies to a user and the command that fixes it"},
    {"explain", "explain an ActiveSync/MIS error code and name the command that fixes it"},
    {"journal", "list, show and export what mbxkit did (runs and actions)"},
    {"merge", "copy a mailbox into another, IMAP to IMAP, without duplicates (MIS_5)"},
    {"ping", "check that the configured directory and mail servers answer and accept mbxkit's logins"},
    {"quota", "check mailbox usage against its limits (MIS_9)"},
    {"reprovision", "replace a corrupted account: new account and mailbox, merge, verify, cut over (MIS_5)"},
}};

} // namespace

std::span<const CommandInfo> command_table() { return kCommands; }

const CommandInfo* find_command(std::string_view name) {
    auto it = std::find_if(kCommands.begin(), kCommands.end(), [&](const CommandInfo& c) { return c.name == name; });
    return it == kCommands.end() ? nullptr : &*it;
}

} // namespace mbx::cli
