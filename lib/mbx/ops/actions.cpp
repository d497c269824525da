#include "mbx/ops/actions.hpp"

#include "mbx/ops/quota_cleanup.hpp"
#include "mbx/ops/quota_raise.hpp"
#include "mbx/ops/reprovision.hpp"

#include <algorithm>
#include <array>

namespace mbx::ops {
namespace {

constexpr Effect reads = Effect::reads;
constexpr Effect changes = Effect::changes;

// Add a row when an operation journals a new kind; give it its undo when it gains one.
const std::array kinds{
    ActionKind{kind::ldap_bind, reads, nullptr, "mbx ping: bind to the directory"},
    ActionKind{kind::ldap_search, reads, nullptr, "mbx ping: search the directory"},
    ActionKind{kind::imap_login, reads, nullptr, "mbx ping: log in to IMAP"},
    ActionKind{kind::quota_check, reads, nullptr, "a mailbox's usage and limit"},
    ActionKind{kind::quota_raise, changes, undo_quota_raise, "a quota attribute set in the directory"},
    ActionKind{kind::quota_cleanup_folder, changes, nullptr, "a folder's cleanup: what was selected"},
    ActionKind{kind::quota_cleanup_message, changes, undo_quota_cleanup_message,
               "a message archived, then expunged"},
    ActionKind{kind::mailbox_claim, changes, nullptr, "a run holds a mailbox while it changes it"},
    ActionKind{kind::merge_plan, changes, nullptr, "a merge's folders and the target's baselines"},
    ActionKind{kind::merge_folder, changes, nullptr, "a folder merged (created on the target if missing)"},
    ActionKind{kind::merge_batch, changes, nullptr, "messages appended to the target"},
    ActionKind{kind::merge_flags, changes, nullptr, "copies given the source's flags again"},
    ActionKind{kind::merge_verify, changes, nullptr, "a folder compared on both sides after the copy"},
    ActionKind{kind::reprovision_inspect, changes, nullptr, "the old account as found"},
    ActionKind{kind::reprovision_account, changes, reprovision::undo_account, "the new account written"},
    ActionKind{kind::reprovision_mailbox, changes, nullptr, "the new mailbox created"},
    ActionKind{kind::reprovision_merge, changes, nullptr, "the old mailbox merged into the new"},
    ActionKind{kind::reprovision_logon, changes, nullptr, "the new account's logon verified"},
    ActionKind{kind::reprovision_cutover, changes, reprovision::undo_cutover,
               "the old account disabled, the new one given its addresses"},
    ActionKind{kind::reprovision_final_merge, changes, nullptr, "what arrived during the cutover merged"},
    ActionKind{kind::reprovision_resume, changes, nullptr, "a reprovision continued"},
    ActionKind{kind::audit_log, reads, nullptr, "an ActiveSync log read"},
    ActionKind{kind::audit_devices, reads, nullptr, "the devices found in the logs"},
    ActionKind{kind::audit_device, reads, nullptr, "one device found in the logs (older journals)"},
    ActionKind{kind::audit_compat, reads, nullptr, "devices judged against a server's versions"},
    ActionKind{kind::audit_probe, reads, nullptr, "an ActiveSync probe of one account"},
    ActionKind{kind::audit_server, reads, nullptr, "the protocol versions a server offers"},
    ActionKind{kind::diagnose_check, reads, nullptr, "one finding of mbx diagnose"},
};

// Families: a kind this version does not name but whose prefix says what it is (an undo of any
// kind; audit and diagnose kinds of other versions, which only ever looked).
const std::array families{
    ActionKind{kind::undo_prefix, changes, nullptr, "an action undone"},
    ActionKind{"audit.", reads, nullptr, "an audit record of another mbxkit version"},
    ActionKind{"diagnose.", reads, nullptr, "a diagnose record of another mbxkit version"},
};

} // namespace

std::span<const ActionKind> action_kinds() { return kinds; }

const ActionKind* find_action_kind(std::string_view name) {
    const auto it = std::find_if(kinds.begin(), kinds.end(), [&](const ActionKind& k) { return k.name == name; });
    if (it != kinds.end()) return &*it;
    const auto family = std::find_if(families.begin(), families.end(),
                                     [&](const ActionKind& k) { return name.starts_with(k.name); });
    return family == families.end() ? nullptr : &*family;
}

bool read_only_kind(std::string_view name) {
    const ActionKind* k = find_action_kind(name);
    return k && k->effect == Effect::reads;
}

} // namespace mbx::ops
