#pragma once
// A temporary directory for one test, removed with everything in it at scope exit.

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/stat.h>

namespace mbx::test {

class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("mbx-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

    /// Writes `content` to `name` inside the directory with `mode`, returning the full path.
    std::filesystem::path write(const std::string& name, const std::string& content, mode_t mode = 0600) const {
        auto p = path_ / name;
        std::ofstream(p, std::ios::binary) << content;
        ::chmod(p.c_str(), mode);
        return p;
    }

private:
    std::filesystem::path path_;
};

} // namespace mbx::test
