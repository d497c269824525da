#include "mbx/ops/connect.hpp"

#include <fmt/format.h>

namespace mbx::ops {

directory::LdapConfig ldap_config(const config::Config& cfg, const SecretProvider& secrets) {
    directory::LdapConfig c;
    c.uri = cfg.require("ldap.uri");
    c.starttls = cfg.get_bool("ldap.starttls");
    c.ca_file = cfg.get("ldap.ca-file");
    c.bind_dn = cfg.get("ldap.bind-dn");
    if (!c.bind_dn.empty()) c.password = secrets(kLdapPassword);
    c.timeout = cfg.get_duration("ldap.timeout");
    c.page_size = static_cast<int>(cfg.get_int("ldap.page-size"));
    if (c.page_size < 0 || c.page_size > 100000)
        throw Error(ErrorCategory::config, fmt::format("invalid [ldap] page-size {}", c.page_size),
                    "use 0 (no paging) to 100000");
    return c;
}

imap::ImapConfig imap_master_config(const config::Config& cfg, const SecretProvider& secrets, const std::string& user) {
    imap::ImapConfig c;
    c.uri = cfg.require("imap.uri");
    c.ca_file = cfg.get("imap.ca-file");
    c.user = user;
    c.master_user = cfg.require("imap.master-user");
    const std::string method = cfg.get("imap.master-method");
    if (method == "authzid") c.method = imap::MasterMethod::authzid;
    else if (method == "separator") c.method = imap::MasterMethod::separator;
    else
        throw Error(ErrorCategory::config, fmt::format("invalid [imap] master-method '{}'", method),
                    "use authzid (SASL PLAIN, Dovecot/Cyrus) or separator (user*master logins)");
    const std::string sep = cfg.get("imap.master-separator");
    if (c.method == imap::MasterMethod::separator && sep.size() != 1)
        throw Error(ErrorCategory::config, "[imap] master-separator must be one character", "e.g. master-separator = *");
    if (!sep.empty()) c.separator = sep.front();
    c.timeout = cfg.get_duration("imap.timeout");
    c.password = secrets(kImapMasterPassword);
    return c;
}

} // namespace mbx::ops
