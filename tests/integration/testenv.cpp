#include "testenv.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

namespace mbx::testing {
namespace {

const char* const kHowTo =
    "run the integration tests through ctest (ctest -L integration), which starts the servers, "
    "or start them yourself: scripts/testenv up DIR, then TESTENV_FILE=DIR/env "
    "mbx_integration_tests";

const std::map<std::string, std::string>& environment() {
    static std::map<std::string, std::string> values;
    static bool loaded = false;
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    if (loaded) return values;
    const char* file = std::getenv("TESTENV_FILE");
    if (file == nullptr || *file == '\0') FAIL("TESTENV_FILE is not set: " << kHowTo);
    std::ifstream in(file);
    if (!in) FAIL("cannot read TESTENV_FILE '" << file << "': " << kHowTo);
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
        values[line.substr(0, eq)] = line.substr(eq + 1);
    }
    loaded = true;
    return values;
}

} // namespace

std::string testenv(std::string_view key) {
    const auto& values = environment();
    auto it = values.find(std::string(key));
    if (it == values.end()) FAIL("no " << key << " in TESTENV_FILE " << std::getenv("TESTENV_FILE"));
    return it->second;
}

std::string read_secret_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) FAIL("cannot read secret file '" << path << "'");
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

mbx::Secret secret_from_file(const std::string& path) { return mbx::Secret(read_secret_file(path)); }

void run_testenv_script(const std::string& arguments) {
    std::string command = std::string(MBX_SOURCE_DIR) + "/scripts/testenv " + arguments;
    int status = std::system(command.c_str());
    if (status != 0) FAIL("'" << command << "' failed with status " << status);
}

} // namespace mbx::testing
