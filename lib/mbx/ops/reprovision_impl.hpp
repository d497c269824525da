#pragma once
// mbx reprovision's insides: the step constants, the helpers and the Reprovisioner that runs the
// steps. reprovision.cpp has the run and the entry points, reprovision_steps.cpp the steps,
// reprovision_undo.cpp the undo. Internal to lib/mbx/ops: nothing else includes it.

#include "mbx/ops/reprovision.hpp"

#include "mbx/core/config.hpp"
#include "mbx/core/secret.hpp"
#include "mbx/directory/directory.hpp"
#include "mbx/directory/entry.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/actions.hpp"
#include "mbx/ops/connect.hpp"
#include "mbx/ops/merge_run.hpp"
#include "mbx/ops/plan.hpp"
#include "mbx/ops/user_schema.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops::reprovision::detail {

using json = nlohmann::json;

/// Attributes never copied nor journaled: the old password (a hash is still a secret).
inline const std::vector<std::string> kSecretAttributes{"userPassword", "unicodePwd", "sambaNTPassword",
                                                        "sambaLMPassword"};

inline constexpr std::string_view kTool = "reprovision";
inline constexpr std::string_view kInspect = kind::kReprovisionInspect;
inline constexpr std::string_view kAccount = kind::kReprovisionAccount;
inline constexpr std::string_view kMailbox = kind::kReprovisionMailbox;
inline constexpr std::string_view kMerge = kind::kReprovisionMerge;
inline constexpr std::string_view kLogon = kind::kReprovisionLogon;
inline constexpr std::string_view kCutover = kind::kReprovisionCutover;
inline constexpr std::string_view kFinal = kind::kReprovisionFinalMerge;
inline constexpr std::string_view kResume = kind::kReprovisionResume;

// The standard folders a device expects (MIS_8), made when neither mailbox has that use.
// The folders a device's sync needs (MIS_8); Junk only comes when the old mailbox had one.
inline constexpr std::pair<std::string_view, std::string_view> kStandardFolders[] = {
    {"\\Drafts", "Drafts"}, {"\\Sent", "Sent"}, {"\\Trash", "Trash"}};

/// The strings of a JSON array (other members skipped). Pure.
std::vector<std::string> strings(const json& j);

/// `j[key]` when it is a string, else empty. Pure.
std::string str(const json& j, const char* key);

std::vector<std::string> sorted(std::vector<std::string> v);

/// True when `entry` holds, for every attribute of `want`, exactly those values (as a set).
bool holds(const directory::Entry& entry, const json& want);

/// True when every attribute of `before` holds either its before- or its after-values.
bool consistent(const directory::Entry& entry, const json& before, const json& after);

/// A replace of every attribute of `values` with its values.
std::vector<directory::Modification> replace_all(const json& values);

/// The changes that make an entry holding `was` hold `want`: none for an attribute that holds
/// its wanted values already, else a replace, but
/// userAccountControl as a delete of its old value and an add of the new one, so that the
/// change is refused when the flags changed meanwhile (the old value is the precondition).
std::vector<directory::Modification> changes_from(const json& was, const json& want);

/// `flags` (userAccountControl as the directory wrote it) with ACCOUNTDISABLE set or cleared;
/// Error(data) naming `dn` when it is not a number.
std::string with_disable_bit(const std::string& flags, bool disabled, const std::string& dn);

std::string in_quotes(std::string_view s);

bool same_name(std::string_view a, std::string_view b);

bool contains_name(const std::vector<std::string>& names, std::string_view n);

// A value we journal must be printable text (addresses, flags); binary values stay out.
std::vector<std::string> text_values(const directory::Entry& e, const std::string& attr);

json values_of(const directory::Entry* e, const std::vector<std::string>& attrs);

std::string safe_file_part(std::string_view s);

// Writes the password to a new 0600 file (O_EXCL: never over another file) and syncs it, so
// the secret is on disk before the directory is told about it.
void write_password_file(const std::filesystem::path& path, const Secret& password);

// Test hook (docs/development.md): with MBXKIT_TEST_STOP_BEFORE=STEP in the environment the
// process stops itself (SIGSTOP) as that step begins, so a test can stop a server, kill -9 the
// process, or let it go on (SIGCONT) at an exact point. Unset in production: a getenv.
void stop_if_asked(std::string_view step);

// The reprovision run of USER -> NEWUID most recently begun, if any (dry runs do not count).
std::optional<journal::RunRecord> previous_run(journal::Journal& journal, const std::string& user,
                                               const std::string& new_uid);

// The request as the run carries it out: with the session's dry run.
struct RunRequest : Request {
    bool dry_run = false;
};

class Reprovisioner {
public:
    /// `earlier`: what the earlier attempts of this run journaled (empty for a new run).
    Reprovisioner(const Session& session, const RunRequest& req, journal::Journal& journal, Result& res,
                  const Resumed& earlier)
        : session_(session), cfg_(session.config), secrets_(session.secrets), req_(req), journal_(journal),
          progress_(session.progress), res_(res), earlier_(earlier),
          settings_(settings_of(session.config, journal.path())) {}

    void run();

private:
    // The directory, connected at the first use; the settings then follow its kind (Active
    // Directory: sAMAccountName, proxyAddresses, userAccountControl).
    directory::Directory& dir() {
        if (!dir_) {
            dir_.emplace(directory::Directory::connect(ldap_config(cfg_, secrets_)));
            cfg_ = directory_config(*dir_, cfg_);
            settings_ = settings_of(cfg_, journal_.path());
        }
        return *dir_;
    }
    bool active_directory() const { return settings_.active_directory; }
    // The inspection journals itself, outside make(): it only looks, and a dry run looks too
    // (without journaling it, as no run is continued from a dry run).
    std::int64_t begin(std::string_view kind, std::string subject, std::optional<json> before, json after) {
        if (req_.dry_run) return 0;
        return journal_.add_action(res_.run_id, {.kind = std::string(kind),
                                                 .subject = std::move(subject),
                                                 .before = std::move(before),
                                                 .after = std::move(after),
                                                 .status = journal::ActionStatus::planned});
    }
    void done(std::int64_t action, std::optional<json> after = std::nullopt) {
        if (action) journal_.update_action(action, journal::ActionStatus::done, std::move(after));
    }
    void report(std::string step, std::string subject, StepStatus status, std::string detail, std::string ldif = {}) {
        res_.steps.push_back(
            {std::move(step), std::move(subject), std::move(status), std::move(detail), std::move(ldif)});
    }
    void phase(std::string_view step) {
        stop_if_asked(step);
        step_ = step;
        session_.throw_if_stopped();
        progress_.update(fmt::format("{} -> {}: {}", req_.user, req_.new_uid, step), 0, 0);
    }
    merge::Endpoint endpoint(const std::string& user) { return {user, imap_master_config(cfg_, secrets_, user)}; }
    // The subject of the merge passes.
    std::string pair() const { return req_.user + " -> " + req_.new_uid; }
    // The session of the run's own work; without the journal, nothing of it is journaled.
    Session in_run(bool journaled) const {
        return {.config = cfg_,
                .secrets = secrets_,
                .journal = journaled ? &journal_ : nullptr,
                .run_id = res_.run_id,
                .progress = progress_,
                .dry_run = req_.dry_run,
                .stop_requested = session_.stop_requested};
    }
    // Journals `action` in the run and makes it (ops::apply): only journaled in a dry run, not
    // made again when an earlier attempt of the run made it.
    Applied make(PlannedAction action) {
        // A dry run that reopened a real run leaves it alone: that run holds only what was made.
        const bool journaled = !(req_.dry_run && res_.resumed);
        return ops::apply(in_run(journaled), {std::move(action)}, earlier_).front();
    }

    void inspect();
    void check_new_uid_free();
    std::string preflight(const std::string& container);
    void account();
    void set_new_password();
    void make_account(const std::vector<directory::Attribute>& attrs, const std::filesystem::path& file, bool generated,
                      bool exists);
    void mailbox();
    json create_folders();
    std::string create_user_mailbox();
    std::string carry_limit();
    merge::Request merge_request();
    void merge_pass(const char* action_kind, const char* step);
    void report_merge_plan(const char* step);
    void logon();
    std::uint64_t log_in_as_new();
    void cutover();
    std::pair<json, json> plan_cutover();
    void cut_over(const std::string& moved_dn, const std::vector<directory::Modification>& new_changes,
                  const std::vector<directory::Modification>& old_changes);
    std::vector<directory::Attribute> new_entry_attributes(const directory::Entry& old) const;

    const Session& session_; // the caller's: its stop request is checked before each step
    config::Config cfg_;     // the caller's, with the directory kind's defaults once connected
    const SecretProvider& secrets_;
    const RunRequest& req_;
    journal::Journal& journal_;
    Progress& progress_;
    Result& res_;
    const Resumed& earlier_;
    Settings settings_;
    std::optional<directory::Directory> dir_;
    json snapshot_;       // the old entry as inspected: dn, ldif, addresses, disable values
    std::string new_upn_; // Active Directory: the new entry's userPrincipalName
    std::optional<Secret> password_;
    std::int64_t action_ = 0;      // the inspection's action while under way (marked failed on error)
    std::string step_ = "inspect"; // the step under way (reported failed on error)
};

} // namespace mbx::ops::reprovision::detail
