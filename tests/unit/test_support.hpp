#pragma once
// Helpers shared by the unit tests: a throwaway directory and catching mbx::Error.

#include "../common/error_of.hpp"
#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <system_error>

namespace mbx::test {

/// A directory made with mkdtemp, removed with everything in it at scope exit.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "mbx-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

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
