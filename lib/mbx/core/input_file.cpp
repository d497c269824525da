#include "mbx/core/input_file.hpp"

#include "mbx/core/fd.hpp"
#include "mbx/core/output.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

namespace mbx {
namespace {

std::string size_text(std::size_t n) {
    if (n >= (1u << 20) && n % (1u << 20) == 0) return fmt::format("{} MiB", n >> 20);
    if (n >= (1u << 10) && n % (1u << 10) == 0) return fmt::format("{} KiB", n >> 10);
    return fmt::format("{} bytes", n);
}

} // namespace

std::string read_input_file(const std::filesystem::path& path, const InputFile& spec) {
    const std::string name = out::printable(path.string());
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw Error(spec.unreadable, fmt::format("cannot read {} '{}': {}", spec.what, name, std::strerror(errno)),
                    "check the path and its permissions");
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode))
        throw Error(spec.unreadable, fmt::format("cannot read {} '{}': it is a directory", spec.what, name),
                    "give the path of a file");
    std::string text;
    char buffer[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            throw Error(spec.unreadable, fmt::format("cannot read {} '{}': {}", spec.what, name, std::strerror(errno)));
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > spec.max_bytes)
            throw Error(spec.too_large,
                        fmt::format("{} '{}' is larger than {}", spec.what, name, size_text(spec.max_bytes)),
                        "split it into smaller files");
    }
    std::size_t line = 1, start = 0;
    for (;;) {
        const std::size_t end = text.find('\n', start);
        const std::size_t length = (end == std::string::npos ? text.size() : end) - start;
        if (length > spec.max_line)
            throw Error(
                spec.too_large,
                fmt::format("{} '{}': line {} is longer than {}", spec.what, name, line, size_text(spec.max_line)),
                "check the file: one entry per line");
        if (end == std::string::npos) break;
        start = end + 1;
        ++line;
    }
    return text;
}

} // namespace mbx
