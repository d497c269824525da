#pragma once
// Access-log lines to ActiveSync requests: Exchange's IIS W3C extended logs (driven by the
// `#Fields:` directive) and nginx/Apache "combined" logs (with optional extra quoted fields,
// e.g. `"$http_ms_asprotocolversion"`), as put in front of SOGo, Z-Push and others.
//
// Lines are untrusted: parsing never throws (except std::bad_alloc), never reads past the line
// and reports a bad line as LineKind::malformed. Request fields keep the logged bytes after
// the format's own decoding (IIS `+` → space, nginx/Apache `\xHH`, URL escapes in the query),
// so they may hold control characters or invalid UTF-8: escaping is the output's job
// (mbx::out::printable for text and tables; the CSV/JSON sinks quote on top of that).

#include "mbx/audit/eas_query.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mbx::audit {

enum class LogFormat { auto_detect, iis, combined };

/// Parses a --log-format value: "auto", "iis", "combined". Throws Error(usage) otherwise.
LogFormat parse_log_format(std::string_view text);

/// "auto", "iis", "combined". Pure.
std::string_view log_format_name(LogFormat format);

/// Where a request's protocol version came from, most trusted first.
enum class VersionSource {
    none,
    header,    ///< the MS-ASProtocolVersion request header (IIS cs(...) field, extra log field)
    base64,    ///< the first byte of the base64 query
    log_token, ///< Exchange's Log= field (V141, Ver1:161, V2)
};

/// "none", "header", "base64", "log-token". Pure.
std::string_view version_source_name(VersionSource source);

/// One ActiveSync request, as much as its log line tells. The text fields are views into the
/// line parsed or into the parser's decoding buffers (access_log_parser.hpp, internal): they
/// stay valid until the parser's next line (copy what must live longer). No
/// string is copied per line: a log of GiBs is mostly lines.
struct Request {
    std::int64_t time = 0;           ///< Unix seconds, UTC; 0 when the line has no usable time
    std::string_view user = {};      ///< authenticated user (cs-username, %u), else the query's User
    std::string_view device_id = {}; ///< normalise_device_id() form
    std::string_view device_type = {};
    std::string_view user_agent = {};
    std::string_view protocol_version = {};
    VersionSource version_source = VersionSource::none;
    std::string_view command = {}; ///< "Sync", "Ping", ...; empty for OPTIONS
    int http_status = 0;           ///< 0 when not logged
    std::string_view client_ip = {};
    std::string_view method = {};
    std::string_view uri_path = {}; ///< without the query
    bool probe = false;             ///< TestActiveSyncConnectivity / HealthMailbox monitoring traffic
    QueryForm query_form = QueryForm::none;
    QueryError query_error = QueryError::none; ///< the base64 query was damaged (fields partial)
    /// Exchange's Log= value as logged (parse_exchange_log() decodes its `Name:value` tokens:
    /// DevOS, Error, ...); empty when the query had none.
    std::string_view exchange_log = {};
};

/// What one line turned out to be.
enum class LineKind {
    request,   ///< an ActiveSync request; the Request is filled
    directive, ///< an IIS `#...` directive or an empty line
    skipped,   ///< a well-formed request that is not ActiveSync
    malformed, ///< not a line of the format (the parser says why)
};

/// The path of a request target is ActiveSync when one of its segments is
/// `Microsoft-Server-ActiveSync` (any case): `/Microsoft-Server-ActiveSync`, `.../default.eas`,
/// `.../Proxy/default.eas`, and SOGo's `/SOGo/Microsoft-Server-ActiveSync`. Pure.
bool is_activesync_path(std::string_view path);

/// The DeviceType `mbx audit probe` sends, so that its own requests are known as probes.
inline constexpr std::string_view kMbxkitProbeDeviceType = "MbxkitProbe";

/// True for monitoring traffic: device type TestActiveSyncConnectivity (Exchange's test) or
/// kMbxkitProbeDeviceType (`mbx audit probe`), or a user (after any `DOMAIN\`) starting with
/// HealthMailbox. Pure.
bool is_probe(std::string_view user, std::string_view device_type);

/// Unix seconds of a UTC civil time; 0 when a field is out of range. Pure.
std::int64_t unix_time(int year, int month, int day, int hour, int minute, int second);

/// "2024-03-01T10:00:00Z" for Unix seconds. Pure.
std::string iso8601(std::int64_t unix_seconds);

} // namespace mbx::audit
