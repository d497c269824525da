#include "testenv.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace mbx::testing {
namespace {

const char* const kHowTo = "run the integration tests through ctest (ctest -L integration), which starts the servers, "
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

int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string foreign_ca_file() {
    auto dir = std::filesystem::path(testenv("TESTENV_DIR")) / ("foreign-ca-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto pem = dir / "ca.pem";
    if (!std::filesystem::exists(pem)) {
        std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=Foreign CA' "
                          "-keyout '" +
                          (dir / "ca.key").string() + "' -out '" + pem.string() + "' >/dev/null 2>&1";
        REQUIRE(std::system(cmd.c_str()) == 0);
    }
    return pem.string();
}

std::string server_certificate_file() { return testenv("TESTENV_DIR") + "/tls/server.pem"; }

std::string server_key_file() { return testenv("TESTENV_DIR") + "/tls/server.key"; }

std::chrono::system_clock::time_point openssl_certificate_date(const std::string& pem_file, const std::string& option) {
    std::string command = "openssl x509 -noout " + option + " -in '" + pem_file + "' 2>&1";
    std::FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string out;
    std::array<char, 256> buffer{};
    while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) out += buffer.data();
    int status = ::pclose(pipe);
    INFO(command << ": " << out);
    REQUIRE(status == 0);
    // "notAfter=Mar  1 12:00:00 2034 GMT": OpenSSL's ASN1_TIME_print, always in GMT.
    std::istringstream in(out.substr(out.find('=') + 1));
    std::string month_name, hms, zone;
    unsigned day_of_month = 0;
    int year_number = 0;
    in >> month_name >> day_of_month >> hms >> year_number >> zone;
    static const std::array<std::string, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    unsigned month_index = 0;
    while (month_index < 12 && months[month_index] != month_name) ++month_index;
    REQUIRE(month_index < 12);
    REQUIRE(zone == "GMT");
    REQUIRE(hms.size() == 8);
    using namespace std::chrono;
    const year_month_day date{year(year_number), month(month_index + 1), day(day_of_month)};
    REQUIRE(date.ok());
    return sys_days(date) + hours(std::stoi(hms.substr(0, 2))) + minutes(std::stoi(hms.substr(3, 2))) +
           seconds(std::stoi(hms.substr(6, 2)));
}

} // namespace mbx::testing
