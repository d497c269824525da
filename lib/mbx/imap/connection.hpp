#pragma once
// A logged-in IMAP connection. libcurl opens it: TCP, TLS (imaps:// or STARTTLS on imap://,
// always verified), greeting and login, including a master-user login for another user. On
// that connection mbxkit then speaks raw IMAP: tagged commands, pipelining, literals.
//
// <curl/curl.h> stays out of this header: Connection is a pimpl.

#include "mbx/core/secret.hpp"
#include "mbx/imap/command.hpp"
#include "mbx/imap/response.hpp"
#include "mbx/imap/response_reader.hpp"
#include "mbx/tls/certificate.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mbx::imap {

/// How a master (admin) user logs in as another user.
enum class MasterMethod {
    authzid,  ///< SASL PLAIN with authzid = user, authcid = master (RFC 4616)
    separator ///< LOGIN "user<separator>master" (Dovecot auth_master_user_separator)
};

/// How to reach and log in to the IMAP server.
struct ImapConfig {
    std::string uri;     ///< imaps://host:port or imap://host:port (STARTTLS is then required)
    std::string ca_file; ///< PEM CA bundle for the server certificate; empty: system store
    std::string user;    ///< the mailbox owner to log in as
    /// The user's password, or the master user's password when `master_user` is set.
    /// Never logged, never in an error message.
    mbx::Secret password;
    std::string master_user; ///< empty: log in as `user` with its own password
    MasterMethod method = MasterMethod::authzid;
    char separator = '*';                                        ///< for MasterMethod::separator
    std::chrono::milliseconds timeout{std::chrono::seconds(30)}; ///< connect, login, each read
    /// The longest one command may wait for its completion however the server drips its
    /// answer (from the command, or the previous completion in a pipeline); 0: no limit.
    std::chrono::milliseconds command_timeout{std::chrono::minutes(15)};
    ReaderLimits limits;          ///< bounds on what one response may make us allocate
    std::string section = "imap"; ///< the configuration section it came from, named in hints
    /// Use non-synchronizing literals ({N+}) when the server offers LITERAL+ or LITERAL-
    /// (RFC 7888). Off: always wait for the server's "+" before a literal (for proxies that
    /// advertise LITERAL+ but mishandle it).
    bool non_synchronizing_literals = true;
    /// Keep the server's certificate for peer_certificate() (libcurl then formats the chain on
    /// each handshake: off for sweeps, on for `mbx diagnose`).
    bool want_certificate = false;
};

/// A logged-in IMAP connection. Movable, not copyable. Not thread-safe: one thread at a time.
/// Closing (destructor) sends LOGOUT unless logout() was called.
class Connection {
public:
    /// Connects to `config.uri`, does TLS with certificate and host name verification (TLS is
    /// mandatory: STARTTLS for imap://), and logs in as `config.user`, or as `master_user`
    /// for `user`. Throws mbx::Error: auth (login refused, CURLE_LOGIN_DENIED), unavailable
    /// (refused, unreachable, timeout, certificate not trusted — hint names ca-file, no
    /// STARTTLS), config (bad URI, unreadable CA file). Network.
    static Connection open(const ImapConfig& config);

    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    ~Connection();

    /// Sends `tag SP command CRLF` and reads until its tagged completion, collecting untagged
    /// responses. Returns the Response also when the server says NO or BAD (check ok()).
    /// Throws mbx::Error(internal) if `command` contains CR or LF, and as read_line().
    /// Network.
    Response command(std::string_view command);
    /// As above for a command with astrings and literals; literals use `{N+}` when the server
    /// has LITERAL+ (or LITERAL- and N <= 4096), else `{N}` and wait for the continuation.
    /// If the server refuses a synchronizing literal, returns its tagged NO/BAD. Network.
    Response command(const Command& command);

    /// Pipelining: sends the command now and returns its tag without waiting for the
    /// completion. Throws as command(). Network.
    std::string submit(std::string_view command);
    /// Pipelining, with literals (synchronizing literals wait for the continuation; responses
    /// of earlier submitted commands that arrive meanwhile are kept). Network.
    std::string submit(const Command& command);
    /// Pipelining a command whose rest the caller streams (a MULTIAPPEND of many messages,
    /// each sent as it arrives): sends "tag " + `start` without CRLF and returns the tag. The
    /// caller sends the rest with send_raw() -- non-synchronizing literals only, so the server
    /// must have LITERAL+ -- ending with CRLF, then wait()s for the tag. Throws as submit().
    /// Network.
    std::string submit_streamed(std::string_view start);
    /// Reads until the completion of the submitted command `tag` (or returns it if it already
    /// arrived). Untagged responses go to the next completion that arrives after them.
    /// Throws mbx::Error(internal) for a tag not submitted or already waited for; as
    /// read_line() otherwise. Network.
    Response wait(const std::string& tag);

    /// The server's capabilities after login (CAPABILITY, cached; upper-case).
    /// Throws as command(). Network on the first call.
    const std::vector<std::string>& capabilities();
    /// True when capabilities() contains `name` (case-insensitive). Network on first call.
    bool has_capability(std::string_view name);

    /// Sends LOGOUT and waits for its completion; the connection is closed afterwards and every
    /// further command throws mbx::Error(internal). Throws as command(). Network.
    void logout();

    /// Low level: sends `line` followed by CRLF. Throws mbx::Error(internal) if it contains CR or
    /// LF, unavailable on network errors or timeout. Network.
    void send_line(std::string_view line);
    /// Low level: sends `bytes` as they are. Throws mbx::Error(unavailable) on network errors or
    /// timeout. Network.
    void send_raw(std::string_view bytes);
    /// Low level: reads the next logical response line (with its literals). Throws
    /// mbx::Error: unavailable (closed, timeout), data (limits exceeded). Network.
    ResponseLine read_line();
    /// Low level: a new tag for a hand-made command (M1, M2, ...; libcurl's own are A001...).
    std::string next_tag();

    /// The URI this connection was opened with (for messages).
    const std::string& uri() const noexcept;

    /// The certificate the server presented in the TLS handshake (imaps://, or STARTTLS on
    /// imap://), as libcurl reported it right after open(), when ImapConfig::want_certificate
    /// was set. nullopt without it, or when libcurl's TLS backend reported no certificate
    /// (open() never makes a plain connection). Throws
    /// mbx::Error(data) when the certificate libcurl reported cannot be parsed. No network.
    std::optional<tls::CertificateInfo> peer_certificate() const;

private:
    struct Impl;
    explicit Connection(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace mbx::imap
