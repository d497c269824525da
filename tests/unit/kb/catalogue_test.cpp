#include "mbx/kb/catalogue.hpp"

#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace {

using mbx::kb::ArticleCoverage;
using mbx::kb::MisCode;

const std::string kListHint = "run 'mbx explain --list' for the codes MIS_0 to MIS_9";

std::string upper(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}

std::string lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::string dashed(std::string s) {
    std::replace(s.begin(), s.end(), '_', '-');
    return s;
}

std::vector<std::string> commands_of(const MisCode& c) {
    std::vector<std::string> out;
    for (const auto& rc : c.commands) out.push_back(rc.command);
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The error find_code throws for `query`; fails the test when it does not throw.
mbx::Error error_for(std::string_view query) {
    try {
        (void)mbx::kb::find_code(query);
    } catch (const mbx::Error& e) {
        return e;
    }
    FAIL("find_code('" << std::string(query) << "') did not throw");
    return mbx::Error(mbx::ErrorCategory::internal, "unreachable");
}

} // namespace

TEST_CASE("catalogue holds MIS_0 to MIS_9 exactly once, in order", "[kb]") {
    const auto codes = mbx::kb::all_codes();
    REQUIRE(codes.size() == 10);
    std::set<std::string> symbols, names;
    for (int i = 0; i < 10; ++i) {
        const MisCode& c = codes[static_cast<std::size_t>(i)];
        CHECK(c.number == i);
        CHECK(c.code() == "MIS_" + std::to_string(i));
        CHECK(c.symbol == "SYNC_STATUS_CODE_" + upper(c.name));
        symbols.insert(c.symbol);
        names.insert(c.name);
    }
    CHECK(symbols.size() == 10);
    CHECK(names.size() == 10);
    CHECK(codes[9].symbol == "SYNC_STATUS_CODE_DISK_SPACE");
    CHECK(codes[9].name == "disk_space");
    CHECK(codes[3].symbol == "SYNC_STATUS_CODE_SYNCKEY");
    CHECK(codes[8].symbol == "SYNC_STATUS_CODE_OBJ_NOT_FOUND");
    CHECK(codes[2].symbol == "SYNC_STATUS_CODE_PROTOCOL_VER");
    CHECK(codes[5].symbol == "SYNC_STATUS_CODE_SYNC_SERVER");
}

TEST_CASE("find_code accepts every documented spelling of MIS_9", "[kb]") {
    const MisCode& expected = mbx::kb::all_codes()[9];
    const char* spellings[] = {
        "MIS_9",
        "mis_9",
        "MIS-9",
        "mis-9",
        "Mis_9",
        "9",
        "SYNC_STATUS_CODE_DISK_SPACE",
        "sync_status_code_disk_space",
        "Sync_Status_Code_Disk_Space",
        "SYNC-STATUS-CODE-DISK-SPACE",
        "disk_space",
        "DISK_SPACE",
        "disk-space",
        "Disk-Space",
        "  MIS_9  ",
        "\tdisk_space\n",
        " 9 ",
        "\r\nSYNC_STATUS_CODE_DISK_SPACE ",
    };
    for (const char* s : spellings) {
        INFO("query '" << s << "'");
        CHECK(&mbx::kb::find_code(s) == &expected);
    }
}

TEST_CASE("find_code resolves every spelling of every code to that code", "[kb]") {
    for (const MisCode& c : mbx::kb::all_codes()) {
        const std::vector<std::string> spellings = {
            c.code(),      lower(c.code()), dashed(c.code()),        std::to_string(c.number),
            c.symbol,      lower(c.symbol), dashed(lower(c.symbol)), c.name,
            upper(c.name), dashed(c.name),  " " + c.name + "\t",
        };
        for (const std::string& s : spellings) {
            INFO("query '" << s << "'");
            CHECK(mbx::kb::find_code(s).number == c.number);
        }
    }
}

TEST_CASE("find_code rejects unknown and partial codes as usage errors", "[kb]") {
    const char* unknown[] = {
        "MIS_10",
        "10",
        "09",
        "-1",
        "MIS",
        "MIS_",
        "MIS9",
        "MIS 9",
        "MIS__9",
        "MIS_9x",
        "SYNC_STATUS_CODE_",
        "SYNC_STATUS_CODE_9",
        "STATUS_CODE_DISK_SPACE",
        "disk space",
        "disk_space_",
        "diskspace",
        "nonsense",
        "SYNC_STATUS_CODE_DISK",
    };
    for (const char* q : unknown) {
        INFO("query '" << q << "'");
        const mbx::Error e = error_for(q);
        CHECK(e.category() == mbx::ErrorCategory::usage);
        CHECK(e.exit_code() == mbx::ExitCode::usage);
        CHECK(std::string(e.what()) == "unknown MIS code '" + std::string(q) + "'");
        CHECK(e.hint().rfind(kListHint, 0) == 0);
    }
}

TEST_CASE("unknown-code message quotes the query without surrounding whitespace", "[kb]") {
    CHECK(std::string(error_for("  bogus \n").what()) == "unknown MIS code 'bogus'");
    CHECK(std::string(error_for("").what()) == "unknown MIS code ''");
    CHECK(std::string(error_for("   ").what()) == "unknown MIS code ''");
    CHECK(error_for("").hint() == kListHint);
}

TEST_CASE("a partial match is never resolved, only suggested in the hint", "[kb]") {
    SECTION("disk names MIS_9") {
        const mbx::Error e = error_for("disk");
        CHECK(std::string(e.what()) == "unknown MIS code 'disk'");
        CHECK(e.hint() == kListHint + "; 'disk' is part of MIS_9 (disk_space)");
    }
    SECTION("the symbol prefix is ignored when suggesting") {
        CHECK(error_for("SYNC_STATUS_CODE_DISK").hint() ==
              kListHint + "; 'SYNC_STATUS_CODE_DISK' is part of MIS_9 (disk_space)");
    }
    SECTION("several candidates are all named, in order") {
        CHECK(error_for("protocol_v").hint() == kListHint + "; 'protocol_v' is part of MIS_2 (protocol_ver)");
        CHECK(error_for("sync").hint() == kListHint + "; 'sync' is part of MIS_3 (synckey), MIS_5 (sync_server)");
    }
    SECTION("no candidate, or a fragment too short to mean anything: plain hint") {
        CHECK(error_for("quota").hint() == kListHint);
        CHECK(error_for("ob").hint() == kListHint);
    }
}

TEST_CASE("to_json has the stable keys with the documented types", "[kb]") {
    const std::set<std::string> expected_keys = {
        "code",           "number", "symbol",     "name",     "title",
        "device_message", "causes", "resolution", "commands", "article_coverage",
    };
    for (const MisCode& c : mbx::kb::all_codes()) {
        INFO(c.code());
        const nlohmann::json j = mbx::kb::to_json(c);
        REQUIRE(j.is_object());
        std::set<std::string> keys;
        for (const auto& item : j.items()) keys.insert(item.key());
        CHECK(keys == expected_keys);
        CHECK(j.at("code") == c.code());
        CHECK(j.at("number").is_number_integer());
        CHECK(j.at("number") == c.number);
        CHECK(j.at("symbol") == c.symbol);
        CHECK(j.at("name") == c.name);
        CHECK(j.at("title").is_string());
        CHECK(j.at("device_message").is_string());
        CHECK(j.at("article_coverage").is_string());
        for (const char* key : {"causes", "resolution"}) {
            REQUIRE(j.at(key).is_array());
            for (const auto& s : j.at(key)) CHECK(s.is_string());
        }
        REQUIRE(j.at("commands").is_array());
        CHECK(j.at("commands").size() == c.commands.size());
        for (const auto& cmd : j.at("commands")) {
            REQUIRE(cmd.is_object());
            CHECK(cmd.size() == 3);
            CHECK(cmd.at("command").is_string());
            CHECK(cmd.at("purpose").is_string());
            CHECK(cmd.at("available").is_boolean());
        }
    }
}

TEST_CASE("to_json of MIS_9 carries its real content", "[kb]") {
    const nlohmann::json j = mbx::kb::to_json(mbx::kb::find_code("MIS_9"));
    CHECK(j.at("code") == "MIS_9");
    CHECK(j.at("number") == 9);
    CHECK(j.at("symbol") == "SYNC_STATUS_CODE_DISK_SPACE");
    CHECK(j.at("article_coverage") == "full");
    REQUIRE(j.at("commands").size() == 3);
    CHECK(j.at("commands")[0].at("command") == "mbx quota check USER");
    CHECK(j.at("commands")[1].at("command") == "mbx quota cleanup USER --folder Trash,Junk --older-than 30d");
    CHECK(j.at("commands")[2].at("command") == "mbx quota raise USER --by 1G");
    CHECK(j.at("commands")[0].at("available") == true);
    CHECK(j.at("commands")[1].at("available") == true);
    CHECK(j.at("commands")[2].at("available") == true);
}

TEST_CASE("to_json of a list is an array of the per-code objects, in order", "[kb]") {
    const nlohmann::json list = mbx::kb::to_json(mbx::kb::all_codes());
    REQUIRE(list.is_array());
    REQUIRE(list.size() == 10);
    for (std::size_t i = 0; i < list.size(); ++i) {
        CHECK(list[i].at("number") == i);
        CHECK(list[i] == mbx::kb::to_json(mbx::kb::all_codes()[i]));
    }
}

TEST_CASE("the codes of the DESIGN table name their mbxkit commands", "[kb]") {
    const auto c2 = commands_of(mbx::kb::find_code("MIS_2"));
    CHECK(contains(c2, "mbx audit server URL"));
    CHECK(contains(c2, "mbx audit clients --log FILE"));
    CHECK(contains(c2, "mbx audit compat --target-versions VERSIONS"));
    CHECK(contains(c2, "mbx audit probe URL --user USER --as-version V"));

    const auto c5 = commands_of(mbx::kb::find_code("MIS_5"));
    CHECK(contains(c5, "mbx diagnose USER"));
    CHECK(contains(c5, "mbx reprovision USER --new-uid NEWUID"));
    CHECK(contains(c5, "mbx merge --from OLD --to NEW"));
    CHECK(contains(c5, "mbx audit compat --target-versions VERSIONS"));

    const auto c8 = commands_of(mbx::kb::find_code("MIS_8"));
    CHECK(contains(c8, "mbx diagnose USER"));

    const auto c9 = commands_of(mbx::kb::find_code("MIS_9"));
    CHECK(contains(c9, "mbx quota check USER"));
    CHECK(contains(c9, "mbx quota cleanup USER --folder Trash,Junk --older-than 30d"));
    CHECK(contains(c9, "mbx quota raise USER --by 1G"));

    const auto c3 = commands_of(mbx::kb::find_code("MIS_3"));
    CHECK(c3 == std::vector<std::string>{"mbx diagnose USER --device ID"});
}

TEST_CASE("MIS_5 carries both the damaged-account and the newer-ROM cause", "[kb]") {
    const MisCode& c = mbx::kb::find_code("sync_server");
    REQUIRE(c.causes.size() == 3);
    CHECK(c.causes[1].find("damaged") != std::string::npos);
    CHECK(c.causes[2].find("ROM") != std::string::npos);
    CHECK(c.causes[2].find("MSAS") != std::string::npos);
}

TEST_CASE("every command is an mbx command with a purpose and a truthful status", "[kb]") {
    std::size_t total = 0;
    for (const MisCode& c : mbx::kb::all_codes()) {
        INFO(c.code());
        CHECK_FALSE(c.commands.empty());
        for (const auto& rc : c.commands) {
            INFO(rc.command);
            ++total;
            CHECK(rc.command.rfind("mbx ", 0) == 0);
            CHECK_FALSE(rc.purpose.empty());
            CHECK(rc.available == mbx::kb::is_shipped(rc.command));
            // Shipped today: `mbx audit`, `mbx diagnose`, `mbx explain`, `mbx merge`, `mbx ping`, `mbx quota`,
            // `mbx reprovision`.
            CHECK(rc.available ==
                  (rc.command.rfind("mbx audit ", 0) == 0 || rc.command.rfind("mbx diagnose ", 0) == 0 ||
                   rc.command.rfind("mbx explain", 0) == 0 || rc.command.rfind("mbx ping", 0) == 0 ||
                   rc.command.rfind("mbx quota ", 0) == 0 || rc.command.rfind("mbx merge ", 0) == 0 ||
                   rc.command.rfind("mbx reprovision ", 0) == 0));
        }
    }
    CHECK(total > 10);
}

TEST_CASE("is_shipped matches whole command words only", "[kb]") {
    REQUIRE(mbx::kb::shipped_commands().size() == 7);
    CHECK(mbx::kb::shipped_commands()[0] == "mbx audit");
    CHECK(mbx::kb::is_shipped("mbx audit compat --target-versions VERSIONS"));
    CHECK_FALSE(mbx::kb::is_shipped("mbx auditor"));
    CHECK(mbx::kb::is_shipped("mbx ping --user USER"));
    CHECK(mbx::kb::is_shipped("mbx explain"));
    CHECK(mbx::kb::is_shipped("mbx explain --list"));
    CHECK_FALSE(mbx::kb::is_shipped("mbx explainer"));
    CHECK(mbx::kb::is_shipped("mbx quota check USER"));
    CHECK(mbx::kb::is_shipped("mbx quota cleanup USER"));
    CHECK_FALSE(mbx::kb::is_shipped("mbx quotas"));
    CHECK(mbx::kb::is_shipped("mbx merge --from A --to B"));
    CHECK_FALSE(mbx::kb::is_shipped("mbx merger"));
    CHECK(mbx::kb::is_shipped("mbx reprovision USER --new-uid NEWUID"));
    CHECK_FALSE(mbx::kb::is_shipped("mbx reprovisioning"));
    CHECK_FALSE(mbx::kb::is_shipped(""));
}

TEST_CASE("no entry is empty where the article has content", "[kb]") {
    const ArticleCoverage expected[10] = {
        ArticleCoverage::name_only, ArticleCoverage::name_only,    ArticleCoverage::full,
        ArticleCoverage::full,      ArticleCoverage::message_only, ArticleCoverage::full,
        ArticleCoverage::name_only, ArticleCoverage::name_only,    ArticleCoverage::full,
        ArticleCoverage::full,
    };
    for (const MisCode& c : mbx::kb::all_codes()) {
        INFO(c.code());
        CHECK(c.coverage == expected[c.number]);
        CHECK_FALSE(c.title.empty());
        CHECK_FALSE(c.causes.empty());
        CHECK_FALSE(c.resolution.empty());
        for (const auto& s : c.causes) CHECK_FALSE(s.empty());
        for (const auto& s : c.resolution) CHECK_FALSE(s.empty());
        // Device text exists exactly where the article records one.
        CHECK(c.device_message.empty() == (c.coverage == ArticleCoverage::name_only));
    }
}

TEST_CASE("codes the article only names say so instead of inventing a fix", "[kb]") {
    for (const MisCode& c : mbx::kb::all_codes()) {
        if (c.coverage == ArticleCoverage::full) continue;
        INFO(c.code());
        CHECK(c.resolution.front().find("article") != std::string::npos);
        CHECK(c.resolution.front().find("no fix") != std::string::npos);
        const auto cmds = commands_of(c);
        const bool diagnoses = contains(cmds, "mbx diagnose USER") || contains(cmds, "mbx diagnose USER --device ID");
        CHECK(diagnoses);
    }
}

TEST_CASE("ArticleCoverage has stable machine names", "[kb]") {
    CHECK(mbx::kb::to_string(ArticleCoverage::name_only) == "name_only");
    CHECK(mbx::kb::to_string(ArticleCoverage::message_only) == "message_only");
    CHECK(mbx::kb::to_string(ArticleCoverage::full) == "full");
}
