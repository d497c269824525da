// mbx audit: which ActiveSync versions servers speak and clients use, and who breaks before an
// upgrade (MIS_2; docs/commands/audit.md).
#include "subcommands.hpp"

#include <fmt/format.h>

namespace {

namespace po = mbx::cli::po;

} // namespace

namespace mbx_audit {

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
    std::string s;
    for (const auto& i : items) {
        if (!s.empty()) s += sep;
        s += i;
    }
    return s;
}

} // namespace mbx_audit

int main(int argc, char** argv) {
    return mbx::cli::run_tool(
        argc, argv,
        {
            .name = "audit",
            .summary = "ActiveSync protocol versions of servers and clients, and who breaks in an upgrade (MIS_2).",
            .usage = "mbx audit server URL... \n"
                     "       mbx audit clients --log FILE... [--log-format iis|combined|auto]\n"
                     "       mbx audit compat --target NAME | --target-versions LIST | --server URL  [--log FILE... | "
                     "--from-journal]\n"
                     "       mbx audit probe URL --user USER --as-version V",
            .description =
                "server: OPTIONS on URL/Microsoft-Server-ActiveSync (the versions and commands the server\n"
                "announces; TLS verified; Basic auth from [activesync]), CAPABILITY and ID for imap(s):// URLs.\n"
                "clients: streams access logs (IIS W3C, nginx/Apache combined; plain or .gz) into an inventory\n"
                "per user and device: client family and version, protocol versions, commands, statuses.\n"
                "compat: for each device, ok / at-risk / breaks against the versions a target server keeps, from\n"
                "the versions it was seen using and what its client is known to speak (a sourced table).\n"
                "probe: OPTIONS, Provision and FolderSync as a device speaking version V would send them.",
            .examples = "  mbx audit server https://mail.example.org\n"
                        "  mbx audit clients --log /var/log/nginx/eas.log.1.gz --log /var/log/nginx/eas.log\n"
                        "  mbx audit compat --target-versions 14.1,16.0,16.1 --log access.log --format csv\n"
                        "  mbx audit compat --target exchange-online --from-journal\n"
                        "  mbx audit probe https://mail.example.org --user eas-probe --as-version 12.1\n",
            .sections = {"activesync", "imap", "journal"},
            .formats = {mbx::out::Format::table, mbx::out::Format::csv, mbx::out::Format::json},
            .journaled = true,
            .options =
                [](auto& o) {
                    // One option a line, as --help lists them.
                    // clang-format off
            o.add_options()
                ("log", po::value<std::vector<std::string>>()->value_name("FILE"),
                 "clients, compat: an access log (repeatable; plain or gzip)")
                ("log-format", po::value<std::string>()->value_name("FORMAT"),
                 "clients, compat: iis, combined or auto (default: auto, per file)")
                ("rules", po::value<std::string>()->value_name("FILE"),
                 "clients, compat: extra client-recognition rules and capability rows (docs/commands/audit.md)")
                ("target", po::value<std::string>()->value_name("NAME"),
                 "compat: a target known by name: exchange-online (16.1 only from 2026-03-01)")
                ("target-versions", po::value<std::string>()->value_name("LIST"),
                 "compat: the versions the target server keeps, e.g. 14.1,16.0,16.1")
                ("server", po::value<std::string>()->value_name("URL"),
                 "compat: take the target versions from this server's OPTIONS")
                ("from-journal", "compat: the devices of the latest `mbx audit clients` run in the journal")
                ("user", po::value<std::string>()->value_name("USER"),
                 "server, probe: the account to authenticate as (default: [activesync] user)")
                ("as-version", po::value<std::vector<std::string>>()->value_name("V"),
                 "probe: the protocol version to speak (repeatable)")
                ("device-id", po::value<std::string>()->value_name("ID"),
                 "probe: the DeviceId to use (default: MBXPROBE + a hash of the user)");
                    // clang-format on
                },
            .positional = {{"words", -1}},
            .subcommands = {{"server", {"user"}, mbx_audit::server},
                            {"clients", {"log", "log-format", "rules"}, mbx_audit::clients},
                            {"compat",
                             {"log", "log-format", "rules", "target", "target-versions", "server", "from-journal",
                              "user"},
                             mbx_audit::compat},
                            {"probe", {"user", "as-version", "device-id"}, mbx_audit::probe}},
        });
}
