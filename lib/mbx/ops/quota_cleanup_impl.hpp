#pragma once
// What quota_cleanup.cpp (plan and apply) and quota_cleanup_undo.cpp share. Internal to
// lib/mbx/ops: nothing else includes it.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops::cleanup_detail {

/// True when `flags` holds `flag` (ASCII case-insensitive). Pure.
bool has_flag(const std::optional<std::vector<std::string>>& flags, std::string_view flag);

/// Calls `fn` with sequence sets of at most 1,000 of `uids` (short command lines).
void for_each_uid_chunk(const std::vector<std::uint64_t>& uids, const std::function<void(const std::string&)>& fn);

} // namespace mbx::ops::cleanup_detail
