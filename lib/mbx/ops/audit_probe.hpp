#pragma once
// `mbx audit probe` (MIS_2): speaks ActiveSync as a device of protocol version V would — OPTIONS,
// FolderSync with SyncKey 0 in the plain and the base64 query form, Provision when the server
// asks for it — and says per step whether V works. Each probe creates a device partnership on
// the server (cleanup_hint() says how to remove it).

#include "mbx/audit/wbxml.hpp"
#include "mbx/core/config.hpp"
#include "mbx/core/error.hpp"
#include "mbx/ops/audit_server.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::ops::audit {

/// One request of the probe.
struct ProbeStep {
    std::string version = {}; ///< the MS-ASProtocolVersion spoken ("" for OPTIONS)
    std::string step = {};    ///< "options", "provision", "provision-ack", "foldersync"
    std::string form = {};    ///< "plain", "base64" ("" for OPTIONS)
    int http_status = 0;
    std::optional<int> eas_status = {}; ///< Status of the WBXML answer
    std::optional<int> folders = {};    ///< FolderSync: folders in the answer
    double seconds = 0;
    std::string verdict = {}; ///< works, rejected, needs-provision, account-problem, server-error
    std::string detail = {};  ///< one line for people (from the network: not yet printable)
};

struct ProbeReport {
    std::string url; ///< the endpoint
    std::string user;
    std::string device_id;
    std::vector<std::string> announced; ///< MS-ASProtocolVersions of the OPTIONS answer
    std::string server_version;
    std::vector<ProbeStep> steps;
    std::vector<std::string> findings; ///< worst first
    ExitCode status = ExitCode::ok;
    std::optional<Error> error; ///< the failure that stopped the probe
};

/// The probe's default DeviceId for `user`: "MBXPROBE" + 8 hex digits of a stable hash. Pure.
std::string default_device_id(std::string_view user);

/// The WBXML body of a FolderSync with `sync_key` ([MS-ASCMD] 2.2.1.5). Pure.
std::string foldersync_request(std::string_view sync_key);

/// The WBXML body of a Provision request for `version` ([MS-ASPROV] 3.1.5.1): the initial
/// request (empty `policy_key`; with 14.1+ it carries Settings DeviceInformation/Set with Model,
/// FriendlyName, OS and UserAgent) or the acknowledgement of `policy_key` with Status 1.
/// PolicyType MS-WAP-Provisioning-XML for 2.5, MS-EAS-Provisioning-WBXML otherwise. Pure.
std::string provision_request(std::string_view version, std::string_view policy_key);

/// What a FolderSync answer says: Status, and the folder count (Changes/Count, else the
/// number of Add elements). Throws Error(data) for malformed WBXML or a root that is not
/// FolderSync. Pure.
struct FolderSyncResult {
    int status = 0;
    int folders = 0;
};
FolderSyncResult parse_foldersync_response(std::string_view body);

/// What a Provision answer says: the top Status, and the policy's Status and PolicyKey. Pure;
/// throws as above.
struct ProvisionResult {
    int status = 0;
    std::optional<int> policy_status;
    std::string policy_key;
};
ProvisionResult parse_provision_response(std::string_view body);

/// The verdict for an HTTP status and an EAS Status ("works", "rejected", "needs-provision",
/// "account-problem", "server-error"). Pure.
/// An HTTP 200 with no body is a server error: FolderSync and Provision always answer WBXML
/// ([MS-ASCMD] 2.2.1.5, 2.2.1.14), so "200, nothing" is a broken server or proxy, never "works".
std::string verdict_of(int http_status, std::optional<int> eas_status, bool empty_body = false);

/// The request query ("?Cmd=...") of `command` for `version` in `form` ("plain" or "base64";
/// base64 only from 12.1: Error(usage) otherwise), with `policy_key` in the base64 form. Pure.
std::string probe_query(std::string_view form, std::string_view version, std::string_view command,
                        const std::string& user, const std::string& device_id,
                        std::optional<std::uint32_t> policy_key = std::nullopt);

/// One line on how to remove the probe's device partnership on SOGo, Z-Push and Exchange. Pure.
std::string cleanup_hint(std::string_view user, std::string_view device_id);

/// Runs the probe: OPTIONS, then per version FolderSync (SyncKey 0) in the plain form and,
/// from 12.1, the base64 form; Provision (and its acknowledgement) first when the server
/// answers 449 or Status 142/143/144, then FolderSync again with the policy key. `versions`
/// must be valid version strings (Error(usage) otherwise); `user` defaults to [activesync]
/// user (Error(usage) when neither is set); `device_id` to default_device_id(user). Server
/// failures are in the report (status, error); an account problem stops the probe. Network;
/// creates a device partnership on the server.
ProbeReport probe(const config::Config& cfg, const SecretProvider& secrets, const std::string& url,
                  const std::optional<std::string>& user, const std::vector<std::string>& versions,
                  const std::optional<std::string>& device_id);

/// One `audit.probe` action per step of `report` (subject USER@URL; done when the verdict is
/// works or needs-provision, else failed with the verdict). Writes the journal.
void journal_probe(journal::Journal& journal, std::int64_t run, const ProbeReport& report);

} // namespace mbx::ops::audit
