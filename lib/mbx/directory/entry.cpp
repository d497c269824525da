#include "mbx/directory/entry.hpp"

#include <algorithm>

namespace mbx::directory {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

} // namespace

bool AttributeLess::operator()(std::string_view a, std::string_view b) const noexcept {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return lower(x) < lower(y); });
}

std::vector<std::string> Entry::values(std::string_view attribute) const {
    std::vector<std::string> out;
    auto [begin, end] = attributes.equal_range(attribute);
    for (auto it = begin; it != end; ++it) out.push_back(it->second);
    return out;
}

std::optional<std::string> Entry::first(std::string_view attribute) const {
    auto it = attributes.find(attribute);
    if (it == attributes.end()) return std::nullopt;
    return it->second;
}

bool Entry::has(std::string_view attribute) const { return attributes.contains(attribute); }

} // namespace mbx::directory
