#include "mbx/imap/connection.hpp"
#include "mbx/core/text.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/interrupt.hpp"
#include "mbx/imap/curl_error.hpp"
#include "mbx/tls/curl_certificate.hpp"

#include <curl/curl.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <set>

namespace mbx::imap {
namespace {

struct CurlDeleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

// Literals up to this size are copied into the command's send buffer (one TLS record for
// small messages); larger ones are sent from the Command itself.
constexpr std::size_t kCopyLiteralUpTo = 64 * 1024;

void ensure_curl_initialised() {
    // curl_global_init is not thread-safe; a function-local static is initialised once.
    static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        throw Error(ErrorCategory::internal, "cannot initialise libcurl", "", rc);
    }
}

template <typename T> void set(CURL* h, CURLoption option, T value) {
    CURLcode rc = curl_easy_setopt(h, option, value);
    if (rc != CURLE_OK) {
        throw Error(ErrorCategory::internal,
                    "cannot set libcurl option " + std::to_string(option) + ": " + curl_easy_strerror(rc), "", rc);
    }
}

std::string login_subject(const ImapConfig& c) {
    if (c.master_user.empty()) return in_quotes(c.user);
    return in_quotes(c.user) + " (master user " + in_quotes(c.master_user) + ")";
}

bool is_plain_imap(const std::string& uri) { return uri.size() >= 7 && ascii_upper(uri.substr(0, 7)) == "IMAP://"; }

void check_line(std::string_view text) {
    if (text.find_first_of("\r\n") != std::string_view::npos) {
        // A CR or LF would end the command early and let the rest run as another command.
        throw Error(ErrorCategory::internal, "cannot send IMAP command: it contains a line break");
    }
}

} // namespace

struct Connection::Impl {
    CurlPtr curl;
    std::string uri;
    std::chrono::milliseconds timeout{};
    std::chrono::milliseconds command_timeout{};
    ReaderLimits limits{};
    /// Since when a command has been waiting for its completion (idle: none is).
    std::chrono::steady_clock::time_point busy_since{};
    bool idle = true;
    std::size_t untagged_held = 0; ///< what `untagged` holds: bytes and kPieceOverhead a piece
    /// The last line the server sent during libcurl's greeting and login (what a refusal said:
    /// `NO [UNAVAILABLE] ...` is a server failure, not a wrong password). Server lines only:
    /// what the client sends (the credentials) never reaches it.
    std::string last_server_line;
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    std::unique_ptr<ResponseReader> reader;
    unsigned long tag_counter = 0;
    std::set<std::string> outstanding;
    std::map<std::string, Response> completed;
    std::vector<ResponseLine> untagged;
    std::optional<std::vector<std::string>> capabilities;
    std::string bye;
    bool closed = false;
    bool allow_non_sync = true;
    /// From the handshake; a certificate that did not parse keeps its error for
    /// peer_certificate() to throw, so open() does not fail over a report-only detail.
    std::optional<tls::CertificateInfo> certificate;
    std::optional<Error> certificate_error;

    void configure(const ImapConfig& config);
    void capture_certificate();
    curl_socket_t socket() const;
    void wait_socket(short events, const char* doing) const;
    void check_deadline(const char* doing) const;
    void start_command();
    void end_command();
    std::size_t recv_some(char* buffer, std::size_t size);
    void send_all(std::string_view bytes);
    bool read_one();
    bool await_continuation(const std::string& tag);
    bool use_non_sync(std::size_t size, bool literal_plus, bool literal_minus) const;
    void check_open() const;
};

void Connection::Impl::configure(const ImapConfig& config) {
    CURL* h = curl.get();
    set(h, CURLOPT_URL, config.uri.c_str());
    set(h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    set(h, CURLOPT_CONNECT_ONLY, 1L); // libcurl stops after greeting, TLS and login
    set(h, CURLOPT_NOSIGNAL, 1L);
    set(h, CURLOPT_ERRORBUFFER, error_buffer.data());
    // During the login only (open() turns it off): the server's lines, for last_server_line.
    set(
        h, CURLOPT_DEBUGFUNCTION, +[](CURL*, curl_infotype type, char* data, size_t size, void* self) -> int {
            if (type == CURLINFO_HEADER_IN && size > 0) {
                std::string_view line(data, std::min<std::size_t>(size, 512));
                while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
                static_cast<Impl*>(self)->last_server_line.assign(line);
            }
            return 0;
        });
    set(h, CURLOPT_DEBUGDATA, static_cast<void*>(this));
    set(h, CURLOPT_VERBOSE, 1L);
    // Never downgrade: STARTTLS is mandatory on imap://, certificates are always verified.
    set(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    set(h, CURLOPT_SSL_VERIFYPEER, 1L);
    set(h, CURLOPT_SSL_VERIFYHOST, 2L);
    // Keep the server's certificates for peer_certificate() (mbx diagnose reports expiry).
    if (config.want_certificate) set(h, CURLOPT_CERTINFO, 1L);
    if (!config.ca_file.empty()) set(h, CURLOPT_CAINFO, config.ca_file.c_str());
    long ms = static_cast<long>(config.timeout.count());
    set(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
    set(h, CURLOPT_TIMEOUT_MS, ms);
    // Also bounds libcurl's own LOGOUT when the handle is cleaned up.
    set(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, std::max(1L, ms / 1000));
    const std::string& secret = config.password.reveal();
    if (config.master_user.empty()) {
        set(h, CURLOPT_USERNAME, config.user.c_str());
    } else if (config.method == MasterMethod::authzid) {
        // RFC 4616: authcid = master, authzid = the user whose mailbox we open. Dovecot
        // accepts this for master users (passdb with master = yes).
        set(h, CURLOPT_USERNAME, config.master_user.c_str());
        set(h, CURLOPT_SASL_AUTHZID, config.user.c_str());
        set(h, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
    } else {
        std::string login = config.user + config.separator + config.master_user;
        set(h, CURLOPT_USERNAME, login.c_str()); // libcurl copies strings
    }
    set(h, CURLOPT_PASSWORD, secret.c_str());
}

// Right after curl_easy_perform: the certificate info belongs to the handle's last transfer.
// With CONNECT_ONLY there is no other, but reading it at once does not depend on that.
void Connection::Impl::capture_certificate() {
    std::string pem = tls::curl_leaf_certificate_pem(curl.get());
    if (pem.empty()) return;
    try {
        certificate = tls::parse_certificate_pem(pem);
    } catch (const Error& e) {
        constexpr std::string_view kPrefix = "cannot read the certificate: ";
        std::string_view reason = e.what();
        if (reason.starts_with(kPrefix)) reason.remove_prefix(kPrefix.size());
        certificate_error =
            Error(e.category(), "cannot read the server certificate of " + in_quotes(uri) + ": " + std::string(reason),
                  e.hint(), e.library_code());
    }
}

curl_socket_t Connection::Impl::socket() const {
    curl_socket_t fd = CURL_SOCKET_BAD;
    CURLcode rc = curl_easy_getinfo(curl.get(), CURLINFO_ACTIVESOCKET, &fd);
    if (rc != CURLE_OK || fd == CURL_SOCKET_BAD) {
        throw Error(ErrorCategory::unavailable, "cannot use the connection to " + in_quotes(uri) + ": it is closed",
                    "the server closed the connection; check its logs", rc);
    }
    return fd;
}

// A command that is answered, however slowly, is still bounded: a server that drips one byte or
// one `* OK` line a second would otherwise hold a sweep forever (the idle timeout never fires).
void Connection::Impl::check_deadline(const char* doing) const {
    if (idle || command_timeout.count() <= 0) return;
    if (std::chrono::steady_clock::now() - busy_since <= command_timeout) return;
    throw Error(ErrorCategory::unavailable,
                std::string("cannot ") + doing + " " + in_quotes(uri) + ": one command took longer than " +
                    std::to_string(command_timeout.count() / 1000) + " s",
                "the server answers too slowly (overloaded or broken); retry later, or raise [imap] command-timeout",
                CURLE_OPERATION_TIMEDOUT);
}

void Connection::Impl::start_command() {
    if (!idle) return;
    idle = false;
    busy_since = std::chrono::steady_clock::now();
}

void Connection::Impl::end_command() {
    idle = outstanding.empty();
    busy_since = std::chrono::steady_clock::now(); // the next command in a pipeline starts now
}

// Waits in short slices: SIGINT/SIGTERM end the wait at once (poll is not restarted, but a
// loop on EINTR would wait again), and the command deadline is checked while the server is
// silent.
void Connection::Impl::wait_socket(short events, const char* doing) const {
    using Clock = std::chrono::steady_clock;
    pollfd pfd{socket(), events, 0};
    const auto give_up = Clock::now() + timeout;
    for (;;) {
        if (interrupt_requested())
            throw Error(ErrorCategory::interrupted,
                        std::string("stopped on request while waiting to ") + doing + " " + in_quotes(uri),
                        "run the same command again to continue where it stopped");
        check_deadline(doing);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
        if (left.count() <= 0) {
            throw Error(ErrorCategory::unavailable,
                        std::string("cannot ") + doing + " " + in_quotes(uri) + ": timed out after " +
                            std::to_string(timeout.count()) + " ms",
                        "the server stopped answering; retry later or raise [imap] timeout", CURLE_OPERATION_TIMEDOUT);
        }
        int n = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 250)));
        if (n > 0) return;
        if (n < 0 && errno != EINTR)
            throw Error(ErrorCategory::unavailable,
                        std::string("cannot ") + doing + " " + in_quotes(uri) + ": poll failed", "", errno);
    }
}

std::size_t Connection::Impl::recv_some(char* buffer, std::size_t size) {
    check_deadline("read from");
    for (;;) {
        std::size_t n = 0;
        // TLS may hold decrypted bytes the socket no longer shows: try first, poll on AGAIN.
        CURLcode rc = curl_easy_recv(curl.get(), buffer, size, &n);
        if (rc == CURLE_OK) return n; // 0: the server closed the connection
        if (rc != CURLE_AGAIN) {
            throw Error(ErrorCategory::unavailable,
                        "cannot read from " + in_quotes(uri) + ": " + curl_easy_strerror(rc),
                        "the connection broke; retry later", rc);
        }
        wait_socket(POLLIN, "read from");
    }
}

void Connection::Impl::send_all(std::string_view bytes) {
    check_open();
    while (!bytes.empty()) {
        std::size_t n = 0;
        CURLcode rc = curl_easy_send(curl.get(), bytes.data(), bytes.size(), &n);
        if (rc == CURLE_AGAIN) {
            wait_socket(POLLOUT, "send to");
            continue;
        }
        if (rc != CURLE_OK) {
            throw Error(ErrorCategory::unavailable, "cannot send to " + in_quotes(uri) + ": " + curl_easy_strerror(rc),
                        "the connection broke; retry later", rc);
        }
        bytes.remove_prefix(n);
    }
}

void Connection::Impl::check_open() const {
    if (closed) {
        throw Error(ErrorCategory::internal, "cannot use the connection to " + in_quotes(uri) + " after LOGOUT");
    }
}

// Reads one logical line and files it: untagged lines wait for the next completion, a
// completion is kept under its tag. Returns true for a continuation request ("+").
bool Connection::Impl::read_one() {
    ResponseLine line;
    try {
        line = reader->read();
    } catch (const Error& e) {
        if (bye.empty() || e.category() != ErrorCategory::unavailable) throw;
        throw Error(ErrorCategory::unavailable,
                    "cannot read from " + in_quotes(uri) + ": the server ended the session (" + bye + ")",
                    "check the server logs; retry later", e.library_code());
    }
    const std::string& head = line.head();
    if (head == "+" || head.starts_with("+ ")) return true;
    if (head.starts_with("* ")) {
        if (untagged_keyword(head) == "BYE") bye = head.substr(6);
        untagged_held += 2 * kPieceOverhead; // the line and its two vectors
        for (const auto& piece : line.segments) untagged_held += piece.size() + kPieceOverhead;
        for (const auto& piece : line.literals) untagged_held += piece.size() + kPieceOverhead;
        if (untagged_held > limits.max_held)
            throw Error(ErrorCategory::data,
                        "cannot read response from " + in_quotes(uri) + ": the server sent more than " +
                            std::to_string(limits.max_held >> 20) + " MiB of untagged responses to one command",
                        "the server is broken or hostile; check it (its logs, a transcript) before trying again");
        untagged.push_back(std::move(line));
        return false;
    }
    auto completion = parse_completion(head);
    if (!completion || !outstanding.contains(completion->tag)) {
        throw Error(ErrorCategory::data,
                    "cannot read response from " + in_quotes(uri) + ": unexpected line '" + head.substr(0, 200) + "'",
                    "the server does not speak IMAP4rev1 as expected");
    }
    Response r{completion->tag, completion->status, std::move(completion->code), std::move(completion->text),
               std::move(untagged)};
    untagged.clear();
    untagged_held = 0;
    outstanding.erase(r.tag);
    end_command();
    completed.emplace(r.tag, std::move(r));
    return false;
}

bool Connection::Impl::await_continuation(const std::string& tag) {
    while (!completed.contains(tag)) {
        if (read_one()) return true;
    }
    return false; // the server refused the literal with a tagged NO/BAD
}

// RFC 7888: LITERAL+ allows {N+} for any size, LITERAL- only up to 4096 bytes.
bool Connection::Impl::use_non_sync(std::size_t size, bool literal_plus, bool literal_minus) const {
    return literal_plus || (literal_minus && size <= 4096);
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

const std::string& Connection::uri() const noexcept { return impl_->uri; }

std::optional<tls::CertificateInfo> Connection::peer_certificate() const {
    if (impl_->certificate_error) throw *impl_->certificate_error;
    return impl_->certificate;
}

Connection Connection::open(const ImapConfig& config) {
    ensure_curl_initialised();
    auto impl = std::make_unique<Impl>();
    impl->uri = config.uri;
    impl->timeout = config.timeout;
    impl->command_timeout = config.command_timeout;
    impl->limits = config.limits;
    impl->allow_non_sync = config.non_synchronizing_literals;
    impl->curl.reset(curl_easy_init());
    if (!impl->curl) throw Error(ErrorCategory::internal, "cannot create a libcurl handle");
    impl->configure(config);
    if (!is_plain_imap(config.uri) && ascii_upper(config.uri.substr(0, 8)) != "IMAPS://") {
        throw Error(ErrorCategory::config, "invalid IMAP URI " + in_quotes(config.uri),
                    "use imaps://host[:port] or imap://host[:port]");
    }
    CURLcode rc = curl_easy_perform(impl->curl.get());
    curl_easy_setopt(impl->curl.get(), CURLOPT_VERBOSE, 0L);
    if (rc != CURLE_OK) {
        // RFC 5530: [UNAVAILABLE] is the server's failure (its authentication backend is down),
        // not the credentials'. Dovecot says "NO [UNAVAILABLE] Temporary authentication failure."
        if (rc == CURLE_LOGIN_DENIED && impl->last_server_line.find("[UNAVAILABLE]") != std::string::npos)
            throw Error(ErrorCategory::temporary,
                        "cannot log in to " + in_quotes(config.uri) + " as " + login_subject(config) +
                            ": the server cannot authenticate now (" +
                            out::printable(impl->last_server_line.substr(0, 200)) + ")",
                        "the server's authentication backend is down (Dovecot: its passdb, often LDAP); retry later",
                        rc);
        detail::CurlContext context{config.uri, login_subject(config), !config.master_user.empty(),
                                    impl->error_buffer.data(), config.section};
        throw detail::curl_open_error(rc, context);
    }
    impl->capture_certificate();
    Impl* raw = impl.get(); // stable: the Impl stays on the heap when Connection moves
    impl->reader = std::make_unique<ResponseReader>(
        [raw](char* buffer, std::size_t size) { return raw->recv_some(buffer, size); }, config.uri, config.limits);
    return Connection(std::move(impl));
}

std::string Connection::next_tag() { return "M" + std::to_string(++impl_->tag_counter); }

void Connection::send_raw(std::string_view bytes) { impl_->send_all(bytes); }

void Connection::send_line(std::string_view line) {
    check_line(line);
    impl_->start_command();
    std::string out(line);
    out += "\r\n";
    impl_->send_all(out);
}

ResponseLine Connection::read_line() {
    impl_->check_open();
    ResponseLine line = impl_->reader->read();
    const std::string& head = line.head();
    // A hand-made command (uid_fetch) reads its own lines: a tagged one is its completion.
    if (!head.starts_with("* ") && head != "+" && !head.starts_with("+ ")) impl_->end_command();
    return line;
}

std::string Connection::submit(std::string_view command) {
    check_line(command);
    impl_->check_open();
    std::string tag = next_tag();
    std::string line = tag + " " + std::string(command) + "\r\n";
    impl_->outstanding.insert(tag);
    impl_->start_command();
    impl_->send_all(line);
    return tag;
}

std::string Connection::submit_streamed(std::string_view start) {
    check_line(start);
    impl_->check_open();
    std::string tag = next_tag();
    impl_->outstanding.insert(tag);
    impl_->start_command();
    impl_->send_all(tag + " " + std::string(start));
    return tag;
}

std::string Connection::submit(const Command& command) {
    impl_->check_open();
    bool plus = false;
    bool minus = false;
    if (command.has_literals() && impl_->allow_non_sync) {
        // Ask before the first byte of this command goes out: CAPABILITY is a command itself.
        plus = has_capability("LITERAL+");
        minus = has_capability("LITERAL-");
    }
    std::string tag = next_tag();
    impl_->outstanding.insert(tag);
    impl_->start_command();
    std::string out = tag;
    for (const auto& piece : command.pieces()) {
        out += ' ';
        if (!piece.literal) {
            check_line(piece.text);
            out += piece.text;
            continue;
        }
        bool non_sync = impl_->use_non_sync(piece.text.size(), plus, minus);
        out += "{" + std::to_string(piece.text.size()) + (non_sync ? "+}\r\n" : "}\r\n");
        if (!non_sync) {
            // RFC 3501 §7.5: wait for "+" before sending a synchronizing literal's bytes.
            impl_->send_all(out);
            out.clear();
            if (!impl_->await_continuation(tag)) return tag; // refused: completion is stored
        }
        if (piece.text.size() <= kCopyLiteralUpTo) {
            out += piece.text;
        } else {
            // A large literal (a message) goes out from where it is, not through a copy.
            impl_->send_all(out);
            out.clear();
            impl_->send_all(piece.text);
        }
    }
    out += "\r\n";
    impl_->send_all(out);
    return tag;
}

Response Connection::wait(const std::string& tag) {
    if (!impl_->outstanding.contains(tag) && !impl_->completed.contains(tag)) {
        throw Error(ErrorCategory::internal,
                    "cannot wait for IMAP command " + in_quotes(tag) + ": it was not submitted");
    }
    while (!impl_->completed.contains(tag)) {
        if (impl_->read_one()) {
            throw Error(ErrorCategory::data,
                        "cannot read response from " + in_quotes(impl_->uri) + ": unexpected continuation request",
                        "the server does not speak IMAP4rev1 as expected");
        }
    }
    auto node = impl_->completed.extract(tag);
    return std::move(node.mapped());
}

Response Connection::command(std::string_view command) { return wait(submit(command)); }

Response Connection::command(const Command& command) { return wait(submit(command)); }

const std::vector<std::string>& Connection::capabilities() {
    if (impl_->capabilities) return *impl_->capabilities;
    Response r = command("CAPABILITY");
    if (!r.ok()) {
        throw Error(ErrorCategory::unavailable, "cannot list capabilities of " + in_quotes(impl_->uri) + ": " + r.text,
                    "the server refused CAPABILITY; check its logs");
    }
    std::vector<std::string> caps;
    for (const ResponseLine* line : r.data("CAPABILITY")) {
        std::string_view rest = line->head();
        rest.remove_prefix(std::min(rest.size(), std::string_view("* CAPABILITY").size()));
        while (!rest.empty()) {
            std::size_t sp = rest.find(' ');
            std::string_view word = rest.substr(0, sp);
            if (!word.empty()) caps.push_back(ascii_upper(word));
            rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        }
    }
    impl_->capabilities = std::move(caps);
    return *impl_->capabilities;
}

bool Connection::has_capability(std::string_view name) {
    const auto& caps = capabilities();
    return std::find(caps.begin(), caps.end(), ascii_upper(name)) != caps.end();
}

void Connection::logout() {
    impl_->check_open();
    try {
        command("LOGOUT");
    } catch (const Error& e) {
        // RFC 3501 §6.1.3: BYE, then the tagged OK; a server that closes right after BYE has
        // still logged us out.
        if (impl_->bye.empty() || e.category() != ErrorCategory::unavailable) throw;
    }
    impl_->closed = true;
}

} // namespace mbx::imap
