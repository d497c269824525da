#include "mbx/ops/user_schema.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/text.hpp"
#include "mbx/directory/ad.hpp"
#include "mbx/directory/directory.hpp"

#include <fmt/format.h>

namespace mbx::ops {
namespace {

using directory::DirectoryKind;

bool is_default(const config::Config& cfg, std::string_view name) {
    return cfg.origin(name).kind == config::Origin::Kind::default_value;
}

// The setting as configured, or the kind's default when it is left at its own.
std::string setting(const config::Config& cfg, std::string_view name, std::string_view kind_default) {
    return is_default(cfg, name) && !kind_default.empty() ? std::string(kind_default) : cfg.get(name);
}

} // namespace

bool UserSchema::disable_by_account_control() const {
    return disable_method == "attribute" && iequals(disable_attribute, "userAccountControl");
}

UserSchema user_schema_of(const config::Config& cfg, DirectoryKind kind) {
    const bool ad = kind == DirectoryKind::active_directory;
    UserSchema s;
    s.kind = kind;
    s.uid_attribute = setting(cfg, "ldap.uid-attribute", ad ? "sAMAccountName" : "");
    s.user_filter = setting(cfg, "ldap.user-filter", ad ? directory::ad::kUserFilter : "");
    // A filter the admin wrote finds one user as it finds them all; AD's default also finds a
    // disabled user, for diagnose to say so.
    s.lookup_filter =
        ad && is_default(cfg, "ldap.user-filter") ? std::string(directory::ad::kLookupFilter) : s.user_filter;
    s.mail_attribute = cfg.get("ldap.mail-attribute");
    s.alias_attributes = split_list(setting(cfg, "ldap.alias-attributes", ad ? "proxyAddresses" : ""));
    s.disable_method = cfg.get("reprovision.disable-method");
    // The disable attribute and value go together: the kind's pair where neither is set.
    const bool pair_default =
        is_default(cfg, "reprovision.disable-attribute") && is_default(cfg, "reprovision.disable-value");
    s.disable_attribute = cfg.get("reprovision.disable-attribute");
    s.disable_value = cfg.get("reprovision.disable-value");
    if (pair_default && ad) {
        s.disable_attribute = "userAccountControl";
        s.disable_value = "ACCOUNTDISABLE";
    } else if (pair_default && kind == DirectoryKind::ds389) {
        s.disable_attribute = "nsAccountLock";
        s.disable_value = "TRUE";
    }
    return s;
}

std::optional<DirectoryKind> configured_kind(const config::Config& cfg) {
    return directory::directory_kind_named(cfg.get("ldap.kind"));
}

UserSchema user_schema(directory::Directory& dir, const config::Config& cfg) {
    if (const auto kind = configured_kind(cfg)) return user_schema_of(cfg, *kind);
    DirectoryKind found = DirectoryKind::other;
    try {
        found = directory::directory_kind_of(dir.root_dse());
    } catch (const Error& e) {
        // A root DSE this bind may not read: the settings as configured (plain LDAP).
        if (e.category() != ErrorCategory::data && e.category() != ErrorCategory::auth) throw;
    }
    return user_schema_of(cfg, found);
}

config::Config with_kind_defaults(const config::Config& cfg, DirectoryKind kind) {
    config::Config out = cfg;
    const UserSchema s = user_schema_of(cfg, kind);
    const config::Origin kind_default{config::Origin::Kind::default_value,
                                      fmt::format("default for {}", directory::directory_kind_name(kind))};
    auto put = [&](std::string_view name, std::string value) {
        if (is_default(cfg, name) && cfg.get(name) != value) out.set(name, std::move(value), kind_default);
    };
    if (is_default(cfg, "ldap.kind"))
        out.set("ldap.kind", std::string(directory::directory_kind_name(kind)), kind_default);
    put("ldap.uid-attribute", s.uid_attribute);
    put("ldap.user-filter", s.user_filter);
    std::string aliases;
    for (const auto& a : s.alias_attributes) aliases += (aliases.empty() ? "" : ",") + a;
    put("ldap.alias-attributes", aliases);
    put("reprovision.disable-attribute", s.disable_attribute);
    put("reprovision.disable-value", s.disable_value);
    return out;
}

config::Config directory_config(directory::Directory& dir, const config::Config& cfg) {
    return with_kind_defaults(cfg, user_schema(dir, cfg).kind);
}

UserSchema user_schema(const config::Config& cfg) {
    return user_schema_of(cfg, configured_kind(cfg).value_or(DirectoryKind::other));
}

} // namespace mbx::ops
