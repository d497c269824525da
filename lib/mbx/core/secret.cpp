#include "mbx/core/secret.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace mbx {

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }

Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        wipe();
        value_ = std::move(other.value_);
        other.wipe();
    }
    return *this;
}

Secret::~Secret() { wipe(); }

void Secret::wipe() noexcept {
    // volatile stores so the compiler cannot drop the wipe of memory about to be freed.
    volatile char* p = value_.data();
    for (std::size_t i = 0; i < value_.size(); ++i) p[i] = 0;
    value_.clear();
}

void require_owner_only(const std::string& path, unsigned mode, std::string_view what) {
    if ((mode & 077) == 0) return;
    throw Error(
        ErrorCategory::config,
        fmt::format("{} '{}' is readable or writable by group or others (mode {:04o})", what, path, mode & 07777),
        fmt::format("run: chmod 600 '{}'", path));
}

void keep_secrets_out_of_core_dumps() noexcept {
    // A core file, or a debugger attached by another user, would show the secret in plain text:
    // no core, and not dumpable (which also keeps /proc/PID/mem to root).
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
#if !defined(__SANITIZE_ADDRESS__)
    // (LeakSanitizer needs a dumpable process to stop its threads at exit: sanitizer builds
    // keep the core limit only.)
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

Secret read_secret_file(const std::filesystem::path& path) {
    const std::string name = path.string();
    // O_NOFOLLOW is not used: admins keep secrets behind symlinks (Kubernetes secret mounts);
    // the permission check is on the file the link points to, which is what matters.
    // O_NONBLOCK: a FIFO (or a device) opens at once instead of waiting for a writer, and is
    // then refused as not a regular file; on a regular file the flag changes nothing.
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        throw Error(ErrorCategory::config, fmt::format("cannot read secret file '{}': {}", name, std::strerror(errno)),
                    "check the *-password-file setting");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(ErrorCategory::config, fmt::format("secret file '{}' is not a regular file", name),
                    "point the *-password-file setting at a file");
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        require_owner_only(name, st.st_mode, "secret file");
    }
    std::string data;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && data.size() < 64 * 1024)
        data.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    std::memset(buf, 0, sizeof buf);
    Secret secret(data.substr(0, data.find_first_of("\r\n")));
    std::fill(data.begin(), data.end(), '\0');
    keep_secrets_out_of_core_dumps();
    if (secret.empty())
        throw Error(ErrorCategory::config, fmt::format("secret file '{}' is empty", name),
                    "write the secret on its first line");
    return secret;
}

namespace {

Secret prompt_secret(std::string_view description) {
    std::cerr << description << ": " << std::flush;
    termios old{};
    bool restore = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (restore) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << '\n';
    Secret s(std::move(line));
    return s;
}

} // namespace

Secret resolve_secret(const config::Config& cfg, const SecretSource& source, bool interactive) {
    const std::string file_key = fmt::format("{}.{}", source.section, source.file_setting);
    const char* env = source.env_var.empty() ? nullptr : std::getenv(std::string(source.env_var).c_str());
    const bool have_env = env && *env;
    const bool have_file = cfg.has(file_key);
    const bool file_from_flag = cfg.origin(file_key).kind == config::Origin::Kind::flag;
    if (have_file && (file_from_flag || !have_env)) return read_secret_file(cfg.get(file_key));
    if (have_env) {
        keep_secrets_out_of_core_dumps();
        return Secret(env);
    }
    if (interactive && ::isatty(STDIN_FILENO)) {
        Secret s = prompt_secret(source.description);
        keep_secrets_out_of_core_dumps();
        if (!s.empty()) return s;
    }
    if (source.env_var.empty())
        throw Error(ErrorCategory::config, fmt::format("no {} given", source.description),
                    fmt::format("set [{}] {} (a file with mode 0600), or run on a terminal to be prompted",
                                source.section, source.file_setting));
    throw Error(ErrorCategory::config, fmt::format("no {} given", source.description),
                fmt::format("set [{}] {} (a file with mode 0600) or {}, or run on a terminal to be prompted",
                            source.section, source.file_setting, source.env_var));
}

} // namespace mbx
