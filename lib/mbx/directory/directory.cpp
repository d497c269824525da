#include "mbx/directory/directory.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/secret.hpp"
#include "mbx/core/text.hpp"
#include "mbx/directory/ad.hpp"
#include "mbx/directory/kind.hpp"
#include "mbx/directory/ldap_error.hpp"

#include <ldap.h>
#include <sasl/sasl.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <deque>
#include <fstream>

namespace mbx::directory {
namespace {

struct LdapDeleter {
    void operator()(LDAP* ld) const noexcept { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
struct MessageDeleter {
    void operator()(LDAPMessage* m) const noexcept { ldap_msgfree(m); }
};
struct BerDeleter {
    void operator()(BerElement* b) const noexcept { ber_free(b, 0); }
};
struct ValuesDeleter {
    void operator()(berval** v) const noexcept { ldap_value_free_len(v); }
};
struct ControlDeleter {
    void operator()(LDAPControl* c) const noexcept { ldap_control_free(c); }
};
struct ControlsDeleter {
    void operator()(LDAPControl** c) const noexcept { ldap_controls_free(c); }
};
struct MemDeleter {
    void operator()(char* p) const noexcept { ldap_memfree(p); }
};
struct ReferralsDeleter {
    void operator()(char** r) const noexcept { ber_memvfree(reinterpret_cast<void**>(r)); }
};
struct BervalDataDeleter {
    void operator()(char* p) const noexcept { ber_memfree(p); }
};

using LdapPtr = std::unique_ptr<LDAP, LdapDeleter>;
using MessagePtr = std::unique_ptr<LDAPMessage, MessageDeleter>;
using BerPtr = std::unique_ptr<BerElement, BerDeleter>;
using ValuesPtr = std::unique_ptr<berval*, ValuesDeleter>;
using ControlPtr = std::unique_ptr<LDAPControl, ControlDeleter>;
using ControlsPtr = std::unique_ptr<LDAPControl*, ControlsDeleter>;
using MemPtr = std::unique_ptr<char, MemDeleter>;
using ReferralsPtr = std::unique_ptr<char*, ReferralsDeleter>;
using BervalDataPtr = std::unique_ptr<char, BervalDataDeleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

std::string diagnostic_message(LDAP* ld) {
    char* raw = nullptr;
    if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &raw) != LDAP_OPT_SUCCESS) return {};
    MemPtr msg(raw);
    return msg ? std::string(msg.get()) : std::string();
}

int result_code(LDAP* ld) {
    int code = LDAP_OTHER;
    ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code);
    return code;
}

void set_option(LDAP* ld, int option, const void* value, const std::string& uri) {
    int rc = ldap_set_option(ld, option, value);
    if (rc != LDAP_OPT_SUCCESS) {
        throw Error(ErrorCategory::internal,
                    "cannot set LDAP option " + std::to_string(option) + " for " + in_quotes(uri), "", rc);
    }
}

bool starts_with_scheme(const std::string& uri, std::string_view scheme) {
    if (uri.size() < scheme.size()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        char c = uri[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != scheme[i]) return false;
    }
    return true;
}

bool is_external(const LdapConfig& config) { return !config.sasl_mech.empty(); }

void check_readable(const std::string& file, const std::string& key, const std::string& what) {
    if (!file.empty() && !std::ifstream(file).good())
        throw Error(ErrorCategory::config, "cannot read " + what + " " + in_quotes(file),
                    "set [ldap] " + key + " to a readable PEM file");
}

void check_external(const LdapConfig& config) {
    if (!iequals(config.sasl_mech, "EXTERNAL"))
        throw Error(ErrorCategory::config, "unsupported [ldap] sasl-mech " + in_quotes(config.sasl_mech),
                    "use EXTERNAL, or leave sasl-mech empty for a simple bind with bind-dn");
    if (!config.bind_dn.empty())
        throw Error(ErrorCategory::config, "[ldap] bind-dn and sasl-mech EXTERNAL exclude each other",
                    "EXTERNAL binds as the client certificate's or the ldapi:// peer's identity: remove bind-dn");
    if (starts_with_scheme(config.uri, "ldapi://")) return;
    if (config.cert_file.empty())
        throw Error(ErrorCategory::config, "SASL EXTERNAL on " + in_quotes(config.uri) + " needs a client certificate",
                    "set [ldap] cert-file and key-file, or use an ldapi:// socket");
    if (starts_with_scheme(config.uri, "ldap://") && !config.starttls)
        throw Error(ErrorCategory::config, "SASL EXTERNAL on ldap:// needs StartTLS",
                    "set [ldap] starttls = true, or use ldaps://");
}

void check_config(const LdapConfig& config) {
    if (!starts_with_scheme(config.uri, "ldap://") && !starts_with_scheme(config.uri, "ldaps://") &&
        !starts_with_scheme(config.uri, "ldapi://")) {
        throw Error(ErrorCategory::config, "invalid LDAP URI " + in_quotes(config.uri),
                    "use ldap://host[:port], ldaps://host[:port] or ldapi://%2Fpath%2Fto%2Fsocket");
    }
    if (config.cert_file.empty() != config.key_file.empty())
        throw Error(ErrorCategory::config, "[ldap] cert-file and key-file go together",
                    "set both (the client certificate and its private key), or neither");
    check_readable(config.cert_file, "cert-file", "client certificate");
    check_readable(config.key_file, "key-file", "client key");
    // The private key is a secret like the password files: owner-only, or refused.
    if (struct stat st{}; !config.key_file.empty() && ::stat(config.key_file.c_str(), &st) == 0)
        require_owner_only(config.key_file, st.st_mode, "client key");
    if (is_external(config)) check_external(config);
    if (starts_with_scheme(config.uri, "ldap://") && !config.starttls && !config.bind_dn.empty() &&
        !config.allow_cleartext_bind)
        throw Error(ErrorCategory::config,
                    "refusing a password bind to " + in_quotes(config.uri) +
                        " without TLS: with [ldap] starttls = false the password crosses the network in clear text",
                    "set [ldap] starttls = true, or use ldaps:// or ldapi://; or set [ldap] allow-cleartext-bind = "
                    "true where the path is trusted (loopback, a VPN)");
    if (!config.bind_dn.empty() && config.password.empty()) {
        // An empty password turns a simple bind into an unauthenticated one (RFC 4513 §5.1.2)
        // that many servers accept as anonymous: refuse instead of silently binding as nobody.
        throw Error(ErrorCategory::config, "no LDAP password for bind DN " + in_quotes(config.bind_dn),
                    "set [ldap] password-file or MBX_LDAP_PASSWORD");
    }
    if (!config.ca_file.empty() && !std::ifstream(config.ca_file).good()) {
        throw Error(ErrorCategory::config, "cannot read CA file " + in_quotes(config.ca_file),
                    "set [ldap] ca-file to a readable PEM file with the CA that signed the "
                    "server certificate");
    }
}

// TLS options are set on the handle, not globally, so two connections with different CAs in
// one process do not interfere. libldap only applies per-handle TLS options to a context
// created after they are set: LDAP_OPT_X_TLS_NEWCTX must come last (ldap_set_option(3)).
void configure_tls(LDAP* ld, const LdapConfig& config) {
    if (!config.ca_file.empty()) set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, config.ca_file.c_str(), config.uri);
    if (!config.cert_file.empty()) {
        set_option(ld, LDAP_OPT_X_TLS_CERTFILE, config.cert_file.c_str(), config.uri);
        set_option(ld, LDAP_OPT_X_TLS_KEYFILE, config.key_file.c_str(), config.uri);
    }
    int demand = LDAP_OPT_X_TLS_DEMAND;
    set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, config.uri);
    int is_server = 0;
    int rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
    if (rc != LDAP_OPT_SUCCESS) {
        throw Error(ErrorCategory::config,
                    "cannot set up TLS for " + in_quotes(config.uri) + " with CA file " + in_quotes(config.ca_file),
                    "set [ldap] ca-file to a PEM file with the CA that signed the server "
                    "certificate",
                    rc);
    }
}

// libldap reports a failed TLS handshake as "can't contact LDAP server" (ldaps://) or
// "connect error" (StartTLS) like a refused connection, but leaves the TLS library's reason in
// the diagnostic message; a plain TCP failure leaves it empty (OpenLDAP 2.5.13).
Error connect_error(int code, const LdapConfig& config, const std::string& diagnostic, bool tls) {
    std::string action = "cannot connect to " + in_quotes(config.uri);
    bool tls_failure = tls && (code == LDAP_SERVER_DOWN || code == LDAP_CONNECT_ERROR) && !diagnostic.empty();
    if (!tls_failure) return detail::ldap_error(code, action, diagnostic);
    // GnuTLS often leaves just "(unknown error code)": do not wrap it twice.
    bool wrapped = diagnostic.front() == '(' && diagnostic.back() == ')';
    return Error(ErrorCategory::unavailable,
                 action + ": TLS handshake failed " + (wrapped ? diagnostic : "(" + diagnostic + ")"),
                 "check that [ldap] ca-file names the CA that signed the server certificate and "
                 "that the certificate matches the host name in [ldap] uri",
                 code);
}

LdapPtr open_handle(const LdapConfig& config) {
    LDAP* raw = nullptr;
    int rc = ldap_initialize(&raw, config.uri.c_str());
    LdapPtr ld(raw);
    if (rc != LDAP_SUCCESS || !ld) {
        throw Error(ErrorCategory::config, "invalid LDAP URI " + in_quotes(config.uri),
                    "use ldap://host[:port], ldaps://host[:port] or ldapi://%2Fpath%2Fto%2Fsocket", rc);
    }
    int version = LDAP_VERSION3;
    set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version, config.uri);
    timeval tv = to_timeval(config.timeout);
    set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &tv, config.uri);
    set_option(ld.get(), LDAP_OPT_TIMEOUT, &tv, config.uri);
    // Referrals would be chased with our credentials to servers we did not configure.
    set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF, config.uri);
    configure_tls(ld.get(), config);
    return ld;
}

// SASL prompts for EXTERNAL: the only one is the authorization identity, left empty (the
// server uses the authentication identity). Nothing else is ever asked or answered.
int answer_external_prompts(LDAP*, unsigned, void*, void* prompts) {
    for (auto* p = static_cast<sasl_interact_t*>(prompts); p != nullptr && p->id != SASL_CB_LIST_END; ++p) {
        if (p->id != SASL_CB_USER) return LDAP_OTHER;
        p->result = "";
        p->len = 0;
    }
    return LDAP_SUCCESS;
}

void bind(LDAP* ld, const LdapConfig& config) {
    int rc = LDAP_SUCCESS;
    if (is_external(config)) {
        rc = ldap_sasl_interactive_bind_s(ld, nullptr, "EXTERNAL", nullptr, nullptr, LDAP_SASL_QUIET,
                                          answer_external_prompts, nullptr);
    } else {
        std::string secret = config.password.reveal();
        berval cred{secret.size(), secret.data()};
        rc = ldap_sasl_bind_s(ld, config.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    }
    if (rc == LDAP_SUCCESS) return;
    std::string diagnostic = diagnostic_message(ld);
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT) {
        throw connect_error(rc, config, diagnostic, starts_with_scheme(config.uri, "ldaps://"));
    }
    if (is_external(config)) {
        // No mechanism (the server saw no certificate or peer), or an identity it does not map:
        // both are the credentials' fault.
        const std::string source = starts_with_scheme(config.uri, "ldapi://")
                                       ? std::string("the ldapi:// peer credentials")
                                       : "the client certificate " + in_quotes(config.cert_file);
        throw Error(
            ErrorCategory::auth,
            "cannot bind to " + in_quotes(config.uri) + " with SASL EXTERNAL: " + std::string(ldap_err2string(rc)) +
                (diagnostic.empty() ? "" : " (" + diagnostic + ")"),
            "check that the server accepts " + source + " (slapd: TLSVerifyClient and authz-regexp / olcAuthzRegexp)",
            rc);
    }
    std::string who = config.bind_dn.empty() ? "anonymously" : "as " + in_quotes(config.bind_dn);
    throw detail::ldap_error(rc, "cannot bind to " + in_quotes(config.uri) + " " + who, diagnostic);
}

// The leaf certificate of the TLS session, DER as the server sent it, or empty for a plain
// connection. With GnuTLS (Debian's libldap 2.5) LDAP_OPT_X_TLS_PEERCERT copies the first
// certificate of gnutls_certificate_get_peers() into memory we free with ber_memfree; without
// a TLS session it succeeds with an empty berval.
std::string peer_certificate_der(LDAP* ld) {
    berval der{0, nullptr};
    int rc = ldap_get_option(ld, LDAP_OPT_X_TLS_PEERCERT, &der);
    BervalDataPtr owned(der.bv_val);
    if (rc != LDAP_OPT_SUCCESS || !owned) return {};
    return std::string(der.bv_val, der.bv_len);
}

} // namespace

struct Directory::Impl {
    LdapPtr ld;
    std::string uri;
    std::chrono::milliseconds timeout{};
    int page_size = 0;
    /// From the handshake; a certificate that did not parse keeps its error for
    /// peer_certificate() to throw, so connect() does not fail over a report-only detail.
    std::optional<tls::CertificateInfo> certificate;
    std::optional<Error> certificate_error;
    bool tls = false;              ///< ldaps:// or StartTLS
    std::optional<Entry> root_dse; ///< read at the first root_dse()

    [[noreturn]] void fail(int code, const std::string& action) const {
        throw detail::ldap_error(code, action + " on " + in_quotes(uri), diagnostic_message(ld.get()));
    }
    void deliver(LDAPMessage* message, const EntryCallback& on_entry) const;
    bool read_page(int msgid, const std::string& action, const EntryCallback& on_entry, std::size_t& count,
                   std::string& cookie);
};

Directory::Directory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Directory::Directory(Directory&&) noexcept = default;
Directory& Directory::operator=(Directory&&) noexcept = default;
Directory::~Directory() = default;

const std::string& Directory::uri() const noexcept { return impl_->uri; }

Directory Directory::connect(const LdapConfig& config) {
    check_config(config);
    LdapPtr ld = open_handle(config);
    if (starts_with_scheme(config.uri, "ldap://") && config.starttls) {
        int rc = ldap_start_tls_s(ld.get(), nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
            throw connect_error(rc, config, diagnostic_message(ld.get()), true);
        }
    }
    bind(ld.get(), config);
    auto impl = std::make_unique<Impl>();
    impl->tls =
        starts_with_scheme(config.uri, "ldaps://") || (starts_with_scheme(config.uri, "ldap://") && config.starttls);
    if (std::string der = peer_certificate_der(ld.get()); !der.empty()) {
        try {
            impl->certificate = tls::parse_certificate_der(der);
        } catch (const Error& e) {
            constexpr std::string_view kPrefix = "cannot read the certificate: ";
            std::string_view reason = e.what();
            if (reason.starts_with(kPrefix)) reason.remove_prefix(kPrefix.size());
            impl->certificate_error =
                Error(e.category(),
                      "cannot read the server certificate of " + in_quotes(config.uri) + ": " + std::string(reason),
                      e.hint(), e.library_code());
        }
    }
    impl->ld = std::move(ld);
    impl->uri = config.uri;
    impl->timeout = config.timeout;
    impl->page_size = config.page_size;
    return Directory(std::move(impl));
}

std::optional<std::string> Directory::who_am_i() {
    berval* raw = nullptr;
    const int rc = ldap_whoami_s(impl_->ld.get(), &raw, nullptr, nullptr);
    std::unique_ptr<berval, decltype(&ber_bvfree)> identity(raw, &ber_bvfree);
    if (rc == LDAP_PROTOCOL_ERROR || rc == LDAP_UNWILLING_TO_PERFORM) return std::nullopt; // not offered
    if (rc != LDAP_SUCCESS) impl_->fail(rc, "cannot ask who this connection is (WhoAmI)");
    if (!identity || identity->bv_val == nullptr) return std::string();
    return std::string(identity->bv_val, identity->bv_len);
}

std::optional<tls::CertificateInfo> Directory::peer_certificate() const {
    if (impl_->certificate_error) throw *impl_->certificate_error;
    return impl_->certificate;
}

void Directory::Impl::deliver(LDAPMessage* message, const EntryCallback& on_entry) const {
    Entry entry;
    MemPtr dn(ldap_get_dn(ld.get(), message));
    if (dn) entry.dn = dn.get();
    BerElement* raw_ber = nullptr;
    MemPtr name(ldap_first_attribute(ld.get(), message, &raw_ber));
    BerPtr ber(raw_ber);
    for (; name; name.reset(ldap_next_attribute(ld.get(), message, ber.get()))) {
        ValuesPtr values(ldap_get_values_len(ld.get(), message, name.get()));
        if (!values) continue;
        for (berval** v = values.get(); *v != nullptr; ++v) {
            entry.attributes.emplace(name.get(), std::string((*v)->bv_val, (*v)->bv_len));
        }
    }
    on_entry(entry);
}

namespace {

int to_ldap_scope(Scope scope) {
    switch (scope) {
    case Scope::base: return LDAP_SCOPE_BASE;
    case Scope::one_level: return LDAP_SCOPE_ONELEVEL;
    case Scope::subtree: return LDAP_SCOPE_SUBTREE;
    }
    return LDAP_SCOPE_SUBTREE;
}

// The cookie of the Simple Paged Results response control (RFC 2696 §2); empty: last page.
std::string page_cookie(LDAP* ld, LDAPControl** controls) {
    LDAPControl* control = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nullptr);
    if (control == nullptr) return {};
    ber_int_t estimate = 0;
    berval cookie{0, nullptr};
    if (ldap_parse_pageresponse_control(ld, control, &estimate, &cookie) != LDAP_SUCCESS) return {};
    BervalDataPtr owned(cookie.bv_val);
    return owned ? std::string(cookie.bv_val, cookie.bv_len) : std::string();
}

} // namespace

// Reads the responses to one search request (one page). Returns true when the server handed
// out a cookie for another page.
bool Directory::Impl::read_page(int msgid, const std::string& action, const EntryCallback& on_entry, std::size_t& count,
                                std::string& cookie) {
    timeval tv = to_timeval(timeout);
    for (;;) {
        LDAPMessage* raw = nullptr;
        int rc = ldap_result(ld.get(), msgid, LDAP_MSG_ONE, &tv, &raw);
        MessagePtr message(raw);
        if (rc == 0) {
            ldap_abandon_ext(ld.get(), msgid, nullptr, nullptr);
            fail(LDAP_TIMEOUT, action);
        }
        if (rc < 0) fail(result_code(ld.get()), action);
        if (rc == LDAP_RES_SEARCH_ENTRY) {
            try {
                deliver(message.get(), on_entry);
            } catch (...) {
                // Tell the server to stop sending; the caller's exception wins.
                ldap_abandon_ext(ld.get(), msgid, nullptr, nullptr);
                throw;
            }
            ++count;
            continue;
        }
        if (rc != LDAP_RES_SEARCH_RESULT) continue; // references: we do not chase referrals
        int code = LDAP_OTHER;
        char* matched = nullptr;
        char* text = nullptr;
        char** referrals = nullptr;
        LDAPControl** controls = nullptr;
        int parsed = ldap_parse_result(ld.get(), message.get(), &code, &matched, &text, &referrals, &controls, 0);
        MemPtr matched_owner(matched), text_owner(text);
        ReferralsPtr referrals_owner(referrals);
        ControlsPtr controls_owner(controls);
        if (parsed != LDAP_SUCCESS) fail(parsed, action);
        if (code != LDAP_SUCCESS) {
            throw detail::ldap_error(code, action + " on " + in_quotes(uri), text ? text : "");
        }
        cookie = page_cookie(ld.get(), controls);
        return !cookie.empty();
    }
}

std::size_t Directory::search(const std::string& base, Scope scope, const std::string& filter,
                              const std::vector<std::string>& attributes, const EntryCallback& on_entry) {
    LDAP* ld = impl_->ld.get();
    std::string action = "cannot search " + in_quotes(base) + " for " + in_quotes(filter);
    std::vector<std::string> names(attributes);
    std::vector<char*> attrs;
    for (auto& n : names) attrs.push_back(n.data());
    attrs.push_back(nullptr);
    std::size_t count = 0;
    std::string cookie;
    bool more = true;
    while (more) {
        ControlPtr page;
        if (impl_->page_size > 0) {
            LDAPControl* raw = nullptr;
            berval value{cookie.size(), cookie.data()};
            // Not critical: a server without paging answers with its size limit, which we
            // report as such, instead of refusing the search outright.
            int rc = ldap_create_page_control(ld, impl_->page_size, &value, 0, &raw);
            page.reset(raw);
            if (rc != LDAP_SUCCESS) impl_->fail(rc, action);
        }
        LDAPControl* controls[] = {page.get(), nullptr};
        timeval tv = to_timeval(impl_->timeout);
        int msgid = 0;
        int rc = ldap_search_ext(ld, base.c_str(), to_ldap_scope(scope), filter.c_str(),
                                 names.empty() ? nullptr : attrs.data(), 0, page ? controls : nullptr, nullptr, &tv,
                                 LDAP_NO_LIMIT, &msgid);
        if (rc != LDAP_SUCCESS) impl_->fail(rc, action);
        more = impl_->read_page(msgid, action, on_entry, count, cookie);
    }
    return count;
}

std::optional<Entry> Directory::read_entry(const std::string& dn, const std::vector<std::string>& operational) {
    std::optional<Entry> found;
    std::vector<std::string> attributes;
    if (!operational.empty()) {
        attributes.emplace_back("*"); // every user attribute, and these by name
        attributes.insert(attributes.end(), operational.begin(), operational.end());
    }
    try {
        search(dn, Scope::base, "(objectClass=*)", attributes, [&found](const Entry& e) { found = e; });
    } catch (const Error& e) {
        if (e.library_code() == LDAP_NO_SUCH_OBJECT) return std::nullopt;
        throw;
    }
    return found;
}

namespace {

// Owns the storage of an LDAPMod* array (ldap_modify_ext_s / ldap_add_ext_s take non-const
// pointers into it).
class ModList {
public:
    void add(int op, const std::string& attribute, const std::vector<std::string>& values) {
        auto& item = items_.emplace_back();
        item.name = attribute;
        item.values = values;
        for (auto& v : item.values) item.bervals.push_back(berval{v.size(), v.data()});
        item.mod.mod_op = op | LDAP_MOD_BVALUES;
        item.mod.mod_type = item.name.data();
    }
    LDAPMod** get() {
        pointers_.clear();
        for (auto& item : items_) {
            item.pointers.clear();
            for (auto& b : item.bervals) item.pointers.push_back(&b);
            item.pointers.push_back(nullptr);
            // No values with delete/replace means "the whole attribute" (RFC 4511 §4.6).
            item.mod.mod_bvalues = item.values.empty() ? nullptr : item.pointers.data();
            pointers_.push_back(&item.mod);
        }
        pointers_.push_back(nullptr);
        return pointers_.data();
    }

private:
    struct Item {
        std::string name;
        std::vector<std::string> values;
        std::vector<berval> bervals;
        std::vector<berval*> pointers;
        LDAPMod mod{};
    };
    std::deque<Item> items_; // stable addresses
    std::vector<LDAPMod*> pointers_;
};

int to_ldap_op(Modification::Op op) {
    switch (op) {
    case Modification::Op::add: return LDAP_MOD_ADD;
    case Modification::Op::remove: return LDAP_MOD_DELETE;
    case Modification::Op::replace: return LDAP_MOD_REPLACE;
    }
    return LDAP_MOD_REPLACE;
}

} // namespace

void Directory::modify(const std::string& dn, const std::vector<Modification>& changes) {
    ModList mods;
    for (const auto& c : changes) mods.add(to_ldap_op(c.op), c.attribute, c.values);
    int rc = ldap_modify_ext_s(impl_->ld.get(), dn.c_str(), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) impl_->fail(rc, "cannot modify " + in_quotes(dn));
}

void Directory::add(const std::string& dn, const std::vector<Attribute>& attributes) {
    ModList mods;
    for (const auto& a : attributes) mods.add(LDAP_MOD_ADD, a.name, a.values);
    int rc = ldap_add_ext_s(impl_->ld.get(), dn.c_str(), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) impl_->fail(rc, "cannot add " + in_quotes(dn));
}

void Directory::remove(const std::string& dn) {
    int rc = ldap_delete_ext_s(impl_->ld.get(), dn.c_str(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) impl_->fail(rc, "cannot delete " + in_quotes(dn));
}

void Directory::set_password(const std::string& dn, const mbx::Secret& password) {
    berval user{dn.size(), const_cast<char*>(dn.data())};
    berval pw{password.reveal().size(), const_cast<char*>(password.reveal().data())};
    berval generated{0, nullptr};
    int rc = ldap_passwd_s(impl_->ld.get(), &user, nullptr, &pw, &generated, nullptr, nullptr);
    if (generated.bv_val) ber_memfree(generated.bv_val);
    if (rc != LDAP_SUCCESS) impl_->fail(rc, "cannot set the password of " + in_quotes(dn));
}

void Directory::set_unicode_password(const std::string& dn, const mbx::Secret& password) {
    const std::string value = ad::unicode_pwd_value(password.reveal());
    ModList mods;
    mods.add(LDAP_MOD_REPLACE, "unicodePwd", {value});
    int rc = ldap_modify_ext_s(impl_->ld.get(), dn.c_str(), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) impl_->fail(rc, "cannot set the password (unicodePwd) of " + in_quotes(dn));
}

const Entry& Directory::root_dse() {
    if (!impl_->root_dse) {
        const std::vector<std::string> attributes(std::begin(kRootDseAttributes), std::end(kRootDseAttributes));
        Entry root;
        search("", Scope::base, "(objectClass=*)", attributes, [&](const Entry& e) { root = e; });
        impl_->root_dse = std::move(root);
    }
    return *impl_->root_dse;
}

bool Directory::encrypted() const noexcept { return impl_->tls; }

void Directory::rename(const std::string& dn, const std::string& new_rdn, const std::string& new_superior) {
    int rc = ldap_rename_s(impl_->ld.get(), dn.c_str(), new_rdn.c_str(),
                           new_superior.empty() ? nullptr : new_superior.c_str(), 1, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) impl_->fail(rc, "cannot rename " + in_quotes(dn) + " to " + in_quotes(new_rdn));
}

} // namespace mbx::directory
