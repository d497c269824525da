#pragma once
// An open POSIX file descriptor, closed when its owner goes out of scope.

#include <unistd.h>
#include <utility>

namespace mbx {

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    /// Gives up ownership (the caller closes it, e.g. to check close()'s result).
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

} // namespace mbx
