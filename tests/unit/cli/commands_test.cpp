#include "mbx/cli/commands.hpp"
#include "mbx/kb/catalogue.hpp"
#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

namespace fs = std::filesystem;

TEST_CASE("every command in the table has a tool, a docs page and a README row", "[cli]") {
    const std::string readme = mbx::test::read_text(MBX_SOURCE_DIR "/README.md");
    for (const auto& c : mbx::cli::command_table()) {
        std::string name(c.name);
        INFO("command " << name);
        CHECK(fs::exists(fs::path(MBX_SOURCE_DIR) / "tools" / ("mbx-" + name) / "main.cpp"));
        CHECK(fs::exists(fs::path(MBX_SOURCE_DIR) / "docs" / "commands" / (name + ".md")));
        CHECK(readme.find("`mbx " + name) != std::string::npos);
        CHECK(mbx::cli::find_command(c.name) == &c);
    }
}

TEST_CASE("every tool directory has a row in the command table", "[cli]") {
    for (const auto& entry : fs::directory_iterator(fs::path(MBX_SOURCE_DIR) / "tools")) {
        std::string dir = entry.path().filename().string();
        if (!entry.is_directory() || dir.rfind("mbx-", 0) != 0) continue;
        INFO("tools/" << dir);
        CHECK(mbx::cli::find_command(dir.substr(4)) != nullptr);
    }
    CHECK(mbx::cli::find_command("frobnicate") == nullptr);
}

TEST_CASE("the commands the MIS catalogue calls shipped are in the command table", "[cli]") {
    for (std::string_view prefix : mbx::kb::shipped_commands()) {
        INFO(prefix);
        REQUIRE(prefix.rfind("mbx ", 0) == 0);
        // "mbx quota check" ships the subcommand of the `quota` command.
        const auto words = prefix.substr(4);
        CHECK(mbx::cli::find_command(words.substr(0, words.find(' '))) != nullptr);
    }
}
