#pragma once
// `mbx reprovision USER --new-uid NEWUID`: MIS_5's fix for a corrupted provisioned user, as one
// journaled, resumable, undoable plan (docs/commands/reprovision.md):
//
//   1 inspect   read the old entry (its snapshot is the before-state of everything after)
//   2 account   a new entry next to it, attributes copied, a new random password (Password
//               Modify, RFC 3062; on Active Directory unicodePwd over TLS, the entry added
//               disabled and enabled once it has the password) written only to a 0600 file
//   3 mailbox   log in as the new user (the server makes INBOX), create the old folder tree and
//               the standard special-use folders
//   4 merge     the merge engine, old -> new, verified
//   5 logon     a real login as the new user with the new password, SELECT INBOX
//   6 cutover   mail addresses move from the old entry to the new one, the old one is disabled
//   7 final     one more merge pass: mail delivered to the old mailbox during the switch
//
// Every step is an action of one journal run; a failed or killed run is continued by the
// same command (or --resume RUN), which reopens that run and starts at the first step not
// done. Steps are idempotent: each compares what the servers hold with what it wants.

#include "mbx/core/config.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/progress.hpp"
#include "mbx/core/session.hpp"
#include "mbx/ops/fwd.hpp"
#include "mbx/ops/merge.hpp"
#include "mbx/ops/undo.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops::reprovision {

/// How the old account is disabled at cutover (and the new one by undo).
enum class DisableMethod {
    attribute,       ///< disable-attribute set to disable-value
    account_control, ///< the ACCOUNTDISABLE bit of userAccountControl, alone (Active Directory)
    move,
    none
};

/// The [reprovision] settings with the [ldap] ones they depend on, checked.
struct Settings {
    std::string kind = "other"; ///< [ldap] kind as found: openldap, 389ds, active-directory, other
    bool active_directory = false;
    std::string uid_attribute = {};
    std::string rdn_attribute = {};                   ///< of new entries: cn on Active Directory, else uid_attribute
    std::vector<std::string> copy_attributes = {};    ///< plus objectClass and the quota attribute
    std::vector<std::string> address_attributes = {}; ///< [ldap] mail-attribute + alias-attributes
    std::string base = {};                            ///< empty: the old entry's parent
    std::filesystem::path password_dir = {};
    DisableMethod disable = DisableMethod::attribute;
    std::string disable_attribute = {};
    std::string disable_value = {};
    std::string disabled_base = {};
    bool undo_removes_new_entry = false; ///< undo-new-entry = remove (else disable)
};

/// Reads and checks the settings (of a `cfg` directory_config() made, for the directory's kind).
/// `journal_path` places the default password-dir. Throws Error(config) naming the key for a
/// bad value. No network.
Settings settings_of(const config::Config& cfg, const std::filesystem::path& journal_path);

/// What to reprovision.
struct Request {
    std::string user = {};    ///< the old login
    std::string new_uid = {}; ///< the new login
    /// The new password comes from this 0600 file instead of being generated.
    std::optional<std::filesystem::path> password_file = {};
    bool cutover = true;
    bool force = false; ///< merge even when the pre-flight says the new mailbox's quota is too small
    /// Continue this run (--resume); otherwise an unfinished run of the same user and NEWUID
    /// is found in the journal and continued.
    std::optional<std::int64_t> resume_run = {};
    std::vector<std::string> argv = {}; ///< journaled as the run's arguments
};

/// One reported step (or, in a dry run, one folder of the merge plan).
/// What became of a step.
enum class StepStatus {
    done,     ///< made
    already,  ///< made by an earlier attempt of the run
    would_do, ///< a dry run: planned, not made
    skipped,  ///< not to be made (cutover without --cutover)
    failed,   ///< tried, and the run stopped there
};

/// "done", "already", "would-do", "skipped", "failed": as the report says it. Pure.
std::string_view step_status_name(StepStatus s);

struct Step {
    std::string step = {};    ///< inspect, account, mailbox, merge, logon, cutover, final
    std::string subject = {}; ///< the DN or folder it is about
    StepStatus status = StepStatus::failed;
    std::string detail = {}; ///< one line for people
    std::string ldif = {};   ///< what it writes (or would write) to the directory, as LDIF
};

struct Result {
    std::string user = {};
    std::string new_uid = {};
    std::int64_t run_id = 0;
    bool resumed = false;
    std::string old_dn = {};
    std::string new_dn = {};
    std::optional<std::filesystem::path> password_file = {}; ///< where the new password is
    std::vector<Step> steps = {};
    std::optional<merge::Result> merge = {}; ///< the last merge pass
    ExitCode exit = ExitCode::ok;
    std::optional<Error> error = {}; ///< what stopped the run
};

/// Runs (or continues, or plans) one reprovisioning and records it as one journal run.
/// Failures are reported in Result (the run is finished `failed` and can be resumed); throws
/// Error only for bad requests found before any run is begun: usage (NEWUID equals USER,
/// --resume of another command's run), data (no such run), and for a journal that cannot be
/// written. Network; changes the directory and the new mailbox; journal.
Result run(const Session& session, const Request& req);

/// One user of `mbx reprovision`: the old login and the new one.
struct Pair {
    std::string user;
    std::string new_uid;
};

/// `mbx reprovision` of one user or a batch (--users-file).
struct UsersRequest {
    std::vector<Pair> pairs;
    /// What every pair shares (password file, cutover, force, resume) and the command line.
    Request each;
    /// From a users file: each user's run journals `USER --new-uid NEWUID` and the flags
    /// --no-cutover, --force, --dry-run, -n of the command line, as if it had been run alone,
    /// and an error before its run is that user's result instead of ending the batch.
    bool batch = false;
};

/// Runs every pair in turn (each reprovision runs a merge of its own), each one journal run
/// (run()). A failure is kept to its user's Result; outside a batch, an error before the run
/// is thrown as run() throws it.
std::vector<Result> run_users(const Session& session, const UsersRequest& req);

/// The user and NEWUID a reprovision run was started for (for `--resume RUN` alone).
/// Throws Error(usage) when `run_id` is not a reprovision run. Reads the journal.
std::pair<std::string, std::string> request_of_run(journal::Journal& journal, std::int64_t run_id);

/// A new password: 24 characters from [A-Za-z0-9] (143 bits) from getrandom(2).
/// Throws Error(internal) when the kernel has no randomness to give.
Secret generate_password();

/// Undoes a cutover: the old entry gets back its DN and the exact values of every attribute
/// the cutover changed; then the new entry loses the addresses it was given. Conflict when
/// either entry changed since, unless forced. Network; changes the directory.
UndoOutcome undo_cutover(UndoContext& ctx, const journal::ActionRecord& action);

/// Undoes the account step: the new entry is disabled (as [reprovision] disable-method) or,
/// with undo-new-entry = remove, deleted after its LDIF (without the password) is kept in the
/// undo's journal record. Never touches mail. Network; changes the directory.
UndoOutcome undo_account(UndoContext& ctx, const journal::ActionRecord& action);

} // namespace mbx::ops::reprovision
