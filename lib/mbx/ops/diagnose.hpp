#pragma once
// `mbx diagnose USER`: from "my phone says sync failed" to the MIS code that applies and the
// command that fixes it. Read-only: every check looks, none changes anything.
//
// The checks, in order (docs/commands/diagnose.md):
//   server     LDAP and IMAP answer (latency, TLS certificate and its expiry), the ActiveSync
//              endpoint answers OPTIONS; a master login that fails for USER while it works for
//              another user is a broken account (MIS_5 -> reprovision), not a down server
//              (MIS_5 -> retry later)
//   directory  the entry exists, matches [ldap] user-filter, is enabled, has a mail address,
//              and neither its uid nor its addresses are on another entry (MIS_5)
//   folders    INBOX and the Drafts, Sent and Trash folders exist and can be opened (MIS_8)
//   quota      the tier of `mbx quota check` (MIS_9), with the bytes to free
//   devices    the user's ActiveSync devices (access logs or the journal's latest audit)
//              against the server's protocol versions (MIS_2)
//   history    recent mbxkit runs about the user; an interrupted change is a warning

#include "mbx/audit/access_log.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/session.hpp"
#include "mbx/ops/fwd.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops::diagnose {

/// How one check came out.
enum class Status {
    ok,      ///< nothing wrong
    warning, ///< works now, needs attention (a certificate expiring soon, a mailbox at the warning tier)
    failed,  ///< this is (or can be) why the device fails
    skipped, ///< not run: not configured, nothing to check, or an earlier check failed
};

/// "ok", "warning", "failed", "skipped". Pure.
std::string_view status_name(Status s);

/// One check's result.
struct Finding {
    std::string area = {};  ///< "server", "directory", "folders", "quota", "devices", "history"
    std::string check = {}; ///< what was checked: "ldap", "imap-login", "uid-unique", "Trash", a device id, a run id
    Status status = Status::ok;
    std::string mis = {};                        ///< "MIS_5", "MIS_8", "MIS_9", "MIS_2", or empty
    std::string detail = {};                     ///< one line: what was found
    std::string remedy = {};                     ///< one line: the command (or step) that fixes it; empty when ok
    std::optional<std::int64_t> latency_ms = {}; ///< for server checks
};

/// What to diagnose and where the device evidence comes from.
struct Request {
    std::string user = {};                        ///< the login ([ldap] uid-attribute)
    std::optional<std::string> device = {};       ///< only this ActiveSync device id
    std::vector<std::filesystem::path> logs = {}; ///< access logs; empty: the journal's latest `mbx audit clients`
    mbx::audit::LogFormat log_format = mbx::audit::LogFormat::auto_detect;
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
    /// Progress: the name of the check about to run. May be empty.
    std::function<void(std::string_view)> on_check = {};
};

/// Everything found.
struct Report {
    std::string user = {};
    std::string dn = {}; ///< the entry diagnosed, when the directory has it
    std::string mail = {};
    std::vector<Finding> findings = {};
    /// 0 when every check is ok or skipped, 1 for a warning, 2 for a failed check; 65 when the
    /// directory answered and has no such user (docs/exit-codes.md).
    ExitCode exit_code = ExitCode::ok;
};

/// The exit code of `findings`: the worst status (warning 1, failed 2). Pure.
ExitCode worst_status(const std::vector<Finding>& findings);

/// Bytes to delete so that `used` falls below the warning tier of `limit` (`warning_percent`
/// of it): 0 when it is already below. Pure.
std::int64_t bytes_to_free(std::int64_t used, std::int64_t limit, double warning_percent);

/// A limit (whole MiB, rounded up) under which `used` is below `warning_percent`. Pure.
std::int64_t limit_for(std::int64_t used, double warning_percent);

/// Runs every check for `request.user` with the servers of `cfg` ([ldap], [imap], [activesync]
/// when set; [diagnose] certificate-warning-days, reference-user, history-days). Never stops at
/// a failed check: a failure of one server skips the checks that need it and the others go on.
/// Reads the session's journal (device inventory, server versions, history) when it has one;
/// writes nothing.
/// Throws Error(config) for an unusable configuration (neither [ldap] nor [imap] uri, a bad
/// [diagnose] value), Error(usage) for an empty user, and what load_logs throws for an
/// unreadable --log. The findings are journaled in the session's run, when it has one
/// (journal_findings). Network.
Report diagnose(const Session& session, const Request& request);

/// Records each finding as a `diagnose.check` action of `run` (subject: the user; after: the
/// finding), in one batch. Writes the journal.
void journal_findings(journal::Journal& journal, std::int64_t run, const Report& report);

} // namespace mbx::ops::diagnose
