#pragma once
// Dovecot's doveadm HTTP API (https://doc.dovecot.org/admin_manual/doveadm_http_api/), the fast
// path for quota sweeps: one `quotaGet` request with allUsers answers for every mailbox.

#include "mbx/core/config.hpp"
#include "mbx/ops/connect.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mbx::ops {

inline constexpr SecretSource kDoveadmApiKey{"doveadm", "api-key-file", "MBX_DOVEADM_API_KEY", "doveadm API key"};

/// One user's quota as doveadm reports it, converted to bytes (doveadm's STORAGE is in KiB).
/// A limit doveadm shows as "-" (unlimited) or 0 is unset.
struct DoveadmQuota {
    std::optional<std::int64_t> used_bytes = {};
    std::optional<std::int64_t> limit_bytes = {};
    std::optional<std::int64_t> messages = {};
    std::optional<std::int64_t> message_limit = {};
};

/// One reply of a doveadm API response: the quota of one user, or the error of one command.
struct DoveadmResult {
    std::string tag = {};  ///< the command's tag, as sent
    std::string user = {}; ///< the user the rows name (empty for one-user commands and errors)
    DoveadmQuota quota = {};
    std::optional<Error> error = {};
};

/// Decodes the body of a doveadm HTTP API response to `[["quotaGet", {...}, TAG], ...]`,
/// calling `on_result` once per user of each reply (the first quota root with a STORAGE row
/// wins, as with IMAP GETQUOTAROOT) and once per `["error", {...}, TAG]` reply (exit code 67:
/// unknown user -> Error(data); 77 -> auth; else unavailable). Memory grows with one reply,
/// not the whole response. Throws Error(data) for malformed JSON or rows.
/// Untrusted input; fuzzed (tests/fuzz/doveadm_quota_fuzz.cpp). Pure.
void decode_quota_response(std::string_view body, const std::function<void(const DoveadmResult&)>& on_result);

/// The [doveadm] API endpoint with its key, ready for requests from any thread.
class DoveadmClient {
public:
    /// Reads [doveadm] url, ca-file, timeout and the API key (api-key-file or
    /// MBX_DOVEADM_API_KEY). Throws Error(config) when the url is not set.
    DoveadmClient(const config::Config& cfg, const SecretProvider& secrets);

    /// quotaGet for each of `users` in one POST (one command each, tagged by index): result i
    /// is users[i]'s. A user Dovecot does not know gets an error result. Throws Error: auth
    /// (HTTP 401/403), unavailable (unreachable, HTTP 5xx), data (malformed reply). Thread-safe.
    /// Network.
    std::vector<DoveadmResult> quotas(const std::vector<std::string>& users) const;

private:
    std::string url_, ca_file_, authorization_;
    std::chrono::milliseconds timeout_;
};

} // namespace mbx::ops
