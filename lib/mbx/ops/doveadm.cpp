#include "mbx/ops/doveadm.hpp"

#include "mbx/core/output.hpp"
#include "mbx/core/text.hpp"
#include "mbx/http/client.hpp"

#include <charconv>
#include <limits>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mbx::ops {
namespace {

Error malformed(std::string_view why) {
    return Error(ErrorCategory::data, fmt::format("malformed doveadm API reply: {}", why),
                 "check that [doveadm] url points at Dovecot's doveadm HTTP API (…/doveadm/v1)");
}

std::optional<std::int64_t> number_of(const std::string& text) {
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || p != end || v < 0) return std::nullopt;
    return v;
}

// SAX walk of [[type, payload, tag], ...]. Depth counts open arrays and objects.
class QuotaSax : public nlohmann::json_sax<nlohmann::json> {
public:
    explicit QuotaSax(const std::function<void(const DoveadmResult&)>& on_result) : on_result_(on_result) {}

    bool null() override { return scalar(""); }
    bool boolean(bool) override { return scalar(""); }
    bool number_integer(number_integer_t v) override { return scalar(std::to_string(v)); }
    bool number_unsigned(number_unsigned_t v) override { return scalar(std::to_string(v)); }
    bool number_float(number_float_t, const string_t& s) override { return scalar(s); }
    bool string(string_t& s) override { return scalar(s); }
    bool binary(binary_t&) override { throw malformed("binary value"); }

    bool start_object(std::size_t) override {
        ++depth_;
        if (depth_ == 4 && !in_error_) row_ = {};
        if (depth_ == 3 && in_error_) row_ = {};
        if (depth_ > 4) throw malformed("nesting too deep");
        return true;
    }
    bool key(string_t& k) override {
        key_ = k;
        return true;
    }
    bool end_object() override {
        if (depth_ == 4 && !in_error_) take_row();
        if (depth_ == 3 && in_error_) raise_error();
        if (depth_ == 3) ++element_; // the payload was an object
        --depth_;
        return true;
    }
    bool start_array(std::size_t) override {
        ++depth_;
        if (depth_ == 2) element_ = 0, in_error_ = false, is_response_ = false, tag_.clear(), pending_.clear();
        if (depth_ > 3) throw malformed("nesting too deep");
        return true;
    }
    bool end_array() override {
        if (depth_ == 3) ++element_;
        if (depth_ == 2) end_reply();
        --depth_;
        return true;
    }
    bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception&) override {
        throw malformed(fmt::format("invalid JSON at byte {}", pos));
    }

    void finish() const {
        if (depth_ != 0) throw malformed("truncated");
        if (replies_ == 0) throw malformed("no reply");
    }

private:
    bool scalar(const std::string& value) {
        if (depth_ == 2 && element_ == 0) {
            if (value == "error") in_error_ = true;
            else if (value == "doveadmResponse") is_response_ = true;
            else throw malformed(fmt::format("unexpected reply type '{}'", out::printable(value)));
            ++element_;
        } else if (depth_ == 2) {
            if (element_ == 2) tag_ = value;
            ++element_;
        } else if ((depth_ == 4 && !in_error_) || (depth_ == 3 && in_error_)) {
            if (row_.size() < 16) row_.emplace_back(key_, value);
        } else {
            throw malformed("unexpected value");
        }
        return true;
    }

    std::string field(std::string_view name) const {
        for (const auto& [k, v] : row_)
            if (k == name) return v;
        return {};
    }

    void take_row() {
        if (!is_response_) throw malformed("a row outside a doveadmResponse");
        // Rows name their user only for allUsers/wildcard requests; a one-user command's rows
        // have no username and belong to the command (its tag).
        const std::string user = field("username"), type = field("type");
        if (!have_user_ || user != user_) {
            flush();
            user_ = user;
            have_user_ = true;
            storage_root_.clear();
        }
        const auto value = number_of(field("value"));
        auto limit = number_of(field("limit"));
        if (limit && *limit == 0) limit.reset();
        if (type == "STORAGE" && (storage_root_.empty() || storage_root_ == field("root")) && !quota_.used_bytes) {
            storage_root_ = field("root");
            // STORAGE is in KiB; a value whose bytes do not fit 63 bits is not a real quota.
            constexpr auto kMaxKiB = std::numeric_limits<std::int64_t>::max() / 1024;
            if (!value || *value > kMaxKiB)
                throw malformed(
                    fmt::format("STORAGE value '{}' of '{}'", out::printable(field("value")), out::printable(user)));
            if (limit && *limit > kMaxKiB)
                throw malformed(
                    fmt::format("STORAGE limit '{}' of '{}'", out::printable(field("limit")), out::printable(user)));
            quota_.used_bytes = *value * 1024;
            if (limit) quota_.limit_bytes = *limit * 1024;
        } else if (type == "MESSAGE" && !quota_.messages) {
            quota_.messages = value;
            quota_.message_limit = limit;
        }
    }

    void raise_error() {
        const std::string code = field("exitCode"), type = field("type");
        DoveadmResult r;
        if (code == "67")
            r.error = Error(ErrorCategory::data, "Dovecot does not know this user (doveadm exit code 67)",
                            "check Dovecot's userdb against [ldap] user-filter");
        else if (code == "77")
            r.error = Error(ErrorCategory::auth, "doveadm quotaGet: permission denied (exit code 77)");
        else
            r.error = Error(ErrorCategory::unavailable,
                            fmt::format("doveadm quotaGet failed: {} {}", out::printable(type), out::printable(code)),
                            "see Dovecot's log (doveadm)");
        pending_.push_back(std::move(r));
    }

    void flush() {
        if (have_user_) pending_.push_back({.tag = {}, .user = user_, .quota = quota_, .error = {}});
        have_user_ = false;
        user_.clear();
        quota_ = {};
    }

    // The tag comes last in a reply: results wait for it.
    void end_reply() {
        flush();
        ++replies_;
        if (element_ < 2) throw malformed("a reply without payload");
        for (auto& r : pending_) {
            r.tag = tag_;
            on_result_(r);
        }
        pending_.clear();
    }

    const std::function<void(const DoveadmResult&)>& on_result_;
    std::vector<DoveadmResult> pending_;
    std::string tag_;
    int depth_ = 0;
    std::size_t element_ = 0, replies_ = 0;
    bool in_error_ = false, is_response_ = false, have_user_ = false;
    std::string key_, user_, storage_root_;
    std::vector<std::pair<std::string, std::string>> row_;
    DoveadmQuota quota_;
};

} // namespace

void decode_quota_response(std::string_view body, const std::function<void(const DoveadmResult&)>& on_result) {
    QuotaSax sax(on_result);
    nlohmann::json::sax_parse(body.begin(), body.end(), &sax, nlohmann::json::input_format_t::json, true);
    sax.finish();
}

DoveadmClient::DoveadmClient(const config::Config& cfg, const SecretProvider& secrets) {
    if (!cfg.has("doveadm.url") || cfg.get("doveadm.url").empty())
        throw Error(
            ErrorCategory::config, "[doveadm] url is not set",
            "set it to Dovecot's doveadm HTTP API (e.g. http://127.0.0.1:8080/doveadm/v1), or use --backend imap");
    url_ = cfg.get("doveadm.url");
    ca_file_ = cfg.has("doveadm.ca-file") ? cfg.get("doveadm.ca-file") : std::string();
    timeout_ = cfg.get_duration("doveadm.timeout");
    authorization_ = "Authorization: X-Dovecot-API " + base64_encode(secrets(kDoveadmApiKey).reveal());
}

std::vector<DoveadmResult> DoveadmClient::quotas(const std::vector<std::string>& users) const {
    nlohmann::json commands = nlohmann::json::array();
    for (std::size_t i = 0; i < users.size(); ++i)
        commands.push_back({"quotaGet", {{"user", users[i]}}, std::to_string(i)});
    const http::Request req{.method = "POST",
                            .url = url_,
                            .headers = {"Content-Type: application/json", authorization_},
                            .body = commands.dump(),
                            .ca_file = ca_file_,
                            .timeout = timeout_,
                            .max_body_bytes = 1024 + users.size() * 4096};
    const http::Response resp = http::perform(req, "doveadm API");
    if (resp.status == 401 || resp.status == 403)
        throw Error(ErrorCategory::auth, fmt::format("the doveadm API refused the API key (HTTP {})", resp.status),
                    "check [doveadm] api-key-file against Dovecot's doveadm_api_key");
    if (resp.status != 200)
        throw Error(resp.status >= 500 ? ErrorCategory::unavailable : ErrorCategory::data,
                    fmt::format("the doveadm API answered HTTP {}", resp.status), "see Dovecot's log");
    std::vector<DoveadmResult> results(users.size());
    std::vector<bool> seen(users.size());
    decode_quota_response(resp.body, [&](const DoveadmResult& r) {
        std::size_t i = 0;
        auto [p, ec] = std::from_chars(r.tag.data(), r.tag.data() + r.tag.size(), i);
        if (ec != std::errc() || p != r.tag.data() + r.tag.size() || i >= users.size())
            throw malformed(fmt::format("unknown tag '{}'", out::printable(r.tag)));
        if (!seen[i]) results[i] = r;
        seen[i] = true;
    });
    for (std::size_t i = 0; i < users.size(); ++i)
        if (!seen[i]) results[i].error = Error(ErrorCategory::data, "doveadm reported no quota for this user");
    return results;
}

} // namespace mbx::ops
