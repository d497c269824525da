#pragma once
// One directory entry as read from the server: its DN and its attribute values.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::directory {

/// Orders attribute names the way LDAP compares them: ASCII case-insensitively.
struct AttributeLess {
    using is_transparent = void;
    /// True when `a` sorts before `b` ignoring ASCII case.
    bool operator()(std::string_view a, std::string_view b) const noexcept;
};

/// A directory entry. Values are byte strings (binary-safe: jpegPhoto, objectGUID survive).
struct Entry {
    std::string dn;
    /// Attribute name (as the server spelled it) -> one element per value, in server order.
    std::multimap<std::string, std::string, AttributeLess> attributes;

    /// All values of `attribute` (case-insensitive name), in server order; empty when absent.
    std::vector<std::string> values(std::string_view attribute) const;
    /// The first value of `attribute`, or nullopt when the entry has none.
    std::optional<std::string> first(std::string_view attribute) const;
    /// True when the entry has at least one value of `attribute`.
    bool has(std::string_view attribute) const;
};

} // namespace mbx::directory
