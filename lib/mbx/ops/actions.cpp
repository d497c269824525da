#include "mbx/ops/actions.hpp"

#include "mbx/ops/quota_cleanup.hpp"
#include "mbx/ops/quota_raise.hpp"
#include "mbx/ops/quota_server.hpp"
#include "mbx/ops/reprovision.hpp"

#include <algorithm>
#include <array>

namespace mbx::ops {
namespace {

constexpr Effect kReads = Effect::reads;
constexpr Effect kChanges = Effect::changes;

// Add a row when an operation journals a new kind; give it its undo when it gains one.
const std::array kKinds{
    ActionKind{kind::kLdapBind, kReads, nullptr, "mbx ping: bind to the directory"},
    ActionKind{kind::kLdapSearch, kReads, nullptr, "mbx ping: search the directory"},
    ActionKind{kind::kImapLogin, kReads, nullptr, "mbx ping: log in to IMAP"},
    ActionKind{kind::kQuotaCheck, kReads, nullptr, "a mailbox's usage and limit"},
    ActionKind{kind::kQuotaRaise, kChanges, undo_quota_raise, "a quota attribute set in the directory"},
    ActionKind{kind::kQuotaRaiseServer, kChanges, undo_quota_raise_server, "a STORAGE limit set on the IMAP server"},
    ActionKind{kind::kQuotaCleanupFolder, kChanges, nullptr, "a folder's cleanup: what was selected"},
    ActionKind{kind::kQuotaCleanupMessage, kChanges, undo_quota_cleanup_message, "a message archived, then expunged"},
    ActionKind{kind::kMailboxClaim, kChanges, nullptr, "a run holds a mailbox while it changes it"},
    ActionKind{kind::kMergePlan, kChanges, nullptr, "a merge's folders and the target's baselines"},
    ActionKind{kind::kMergeFolder, kChanges, nullptr, "a folder merged (created on the target if missing)"},
    ActionKind{kind::kMergeBatch, kChanges, nullptr, "messages appended to the target"},
    ActionKind{kind::kMergeFlags, kChanges, nullptr, "copies given the source's flags again"},
    ActionKind{kind::kMergeVerify, kChanges, nullptr, "a folder compared on both sides after the copy"},
    ActionKind{kind::kReprovisionInspect, kChanges, nullptr, "the old account as found"},
    ActionKind{kind::kReprovisionAccount, kChanges, reprovision::undo_account, "the new account written",
               true}, // the entry added, its password refused
    ActionKind{kind::kReprovisionMailbox, kChanges, nullptr, "the new mailbox created"},
    ActionKind{kind::kReprovisionMerge, kChanges, nullptr, "the old mailbox merged into the new"},
    ActionKind{kind::kReprovisionLogon, kChanges, nullptr, "the new account's logon verified"},
    ActionKind{kind::kReprovisionCutover, kChanges, reprovision::undo_cutover,
               "the old account disabled, the new one given its addresses",
               true}, // the new entry given the addresses, the old one's change refused
    ActionKind{kind::kReprovisionFinalMerge, kChanges, nullptr, "what arrived during the cutover merged"},
    ActionKind{kind::kReprovisionResume, kChanges, nullptr, "a reprovision continued"},
    ActionKind{kind::kAuditLog, kReads, nullptr, "an ActiveSync log read"},
    ActionKind{kind::kAuditDevices, kReads, nullptr, "the devices found in the logs"},
    ActionKind{kind::kAuditDevice, kReads, nullptr, "one device found in the logs (older journals)"},
    ActionKind{kind::kAuditCompat, kReads, nullptr, "devices judged against a server's versions"},
    ActionKind{kind::kAuditProbe, kReads, nullptr, "an ActiveSync probe of one account"},
    ActionKind{kind::kAuditServer, kReads, nullptr, "the protocol versions a server offers"},
    ActionKind{kind::kDiagnoseCheck, kReads, nullptr, "one finding of mbx diagnose"},
};

// Families: a kind this version does not name but whose prefix says what it is (an undo of any
// kind; audit and diagnose kinds of other versions, which only ever looked).
const std::array kFamilies{
    ActionKind{kind::kUndoPrefix, kChanges, nullptr, "an action undone"},
    ActionKind{"audit.", kReads, nullptr, "an audit record of another mbxkit version"},
    ActionKind{"diagnose.", kReads, nullptr, "a diagnose record of another mbxkit version"},
};

} // namespace

std::span<const ActionKind> action_kinds() { return kKinds; }

const ActionKind* find_action_kind(std::string_view name) {
    const auto it = std::find_if(kKinds.begin(), kKinds.end(), [&](const ActionKind& k) { return k.name == name; });
    if (it != kKinds.end()) return &*it;
    const auto family =
        std::find_if(kFamilies.begin(), kFamilies.end(), [&](const ActionKind& k) { return name.starts_with(k.name); });
    return family == kFamilies.end() ? nullptr : &*family;
}

bool read_only_kind(std::string_view name) {
    const ActionKind* k = find_action_kind(name);
    return k && k->effect == Effect::reads;
}

} // namespace mbx::ops
