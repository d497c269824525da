#pragma once
// The kinds of journal action mbx writes, in one place: each kind's name, whether it only
// looks (read-only: diagnose's history counts a run made of these as a check, not a change), and
// how it is undone, if it can be. Operations journal actions under these names and nothing else
// (scripts/check-layering refuses a kind written as a string literal in ops); `mbx journal undo`
// and `mbx diagnose` read this table instead of lists of their own.

#include "mbx/ops/undo.hpp"

#include <span>
#include <string_view>

namespace mbx::ops::kind {

// One name per kind, as the journal stores it. Ping's are "<service>.<step>".
inline constexpr const char* kLdapBind = "ldap.bind";
inline constexpr const char* kLdapSearch = "ldap.search";
inline constexpr const char* kImapLogin = "imap.login";
inline constexpr const char* kQuotaCheck = "quota.check";
inline constexpr const char* kQuotaRaise = "quota.raise";
inline constexpr const char* kQuotaRaiseServer = "quota.raise-server";
inline constexpr const char* kQuotaCleanupFolder = "quota.cleanup.folder";
inline constexpr const char* kQuotaCleanupMessage = "quota.cleanup.message";
inline constexpr const char* kMailboxClaim = "mailbox.claim"; ///< written by journal::Journal::claim_mailbox
inline constexpr const char* kMergePlan = "merge.plan";
inline constexpr const char* kMergeFolder = "merge.folder";
inline constexpr const char* kMergeBatch = "merge.batch";
inline constexpr const char* kMergeFlags = "merge.flags";
inline constexpr const char* kMergeVerify = "merge.verify";
inline constexpr const char* kReprovisionInspect = "reprovision.inspect";
inline constexpr const char* kReprovisionAccount = "reprovision.account";
inline constexpr const char* kReprovisionMailbox = "reprovision.mailbox";
inline constexpr const char* kReprovisionMerge = "reprovision.merge";
inline constexpr const char* kReprovisionLogon = "reprovision.logon";
inline constexpr const char* kReprovisionCutover = "reprovision.cutover";
inline constexpr const char* kReprovisionFinalMerge = "reprovision.final-merge";
inline constexpr const char* kReprovisionResume = "reprovision.resume";
inline constexpr const char* kAuditLog = "audit.log";
inline constexpr const char* kAuditDevices = "audit.devices";
inline constexpr const char* kAuditDevice = "audit.device"; ///< older journals: one action per device
inline constexpr const char* kAuditCompat = "audit.compat";
inline constexpr const char* kAuditProbe = "audit.probe";
inline constexpr const char* kAuditServer = "audit.server";
inline constexpr const char* kDiagnoseCheck = "diagnose.check";
/// An undo journals "undo.<the undone action's kind>".
inline constexpr std::string_view kUndoPrefix = "undo.";

} // namespace mbx::ops::kind

namespace mbx::ops {

/// What an action of a kind does to the user's account, mailbox or directory entry.
enum class Effect {
    reads,   ///< only looks (a check, a plan, a scan)
    changes, ///< writes to a server (or to the journal's claims)
};

/// One kind of journal action.
struct ActionKind {
    std::string_view name;
    Effect effect = Effect::reads;
    /// Reverts one action of this kind (mbx journal undo), or nullptr when it cannot be undone.
    UndoHandler undo = nullptr;
    std::string_view what = {}; ///< one line for people
    /// An attempt that failed may have made part of its change (an entry added, its password
    /// refused): undo then looks at what is there and takes it back too. Otherwise a failed
    /// action changed nothing and undo passes it by.
    bool partial_on_failure = false;
};

/// Every kind, in the order of the list above.
std::span<const ActionKind> action_kinds();

/// The kind called `name`; an undo's "undo.X" is a kind of its own (it changes what X changed),
/// and an "audit.X" or "diagnose.X" this version does not write only looked. nullptr for any
/// other name mbx never writes (a journal from a newer version).
const ActionKind* find_action_kind(std::string_view name);

/// True when actions of `name` only look. An unknown kind is taken to change something.
bool read_only_kind(std::string_view name);

} // namespace mbx::ops
