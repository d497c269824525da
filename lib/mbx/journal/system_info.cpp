#include "mbx/journal/system_info.hpp"

#include "mbx/core/error.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace mbx::journal::detail {
namespace {

std::optional<std::string> env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
}

} // namespace

std::string operator_login_name() {
    // The real uid, not the effective one: under sudo or a setuid wrapper the journal should
    // still say who started the command. getpwuid_r because getpwuid is not thread-safe.
    const uid_t uid = getuid();
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
    passwd entry{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
        found->pw_name != nullptr && *found->pw_name != '\0')
        return found->pw_name;
    if (auto user = env("USER")) return *user;
    return std::to_string(uid);
}

std::string host_name() {
    std::array<char, 256> buffer{};
    if (gethostname(buffer.data(), buffer.size() - 1) != 0 || buffer[0] == '\0') return "localhost";
    return buffer.data();
}

std::string random_uuid_hex() {
    std::array<unsigned char, 16> bytes{};
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        ssize_t got = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorCategory::internal, fmt::format("cannot generate a run uuid: {}", std::strerror(errno)));
        }
        filled += static_cast<std::size_t>(got);
    }
    std::string hex;
    hex.reserve(32);
    for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
    return hex;
}

bool process_exists(std::int64_t pid) {
    if (pid <= 0) return false;
    // EPERM means it exists but belongs to someone else: still alive.
    return kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

std::filesystem::path default_journal_path_for(std::int64_t uid, const std::optional<std::string>& xdg_state_home,
                                               const std::optional<std::string>& home) {
    if (uid == 0) return "/var/lib/mbxkit/journal.sqlite";
    // The XDG Base Directory spec says a relative XDG_STATE_HOME is invalid and must be ignored.
    if (xdg_state_home && !xdg_state_home->empty() && xdg_state_home->front() == '/')
        return std::filesystem::path(*xdg_state_home) / "mbxkit" / "journal.sqlite";
    if (home && !home->empty()) return std::filesystem::path(*home) / ".local" / "state" / "mbxkit" / "journal.sqlite";
    throw Error(ErrorCategory::config, "cannot choose a journal path: neither XDG_STATE_HOME nor HOME is set",
                "set [journal] path in the configuration or pass --journal PATH");
}

void create_private_directories(const std::filesystem::path& dir) {
    if (dir.empty()) return;
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return;
    create_private_directories(dir.parent_path() == dir ? std::filesystem::path{} : dir.parent_path());
    // mkdir rather than std::filesystem::create_directory so the mode is 0700 from the start:
    // the journal names users and mailboxes, which other local users need not see.
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(ErrorCategory::io,
                    fmt::format("cannot create journal directory '{}': {}", dir.string(), std::strerror(errno)),
                    "create it, or set [journal] path / --journal to a writable place");
}

void create_private_file(const std::filesystem::path& file) {
    // O_EXCL: if another process creates it first, theirs is used unchanged.
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    if (errno == EEXIST) return;
    throw Error(ErrorCategory::io, fmt::format("cannot create journal '{}': {}", file.string(), std::strerror(errno)),
                "check the directory's permissions, or set [journal] path / --journal");
}

} // namespace mbx::journal::detail
