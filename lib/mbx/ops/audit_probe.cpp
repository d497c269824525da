#include "mbx/ops/audit_probe.hpp"
#include "mbx/http/client.hpp"
#include "mbx/ops/actions.hpp"

#include "mbx/audit/access_log.hpp"
#include "mbx/audit/compat.hpp"
#include "mbx/audit/eas_query.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/core/version.hpp"
#include "mbx/journal/journal.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace mbx::ops::audit {
namespace {

namespace wb = mbx::audit::wbxml;

constexpr std::string_view kDeviceType = mbx::audit::kMbxkitProbeDeviceType;

std::optional<int> number_of(std::string_view text) {
    int v = 0;
    text = trim(text);
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
}

std::string url_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~')
            out += c;
        else out += fmt::format("%{:02X}", b);
    }
    return out;
}

int status_of(const wb::Element* e) {
    if (!e) return 0;
    return number_of(e->text).value_or(-1);
}

bool is_account_problem(long status) { return status == 401 || status == 403 || status == 456 || status == 457; }

class Prober {
public:
    Prober(ProbeReport& report, const EasAccess& access) : r_(report), access_(access) {}

    // OPTIONS with credentials; false when the probe cannot go on.
    bool options() {
        const auto resp = http::perform(eas_request(access_, "OPTIONS", "", true), "ActiveSync server");
        ProbeStep s{.step = "options", .http_status = static_cast<int>(resp.status), .seconds = resp.seconds};
        const auto h = parse_options_headers(resp);
        r_.announced = h.versions;
        r_.server_version = h.server_version;
        s.verdict = verdict_of(s.http_status, std::nullopt);
        s.detail = resp.status == 200 ? fmt::format("versions {}", fmt::join(h.versions, ",")) : "";
        if (resp.status == 451) s.detail = "redirect to " + h.location;
        r_.steps.push_back(s);
        if (is_account_problem(resp.status)) return account_problem(resp.status);
        if (resp.status != 200) {
            r_.error = Error(resp.status == 503 ? ErrorCategory::temporary : ErrorCategory::unavailable,
                             fmt::format("OPTIONS on '{}' failed: HTTP {}", access_.endpoint, resp.status),
                             resp.status == 451 ? "probe the URL of X-MS-Location" : "");
            return false;
        }
        return true;
    }

    // FolderSync (and Provision when asked) for `version` in `form`; false to stop the probe.
    bool foldersync(const std::string& version, const std::string& form) {
        ProbeStep s = post(version, form, "FolderSync", foldersync_request("0"), std::nullopt);
        if (s.verdict == "needs-provision") {
            r_.steps.push_back(s);
            const auto key = provision(version, form);
            if (!key) return !r_.error;
            s = post(version, form, "FolderSync", foldersync_request("0"), key);
        }
        r_.steps.push_back(s);
        if (s.verdict == "account-problem") return account_problem(s.http_status);
        return true;
    }

private:
    ProbeStep post(const std::string& version, const std::string& form, std::string_view command,
                   const std::string& body, std::optional<std::uint32_t> policy_key) {
        std::vector<std::string> headers{"Content-Type: application/vnd.ms-sync.wbxml"};
        // The plain form carries the version only in this header; the base64 form in its first byte.
        if (form == "plain") headers.push_back("MS-ASProtocolVersion: " + version);
        if (form == "plain" && policy_key) headers.push_back(fmt::format("X-MS-PolicyKey: {}", *policy_key));
        const std::string query = probe_query(form, version, command, r_.user, r_.device_id, policy_key);
        auto req = eas_request(access_, "POST", query, true, std::move(headers));
        req.body = body;
        const auto resp = http::perform(req, "ActiveSync server");
        ProbeStep s{.version = version,
                    .step = command == "FolderSync" ? "foldersync" : "provision",
                    .form = form,
                    .http_status = static_cast<int>(resp.status),
                    .seconds = resp.seconds};
        if (resp.status == 200 && !resp.body.empty()) {
            try {
                if (command == "FolderSync") {
                    const auto fs = parse_foldersync_response(resp.body);
                    s.eas_status = fs.status;
                    if (fs.status == 1) s.folders = fs.folders;
                } else {
                    const auto p = parse_provision_response(resp.body);
                    s.eas_status = p.status;
                    last_policy_key_ = p.policy_key;
                    last_policy_status_ = p.policy_status;
                }
            } catch (const Error& e) {
                s.detail = e.what();
            }
        }
        s.verdict = verdict_of(s.http_status, s.eas_status, resp.body.empty());
        if (!s.detail.empty() && s.verdict == "works") s.verdict = "server-error";
        if (resp.status == 503) s.detail = "busy; Retry-After: " + resp.header("Retry-After");
        if (resp.status == 200 && resp.body.empty()) s.detail = "empty answer";
        return s;
    }

    // Provision and its acknowledgement; the final policy key, or nothing when it failed.
    std::optional<std::uint32_t> provision(const std::string& version, const std::string& form) {
        ProbeStep s = post(version, form, "Provision", provision_request(version, ""), std::nullopt);
        const std::string temporary = last_policy_key_;
        r_.steps.push_back(s);
        if (s.verdict == "account-problem") {
            account_problem(s.http_status);
            return std::nullopt;
        }
        if (s.eas_status != 1 || temporary.empty()) return std::nullopt;
        const auto temp_key = number_of(temporary);
        ProbeStep ack =
            post(version, form, "Provision", provision_request(version, temporary),
                 temp_key ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*temp_key)) : std::nullopt);
        ack.step = "provision-ack";
        r_.steps.push_back(ack);
        const auto key = number_of(last_policy_key_);
        if (ack.eas_status != 1 || !key) return std::nullopt;
        return static_cast<std::uint32_t>(*key);
    }

    bool account_problem(long status) {
        r_.error = Error(ErrorCategory::auth,
                         fmt::format("cannot authenticate to '{}' as '{}': HTTP {}", access_.endpoint,
                                     out::printable(r_.user), status),
                         status == 401 ? "check the password ([activesync] password-file or MBX_ACTIVESYNC_PASSWORD)"
                                       : "the account is blocked, expired or not enabled for ActiveSync");
        return false;
    }

    ProbeReport& r_;
    const EasAccess& access_;
    std::string last_policy_key_;
    std::optional<int> last_policy_status_;
};

void judge(ProbeReport& r, const std::vector<std::string>& versions) {
    std::vector<Finding> findings;
    for (const auto& v : versions) {
        const bool announced = std::find(r.announced.begin(), r.announced.end(), v) != r.announced.end();
        std::vector<std::string> works, fails;
        for (const auto& s : r.steps) {
            if (s.version != v || s.step != "foldersync" || s.verdict == "needs-provision") continue;
            (s.verdict == "works" ? works : fails).push_back(s.form);
        }
        if (!works.empty() && !announced)
            findings.push_back({ExitCode::warning,
                                fmt::format("{} works although OPTIONS does not announce it: the server accepts any "
                                            "version (as SOGo, Z-Push and Horde do); trust the announced list",
                                            v)});
        if (!fails.empty() && announced)
            findings.push_back({ExitCode::critical, fmt::format("{} is announced but FolderSync fails ({} form)", v,
                                                                fmt::join(fails, ", "))});
        else if (!fails.empty() && works.empty())
            findings.push_back({ExitCode::warning, fmt::format("{} does not work: clients that speak only {} cannot "
                                                               "sync",
                                                               v, v)});
        else if (!fails.empty())
            findings.push_back({ExitCode::warning,
                                fmt::format("{} works in one query form only (fails: {})", v, fmt::join(fails, ", "))});
    }
    const ExitCode worst = worst_finding(findings);
    for (auto& f : findings) r.findings.push_back(std::move(f.text));
    r.status = r.error ? r.error->exit_code() : worst;
}

} // namespace

std::string default_device_id(std::string_view user) {
    std::uint32_t h = 2166136261u; // FNV-1a: stable across runs and builds
    for (char c : user) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return fmt::format("MBXPROBE{:08X}", h);
}

std::string foldersync_request(std::string_view sync_key) {
    return wb::encode(
        wb::parent_element(wb::page::folder_hierarchy, wb::tag::folder_sync,
                           {wb::text_element(wb::page::folder_hierarchy, wb::tag::sync_key, std::string(sync_key))}));
}

std::string provision_request(std::string_view version, std::string_view policy_key) {
    using namespace wb;
    const std::string type = version == "2.5" ? "MS-WAP-Provisioning-XML" : "MS-EAS-Provisioning-WBXML";
    std::vector<Element> policy{text_element(page::provision, tag::policy_type, type)};
    if (!policy_key.empty()) {
        policy.push_back(text_element(page::provision, tag::policy_key, std::string(policy_key)));
        policy.push_back(text_element(page::provision, tag::prov_status, "1"));
    }
    std::vector<Element> top;
    // [MS-ASPROV] 3.1.5.1.1: 14.1+ sends DeviceInformation in the initial request; 12.x/14.0 must not.
    if (policy_key.empty() && mbx::audit::is_version(version) && mbx::audit::compare_versions(version, "14.1") >= 0) {
        top.push_back(parent_element(
            page::settings, tag::device_information,
            {parent_element(
                page::settings, tag::set,
                {text_element(page::settings, tag::model, "mbxkit probe"),
                 text_element(page::settings, tag::friendly_name, "mbxkit audit probe"),
                 text_element(page::settings, tag::os, "mbxkit"),
                 text_element(page::settings, tag::user_agent, fmt::format("mbxkit-audit/{}", mbx::version()))})}));
    }
    top.push_back(parent_element(page::provision, tag::policies,
                                 {parent_element(page::provision, tag::policy, std::move(policy))}));
    return encode(parent_element(page::provision, tag::provision, std::move(top)));
}

FolderSyncResult parse_foldersync_response(std::string_view body) {
    const auto root = wb::decode(body);
    if (root.page != wb::page::folder_hierarchy || root.token != wb::tag::folder_sync)
        throw Error(ErrorCategory::data,
                    fmt::format("FolderSync answered with <{}>", wb::tag_name(root.page, root.token)));
    FolderSyncResult r;
    r.status = status_of(root.child(wb::page::folder_hierarchy, wb::tag::fh_status));
    if (const auto* changes = root.child(wb::page::folder_hierarchy, wb::tag::changes)) {
        if (const auto* count = changes->child(wb::page::folder_hierarchy, wb::tag::count))
            r.folders = number_of(count->text).value_or(0);
        else
            r.folders = static_cast<int>(std::count_if(changes->children.begin(), changes->children.end(),
                                                       [](const wb::Element& e) { return e.token == wb::tag::add; }));
    }
    return r;
}

ProvisionResult parse_provision_response(std::string_view body) {
    const auto root = wb::decode(body);
    if (root.page != wb::page::provision || root.token != wb::tag::provision)
        throw Error(ErrorCategory::data,
                    fmt::format("Provision answered with <{}>", wb::tag_name(root.page, root.token)));
    ProvisionResult r;
    r.status = status_of(root.child(wb::page::provision, wb::tag::prov_status));
    if (const auto* policy =
            root.find({{wb::page::provision, wb::tag::policies}, {wb::page::provision, wb::tag::policy}})) {
        if (const auto* st = policy->child(wb::page::provision, wb::tag::prov_status)) r.policy_status = status_of(st);
        if (const auto* key = policy->child(wb::page::provision, wb::tag::policy_key))
            r.policy_key = key->text.substr(0, 16);
    }
    return r;
}

std::string verdict_of(int http_status, std::optional<int> eas_status, bool empty_body) {
    if (is_account_problem(http_status)) return "account-problem";
    if (http_status == 449) return "needs-provision";
    if (http_status >= 500 && http_status != 501) return "server-error";
    if (http_status != 200) return "rejected";
    if (empty_body) return "server-error";
    if (!eas_status) return "works";
    if (*eas_status == 1) return "works";
    if (*eas_status >= 142 && *eas_status <= 144) return "needs-provision";
    if (*eas_status == 6 || *eas_status == 110 || *eas_status == 111 || *eas_status == 5) return "server-error";
    return "rejected";
}

std::string probe_query(std::string_view form, std::string_view version, std::string_view command,
                        const std::string& user, const std::string& device_id,
                        std::optional<std::uint32_t> policy_key) {
    if (form == "plain")
        return fmt::format("?Cmd={}&User={}&DeviceId={}&DeviceType={}", command, url_escape(user),
                           url_escape(device_id), kDeviceType);
    if (!mbx::audit::is_version(version) || mbx::audit::compare_versions(version, "12.1") < 0)
        throw Error(ErrorCategory::usage, fmt::format("version {} has no base64 query form (12.1 and later)", version));
    mbx::audit::EasQuery q;
    q.protocol_version = std::string(version);
    q.command = std::string(command);
    q.device_id = device_id;
    q.device_type = std::string(kDeviceType);
    q.policy_key = policy_key;
    q.user = user;
    const auto text = mbx::audit::encode_base64_query(q);
    if (!text) throw Error(ErrorCategory::usage, "cannot encode the base64 query (user or device id too long?)");
    // Sent as is: SOGo answers 500 to a percent-escaped base64 query, and + / = are legal in a query.
    return "?" + *text;
}

std::string cleanup_hint(std::string_view user, std::string_view device_id) {
    const std::string u = out::printable(user), d = out::printable(device_id);
    return fmt::format("the probe created device {} for {}; remove it with: sogo-tool manage-eas resetdevice {} {} "
                       "(SOGo), z-push-admin -a remove -u {} -d {} (Z-Push), or Remove-MobileDevice (Exchange)",
                       d, u, u, d, u, d);
}

ProbeReport probe(const config::Config& cfg, const SecretProvider& secrets, const std::string& url,
                  const std::optional<std::string>& user, const std::vector<std::string>& versions,
                  const std::optional<std::string>& device_id) {
    if (versions.empty()) throw Error(ErrorCategory::usage, "no version to probe", "give --as-version V");
    for (const auto& v : versions)
        if (!mbx::audit::is_version(v))
            throw Error(ErrorCategory::usage, fmt::format("invalid protocol version '{}'", out::printable(v)),
                        "versions are written like 14.1");
    const EasAccess access = eas_access(cfg, secrets, url, user);
    if (access.user.empty())
        throw Error(ErrorCategory::usage, "no user to probe as", "give --user USER or set [activesync] user");
    ProbeReport r;
    r.url = access.endpoint;
    r.user = access.user;
    r.device_id = device_id ? *device_id : default_device_id(access.user);
    if (r.device_id.empty() || r.device_id.size() > 32)
        throw Error(ErrorCategory::usage, "the device id must have 1 to 32 characters");
    Prober p(r, access);
    try {
        if (p.options())
            for (const auto& v : versions) {
                bool go = p.foldersync(v, "plain");
                if (go && mbx::audit::compare_versions(v, "12.1") >= 0) go = p.foldersync(v, "base64");
                if (!go) break;
            }
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::usage || e.category() == ErrorCategory::config ||
            e.category() == ErrorCategory::internal)
            throw;
        r.error = e;
    }
    judge(r, versions);
    return r;
}

void journal_probe(journal::Journal& journal, std::int64_t run, const ProbeReport& r) {
    for (const auto& s : r.steps) {
        nlohmann::json after{{"version", s.version},
                             {"step", s.step},
                             {"form", s.form},
                             {"http_status", s.http_status},
                             {"verdict", s.verdict},
                             {"device_id", out::printable(r.device_id)},
                             {"eas_status", s.eas_status ? nlohmann::json(*s.eas_status) : nlohmann::json(nullptr)},
                             {"folders", s.folders ? nlohmann::json(*s.folders) : nlohmann::json(nullptr)}};
        const bool ok = s.verdict == "works" || s.verdict == "needs-provision";
        journal.add_action(run, {.kind = kind::kAuditProbe,
                                 .subject = out::printable(r.user) + "@" + r.url,
                                 .after = after,
                                 .status = ok ? journal::ActionStatus::done : journal::ActionStatus::failed,
                                 .error = ok ? std::nullopt : std::optional(s.verdict)});
    }
}

} // namespace mbx::ops::audit
