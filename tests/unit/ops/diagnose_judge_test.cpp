// mbx diagnose's judges on facts (issue 21): every finding each area can produce, with its
// status, MIS code and remedy, from the facts alone -- no server, no journal.
#include "mbx/ops/diagnose_judge.hpp"

#include "mbx/core/output.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>

using namespace mbx::ops::diagnose;
using Catch::Contains;
using mbx::Error;
using mbx::ErrorCategory;

namespace {

using namespace std::chrono;

const system_clock::time_point kNow = sys_days{year{2026} / 3 / 1} + hours{12};

Error auth_error() { return Error(ErrorCategory::auth, "authentication failed"); }
Error down_error() { return Error(ErrorCategory::unavailable, "connection refused"); }
// The layers' hint for a certificate they do not accept, and only for it, names the ca-file.
Error tls_error(const std::string& section) {
    return Error(ErrorCategory::unavailable, "TLS handshake failed",
                 "check that [" + section + "] ca-file holds the CA that signed the server's certificate");
}

mbx::tls::CertificateInfo cert_expiring_in(system_clock::duration left) {
    return {.subject = "CN=mail.example.org", .not_after = time_point_cast<seconds>(kNow + left)};
}

CertificateFacts cert_facts(system_clock::duration left) {
    return {.check = "imap-certificate",
            .server = "IMAP",
            .certificate = cert_expiring_in(left),
            .now = kNow,
            .warning_days = 30};
}

void check_finding(const Finding& f, std::string_view area, std::string_view check, Status status,
                   std::string_view mis) {
    CHECK(f.area == area);
    CHECK(f.check == check);
    CHECK(status_name(f.status) == status_name(status));
    CHECK(f.mis == mis);
}

// check_finding, and the finding's detail.
void check_finding(const Finding& f, std::string_view area, std::string_view check, Status status, std::string_view mis,
                   std::string_view detail) {
    check_finding(f, area, check, status, mis);
    CHECK(f.detail == detail);
}

// The one finding of `found`, checked as check_finding does.
const Finding& only_finding(const std::vector<Finding>& found, std::string_view area, std::string_view check,
                            Status status, std::string_view mis) {
    REQUIRE(found.size() == 1);
    check_finding(found[0], area, check, status, mis);
    return found[0];
}

// The one finding of `found`, and its detail.
const Finding& only_finding(const std::vector<Finding>& found, std::string_view area, std::string_view check,
                            Status status, std::string_view mis, std::string_view detail) {
    const Finding& f = only_finding(found, area, check, status, mis);
    CHECK(f.detail == detail);
    return f;
}

} // namespace

// ---- server: certificates -------------------------------------------------------------------

TEST_CASE("diagnose judge: a certificate far from its expiry is ok", "[diagnose][judge]") {
    const Finding f = judge_certificate(cert_facts(days{96} + hours{1}));
    check_finding(f, "server", "imap-certificate", Status::ok, "",
                  "IMAP certificate CN=mail.example.org expires 2026-06-05 in 96 days");
    CHECK(f.remedy.empty());
}

TEST_CASE("diagnose judge: a certificate inside the warning window is a MIS_5 warning", "[diagnose][judge]") {
    Finding f = judge_certificate(cert_facts(days{1} + hours{1}));
    check_finding(f, "server", "imap-certificate", Status::warning, "MIS_5",
                  "IMAP certificate CN=mail.example.org expires 2026-03-02 in 1 day");
    CHECK(f.remedy == "renew it before 2026-03-02: devices refuse an expired certificate");
    f = judge_certificate(cert_facts(days{29} + hours{1}));
    CHECK(f.status == Status::warning);
    CHECK_THAT(f.detail, Contains("in 29 days"));
    // The window is [diagnose] certificate-warning-days: 30 days left is outside a 30-day window.
    CHECK(judge_certificate(cert_facts(days{30} + hours{1})).status == Status::ok);
}

TEST_CASE("diagnose judge: an expired certificate fails with MIS_5", "[diagnose][judge]") {
    const Finding f = judge_certificate(cert_facts(-days{3}));
    check_finding(f, "server", "imap-certificate", Status::failed, "MIS_5",
                  "IMAP certificate CN=mail.example.org expires 2026-02-26 (3 days ago)");
    CHECK(f.remedy == "renew the certificate: devices refuse an expired one");
}

TEST_CASE("diagnose judge: a plain connection's certificate is skipped; an unreadable one is a warning",
          "[diagnose][judge]") {
    CertificateFacts facts{.check = "ldap-certificate", .server = "LDAP", .now = kNow};
    Finding f = judge_certificate(facts);
    check_finding(f, "server", "ldap-certificate", Status::skipped, "", "LDAP: no TLS certificate (plain connection)");
    facts.error = Error(ErrorCategory::data, "bad certificate");
    f = judge_certificate(facts);
    check_finding(f, "server", "ldap-certificate", Status::warning, "", "LDAP: bad certificate");
    CHECK(f.remedy == "check the certificate with `openssl s_client -showcerts`");
}

// ---- server: LDAP ---------------------------------------------------------------------------

TEST_CASE("diagnose judge: ldap not configured is skipped", "[diagnose][judge]") {
    const LdapFacts facts{.configured = false};
    const auto found = judge_ldap(facts);
    only_finding(found, "server", "ldap", Status::skipped, "", "no [ldap] uri configured");
    CHECK_FALSE(directory_down(facts));
}

TEST_CASE("diagnose judge: ldap answers, then its certificate", "[diagnose][judge]") {
    const LdapFacts facts{
        .uri = "ldaps://ldap.example.org",
        .bound_as = "bound as cn=mbxkit,dc=example,dc=org",
        .latency_ms = 3,
        .certificate = CertificateFacts{
            .check = "ldap-certificate", .server = "LDAP", .certificate = cert_expiring_in(days{200}), .now = kNow}};
    const auto found = judge_ldap(facts);
    REQUIRE(found.size() == 2);
    check_finding(found[0], "server", "ldap", Status::ok, "",
                  "ldaps://ldap.example.org answers; bound as cn=mbxkit,dc=example,dc=org");
    CHECK(found[0].latency_ms == 3);
    check_finding(found[1], "server", "ldap-certificate", Status::ok, "");
    CHECK_FALSE(directory_down(facts));
}

TEST_CASE("diagnose judge: mbxkit's own LDAP bind refused: no MIS code, the bind named", "[diagnose][judge]") {
    const LdapFacts facts{.uri = "ldap://x", .error = auth_error(), .latency_ms = 4};
    const auto found = judge_ldap(facts);
    only_finding(found, "server", "ldap", Status::failed, "", "authentication failed");
    CHECK(found[0].remedy == "mbxkit's own bind was refused: check [ldap] bind-dn and password-file (`mbx ping`)");
    CHECK(found[0].latency_ms == 4);
    CHECK_FALSE(directory_down(facts)); // it answered
}

TEST_CASE("diagnose judge: the directory down is the server side of MIS_5", "[diagnose][judge]") {
    const LdapFacts facts{.uri = "ldap://x", .error = down_error(), .latency_ms = 1};
    const auto found = judge_ldap(facts);
    only_finding(found, "server", "ldap", Status::failed, "MIS_5", "directory unavailable: connection refused");
    CHECK_THAT(found[0].remedy, Contains("the server side of MIS_5: bring the directory back"));
    CHECK(directory_down(facts));
}

TEST_CASE("diagnose judge: an LDAP certificate not accepted: MIS_5 naming [ldap] ca-file, not down",
          "[diagnose][judge]") {
    const LdapFacts facts{.uri = "ldaps://x", .error = tls_error("ldap")};
    const auto found = judge_ldap(facts);
    only_finding(found, "server", "ldap", Status::failed, "MIS_5");
    CHECK_THAT(found[0].remedy, Contains("certificate is not accepted") && Contains("[ldap] ca-file"));
    CHECK_FALSE(directory_down(facts));
}

// ---- server: the IMAP master login and MIS_5 -------------------------------------------------

namespace {
ImapLoginFacts refused(std::string reference, std::optional<Error> reference_error) {
    return {.uri = "imaps://mail.example.org",
            .uid = "alice",
            .error = auth_error(),
            .latency_ms = 7,
            .reference = std::move(reference),
            .reference_error = std::move(reference_error)};
}
} // namespace

TEST_CASE("diagnose judge: MIS_5, the account: the master login works for another user but not this one",
          "[diagnose][judge]") {
    const auto found = judge_imap_login(refused("bob", std::nullopt));
    only_finding(found, "server", "imap-login", Status::failed, "MIS_5",
                 "the master login works for 'bob' but is refused for 'alice': the account is broken, not the server");
    CHECK(found[0].remedy == "the account side of MIS_5: create a fresh account and merge the mailbox into it: "
                             "`mbx reprovision alice --new-uid NEWUID`");
    CHECK(found[0].latency_ms == 7);
}

TEST_CASE("diagnose judge: not MIS_5 when the master login fails for everyone: mbxkit's own login",
          "[diagnose][judge]") {
    const auto found = judge_imap_login(refused("bob", auth_error()));
    only_finding(found, "server", "imap-login", Status::failed, "",
                 "the master login is refused for 'alice' and for 'bob' too");
    CHECK_THAT(found[0].remedy, Contains("mbxkit's own login is wrong, not the account") &&
                                    Contains("[imap] master-user and master-password-file"));
    CHECK_THAT(found[0].remedy, !Contains("reprovision"));
}

TEST_CASE("diagnose judge: the reference login fails otherwise: the server side of MIS_5", "[diagnose][judge]") {
    const auto found = judge_imap_login(refused("bob", down_error()));
    only_finding(found, "server", "imap-login", Status::failed, "MIS_5",
                 "the master login for 'alice' is refused, and the server fails for 'bob' too (connection refused)");
    CHECK(found[0].remedy == "the server side of MIS_5: check the mail server (`mbx ping`), then diagnose again");
}

TEST_CASE("diagnose judge: a refused login with no other user to compare with asks for a reference user",
          "[diagnose][judge]") {
    const auto found = judge_imap_login(refused("", std::nullopt));
    only_finding(found, "server", "imap-login", Status::failed, "MIS_5",
                 "the master login for 'alice' is refused (authentication failed); no other user to compare with");
    CHECK(found[0].remedy == "set [diagnose] reference-user to a user that works, and run again");
}

TEST_CASE("diagnose judge: a refused login while the directory is down is put on the directory", "[diagnose][judge]") {
    ImapLoginFacts facts = refused("bob", std::nullopt); // a reference that works changes nothing
    facts.directory_down = true;
    const auto found = judge_imap_login(facts);
    only_finding(found, "server", "imap-login", Status::failed, "MIS_5");
    CHECK_THAT(found[0].detail, Contains("while the directory is down"));
    CHECK(found[0].remedy == "the server side of MIS_5: bring the directory back, then diagnose again");
}

TEST_CASE("diagnose judge: the user logs on: no finding but ok, then the certificate", "[diagnose][judge]") {
    ImapLoginFacts facts{
        .uri = "imaps://mail.example.org", .uid = "alice", .latency_ms = 12, .certificate = cert_facts(-days{1})};
    const auto found = judge_imap_login(facts);
    REQUIRE(found.size() == 2);
    check_finding(found[0], "server", "imap-login", Status::ok, "",
                  "imaps://mail.example.org answers; master login for 'alice'");
    CHECK(found[0].remedy.empty());
    CHECK(found[0].latency_ms == 12);
    check_finding(found[1], "server", "imap-certificate", Status::failed, "MIS_5");
    // Without a certificate check (none read), the login alone.
    facts.certificate.reset();
    CHECK(judge_imap_login(facts).size() == 1);
}

TEST_CASE("diagnose judge: the mail server down is the server side of MIS_5; a certificate names [imap] ca-file",
          "[diagnose][judge]") {
    ImapLoginFacts facts{.uri = "imaps://x", .uid = "alice", .error = down_error()};
    auto found = judge_imap_login(facts);
    only_finding(found, "server", "imap-login", Status::failed, "MIS_5", "IMAP server unavailable: connection refused");
    CHECK_THAT(found[0].remedy, Contains("bring the mail server back") && Contains("nothing points at the account"));
    facts.error = tls_error("imap");
    found = judge_imap_login(facts);
    REQUIRE(found.size() == 1);
    CHECK(found[0].mis == "MIS_5");
    CHECK_THAT(found[0].remedy, Contains("[imap] ca-file"));
}

TEST_CASE("diagnose judge: imap-login skipped: not configured, or no such user", "[diagnose][judge]") {
    only_finding(judge_imap_login({.configured = false}), "server", "imap-login", Status::skipped, "",
                 "no [imap] uri configured");
    only_finding(judge_imap_login({.user_missing = true, .uid = "nosuch"}), "server", "imap-login", Status::skipped, "",
                 "not tried: the directory has no such user");
}

// ---- server: ActiveSync ---------------------------------------------------------------------

TEST_CASE("diagnose judge: the ActiveSync endpoint answers, with its versions and certificate", "[diagnose][judge]") {
    ActiveSyncFacts facts{.url = "https://mail.example.org/Microsoft-Server-ActiveSync",
                          .http_status = 200,
                          .versions = {"2.5", "12.0", "14.1", "junk"},
                          .latency_ms = 40,
                          .certificate = CertificateFacts{.check = "activesync-certificate",
                                                          .server = "ActiveSync",
                                                          .certificate = cert_expiring_in(days{90}),
                                                          .now = kNow}};
    auto found = judge_activesync(facts);
    REQUIRE(found.size() == 2);
    check_finding(found[0], "server", "activesync", Status::ok, "",
                  "https://mail.example.org/Microsoft-Server-ActiveSync answers OPTIONS (HTTP 200); "
                  "versions 2.5,12.0,14.1,junk");
    CHECK(found[0].latency_ms == 40);
    check_finding(found[1], "server", "activesync-certificate", Status::ok, "");
    CHECK(offered_versions(facts) == std::vector<std::string>{"2.5", "12.0", "14.1"});
    facts.versions.clear();
    facts.certificate.reset();
    found = judge_activesync(facts);
    REQUIRE(found.size() == 1);
    CHECK(found[0].detail == "https://mail.example.org/Microsoft-Server-ActiveSync answers OPTIONS (HTTP 200)");
}

TEST_CASE("diagnose judge: the ActiveSync endpoint down is the server side of MIS_5", "[diagnose][judge]") {
    ActiveSyncFacts facts{.url = "https://x/Microsoft-Server-ActiveSync", .versions = {"14.1"}, .error = down_error()};
    auto found = judge_activesync(facts);
    only_finding(found, "server", "activesync", Status::failed, "MIS_5",
                 "ActiveSync endpoint unavailable: connection refused");
    CHECK_THAT(found[0].remedy, Contains("bring the ActiveSync service back"));
    CHECK(offered_versions(facts).empty());
    facts.error = tls_error("activesync");
    facts.certificate = CertificateFacts{.check = "activesync-certificate",
                                         .server = "ActiveSync",
                                         .certificate = cert_expiring_in(-days{10}),
                                         .now = kNow};
    found = judge_activesync(facts);
    REQUIRE(found.size() == 2);
    CHECK_THAT(found[0].remedy, Contains("certificate is not accepted") && Contains("[activesync] ca-file"));
    check_finding(found[1], "server", "activesync-certificate", Status::failed, "MIS_5");
}

TEST_CASE("diagnose judge: ActiveSync not configured is skipped; a setup error is no MIS code", "[diagnose][judge]") {
    only_finding(judge_activesync({.configured = false}), "server", "activesync", Status::skipped, "",
                 "no [activesync] url configured");
    const auto found = judge_activesync({.setup_error = Error(ErrorCategory::config, "bad [activesync] url")});
    only_finding(found, "server", "activesync", Status::failed, "", "bad [activesync] url");
    CHECK(found[0].remedy == "fix [activesync] (docs/configuration.md)");
}

// ---- directory ------------------------------------------------------------------------------

namespace {
mbx::directory::Entry entry(std::string dn, std::vector<std::pair<std::string, std::string>> attrs) {
    mbx::directory::Entry e;
    e.dn = std::move(dn);
    for (auto& [k, v] : attrs) e.attributes.emplace(k, v);
    return e;
}
const std::string kAlice = "uid=alice,ou=people,dc=example,dc=org";
DirectoryFacts alice_facts() {
    return {.user = "alice",
            .base = "dc=example,dc=org",
            .user_filter = "(objectClass=inetOrgPerson)",
            .alias_attributes = {"mailAlternateAddress"},
            .same_uid = {entry(kAlice, {{"uid", "alice"}, {"mail", "alice@example.org"}})},
            .filtered = {kAlice}};
}
const Finding* find(const std::vector<Finding>& found, std::string_view check) {
    for (const auto& f : found)
        if (f.check == check) return &f;
    return nullptr;
}
// alice_facts() with a [reprovision] disable-method, and the attribute or the base it goes by.
DirectoryFacts disabled_by(std::string method, std::string attribute, std::string base) {
    DirectoryFacts facts = alice_facts();
    facts.disable_method = std::move(method);
    facts.disable_attribute = std::move(attribute);
    facts.disabled_base = std::move(base);
    return facts;
}
// The "enabled" finding of judge_directory(facts).
Finding enabled_finding(const DirectoryFacts& facts) {
    const auto found = judge_directory(facts);
    const Finding* f = find(found, "enabled");
    REQUIRE(f);
    return *f;
}
} // namespace

TEST_CASE("diagnose judge: a healthy entry: every directory check ok, in order", "[diagnose][judge]") {
    const auto facts = alice_facts();
    const auto found = judge_directory(facts);
    REQUIRE(found.size() == 5);
    check_finding(found[0], "directory", "entry", Status::ok, "", kAlice);
    check_finding(found[1], "directory", "uid-unique", Status::ok, "", "one entry has uid 'alice'");
    check_finding(found[2], "directory", "enabled", Status::ok, "",
                  "no disabled or locked state on the entry ([reprovision] disable-method is none)");
    check_finding(found[3], "directory", "mail", Status::ok, "", "alice@example.org");
    check_finding(found[4], "directory", "mail-unique", Status::ok, "", "1 address on this entry only");
    REQUIRE(chosen_entry(facts) != nullptr);
    CHECK(mail_address(*chosen_entry(facts), facts) == "alice@example.org");
}

TEST_CASE("diagnose judge: the directory unreachable skips; a failed search is MIS_5", "[diagnose][judge]") {
    auto found = judge_directory({.reachable = false});
    only_finding(found, "directory", "entry", Status::skipped, "", "the directory could not be reached");
    DirectoryFacts facts = alice_facts();
    facts.error = Error(ErrorCategory::temporary, "server busy");
    found = judge_directory(facts);
    only_finding(found, "directory", "entry", Status::failed, "MIS_5", "directory search failed: server busy");
    CHECK(found[0].remedy == "retry; if it persists, check the directory server's log");
}

TEST_CASE("diagnose judge: no entry with the uid: failed, no MIS code, one finding", "[diagnose][judge]") {
    DirectoryFacts facts = alice_facts();
    facts.same_uid.clear();
    facts.filtered.clear();
    const auto found = judge_directory(facts);
    only_finding(found, "directory", "entry", Status::failed, "", "no entry with uid 'alice' under dc=example,dc=org");
    CHECK_THAT(found[0].remedy, Contains("check the spelling and [ldap] base"));
    CHECK(chosen_entry(facts) == nullptr);
}

TEST_CASE("diagnose judge: an entry the user filter does not select is MIS_5, reprovision", "[diagnose][judge]") {
    DirectoryFacts facts = alice_facts();
    facts.filtered.clear();
    const auto found = judge_directory(facts);
    REQUIRE(found.size() == 5);
    check_finding(found[0], "directory", "entry", Status::failed, "MIS_5");
    CHECK_THAT(found[0].detail, Contains(kAlice + " has uid 'alice' but does not match [ldap] user-filter "
                                                  "(objectClass=inetOrgPerson)"));
    CHECK_THAT(found[0].remedy, Contains("`mbx reprovision alice --new-uid NEWUID`"));
}

TEST_CASE("diagnose judge: the uid on two entries is MIS_5; the one the filter selects, named by its uid, is diagnosed",
          "[diagnose][judge]") {
    DirectoryFacts facts = alice_facts();
    const std::string copy = "cn=alice copy,ou=people,dc=example,dc=org";
    const std::string other = "uid=alice,ou=other,dc=example,dc=org";
    facts.same_uid = {entry(copy, {{"uid", "alice"}, {"mail", "alice@example.org"}}), // sorted by DN
                      entry(other, {{"uid", "alice"}}),
                      entry(kAlice, {{"uid", "alice"}, {"mail", "alice@example.org"}})};
    facts.filtered = {copy, kAlice};
    REQUIRE(chosen_entry(facts) != nullptr);
    CHECK(chosen_entry(facts)->dn == kAlice);
    facts.others = {facts.same_uid[0]};
    const auto found = judge_directory(facts);
    const Finding* unique = find(found, "uid-unique");
    REQUIRE(unique);
    check_finding(*unique, "directory", "uid-unique", Status::failed, "MIS_5",
                  "uid 'alice' is on 3 entries: " + copy + "; " + other + "; " + kAlice);
    CHECK_THAT(unique->remedy, Contains("a corrupted provisioning") && Contains("`mbx diagnose alice` again"));
    // The filter selects only the copy: that one is diagnosed.
    facts.filtered = {copy};
    CHECK(chosen_entry(facts)->dn == copy);
}

TEST_CASE("diagnose judge: enabled by a disable attribute", "[diagnose][judge]") {
    DirectoryFacts facts = disabled_by("attribute", "mbxAccountDisabled", "");
    check_finding(enabled_finding(facts), "directory", "enabled", Status::ok, "", "no mbxAccountDisabled on the entry");
    facts.same_uid[0].attributes.emplace("mbxAccountDisabled", "TRUE");
    const Finding f = enabled_finding(facts);
    check_finding(f, "directory", "enabled", Status::failed, "MIS_5",
                  "the account is disabled: mbxAccountDisabled: TRUE");
    CHECK_THAT(f.remedy, Contains("remove mbxAccountDisabled from the entry"));
}

TEST_CASE("diagnose judge: the server's own account state, by its meaning, never by presence", "[diagnose][judge]") {
    using mbx::directory::DirectoryKind;
    auto with = [](std::initializer_list<std::pair<const char*, const char*>> values) {
        mbx::directory::Entry e;
        e.dn = kAlice;
        for (const auto& [k, v] : values) e.attributes.emplace(k, v);
        return e;
    };
    // Active Directory: 512 is a normal enabled account, 514 has ACCOUNTDISABLE; 66048 adds
    // DONT_EXPIRE_PASSWORD to 512; a negative value is the same 32 bits.
    CHECK_FALSE(account_state_problem(with({{"userAccountControl", "512"}})));
    CHECK_FALSE(account_state_problem(with({{"userAccountControl", "66048"}, {"lockoutTime", "0"}})));
    CHECK(account_state_problem(with({{"userAccountControl", "514"}})) ==
          "the account is disabled: userAccountControl 514 has ACCOUNTDISABLE (0x2)");
    CHECK(account_state_problem(with({{"userAccountControl", "-2147483646"}})).has_value()); // 0x80000002
    CHECK_THAT(*account_state_problem(with({{"userAccountControl", "512"}, {"lockoutTime", "133497338000000000"}})),
               Contains("locked out"));
    CHECK_THAT(*account_state_problem(with({{"msDS-User-Account-Control-Computed", "8388608"}})), Contains("expired"));
    CHECK_THAT(*account_state_problem(with({{"msDS-User-Account-Control-Computed", "8388608"}, {"pwdLastSet", "0"}})),
               Contains("must be changed"));
    // A lockout that ended: lockoutTime stays until the next good logon, the computed flags say it is over.
    CHECK_FALSE(account_state_problem(
        with({{"lockoutTime", "133497338000000000"}, {"msDS-User-Account-Control-Computed", "0"}})));
    CHECK(account_state(with({{"msDS-User-Account-Control-Computed", "16"}}))->problem == AccountProblem::locked);
    // 389-DS: nsAccountLock by its value.
    CHECK_FALSE(account_state_problem(with({{"nsAccountLock", "false"}})));
    CHECK(account_state_problem(with({{"nsAccountLock", "TRUE"}})) == "the account is locked: nsAccountLock: true");
    // OpenLDAP ppolicy: any pwdAccountLockedTime locks; 000001010000Z is an administrator's lock.
    CHECK_THAT(*account_state_problem(with({{"pwdAccountLockedTime", "000001010000Z"}})), Contains("for good"));
    CHECK_FALSE(account_state_problem(with({{"mail", "alice@example.org"}})));

    // With disable-attribute = userAccountControl an enabled AD user is enabled (not "has the
    // attribute"), and the remedy names the kind's tools.
    DirectoryFacts facts = disabled_by("attribute", "userAccountControl", "");
    facts.kind = DirectoryKind::active_directory;
    facts.same_uid[0].attributes.emplace("userAccountControl", "512");
    check_finding(enabled_finding(facts), "directory", "enabled", Status::ok, "",
                  "enabled: userAccountControl says so");
    facts.same_uid[0].attributes.erase("userAccountControl");
    facts.same_uid[0].attributes.emplace("userAccountControl", "514");
    Finding f = enabled_finding(facts);
    check_finding(f, "directory", "enabled", Status::failed, "MIS_5");
    CHECK_THAT(f.remedy, Contains("samba-tool user enable alice") && Contains("Enable-ADAccount alice"));
    // Locked out and expired are fixed otherwise: unlock, a new password.
    facts.same_uid[0].attributes.erase("userAccountControl");
    facts.same_uid[0].attributes.emplace("userAccountControl", "512");
    facts.same_uid[0].attributes.emplace("msDS-User-Account-Control-Computed", "16");
    CHECK_THAT(enabled_finding(facts).remedy, Contains("samba-tool user unlock alice") && Contains("Unlock-ADAccount"));
    facts.same_uid[0].attributes.erase("msDS-User-Account-Control-Computed");
    facts.same_uid[0].attributes.emplace("msDS-User-Account-Control-Computed", "8388608");
    CHECK_THAT(enabled_finding(facts).remedy, Contains("samba-tool user setpassword alice"));
    // 389-DS with the default disable attribute of another server: nsAccountLock still counts.
    facts = disabled_by("attribute", "pwdAccountLockedTime", "");
    facts.kind = DirectoryKind::ds389;
    facts.same_uid[0].attributes.emplace("nsAccountLock", "true");
    f = enabled_finding(facts);
    check_finding(f, "directory", "enabled", Status::failed, "MIS_5", "the account is locked: nsAccountLock: true");
    CHECK_THAT(f.remedy, Contains("dsidm"));
}

TEST_CASE("diagnose judge: enabled by the disabled base", "[diagnose][judge]") {
    DirectoryFacts facts = disabled_by("move", "", "ou=disabled,dc=example,dc=org");
    Finding f = enabled_finding(facts);
    check_finding(f, "directory", "enabled", Status::ok, "",
                  "not under [reprovision] disabled-base ou=disabled,dc=example,dc=org");
    CHECK(f.remedy.empty());
    const std::string moved = "uid=alice,OU=Disabled,dc=example,dc=org";
    facts.same_uid[0].dn = moved;
    facts.filtered = {moved};
    f = enabled_finding(facts);
    check_finding(f, "directory", "enabled", Status::failed, "MIS_5",
                  "the entry is under [reprovision] disabled-base ou=disabled,dc=example,dc=org");
    CHECK_THAT(f.remedy, Contains("move it back"));
    // A DN that only ends like the base, without the comma before it, is not under it.
    facts.same_uid[0].dn = "uid=alice,xou=disabled,dc=example,dc=org";
    facts.filtered = {facts.same_uid[0].dn};
    CHECK(enabled_finding(facts).status == Status::ok);
}

TEST_CASE("diagnose judge: no mail address, or not an address, is MIS_5", "[diagnose][judge]") {
    DirectoryFacts facts = alice_facts();
    facts.same_uid[0] = entry(kAlice, {{"uid", "alice"}});
    auto found = judge_directory(facts);
    REQUIRE(found.size() == 4); // no address: no mail-unique check
    check_finding(found[3], "directory", "mail", Status::failed, "MIS_5", "the entry has no mail");
    CHECK(found[3].remedy == "give the entry its address (mail); ActiveSync provisions a device by it");
    facts.same_uid[0] = entry(kAlice, {{"uid", "alice"}, {"mail", "alice"}});
    found = judge_directory(facts);
    REQUIRE(found.size() == 5);
    check_finding(found[3], "directory", "mail", Status::failed, "MIS_5", "mail 'alice' is not a mail address");
    CHECK_FALSE(mail_address(facts.same_uid[0], facts));
}

TEST_CASE("diagnose judge: an address on another entry is MIS_5, each clash named", "[diagnose][judge]") {
    DirectoryFacts facts = alice_facts();
    facts.same_uid[0].attributes.emplace("mailAlternateAddress", "a@example.org");
    facts.same_uid[0].attributes.emplace("mailAlternateAddress", "alice@example.org"); // counted once
    CHECK(entry_addresses(facts.same_uid[0], facts) == std::vector<std::string>{"alice@example.org", "a@example.org"});
    auto found = judge_directory(facts);
    REQUIRE(found.size() == 5);
    CHECK(found[4].detail == "2 addresses on this entry only");
    facts.others = {entry("uid=bob,ou=people,dc=example,dc=org",
                          {{"mail", "bob@example.org"}, {"mailAlternateAddress", "a@example.org"}})};
    found = judge_directory(facts);
    REQUIRE(found.size() == 5);
    check_finding(found[4], "directory", "mail-unique", Status::failed, "MIS_5",
                  "a@example.org is also on uid=bob,ou=people,dc=example,dc=org");
    CHECK_THAT(found[4].remedy, Contains("an address on two entries"));
}

TEST_CASE("diagnose judge: the address search failing comes after the entry's findings", "[diagnose][judge]") {
    DirectoryFacts facts = alice_facts();
    facts.others_error = Error(ErrorCategory::unavailable, "connection lost");
    const auto found = judge_directory(facts);
    REQUIRE(found.size() == 5);
    check_finding(found[3], "directory", "mail", Status::ok, "");
    check_finding(found[4], "directory", "entry", Status::failed, "MIS_5", "directory search failed: connection lost");
}

// ---- folders --------------------------------------------------------------------------------

namespace {
mbx::imap::ListEntry folder(std::string name, std::vector<std::string> attributes = {}) {
    return {.attributes = std::move(attributes), .delimiter = '/', .name = std::move(name)};
}
FoldersFacts opened(std::vector<mbx::imap::ListEntry> list,
                    mbx::imap::ServerKind server = mbx::imap::ServerKind::dovecot, std::string prefix = {}) {
    FoldersFacts facts{.uid = "alice", .folders = locate_folders(list, prefix), .prefix = prefix, .server = server};
    for (auto& f : facts.folders)
        if (f.entry && selectable(*f.entry)) f.messages = 3;
    return facts;
}
} // namespace

TEST_CASE("diagnose judge: the needed folders by SPECIAL-USE, else by their usual names", "[diagnose][judge]") {
    const auto folders = locate_folders({folder("INBOX"), folder("Entwürfe", {"\\Drafts"}), folder("Drafts"),
                                         folder("Sent Items"), folder("Deleted Messages")});
    REQUIRE(folders.size() == 4);
    CHECK(folders[0].check == "INBOX");
    CHECK(folders[0].use.empty());
    CHECK(folders[1].check == "Drafts");
    CHECK(folders[1].use == "\\Drafts");
    REQUIRE(folders[1].entry);
    CHECK(folders[1].entry->name == "Entwürfe"); // the attribute wins over the name
    REQUIRE(folders[2].entry);
    CHECK(folders[2].entry->name == "Sent Items");
    REQUIRE(folders[3].entry);
    CHECK(folders[3].entry->name == "Deleted Messages");
    CHECK_FALSE(locate_folders({folder("INBOX")})[3].entry);
}

TEST_CASE("diagnose judge: folders that open are ok with their message count", "[diagnose][judge]") {
    FoldersFacts facts = opened({folder("INBOX"), folder("Drafts"), folder("Sent"), folder("Trash")});
    facts.folders[1].messages = 1;
    const auto found = judge_folders(facts);
    REQUIRE(found.size() == 4);
    check_finding(found[0], "folders", "INBOX", Status::ok, "", "INBOX opens: 3 messages");
    CHECK(found[1].detail == "Drafts opens: 1 message");
    check_finding(found[3], "folders", "Trash", Status::ok, "");
}

TEST_CASE("diagnose judge: a missing folder is MIS_8, with how to create it", "[diagnose][judge]") {
    const auto found = judge_folders(opened({folder("Drafts"), folder("Sent")}));
    REQUIRE(found.size() == 4);
    check_finding(found[0], "folders", "INBOX", Status::failed, "MIS_8", "no INBOX");
    CHECK(found[0].remedy == "the server cannot open the mailbox: check its storage for this user");
    check_finding(found[3], "folders", "Trash", Status::failed, "MIS_8",
                  "no folder marked \\Trash (nor one named Trash)");
    CHECK(found[3].remedy == "create it with the \\Trash use (IMAP CREATE \"Trash\" USE (\\Trash), e.g. `doveadm "
                             "mailbox create -u alice -s 'Trash'`); the device recovers on its next sync");
}

TEST_CASE("diagnose judge: on Cyrus, folders are found and named under INBOX., advice without doveadm",
          "[diagnose][judge]") {
    using mbx::imap::ServerKind;
    auto cyrus = [](std::string name, std::vector<std::string> attributes = {}) {
        auto e = folder(std::move(name), std::move(attributes));
        e.delimiter = '.';
        return e;
    };
    FoldersFacts facts =
        opened({cyrus("INBOX"), cyrus("INBOX.Drafts"), cyrus("INBOX.Sent")}, ServerKind::cyrus, "INBOX.");
    facts.folders[2].messages.reset();
    facts.folders[2].error = Error(ErrorCategory::data, "NO System I/O error");
    const auto found = judge_folders(facts);
    REQUIRE(found.size() == 4);
    check_finding(found[1], "folders", "Drafts", Status::ok, "", "INBOX.Drafts opens: 3 messages");
    check_finding(found[3], "folders", "Trash", Status::failed, "MIS_8",
                  "no folder marked \\Trash (nor one named INBOX.Trash)");
    CHECK_THAT(found[3].remedy, Contains("IMAP CREATE \"INBOX.Trash\" USE (\\Trash)"));
    CHECK_THAT(found[2].remedy, Contains("reconstruct -r user.alice"));
    for (const auto& f : found) CHECK_THAT(f.remedy, !Contains("doveadm"));
    // A server mbxkit does not know: plain IMAP.
    const auto other = judge_folders(opened({folder("INBOX")}, ServerKind::other));
    CHECK(other[1].remedy == "create it with the \\Drafts use (IMAP CREATE \"Drafts\" USE (\\Drafts) as the user); the "
                             "device recovers on its next sync");
}

TEST_CASE("diagnose judge: a \\Noselect folder is MIS_8", "[diagnose][judge]") {
    const auto found = judge_folders(opened(
        {folder("INBOX"), folder("Drafts"), folder("Sent", {"\\Noselect"}), folder("Trash", {"\\NonExistent"})}));
    REQUIRE(found.size() == 4);
    check_finding(found[2], "folders", "Sent", Status::failed, "MIS_8", "Sent cannot be selected (\\Noselect)");
    CHECK(found[2].remedy == "recreate Sent as a real folder (it exists only as a parent)");
    check_finding(found[3], "folders", "Trash", Status::failed, "MIS_8");
}

TEST_CASE("diagnose judge: EXAMINE refused is MIS_8; the connection breaking is MIS_5 and the rest is skipped",
          "[diagnose][judge]") {
    FoldersFacts facts = opened({folder("INBOX"), folder("Drafts"), folder("Sent"), folder("Trash")});
    facts.folders[1].messages.reset();
    facts.folders[1].error = Error(ErrorCategory::data, "NO permission denied");
    facts.folders[2].messages.reset();
    facts.folders[2].error = Error(ErrorCategory::unavailable, "connection reset");
    facts.folders[3].messages.reset();
    const auto found = judge_folders(facts);
    REQUIRE(found.size() == 4);
    check_finding(found[1], "folders", "Drafts", Status::failed, "MIS_8",
                  "Drafts cannot be opened: NO permission denied");
    CHECK_THAT(found[1].remedy, Contains("`doveadm force-resync -u alice 'Drafts'`"));
    check_finding(found[2], "folders", "Sent", Status::failed, "MIS_5",
                  "the connection broke while opening Sent: connection reset");
    CHECK(found[2].remedy == "retry; check the mail server (`mbx ping`)");
    facts.folders[2].error = Error(ErrorCategory::temporary, "timeout");
    CHECK(judge_folders(facts)[2].mis == "MIS_5");
    check_finding(found[3], "folders", "Trash", Status::skipped, "",
                  "Trash not opened: the connection broke before it");
}

TEST_CASE("diagnose judge: folders without a login are skipped; LIST failing is MIS_8", "[diagnose][judge]") {
    only_finding(judge_folders({.logged_in = false}), "folders", "INBOX", Status::skipped, "", "no IMAP login");
    const auto found = judge_folders({.list_error = Error(ErrorCategory::data, "BAD")});
    only_finding(found, "folders", "list", Status::failed, "MIS_8", "LIST failed: BAD");
    CHECK(found[0].remedy == "check the mail server's log for this user");
}

// ---- quota ----------------------------------------------------------------------------------

namespace {
QuotaFacts usage(std::int64_t used, std::optional<std::int64_t> limit, mbx::ops::Tier tier) {
    QuotaFacts facts{.uid = "alice"};
    facts.row.used_bytes = used;
    facts.row.limit_bytes = limit;
    if (limit) facts.row.percent = 100.0 * static_cast<double>(used) / static_cast<double>(*limit);
    facts.row.source = "imap";
    facts.row.tier = tier;
    return facts;
}
} // namespace

TEST_CASE("diagnose judge: quota under the warning tier, or without a limit, is ok", "[diagnose][judge]") {
    Finding f = judge_quota(usage(1 << 20, 50 << 20, mbx::ops::Tier::ok));
    check_finding(f, "quota", "usage", Status::ok, "", "1.0 MiB of 50.0 MiB (2%, from imap): ok");
    f = judge_quota(usage(1 << 20, std::nullopt, mbx::ops::Tier::no_limit));
    check_finding(f, "quota", "usage", Status::ok, "", "1.0 MiB used, no limit: no-limit");
}

TEST_CASE("diagnose judge: quota at the warning tier is a MIS_9 warning with the bytes to free", "[diagnose][judge]") {
    const Finding f = judge_quota(usage(850000, 1000000, mbx::ops::Tier::warning));
    check_finding(f, "quota", "usage", Status::warning, "MIS_9",
                  fmt::format("{} of {} (85%, from imap): warning tier; {} to free to get under the 80% warning tier",
                              mbx::out::human_bytes(850000), mbx::out::human_bytes(1000000),
                              mbx::out::human_bytes(50001)));
}

TEST_CASE("diagnose judge: quota at prohibit-send fails with MIS_9: cleanup or raise", "[diagnose][judge]") {
    for (auto tier : {mbx::ops::Tier::prohibit_send, mbx::ops::Tier::prohibit_send_receive}) {
        QuotaFacts facts = usage(950000, 1000000, tier);
        facts.thresholds.warning = 80;
        const Finding f = judge_quota(facts);
        check_finding(f, "quota", "usage", Status::failed, "MIS_9");
        CHECK_THAT(f.detail, Contains(std::string(mbx::ops::tier_name(tier)) + " tier; " +
                                      mbx::out::human_bytes(150001) + " to free to get under the 80% warning tier"));
        CHECK(f.remedy ==
              "free space: `mbx quota cleanup alice --folder '\\Trash,\\Junk' --older-than 30d "
              "--until-below 80` (archived, undoable), or raise the limit: `mbx quota raise alice --to 2M`");
    }
    // The user's own warning threshold names the tier and the sizes.
    QuotaFacts facts = usage(950000, 1000000, mbx::ops::Tier::prohibit_send);
    facts.thresholds.warning = 85.5;
    CHECK_THAT(judge_quota(facts).remedy, Contains("--until-below 85.5"));
}

TEST_CASE("diagnose judge: quota unknown or unreadable is a warning, no MIS code", "[diagnose][judge]") {
    QuotaFacts facts{.uid = "alice"};
    facts.row.error = "no QUOTA capability";
    Finding f = judge_quota(facts);
    check_finding(f, "quota", "usage", Status::warning, "", "usage unknown: no QUOTA capability");
    CHECK(f.remedy == "`mbx quota check alice`");
    facts.error = Error(ErrorCategory::unavailable, "connection refused");
    f = judge_quota(facts);
    check_finding(f, "quota", "usage", Status::warning, "", "cannot read the usage: connection refused");
    CHECK(f.remedy == "`mbx quota check alice`");
}

TEST_CASE("diagnose judge: quota skipped: no such user, or no IMAP", "[diagnose][judge]") {
    Finding f = judge_quota({.user_missing = true});
    check_finding(f, "quota", "usage", Status::skipped, "", "no such user");
    f = judge_quota({.configured = false});
    check_finding(f, "quota", "usage", Status::skipped, "", "no [imap] uri configured");
}

// ---- devices --------------------------------------------------------------------------------

namespace {
mbx::ops::audit::DeviceRow device(std::string id, std::vector<std::string> versions, std::string last,
                                  std::string user = "alice") {
    return {.user = std::move(user),
            .device_id = std::move(id),
            .device_type = "iPhone",
            .versions = std::move(versions),
            .last_version = std::move(last),
            .last_seen = 1767225600,
            .requests = 12};
}
DevicesFacts with_devices(std::vector<mbx::ops::audit::DeviceRow> devices) {
    return {.uid = "alice",
            .mail = "alice@example.org",
            .source = "access.log",
            .devices = std::move(devices),
            .server_versions = {"2.5", "12.0", "12.1", "14.0", "14.1"},
            .versions_from = "the server's OPTIONS answer"};
}
} // namespace

TEST_CASE("diagnose judge: the user's devices, by log user, and --device", "[diagnose][judge]") {
    DevicesFacts facts = with_devices({device("A", {"14.1"}, "14.1"), device("B", {"14.1"}, "14.1", "bob"),
                                       device("C", {"14.1"}, "14.1", "EXAMPLE\\alice"),
                                       device("D", {"14.1"}, "14.1", "Alice@Example.org")});
    auto mine = user_devices(facts);
    REQUIRE(mine.size() == 3);
    CHECK(mine[0]->device_id == "A");
    CHECK(mine[1]->device_id == "C");
    CHECK(mine[2]->device_id == "D");
    facts.device = "c";
    mine = user_devices(facts);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0]->device_id == "C");
}

TEST_CASE("diagnose judge: a device on a version the server offers is ok", "[diagnose][judge]") {
    const auto found = judge_devices(with_devices({device("ApplOLD", {"14.1"}, "14.1")}));
    only_finding(found, "devices", "ApplOLD", Status::ok, "");
    CHECK_THAT(found[0].detail, Contains("(iPhone), 12 requests, last seen 2026-01-01T00:00:00Z; uses 14.1, server "
                                         "offers 2.5,12.0,12.1,14.0,14.1 (from the server's OPTIONS answer)"));
}

TEST_CASE("diagnose judge: MIS_2: a device still sending a version the server does not offer fails",
          "[diagnose][judge]") {
    auto found = judge_devices(with_devices({device("ApplNEW", {"14.1", "16.1"}, "16.1")}));
    only_finding(found, "devices", "ApplNEW", Status::failed, "MIS_2");
    CHECK_THAT(found[0].detail, Contains("uses 16.1"));
    CHECK(found[0].remedy == "re-create the device partnership on the phone: it keeps the versions of an earlier "
                             "OPTIONS answer; it will then negotiate 14.1");
    // Nothing in common: compat's own remediation.
    DevicesFacts facts = with_devices({device("Appl9", {"14.1"}, "14.1")});
    facts.devices[0].family = "iOS";
    facts.devices[0].client_version = "9.3.5";
    facts.server_versions = {"16.1"};
    found = judge_devices(facts);
    only_finding(found, "devices", "Appl9", Status::failed, "MIS_2");
    CHECK_THAT(found[0].remedy, Contains("update to iOS 10 or later"));
}

TEST_CASE("diagnose judge: MIS_2 by compat's verdict: breaks fails, at risk warns", "[diagnose][judge]") {
    // No version of its last request: compat's verdict alone. iOS 9 speaks 16.0 at most.
    DevicesFacts facts = with_devices({device("Appl9", {"14.1"}, "")});
    facts.devices[0].family = "iOS";
    facts.devices[0].client_version = "9.3.5";
    facts.server_versions = {"16.1"};
    auto found = judge_devices(facts);
    only_finding(found, "devices", "Appl9", Status::failed, "MIS_2");
    CHECK_THAT(found[0].detail, Contains("speaks at most 16.0"));
    // It uses 12.1 while it has used 14.1, which the server keeps: at risk.
    found = judge_devices(with_devices({device("ApplLOW", {"12.1", "14.1"}, "12.1")}));
    only_finding(found, "devices", "ApplLOW", Status::warning, "MIS_2");
    CHECK_THAT(found[0].remedy, Contains("re-create the device partnership"));
}

TEST_CASE("diagnose judge: a device without any version is skipped, with what to log", "[diagnose][judge]") {
    const auto found = judge_devices(with_devices({device("X", {}, "")}));
    only_finding(found, "devices", "X", Status::skipped, "");
    CHECK(found[0].remedy == "log the MS-ASProtocolVersion header ($http_ms_asprotocolversion in nginx) to see it");
}

TEST_CASE("diagnose judge: devices skipped without the server's versions", "[diagnose][judge]") {
    DevicesFacts facts = with_devices({device("ApplOLD", {"12.1", "14.1"}, "14.1")});
    facts.server_versions.clear();
    const auto found = judge_devices(facts);
    only_finding(found, "devices", "ApplOLD", Status::skipped, "");
    CHECK_THAT(found[0].detail, Contains("; versions 12.1,14.1; the server's versions are unknown"));
    CHECK(found[0].remedy == "set [activesync] url and user (or run `mbx audit server`) to compare versions");
}

TEST_CASE("diagnose judge: no device data, no device of the user, an unknown --device", "[diagnose][judge]") {
    auto found = judge_devices({.uid = "alice", .have_data = false});
    only_finding(found, "devices", "devices", Status::skipped, "",
                 "no device data: the journal has no `mbx audit clients` run");
    CHECK_THAT(found[0].remedy, Contains("--log FILE"));
    CHECK(judge_devices({.device = "PHONE1", .have_data = false})[0].check == "PHONE1");

    DevicesFacts facts = with_devices({device("B1", {"14.1"}, "14.1", "bob")});
    found = judge_devices(facts);
    only_finding(found, "devices", "devices", Status::skipped, "", "no ActiveSync device of 'alice' in access.log");

    facts = with_devices(
        {device("A2", {"14.1"}, "14.1"), device("A1", {"14.1"}, "14.1"), device("B1", {"14.1"}, "14.1", "bob")});
    facts.device = "NOSUCH";
    found = judge_devices(facts);
    only_finding(found, "devices", "NOSUCH", Status::warning, "",
                 "device NOSUCH of 'alice' is not in access.log (its devices there: A1, A2)");
    CHECK_THAT(found[0].remedy, Contains("check the device id"));
    facts.devices.resize(0);
    CHECK(judge_devices(facts)[0].detail == "device NOSUCH of 'alice' is not in access.log");
}

// ---- history --------------------------------------------------------------------------------

namespace {
mbx::journal::SubjectRun run(std::int64_t id, std::string tool, std::vector<std::string> args,
                             std::vector<std::string> kinds,
                             mbx::journal::RunStatus status = mbx::journal::RunStatus::ok) {
    mbx::journal::SubjectRun r;
    r.run.id = id;
    r.run.tool = std::move(tool);
    r.run.args = std::move(args);
    r.run.host = "mx1";
    r.run.pid = 4242;
    r.run.started_at = fmt::format("2026-02-{:02}T10:00:00Z", 28 - id % 28);
    r.run.status = status;
    r.actions = static_cast<std::int64_t>(kinds.size());
    r.kinds = std::move(kinds);
    return r;
}
} // namespace

TEST_CASE("diagnose judge: history without a journal is skipped; no run is one line", "[diagnose][judge]") {
    auto found = judge_history({.have_journal = false});
    only_finding(found, "history", "journal", Status::skipped, "", "no journal");
    found = judge_history({.uid = "alice", .days = 30});
    only_finding(found, "history", "runs", Status::ok, "", "no mbxkit run about 'alice' in the last 30 days");
    // Earlier diagnoses are no history.
    found = judge_history({.uid = "alice", .days = 7, .runs = {run(3, "diagnose", {"alice"}, {"diagnose.check"})}});
    REQUIRE(found.size() == 1);
    CHECK(found[0].detail == "no mbxkit run about 'alice' in the last 7 days");
}

TEST_CASE("diagnose judge: read-only runs and dry runs are one line", "[diagnose][judge]") {
    auto dry = run(5, "quota", {"raise", "alice", "--to", "2M", "--dry-run"}, {"quota.raise"});
    dry.run.dry_run = true;
    const HistoryFacts facts{.uid = "alice",
                             .days = 30,
                             .runs = {run(6, "quota", {"check", "alice"}, {"quota.check"}), dry,
                                      run(4, "audit", {"clients"}, {"audit.clients"})}};
    const auto found = judge_history(facts);
    only_finding(found, "history", "checks", Status::ok, "",
                 "3 read-only runs in the last 30 days (1 audit, 2 quota); latest: run 6 "
                 "`mbx quota check alice` at 2026-02-22T10:00:00Z");
}

TEST_CASE("diagnose judge: a finished change is listed with its undo, or the run that undid it", "[diagnose][judge]") {
    HistoryFacts facts{.uid = "alice",
                       .days = 30,
                       .runs = {run(9, "journal", {"undo", "7"}, {"quota.raise"}),
                                run(7, "quota", {"raise", "alice", "--to", "1M"}, {"quota.raise"}),
                                run(6, "quota", {"cleanup", "alice"}, {"quota.cleanup.expunge", "quota.check"})}};
    facts.undone_by = {{7, 9}};
    const auto found = judge_history(facts);
    REQUIRE(found.size() == 3);
    check_finding(found[0], "history", "run 9", Status::ok, "");
    CHECK(found[0].remedy.empty()); // an undo is not undone again from here
    check_finding(found[1], "history", "run 7", Status::ok, "",
                  "`mbx quota raise alice --to 1M` at 2026-02-21T10:00:00Z (1 action: quota.raise): ok, "
                  "undone by run 9");
    CHECK(found[1].remedy.empty());
    check_finding(found[2], "history", "run 6", Status::ok, "",
                  "`mbx quota cleanup alice` at 2026-02-22T10:00:00Z (2 actions: "
                  "quota.cleanup.expunge,quota.check): ok");
    CHECK(found[2].remedy == "undo if it caused this: `mbx journal undo 6`");
}

TEST_CASE("diagnose judge: a change still running, interrupted or failed is a warning", "[diagnose][judge]") {
    using mbx::journal::RunStatus;
    auto failed_merge = run(4, "merge", {"alice", "alice2"}, {"merge.copy"}, RunStatus::failed);
    failed_merge.run.exit_code = 75;
    auto failed_raise = run(3, "quota", {"raise", "alice"}, {"quota.raise"}, RunStatus::failed);
    const HistoryFacts facts{
        .uid = "alice",
        .days = 30,
        .runs = {run(8, "reprovision", {"alice"}, {"reprovision.account"}, RunStatus::running),
                 run(7, "reprovision", {"alice"}, {"reprovision.account"}, RunStatus::interrupted),
                 run(6, "quota", {"cleanup", "alice"}, {"quota.cleanup.expunge"}, RunStatus::interrupted), failed_merge,
                 failed_raise}};
    const auto found = judge_history(facts);
    REQUIRE(found.size() == 5);
    for (const auto& f : found) CHECK(f.status == Status::warning);
    CHECK_THAT(found[0].detail, Contains("is still running (pid 4242 on mx1)"));
    CHECK(found[0].remedy == "wait for it to finish before changing the account");
    CHECK_THAT(found[1].detail, Contains("was interrupted"));
    CHECK(found[1].remedy == "finish it: `mbx reprovision --resume 7`, or undo it: `mbx journal undo 7`");
    CHECK(found[2].remedy == "see `mbx journal show 6`; undo with `mbx journal undo 6`");
    CHECK_THAT(found[3].detail, Contains("failed (exit 75)"));
    CHECK(found[3].remedy == "see `mbx journal show 4`; fix the cause and `mbx merge --resume 4`");
    CHECK(found[4].remedy == "see `mbx journal show 3`");
    CHECK(worst_status(found) == mbx::ExitCode::warning);
}

TEST_CASE("diagnose judge: the newest ten changes, then how many more", "[diagnose][judge]") {
    HistoryFacts facts{.uid = "alice", .days = 30};
    for (std::int64_t id = 12; id >= 1; --id)
        facts.runs.push_back(run(id, "quota", {"raise", "alice"}, {"quota.raise"}));
    facts.runs.push_back(run(20, "quota", {"check", "alice"}, {"quota.check"}));
    const auto found = judge_history(facts);
    REQUIRE(found.size() == 12);
    CHECK(found[0].check == "run 12");
    CHECK(found[9].check == "run 3");
    CHECK(found[10].check == "checks");
    check_finding(found[11], "history", "more", Status::ok, "", "2 older changes not shown: `mbx journal list`");
}
