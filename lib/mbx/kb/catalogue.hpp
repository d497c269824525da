#pragma once
// The MIS error-code catalogue: what each Server ActiveSync / Mobile Information Server status
// code MIS_0 .. MIS_9 means, why it happens, how to fix it, and which mbxkit command does the
// fixing. `mbx explain` is a thin driver over this header.
//
// Source: the knowledge-base article in shared/reference/kb-mis-error-codes.txt. The facts
// carry over; the wording is the project's own (a unit test rejects any run of 8 or more words
// taken from the article). The JSON produced by to_json() is a stable contract documented in
// docs/commands/explain.md: keys may be added, never renamed or removed.

#include <nlohmann/json_fwd.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::kb {

/// How much the source article says about a code.
enum class ArticleCoverage {
    name_only,    ///< only the symbolic name (MIS_0, MIS_1, MIS_6, MIS_7)
    message_only, ///< the device text, no explanation or resolution (MIS_4)
    full,         ///< device text, explanation and resolution (MIS_2, 3, 5, 8, 9)
};

/// One mbxkit command that carries out (part of) a remediation.
struct RemediationCommand {
    std::string command;    ///< as typed, placeholders in capitals: "mbx quota check USER"
    std::string purpose;    ///< what running it achieves for this code, one line
    bool available = false; ///< true when mbxkit already ships the command (see is_shipped)
};

/// One MIS status code with its explanation and remediation.
struct MisCode {
    int number = 0;                           ///< 0 .. 9
    std::string symbol;                       ///< "SYNC_STATUS_CODE_DISK_SPACE"
    std::string name;                         ///< "disk_space"
    std::string title;                        ///< one line for people
    std::string device_message;               ///< what the device showed, paraphrased; empty
                                              ///< when the article records no device text
    std::vector<std::string> causes;          ///< why it happens, most likely first
    std::vector<std::string> resolution;      ///< steps, in the order to take them
    std::vector<RemediationCommand> commands; ///< mbxkit commands for those steps
    ArticleCoverage coverage = ArticleCoverage::name_only;

    /// The code as devices and logs print it: "MIS_9".
    std::string code() const;
};

/// Every code, MIS_0 to MIS_9, in ascending order. The data is built once and lives for the
/// whole process; the function never throws after the first call.
std::span<const MisCode> all_codes();

/// The code `query` names. Accepted, case-insensitive, with surrounding whitespace ignored and
/// '-' treated as '_': "MIS_9", "MIS-9", "9", "SYNC_STATUS_CODE_DISK_SPACE", "disk_space",
/// "disk-space". Never guesses from a partial match.
/// Throws mbx::Error (ErrorCategory::usage) "unknown MIS code 'QUERY'" when nothing matches
/// exactly; when the query is part of some codes' names the hint lists those codes.
const MisCode& find_code(std::string_view query);

/// The stable JSON object for one code: code, number, symbol, name, title, device_message,
/// causes[], resolution[], commands[{command, purpose, available}], article_coverage.
nlohmann::json to_json(const MisCode& code);

/// A JSON array of to_json(code) for each of `codes`, in the order given (`--list`).
nlohmann::json to_json(std::span<const MisCode> codes);

/// The stable machine name of `coverage`: "name_only", "message_only" or "full".
std::string_view to_string(ArticleCoverage coverage);

/// The command prefixes mbxkit ships today ("mbx explain"). The lead adds a prefix here as a
/// command lands; RemediationCommand::available is derived from this list.
std::span<const std::string_view> shipped_commands();

/// True when `command` (as in RemediationCommand::command) starts with a shipped prefix
/// followed by the end of the string or a space.
bool is_shipped(std::string_view command);

} // namespace mbx::kb
