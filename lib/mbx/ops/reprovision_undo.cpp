// mbx reprovision's undo: the cutover reversed (the addresses back on the old entry, which is
// enabled again) and the new account disabled or removed, each checked against what the run
// journaled so that nothing changed since is overwritten without --force.
#include "mbx/ops/reprovision.hpp"
#include "mbx/ops/reprovision_impl.hpp"

#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/directory/directory.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/directory/ldif.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/undo.hpp"
#include "mbx/ops/user_schema.hpp"

#include <fmt/format.h>

namespace mbx::ops::reprovision {

using detail::changes_from;
using detail::consistent;
using detail::holds;
using detail::json;
using detail::kSecretAttributes;
using detail::replace_all;
using detail::str;

UndoOutcome undo_cutover(UndoContext& ctx, const journal::ActionRecord& action) {
    UndoOutcome o{.action_id = action.id, .kind = action.kind, .subject = action.subject};
    const json before = action.before.value_or(json{});
    const json after = action.after.value_or(json{});
    const std::string old_dn = str(before, "old_dn"), moved_dn = str(after, "old_dn"), new_dn = str(before, "new_dn");
    if (old_dn.empty() || moved_dn.empty() || new_dn.empty() || !before.contains("old") || !after.contains("old")) {
        o.detail = "the journal record has no DNs and values: restore the entries by hand";
        return o;
    }
    auto& dir = undo_directory(ctx);
    // Every attribute the cutover changed, by name: a lock such as 389-DS's nsAccountLock is
    // operational, and a read of the user attributes alone would not see it.
    const auto changed = [](const json& values) {
        std::vector<std::string> names;
        if (values.is_object())
            for (const auto& [attr, v] : values.items()) names.push_back(attr);
        return names;
    };
    const auto old_attrs = changed(before.value("old", json::object()));
    const auto new_attrs = changed(before.value("new", json::object()));
    std::string at = moved_dn;
    auto old = dir.read_entry(moved_dn, old_attrs);
    if (!old && moved_dn != old_dn) {
        at = old_dn;
        old = dir.read_entry(old_dn, old_attrs);
    }
    if (!old) {
        o.detail = fmt::format("the old entry {} no longer exists", out::quoted(old_dn));
        return o;
    }
    const auto now_new = dir.read_entry(new_dn, new_attrs);
    const json old_before = before.value("old", json::object()), old_after = after.value("old", json::object());
    const json new_before = before.value("new", json::object()), new_after = after.value("new", json::object());
    // Each attribute must hold its before- or its after-values: a cutover stopped half-way
    // leaves some of each, and that is still exactly what this run wrote.
    const bool ours = (at == old_dn || at == moved_dn) && consistent(*old, old_before, old_after) &&
                      (!now_new || consistent(*now_new, new_before, new_after));
    const bool as_before = at == old_dn && holds(*old, old_before) && (!now_new || holds(*now_new, new_before));
    if (as_before) {
        o.result = UndoResult::already;
        o.detail = fmt::format("{} has its addresses and is enabled", out::quoted(old_dn));
        return o;
    }
    std::string forced;
    if (!ours) {
        if (!ctx.force) {
            o.result = UndoResult::conflict;
            o.detail = fmt::format("{} or {} changed since the cutover; left alone (use --force)", out::quoted(old_dn),
                                   out::quoted(new_dn));
            return o;
        }
        forced = " (forced: the entries had changed since)";
    }
    if (ctx.dry_run) {
        o.result = UndoResult::would_undo;
        o.detail = fmt::format("would give {} back its addresses and enable it, and remove them from {}{}",
                               out::quoted(old_dn), out::quoted(new_dn), forced);
        return o;
    }
    if (at != old_dn) {
        const auto [rdn, parent] = directory::split_rdn(old_dn);
        dir.rename(at, rdn, parent);
    }
    // The old entry first: for a moment both have the addresses, none is left without them.
    // userAccountControl goes back from the value just read (its precondition), the rest as journaled.
    json old_now = json::object();
    for (const auto& [attr, values] : old_before.items()) old_now[attr] = old->values(attr);
    if (const auto mods = changes_from(old_now, old_before); !mods.empty()) dir.modify(old_dn, mods);
    if (const auto mods = replace_all(new_before); now_new && !mods.empty()) dir.modify(new_dn, mods);
    o.result = UndoResult::undone;
    o.detail = fmt::format("{} has its addresses back and is enabled{}; {} has none{}", out::quoted(old_dn),
                           at != old_dn ? " (moved back)" : "", out::quoted(new_dn), forced);
    return o;
}

UndoOutcome undo_account(UndoContext& ctx, const journal::ActionRecord& action) {
    UndoOutcome o{.action_id = action.id, .kind = action.kind, .subject = action.subject};
    const std::string dn = str(action.after.value_or(json{}), "dn");
    if (dn.empty()) {
        o.detail = "the journal record has no DN: remove or disable the new entry by hand";
        return o;
    }
    auto& dir = undo_directory(ctx);
    const Settings s = settings_of(directory_config(dir, ctx.cfg), ctx.journal.path());
    const auto entry = dir.read_entry(dn, {s.disable_attribute});
    if (!entry) {
        o.result = UndoResult::already;
        o.detail = fmt::format("{} does not exist", out::quoted(dn));
        return o;
    }
    if (s.undo_removes_new_entry) {
        o.kept = json{{"dn", dn}, {"ldif", directory::ldif_entry(*entry, kSecretAttributes)}};
        if (ctx.dry_run) {
            o.result = UndoResult::would_undo;
            o.detail = fmt::format("would remove {} (its mailbox stays on the server)", out::quoted(dn));
            return o;
        }
        dir.remove(dn);
        o.result = UndoResult::undone;
        o.detail = fmt::format("removed {} (its LDIF is kept in this undo's journal record; its mailbox stays)",
                               out::quoted(dn));
        return o;
    }
    switch (s.disable) {
    case DisableMethod::none:
        o.result = UndoResult::already;
        o.detail = fmt::format("[reprovision] disable-method = none: {} is left as it is", out::quoted(dn));
        return o;
    case DisableMethod::attribute:
        if (entry->values(s.disable_attribute) == std::vector<std::string>{s.disable_value}) {
            o.result = UndoResult::already;
            o.detail = fmt::format("{} is disabled already", out::quoted(dn));
            return o;
        }
        o.detail = fmt::format("{}disabled {} ({}: {}; its mailbox stays)", ctx.dry_run ? "would have " : "",
                               out::quoted(dn), s.disable_attribute, s.disable_value);
        if (!ctx.dry_run)
            dir.modify(dn, {{directory::Modification::Op::replace, s.disable_attribute, {s.disable_value}}});
        break;
    case DisableMethod::account_control: {
        const std::string flags = entry->first("userAccountControl").value_or("");
        const std::string disabled = detail::with_disable_bit(flags, true, dn);
        if (disabled == flags) {
            o.result = UndoResult::already;
            o.detail = fmt::format("{} is disabled already", out::quoted(dn));
            return o;
        }
        o.detail = fmt::format("{}disabled {} (userAccountControl {} -> {}; its mailbox stays)",
                               ctx.dry_run ? "would have " : "", out::quoted(dn), flags, disabled);
        if (!ctx.dry_run)
            dir.modify(dn, detail::changes_from(json{{"userAccountControl", {flags}}},
                                                json{{"userAccountControl", {disabled}}}));
        break;
    }
    case DisableMethod::move: {
        const auto [rdn, parent] = directory::split_rdn(dn);
        o.detail = fmt::format("{}moved {} under {} (its mailbox stays)", ctx.dry_run ? "would have " : "",
                               out::quoted(dn), out::quoted(s.disabled_base));
        if (!ctx.dry_run) dir.rename(dn, rdn, s.disabled_base);
        break;
    }
    }
    o.result = ctx.dry_run ? UndoResult::would_undo : UndoResult::undone;
    return o;
}

} // namespace mbx::ops::reprovision
