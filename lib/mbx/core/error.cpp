#include "mbx/core/error.hpp"

#include <algorithm>
#include <array>

namespace mbx {
namespace {

constexpr std::array<ExitCodeInfo, 12> kTable{{
    {ExitCode::ok, "ok", "success; no findings"},
    {ExitCode::warning, "warning", "success; findings at warning level"},
    {ExitCode::critical, "critical", "success; findings at critical level"},
    {ExitCode::usage, "usage", "bad flags or arguments"},
    {ExitCode::data, "data", "bad input data: unknown user, malformed file or value"},
    {ExitCode::unavailable, "unavailable", "a server (LDAP, IMAP, HTTP) cannot be reached"},
    {ExitCode::internal, "internal", "internal error in mbxkit (a bug: please report it)"},
    {ExitCode::io, "io",
     "writing output or a local file failed (disk full, permission, a reader that closed the pipe)"},
    {ExitCode::temporary, "temporary", "temporary failure: busy, throttled or over quota; retry or resume"},
    {ExitCode::auth, "auth", "authentication or permission refused"},
    {ExitCode::config, "config", "configuration missing or wrong"},
    {ExitCode::interrupted, "interrupted", "interrupted by a signal; the operation can be resumed"},
}};

bool is_failure(ExitCode c) { return static_cast<int>(c) > 2; }

} // namespace

std::span<const ExitCodeInfo> exit_code_table() { return kTable; }

const ExitCodeInfo& exit_code_info(ExitCode code) {
    auto it = std::find_if(kTable.begin(), kTable.end(), [code](const ExitCodeInfo& i) { return i.code == code; });
    return it != kTable.end() ? *it : kTable[6]; // every enumerator is in the table (tested)
}

ExitCode exit_code_for(ErrorCategory category) {
    switch (category) {
    case ErrorCategory::usage: return ExitCode::usage;
    case ErrorCategory::data: return ExitCode::data;
    case ErrorCategory::unavailable: return ExitCode::unavailable;
    case ErrorCategory::internal: return ExitCode::internal;
    case ErrorCategory::io: return ExitCode::io;
    case ErrorCategory::temporary: return ExitCode::temporary;
    case ErrorCategory::auth: return ExitCode::auth;
    case ErrorCategory::config: return ExitCode::config;
    case ErrorCategory::interrupted: return ExitCode::interrupted;
    }
    return ExitCode::internal;
}

int nagios_exit_status(ExitCode code) { return is_failure(code) ? 3 : static_cast<int>(code); }

ExitCode combine_exit_codes(ExitCode a, ExitCode b) {
    if (is_failure(a) || is_failure(b)) {
        if (a == ExitCode::interrupted || b == ExitCode::interrupted) return ExitCode::interrupted;
        if (a == ExitCode::temporary || b == ExitCode::temporary) return ExitCode::temporary;
        return is_failure(a) ? a : b;
    }
    return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

Error::Error(ErrorCategory category, std::string message, std::string hint, std::int64_t library_code)
    : std::runtime_error(std::move(message)), category_(category), hint_(std::move(hint)), library_code_(library_code) {
}

std::string Error::one_line() const {
    std::string line = what();
    if (!hint_.empty()) {
        line += "; ";
        line += hint_;
    }
    // One line means one line: a server's multi-line message must not break the contract.
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::replace(line.begin(), line.end(), '\r', ' ');
    return line;
}

} // namespace mbx
