#include "mbx/ops/maildir_archive.hpp"
#include "mbx/ops/quota_cleanup.hpp"

#include "../test_support.hpp"

#include <catch2/catch.hpp>

using namespace mbx::ops;
using mbx::ErrorCategory;
using mbx::test::error_of;
using std::chrono::sys_days;
using std::chrono::sys_seconds;
using namespace std::chrono_literals;

namespace {

sys_seconds at(int y, unsigned m, unsigned d, int hour = 0) {
    return sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} + std::chrono::hours(hour);
}

std::vector<std::uint64_t> uids_of(const std::vector<CleanupCandidate>& v) {
    std::vector<std::uint64_t> out;
    for (const auto& c : v) out.push_back(c.uid);
    return out;
}

} // namespace

TEST_CASE("parse_folder_list: names, blanks, special-use", "[quota-cleanup]") {
    const auto f = parse_folder_list("Trash, Junk ,\\Archive,Old \"stuff\" \\ Ünïcode");
    REQUIRE(f.size() == 4);
    CHECK(f[0].name == "Trash");
    CHECK(f[0].special_use.empty());
    CHECK(f[1].name == "Junk");
    CHECK(f[2].name.empty());
    CHECK(f[2].special_use == "\\Archive");
    CHECK(f[2].text() == "\\Archive");
    CHECK(f[3].name == "Old \"stuff\" \\ Ünïcode"); // a backslash inside a name is just a byte
    CHECK(parse_folder_list("INBOX").size() == 1);
}

TEST_CASE("parse_folder_list: refuses what it cannot mean", "[quota-cleanup]") {
    for (const char* bad : {"", " ", "Trash,", ",Trash", "Trash,,Junk", "\\", "\\Tr ash", "\\Trash1", "Trash,Trash"}) {
        INFO(bad);
        CHECK(error_of([&] { parse_folder_list(bad); }).category() == ErrorCategory::usage);
    }
}

TEST_CASE("parse_age: units and limits", "[quota-cleanup]") {
    CHECK(parse_age("36h") == 36h);
    CHECK(parse_age("30d") == 30 * 24h);
    CHECK(parse_age("12w") == 12 * 7 * 24h);
    CHECK(parse_age("6m") == 6 * 30 * 24h); // 30-day months
    CHECK(parse_age("1y") == 365 * 24h);
    for (const char* bad : {"", "30", "d", "0d", "-1d", "1.5d", "30D", "30 d", "30days", "1000000y", "30s"}) {
        INFO(bad);
        CHECK(error_of([&] { parse_age(bad); }).category() == ErrorCategory::usage);
    }
}

TEST_CASE("parse_percent: with or without %", "[quota-cleanup]") {
    CHECK(parse_percent("80%") == 80.0);
    CHECK(parse_percent("80") == 80.0);
    CHECK(parse_percent("79.5%") == 79.5);
    CHECK(parse_percent("100") == 100.0);
    for (const char* bad :
         {"", "%", "0", "0%", "101%", "-5", "80%%", "8 0", "1e2", "inf", "nan", ".5", "5.", "1.2.3"}) {
        INFO(bad);
        CHECK(error_of([&] { parse_percent(bad); }).category() == ErrorCategory::usage);
    }
}

TEST_CASE("cleanup_search_criteria: a date two days after the cutoff", "[quota-cleanup]") {
    CHECK(cleanup_search_criteria(at(2024, 1, 1, 13)) == "UNDELETED BEFORE 3-Jan-2024");
    CHECK(cleanup_search_criteria(at(2023, 12, 30, 23)) == "UNDELETED BEFORE 1-Jan-2024");
    CHECK(cleanup_search_criteria(at(2024, 2, 28)) == "UNDELETED BEFORE 1-Mar-2024"); // leap year
}

TEST_CASE("select_for_cleanup: order and --until-below", "[quota-cleanup]") {
    const std::vector<CleanupCandidate> c{{0, 1, 100, at(2020, 5, 1)},
                                          {0, 2, 5000, at(2021, 1, 1)},
                                          {1, 7, 300, at(2019, 1, 1)},
                                          {1, 8, 5000, at(2022, 1, 1)}};
    SECTION("oldest first, everything") {
        CHECK(uids_of(select_for_cleanup(c, CleanupOrder::oldest_first, 0, std::nullopt)) ==
              std::vector<std::uint64_t>{7, 1, 2, 8});
    }
    SECTION("largest first, ties by date") {
        CHECK(uids_of(select_for_cleanup(c, CleanupOrder::largest_first, 0, std::nullopt)) ==
              std::vector<std::uint64_t>{2, 8, 7, 1});
    }
    SECTION("until below: stops once usage minus freed is below the target") {
        // usage 10000, target below 9700: 7 (300) leaves 9700, not below; 1 (100) leaves 9600.
        CHECK(uids_of(select_for_cleanup(c, CleanupOrder::oldest_first, 10000, 9700.0)) ==
              std::vector<std::uint64_t>{7, 1});
        CHECK(uids_of(select_for_cleanup(c, CleanupOrder::largest_first, 10000, 9700.0)) ==
              std::vector<std::uint64_t>{2});
    }
    SECTION("already below: nothing") {
        CHECK(select_for_cleanup(c, CleanupOrder::oldest_first, 1000, 5000.0).empty());
    }
    SECTION("not enough to get below: everything") {
        CHECK(select_for_cleanup(c, CleanupOrder::oldest_first, 100000, 10.0).size() == 4);
    }
}

TEST_CASE("maildir_info_flags: standard flags in ASCII order", "[quota-cleanup]") {
    CHECK(maildir_info_flags({}) == "");
    CHECK(maildir_info_flags({"\\Seen", "\\Flagged", "\\Answered"}) == "FRS");
    CHECK(maildir_info_flags({"\\seen", "$Forwarded", "\\Recent", "\\Draft", "\\Deleted"}) == "DST");
}

TEST_CASE("archive_path_component: never a path", "[quota-cleanup]") {
    mbx::test::check_table(archive_path_component, {{"alice", "alice"},
                                                    {"a.b-c_d+e@f", "a.b-c_d+e@f"},
                                                    {"../etc", "..%2Fetc"},
                                                    {"..", "%2E%2E"},
                                                    {".", "%2E"},
                                                    {"a b/ü", "a%20b%2F%C3%BC"},
                                                    {"", "%"}});
}

TEST_CASE("header_value: unfolded, case-insensitive, header only", "[quota-cleanup]") {
    const std::string m = "From: a@example.org\r\nmessage-id:\r\n <x1@example.org>\r\nSubject: hi\r\n\r\n"
                          "Message-ID: <body@example.org>\r\n";
    CHECK(header_value(m, "Message-ID") == "<x1@example.org>");
    CHECK(header_value(m, "Subject") == "hi");
    CHECK(!header_value(m, "Date"));
    CHECK(!header_value("Subject: x\n\nMessage-ID: <b>\n", "Message-ID"));
    CHECK(header_value("Message-IDX: no\nMessage-ID: <y>\n", "Message-ID") == "<y>");
    CHECK(header_value("X: 1\nMessage-ID: <z>", "Message-ID") == "<z>"); // no final newline
}

TEST_CASE("sha256_hex: FIPS 180-2 test vectors", "[quota-cleanup]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK(sha256_hex(std::string(55, 'x')).size() == 64); // padding edge: 55 and 56 bytes
    CHECK(sha256_hex(std::string(56, 'x')) != sha256_hex(std::string(55, 'x')));
}

TEST_CASE("cleanup_mailbox: refuses before connecting", "[quota-cleanup]") {
    mbx::config::Config cfg;
    mbx::SecretProvider secrets = [](const mbx::SecretSource&) -> mbx::Secret {
        throw std::logic_error("no secret needed");
    };
    mbx::NullProgress progress;
    const mbx::Session session{.config = cfg, .secrets = secrets, .progress = progress};
    CleanupRequest req{.user = "alice", .folders = parse_folder_list("Trash"), .older_than = 30 * 24h};
    SECTION("apply without [quota] archive-dir is a configuration error") {
        const auto e = error_of([&] { cleanup_mailbox(session, req); });
        CHECK(e.category() == ErrorCategory::config);
        CHECK_THAT(std::string(e.what()), Catch::Contains("archive-dir"));
    }
    SECTION("no age is a usage error") {
        req.older_than = {};
        const mbx::Session dry{.config = cfg, .secrets = secrets, .progress = progress, .dry_run = true};
        CHECK(error_of([&] { cleanup_mailbox(dry, req); }).category() == ErrorCategory::usage);
    }
}
