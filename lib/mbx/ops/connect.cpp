#include "mbx/ops/connect.hpp"

#include <fmt/format.h>

namespace mbx::ops {

directory::LdapConfig ldap_config(const config::Config& cfg, const SecretProvider& secrets) {
    directory::LdapConfig c;
    c.uri = cfg.require("ldap.uri");
    c.starttls = cfg.get_bool("ldap.starttls");
    c.allow_cleartext_bind = cfg.get_bool("ldap.allow-cleartext-bind");
    c.ca_file = cfg.get("ldap.ca-file");
    c.bind_dn = cfg.get("ldap.bind-dn");
    if (!c.bind_dn.empty()) c.password = secrets(kLdapPassword);
    c.sasl_mech = cfg.get("ldap.sasl-mech");
    c.cert_file = cfg.get("ldap.cert-file");
    c.key_file = cfg.get("ldap.key-file");
    c.timeout = cfg.get_duration("ldap.timeout");
    c.page_size = static_cast<int>(cfg.get_int("ldap.page-size"));
    if (c.page_size < 0 || c.page_size > 100000)
        throw Error(ErrorCategory::config, fmt::format("invalid [ldap] page-size {}", c.page_size),
                    "use 0 (no paging) to 100000");
    return c;
}

std::string bind_description(directory::Directory& dir, const directory::LdapConfig& config) {
    // The server's word on the identity: SASL EXTERNAL has no bind DN of its own to show.
    if (const auto identity = dir.who_am_i()) {
        if (identity->empty()) return "anonymous bind";
        const std::string_view id = *identity;
        return "bound as " + std::string(id.starts_with("dn:") ? id.substr(3) : id); // authzId "dn:..." (RFC 4513)
    }
    if (!config.sasl_mech.empty()) return "bound with SASL " + config.sasl_mech;
    return config.bind_dn.empty() ? std::string("anonymous bind") : "bound as " + config.bind_dn;
}

imap::ImapConfig imap_master_config(const config::Config& cfg, const SecretProvider& secrets, const std::string& user) {
    return imap_section_config(cfg, secrets, "imap", user);
}

imap::ImapConfig imap_admin_config(const config::Config& cfg, const SecretProvider& secrets) {
    imap::ImapConfig c = imap_section_config(cfg, secrets, "imap", cfg.require("imap.master-user"));
    c.user = c.master_user; // its own login: no authorization identity
    c.master_user.clear();
    return c;
}

imap::ImapConfig imap_section_config(const config::Config& cfg, const SecretProvider& secrets,
                                     const std::string& section, const std::string& user,
                                     const std::optional<std::filesystem::path>& user_password_file) {
    if (section != "imap" && !cfg.has_section(section))
        throw Error(ErrorCategory::config, fmt::format("no [{}] section in the configuration", section),
                    fmt::format("add a [{}] section with the keys of [imap] (uri, master-user, ...)", section));
    auto key = [&](std::string_view k) { return section + "." + std::string(k); };
    imap::ImapConfig c;
    c.uri = cfg.require(key("uri"));
    c.ca_file = cfg.get(key("ca-file"));
    c.user = user;
    c.section = section;
    c.timeout = cfg.get_duration(key("timeout"));
    c.command_timeout = cfg.get_duration(key("command-timeout"));
    if (user_password_file) {
        // The user's own login: no master user involved.
        c.password = read_secret_file(*user_password_file);
        return c;
    }
    c.master_user = cfg.require(key("master-user"));
    const std::string method = cfg.get(key("master-method"));
    if (method == "authzid") c.method = imap::MasterMethod::authzid;
    else if (method == "separator") c.method = imap::MasterMethod::separator;
    else
        throw Error(ErrorCategory::config, fmt::format("invalid [{}] master-method '{}'", section, method),
                    "use authzid (SASL PLAIN, Dovecot/Cyrus) or separator (user*master logins)");
    const std::string sep = cfg.get(key("master-separator"));
    if (c.method == imap::MasterMethod::separator && sep.size() != 1)
        throw Error(ErrorCategory::config, fmt::format("[{}] master-separator must be one character", section),
                    "e.g. master-separator = *");
    if (!sep.empty()) c.separator = sep.front();
    if (section == "imap") {
        c.password = secrets(kImapMasterPassword);
    } else {
        const std::string what = fmt::format("IMAP master password of [{}]", section);
        c.password = secrets(SecretSource{section, "master-password-file", "", what});
    }
    return c;
}

} // namespace mbx::ops
