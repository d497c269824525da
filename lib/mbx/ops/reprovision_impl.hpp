#pragma once
// What reprovision.cpp (the run) and reprovision_undo.cpp share: reading the journaled JSON
// and comparing a directory entry with it. Internal to lib/mbx/ops: nothing else includes it.

#include "mbx/directory/entry.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mbx::ops::reprovision::detail {

using json = nlohmann::json;

/// Attributes never copied nor journaled: the old password (a hash is still a secret).
inline const std::vector<std::string> kSecretAttributes{"userPassword", "unicodePwd", "sambaNTPassword",
                                                        "sambaLMPassword"};

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

} // namespace mbx::ops::reprovision::detail
