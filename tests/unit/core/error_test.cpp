#include "mbx/core/error.hpp"
#include "../test_support.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <set>

using mbx::ErrorCategory;
using mbx::ExitCode;

TEST_CASE("every error category maps to a documented failure code", "[core][exit]") {
    for (auto c : {ErrorCategory::usage, ErrorCategory::data, ErrorCategory::unavailable, ErrorCategory::internal,
                   ErrorCategory::io, ErrorCategory::temporary, ErrorCategory::auth, ErrorCategory::config,
                   ErrorCategory::interrupted}) {
        ExitCode code = mbx::exit_code_for(c);
        CHECK(static_cast<int>(code) > 2);
        CHECK(mbx::exit_code_info(code).code == code);
    }
    CHECK(mbx::exit_code_for(ErrorCategory::auth) == ExitCode::auth);
    CHECK(static_cast<int>(ExitCode::auth) == 77);
    CHECK(static_cast<int>(ExitCode::config) == 78);
}

TEST_CASE("docs/exit-codes.md lists exactly the codes of the enum table", "[core][exit]") {
    const std::string doc = mbx::test::read_text(MBX_SOURCE_DIR "/docs/exit-codes.md");
    std::regex row(R"(\|\s*(\d+)\s*\|\s*([a-z]+)\s*\|\s*([^|]+?)\s*\|)");
    std::set<std::tuple<int, std::string, std::string>> documented, coded;
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator(); ++it)
        documented.insert({std::stoi((*it)[1]), (*it)[2], (*it)[3]});
    for (const auto& info : mbx::exit_code_table())
        coded.insert({static_cast<int>(info.code), std::string(info.name), std::string(info.meaning)});
    CHECK(documented == coded);
    CHECK(coded.size() == 12);
}

TEST_CASE("nagios sees failures as UNKNOWN", "[core][exit]") {
    CHECK(mbx::nagios_exit_status(ExitCode::ok) == 0);
    CHECK(mbx::nagios_exit_status(ExitCode::warning) == 1);
    CHECK(mbx::nagios_exit_status(ExitCode::critical) == 2);
    CHECK(mbx::nagios_exit_status(ExitCode::unavailable) == 3);
    CHECK(mbx::nagios_exit_status(ExitCode::config) == 3);
}

TEST_CASE("combining outcomes: failures beat findings, temporary wins among failures", "[core][exit]") {
    using mbx::combine_exit_codes;
    CHECK(combine_exit_codes(ExitCode::ok, ExitCode::warning) == ExitCode::warning);
    CHECK(combine_exit_codes(ExitCode::critical, ExitCode::warning) == ExitCode::critical);
    CHECK(combine_exit_codes(ExitCode::critical, ExitCode::unavailable) == ExitCode::unavailable);
    CHECK(combine_exit_codes(ExitCode::auth, ExitCode::unavailable) == ExitCode::auth);
    CHECK(combine_exit_codes(ExitCode::auth, ExitCode::temporary) == ExitCode::temporary);
    CHECK(combine_exit_codes(ExitCode::temporary, ExitCode::interrupted) == ExitCode::interrupted);
}

TEST_CASE("an error prints as one line with its hint", "[core][exit]") {
    mbx::Error e(ErrorCategory::auth, "cannot log in to 'imaps://h'\r\nas 'x': denied", "check the password", 67);
    CHECK(e.one_line() == "cannot log in to 'imaps://h'  as 'x': denied; check the password");
    CHECK(e.exit_code() == ExitCode::auth);
    CHECK(e.library_code() == 67);
}
