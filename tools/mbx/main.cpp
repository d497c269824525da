// mbx: the front. `mbx COMMAND ARGS...` runs `mbx-COMMAND ARGS...` from the directory this
// program lives in (git style). An unknown command is a usage error that lists the commands;
// it never guesses.
#include "mbx/cli/commands.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/output.hpp"
#include "mbx/core/version.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

int list_commands(std::ostream& os) {
    os << "usage: mbx [--version] [help] COMMAND [ARGS...]\n\nCommands:\n";
    std::size_t width = 0;
    for (const auto& c : mbx::cli::command_table()) width = std::max(width, c.name.size());
    for (const auto& c : mbx::cli::command_table())
        os << "  " << c.name << std::string(width + 3 - c.name.size(), ' ') << c.summary << '\n';
    os << "\n'mbx help COMMAND' or 'mbx COMMAND --help' shows a command's options.\n";
    return 0;
}

int run_command(const std::string& name, int argc, char** argv) {
    std::error_code ec;
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::filesystem::path exe = (ec ? std::filesystem::path(".") : self.parent_path()) / ("mbx-" + name);
    std::vector<char*> args;
    std::string arg0 = "mbx-" + name;
    args.push_back(arg0.data());
    for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    ::execv(exe.c_str(), args.data());
    std::cerr << "mbx: cannot run '" << exe.string() << "': " << std::strerror(errno)
              << "; reinstall mbxkit or build the mbx-" << name << " target\n";
    return static_cast<int>(mbx::ExitCode::internal);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        list_commands(std::cerr);
        return static_cast<int>(mbx::ExitCode::usage);
    }
    std::string first = argv[1];
    if (first == "--version" || first == "version") {
        std::cout << "mbx (mbxkit) " << mbx::version() << '\n';
        return 0;
    }
    if (first == "help" || first == "--help" || first == "-h") {
        if (argc < 3 || first != "help") return list_commands(std::cout);
        first = argv[2];
        if (!mbx::cli::find_command(first)) {
            std::cerr << "mbx: unknown command '" << mbx::out::printable(first) << "'\n";
            list_commands(std::cerr);
            return static_cast<int>(mbx::ExitCode::usage);
        }
        char help[] = "--help";
        char* rest[] = {help};
        return run_command(first, 1, rest);
    }
    if (!mbx::cli::find_command(first)) {
        std::cerr << "mbx: unknown command '" << mbx::out::printable(first) << "'\n";
        list_commands(std::cerr);
        return static_cast<int>(mbx::ExitCode::usage);
    }
    return run_command(first, argc - 2, argv + 2);
}
