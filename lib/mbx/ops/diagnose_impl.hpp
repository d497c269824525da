#pragma once
// mbx diagnose's insides: the Diagnosis that runs every check. Its checks are one file per
// area (diagnose_server.cpp, diagnose_directory.cpp, diagnose_folders.cpp, diagnose_quota.cpp,
// diagnose_devices.cpp, diagnose_history.cpp); in each, the Diagnosis gathers the area's facts
// (the I/O) and hands them to the area's pure judge (diagnose_judge.hpp), whose findings it
// adds; diagnose.cpp has the entry points. Internal to lib/mbx/ops: nothing else includes it.

#include "mbx/ops/connect.hpp"
#include "mbx/ops/diagnose.hpp"
#include "mbx/ops/diagnose_judge.hpp"
#include "mbx/audit/compat.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/directory/escape.hpp"
#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/journal/journal.hpp"
#include "mbx/ops/actions.hpp"
#include "mbx/ops/audit_devices.hpp"
#include "mbx/ops/audit_server.hpp"
#include "mbx/ops/quota.hpp"
#include "mbx/tls/certificate.hpp"
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mbx::ops::diagnose::detail {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

inline std::int64_t ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

inline std::string p(std::string_view s) { return out::printable(s); }

// `items` as printable text joined by `sep`.
template <class Range> std::string joined(const Range& items, std::string_view sep) {
    std::string s;
    for (const auto& item : items) s += (s.empty() ? "" : std::string(sep)) + p(item);
    return s;
}

// A server that answers but whose TLS certificate is not accepted: not "down", and not fixed by
// waiting. The directory, imap and http layers classify a failed handshake or an untrusted
// certificate themselves, and their hint for it (only for it) names the section's ca-file.
inline bool tls_failure(const Error& e) { return e.hint().find("ca-file") != std::string::npos; }

inline std::string tls_remedy(std::string_view section) {
    return fmt::format("the server's TLS certificate is not accepted: renew it if it expired, check that it names "
                       "the host, and that [{}] ca-file holds the CA that signed it (devices check the same)",
                       section);
}

inline std::string date_of(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// A run's command line as people typed it, shortened for a one-line detail.
inline std::string command_of(const journal::RunRecord& run) {
    std::string s = "mbx " + run.tool;
    for (const auto& a : run.args) {
        if (s.size() > 80) return s + " ...";
        s += " " + p(a);
    }
    return s;
}

// The folders a device syncs besides INBOX: SPECIAL-USE attribute and the names servers use
// when they do not announce it.
struct NeededFolder {
    std::string_view use;
    std::vector<std::string_view> names;
};
inline const std::vector<NeededFolder>& needed_folders() {
    static const std::vector<NeededFolder> folders{
        {"\\Drafts", {"Drafts"}},
        {"\\Sent", {"Sent", "Sent Items", "Sent Messages"}},
        {"\\Trash", {"Trash", "Deleted Items", "Deleted Messages"}},
    };
    return folders;
}

class Diagnosis {
public:
    Diagnosis(const config::Config& cfg, const SecretProvider& secrets, const Request& req, journal::Journal* journal)
        : cfg_(cfg), secrets_(secrets), req_(req), journal_(journal) {
        report_.user = req.user;
        const auto days = cfg.get_int("diagnose.certificate-warning-days");
        if (days < 0)
            throw Error(ErrorCategory::config, "[diagnose] certificate-warning-days must be 0 or more",
                        "e.g. certificate-warning-days = 30");
        cert_warning_days_ = days;
    }

    Report run() {
        server_ldap();
        directory_checks();
        server_imap();
        folders();
        quota();
        activesync();
        devices();
        history();
        report_.exit_code = worst_status(report_.findings);
        if (user_missing_) report_.exit_code = combine_exit_codes(report_.exit_code, ExitCode::data);
        return std::move(report_);
    }

private:
    void step(std::string_view name) {
        if (req_.on_check) req_.on_check(name);
    }
    Finding& add(Finding f) {
        report_.findings.push_back(std::move(f));
        return report_.findings.back();
    }
    std::string uid() const { return uid_.empty() ? req_.user : uid_; }

    void add_all(std::vector<Finding> found) {
        for (auto& f : found) add(std::move(f));
    }

    // ---- server: the certificate of a TLS connection, as `get` reads it
    template <class Get> CertificateFacts certificate_facts(std::string check, Get&& get, std::string server) {
        CertificateFacts facts{.check = std::move(check),
                               .server = std::move(server),
                               .now = req_.now,
                               .warning_days = cert_warning_days_};
        try {
            facts.certificate = get();
        } catch (const Error& e) {
            facts.error = e;
        }
        return facts;
    }

    // ---- server: LDAP
    void server_ldap();

    // ---- directory: the entry
    void directory_checks();
    std::vector<std::string> entry_attributes() const;
    void directory_facts(DirectoryFacts& facts);

    // ---- server: IMAP
    void server_imap();
    // The master login failed for the user: the reference user, and how its login went.
    void reference_login(ImapLoginFacts& facts);
    struct Stop {};

    // ---- folders
    void folders();
    void examine(FolderFacts& folder);

    // ---- quota
    void quota();

    // ---- server: ActiveSync
    void activesync();
    // The versions the latest `mbx audit server` recorded, when the live check gave none.
    void journal_server_versions();

    // ---- devices
    void devices();

    // ---- history
    void history();
    std::map<std::int64_t, std::int64_t> undone_runs(const std::vector<journal::SubjectRun>& runs) const;

    config::Config cfg_; // the caller's, with the directory kind's defaults once it is known
    const SecretProvider& secrets_;
    const Request& req_;
    journal::Journal* journal_;
    Report report_;
    std::int64_t cert_warning_days_ = 30;
    std::optional<directory::Directory> dir_;
    std::optional<directory::Entry> entry_;
    std::string uid_;
    bool user_missing_ = false;
    bool ldap_down_ = false;
    std::optional<imap::Connection> imap_;
    std::vector<std::string> server_versions_;
    std::string versions_from_;
};

} // namespace mbx::ops::diagnose::detail
