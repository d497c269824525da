#pragma once
// One error type and one table of exit codes for every mbxkit library and tool.
//
// Library code throws mbx::Error (or returns it as a value); tools turn it into an exit status
// in exactly one place (mbx::cli::run_tool). docs/exit-codes.md documents the same table and a
// unit test keeps the two in agreement.

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mbx {

/// Process exit statuses. Values follow sysexits(3) for failures; 0/1/2 carry findings.
enum class ExitCode : int {
    ok = 0,            ///< nothing to report
    warning = 1,       ///< findings at warning level (e.g. a mailbox past the warning tier)
    critical = 2,      ///< findings at critical level
    usage = 64,        ///< EX_USAGE: bad flags or arguments
    data = 65,         ///< EX_DATAERR: bad input data (unknown user, malformed file)
    unavailable = 69,  ///< EX_UNAVAILABLE: a server cannot be reached
    internal = 70,     ///< EX_SOFTWARE: a bug in mbxkit
    io = 74,           ///< EX_IOERR: writing output or a local file failed (full disk)
    temporary = 75,    ///< EX_TEMPFAIL: try again later (busy, throttled, over quota)
    auth = 77,         ///< EX_NOPERM: authentication or permission refused
    config = 78,       ///< EX_CONFIG: configuration missing or wrong
    interrupted = 130, ///< SIGINT/SIGTERM: stopped on request, resumable
};

/// What went wrong, independent of which library noticed it.
enum class ErrorCategory {
    usage,
    data,
    unavailable,
    internal,
    io,
    temporary,
    auth,
    config,
    interrupted,
};

/// One row of the exit-code table (docs/exit-codes.md mirrors it).
struct ExitCodeInfo {
    ExitCode code;
    std::string_view name;    ///< stable machine name, e.g. "unavailable"
    std::string_view meaning; ///< one line for people
};

/// The complete exit-code table, in ascending order of code.
std::span<const ExitCodeInfo> exit_code_table();

/// The table row for `code`.
const ExitCodeInfo& exit_code_info(ExitCode code);

/// The exit status a failure of `category` ends a process with.
ExitCode exit_code_for(ErrorCategory category);

/// Nagios plugins may exit only 0..3: findings keep 0/1/2, every failure becomes 3 UNKNOWN.
int nagios_exit_status(ExitCode code);

/// The worse of two outcomes for a run over many subjects (users, servers): failures beat
/// findings; among failures a temporary one wins (the whole run is worth retrying), otherwise
/// the first one seen (`a`) is kept; among findings the higher level wins.
ExitCode combine_exit_codes(ExitCode a, ExitCode b);

/// The error every mbxkit library throws. `what()` says what failed, first, with the subject
/// quoted and a lower-case start (`cannot log in to 'imaps://host': authentication failed`);
/// `hint()` says how to fix it, when there is something to say.
class Error : public std::runtime_error {
public:
    Error(ErrorCategory category, std::string message, std::string hint = {}, std::int64_t library_code = 0);

    ErrorCategory category() const noexcept { return category_; }
    /// The hint for the admin ("set [ldap] password-file or MBX_LDAP_PASSWORD"), may be empty.
    const std::string& hint() const noexcept { return hint_; }
    /// The underlying library's numeric code (LDAP result code, CURLcode, SQLite extended
    /// code, IMAP-free 0), so callers can classify without parsing messages.
    std::int64_t library_code() const noexcept { return library_code_; }
    ExitCode exit_code() const noexcept { return exit_code_for(category_); }

    /// The one line a tool prints: message, then "; " and the hint when there is one.
    std::string one_line() const;

private:
    ErrorCategory category_;
    std::string hint_;
    std::int64_t library_code_;
};

} // namespace mbx
