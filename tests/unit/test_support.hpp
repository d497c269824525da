#pragma once
// Helpers shared by the unit tests: a throwaway directory, catching mbx::Error, a file's text, and
// a table of what a string function gives for each input.

#include "../common/error_of.hpp"
#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <utility>

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

/// The whole text of the file at `path` (the docs the tests hold to the code: MBX_SOURCE_DIR
/// "/docs/..."); fails the test when it cannot be read.
inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Checks `f(input) == expected` for each {input, expected} row of `table`, naming the input of a
/// row that fails: the table form of a run of such CHECKs.
template <typename F>
void check_table(F&& f, std::initializer_list<std::pair<std::string_view, std::string_view>> table) {
    for (const auto& [input, expected] : table) {
        INFO("input: \"" << input << '"');
        CHECK(f(input) == expected);
    }
}

} // namespace mbx::test
