#include "mbx/kb/catalogue.hpp"

#include <array>
#include <utility>

// The catalogue data. Facts come from shared/reference/kb-mis-error-codes.txt (a Mobile
// Information Server 2002 article); the text is written for today's servers: the "Exchange
// server" of the article is whichever IMAP/ActiveSync store sits behind the sync endpoint
// (Exchange, Dovecot behind Z-Push or SOGo, ...), and mailbox limits live in the directory.
// Where the article gives only a name, the entry says so instead of inventing a fix.
// Keep every sentence in our own words: catalogue_test.cpp fails on 8 copied words in a row.

namespace mbx::kb {
namespace {

// Commands mbxkit ships today. Add a prefix here when a command lands.
constexpr std::array<std::string_view, 7> kShipped{"mbx audit", "mbx diagnose", "mbx explain",    "mbx merge",
                                                   "mbx ping",  "mbx quota",    "mbx reprovision"};

RemediationCommand cmd(std::string command, std::string purpose) {
    const bool available = is_shipped(command);
    return RemediationCommand{std::move(command), std::move(purpose), available};
}

MisCode mis_0() {
    return MisCode{
        0,
        "SYNC_STATUS_CODE_INVALID",
        "invalid",
        "Invalid or unset sync status",
        "",
        {"The name marks a status value with no meaning of its own: the sync engine handed back "
         "a result that was never set to a real outcome.",
         "The source article lists only the name; it explains nothing further."},
        {"The article offers no fix for this code.",
         "Treat it as a failure report that lost its detail: read the server's ActiveSync and "
         "web server log lines for this device at that time and look for the real HTTP or "
         "protocol status there.",
         "Check the account, its folders and the device partnership with mbx diagnose."},
        {cmd("mbx diagnose USER --device ID", "check the account, the folders a sync needs and the device partnership"),
         cmd("mbx explain --list", "list the codes that do carry a meaning")},
        ArticleCoverage::name_only};
}

MisCode mis_1() {
    return MisCode{1,
                   "SYNC_STATUS_CODE_SUCCESS",
                   "success",
                   "Sync round finished normally",
                   "",
                   {"Not a failure: the value a sync engine reports when a round completed without error.",
                    "The source article lists only the name."},
                   {"The article offers no fix for this code, and none is needed: it reports success.",
                    "If the user still misses items or sees stale data although the log shows this code, "
                    "the transfer worked and the trouble lies elsewhere: check the folders and the device "
                    "state with mbx diagnose."},
                   {cmd("mbx diagnose USER", "look for folder or device problems behind a sync that "
                                             "reports success but shows the wrong data")},
                   ArticleCoverage::name_only};
}

MisCode mis_2() {
    return MisCode{2,
                   "SYNC_STATUS_CODE_PROTOCOL_VER",
                   "protocol_ver",
                   "Device and server have no protocol version in common",
                   "The device reports that the server it was pointed at does not accept its sync "
                   "software's version, and that it has switched automatic sync off.",
                   {"The ActiveSync protocol version the device speaks is not one the server accepts: "
                    "the two sides disagree on the protocol version.",
                    "Today this usually follows a server upgrade or migration (Exchange, Z-Push, SOGo) that "
                    "changed the versions the server advertises, or a device whose client is too old or "
                    "too new for that server."},
                   {"Find out which protocol versions the server advertises and which ones the affected "
                    "devices really use.",
                    "Bring them together: update the mail client or firmware on the device to a release "
                    "that speaks one of the server's versions, or, where it is safe, let the server offer "
                    "the version the devices need again.",
                    "In the original setting (Pocket PC 2002 against MIS 1.5) that meant installing the "
                    "ActiveSyncUpdate.cab client update from the MIS 1.5 Enterprise Edition CD, or the "
                    "newest Pocket PC 2002 update from the device's manufacturer.",
                    "Before the next server change, check which clients would be left without a shared "
                    "version."},
                   {cmd("mbx audit server URL", "list the protocol versions and commands the server advertises"),
                    cmd("mbx audit clients --log FILE",
                        "count the protocol versions and user agents real clients use, from access logs"),
                    cmd("mbx audit compat --target-versions VERSIONS",
                        "predict which clients lose every shared version when the server offers VERSIONS"),
                    cmd("mbx audit probe URL --user USER --as-version V",
                        "make a real sync request at version V and show how the server answers")},
                   ArticleCoverage::full};
}

MisCode mis_3() {
    return MisCode{3,
                   "SYNC_STATUS_CODE_SYNCKEY",
                   "synckey",
                   "Sync key on the device does not match the server's",
                   "The device reports a sync key mismatch and tells the user to switch server sync off "
                   "and on again for the data type that failed, such as Inbox, Calendar or Contacts.",
                   {"A restore of the device from an old backup left its sync state behind the server's.",
                    "The user's mailbox was restored, or moved to another server or store, so the state "
                    "the server keeps no longer matches the device.",
                    "The sync server software was upgraded and its stored sync state changed."},
                   {"On the device, turn server sync off for each data type that fails, then turn it back "
                    "on; the next sync starts again from a fresh key.",
                    "No server command repairs the key. When a mailbox move or a server upgrade will "
                    "cause this for many devices, warn the users beforehand; on current servers removing "
                    "the device partnership forces the same full resync.",
                    "Before asking the user to resync, confirm that the account, its folders and the "
                    "device partnership are healthy."},
                   {cmd("mbx diagnose USER --device ID",
                        "confirm the account, folders and device partnership are sound, so a resync on "
                        "the device is all that is needed")},
                   ArticleCoverage::full};
}

MisCode mis_4() {
    return MisCode{4,
                   "SYNC_STATUS_CODE_PROTOCOL",
                   "protocol",
                   "Sync stopped by a protocol error on the server side",
                   "The device reports that sync could not finish because of a fault in the server "
                   "software, and asks the user to contact the administrator.",
                   {"The name points at a protocol-level failure: the server rejected the request or "
                    "answered in a form the device could not use.",
                    "The source article gives the device text only, with no explanation."},
                   {"The article offers no fix for this code.",
                    "Read the server's ActiveSync and web server logs for this device at the failing time: "
                    "HTTP 400 or 500 answers and WBXML status values show what the server objected to.",
                    "Check the account and the endpoint with mbx diagnose, then replay a sync at the "
                    "device's protocol version with mbx audit probe."},
                   {cmd("mbx diagnose USER --device ID", "check the account, its folders and the device partnership"),
                    cmd("mbx audit probe URL --user USER --as-version V",
                        "replay a sync at the device's protocol version and show the server's answer")},
                   ArticleCoverage::message_only};
}

MisCode mis_5() {
    return MisCode{
        5,
        "SYNC_STATUS_CODE_SYNC_SERVER",
        "sync_server",
        "Sync server failed: backend down, account damaged or client too new",
        "The device reports that sync failed on a fault in the server software and asks the "
        "user to contact the administrator if it keeps happening.",
        {"The mail store behind the sync endpoint (Exchange, or the IMAP backend of Z-Push or "
         "SOGo) was down or did not answer.",
         "The user's provisioned account or mailbox is damaged: this user fails every time "
         "while other users sync normally.",
         "The device runs a newer sync ROM than the server's ActiveSync (MSAS) version can "
         "work with."},
        {"If the mail store was unavailable, let the device sync again once the store is back; "
         "nothing on the device has to change.",
         "If only this user fails, treat the account as damaged: create a new account and "
         "mailbox, provision it, copy the old mailbox's content into it (the article used the "
         "Exmerge.exe mailbox merge tool), log in as the new account to check it, then move the "
         "user over.",
         "If the failures began after a device update, compare the client's protocol version "
         "with the versions the server supports."},
        {cmd("mbx ping --user USER", "check that the directory and the mail store answer and that an admin login for "
                                     "this user works: a failing server, or only this account"),
         cmd("mbx diagnose USER", "tell an unavailable server from a damaged account"),
         cmd("mbx reprovision USER --new-uid NEWUID",
             "create a fresh account and mailbox, merge the old content, verify the logon and "
             "cut over; resumable and undoable"),
         cmd("mbx merge --from OLD --to NEW",
             "copy the mailbox content from the old account into the new one (the Exmerge "
             "step)"),
         cmd("mbx audit compat --target-versions VERSIONS",
             "check whether the device's newer client still shares a version with the server")},
        ArticleCoverage::full};
}

MisCode mis_6() {
    return MisCode{6,
                   "SYNC_STATUS_CODE_CONVERSION",
                   "conversion",
                   "An item could not be converted for the device",
                   "",
                   {"The name suggests the server could not translate an item between the mailbox's "
                    "format and the one sent to the device (a message, appointment or contact whose "
                    "content the converter refuses).",
                    "The source article lists only the name."},
                   {"The article offers no fix for this code.",
                    "Find the item being synced at that moment in the server's logs; malformed MIME, "
                    "unusual recurrence rules and very large attachments are the usual suspects.",
                    "Check the user's folders with mbx diagnose."},
                   {cmd("mbx diagnose USER", "check the folder that was syncing and the items in it")},
                   ArticleCoverage::name_only};
}

MisCode mis_7() {
    return MisCode{7,
                   "SYNC_STATUS_CODE_CONFLICT",
                   "conflict",
                   "Device and server changed the same item",
                   "",
                   {"The name suggests one item was changed both on the device and on the server between "
                    "two syncs and the conflict rule could not settle it.",
                    "The source article lists only the name."},
                   {"The article offers no fix for this code.",
                    "Check which copy survived and whether the other change was lost. If the error comes "
                    "back on every sync, one item is stuck: edit or remove it on one side.",
                    "Check the user's folders with mbx diagnose."},
                   {cmd("mbx diagnose USER", "check the user's folders for the item that keeps "
                                             "conflicting")},
                   ArticleCoverage::name_only};
}

MisCode mis_8() {
    return MisCode{
        8,
        "SYNC_STATUS_CODE_OBJ_NOT_FOUND",
        "obj_not_found",
        "Server could not open a folder the sync needs",
        "The device reports that Inbox sync could not finish and that it has to fetch all of "
        "the Inbox from the sync server again.",
        {"The sync server failed to open the user's Inbox on the mail store.",
         "The Calendar and Contacts folders can fail the same way.",
         "On today's stores that means a folder that is missing, renamed, or unreadable for the "
         "user (permissions, a damaged index)."},
        {"Usually nothing: the device runs a recovery sync by itself on a later round.",
         "If the error keeps coming back, check that the folders a sync needs exist and open "
         "for the user."},
        {cmd("mbx diagnose USER", "check that Inbox, Calendar and Contacts exist and can be opened for the user")},
        ArticleCoverage::full};
}

MisCode mis_9() {
    return MisCode{9,
                   "SYNC_STATUS_CODE_DISK_SPACE",
                   "disk_space",
                   "Mailbox over its size limit",
                   "The device reports that sync failed because the mailbox has no room left, and "
                   "suggests removing old items before the next attempt.",
                   {"The mailbox has reached, or nearly reached, the size limits set for it. Today those "
                    "limits are kept in the directory (LDAP quota attributes) and enforced by the mail "
                    "server."},
                   {"Free space by removing old items until the mailbox is back below its limit.",
                    "Or have an administrator raise the limits for this mailbox.", "Then let the device sync again."},
                   {cmd("mbx quota check USER", "show the mailbox's usage against its limits"),
                    cmd("mbx quota cleanup USER --folder Trash,Junk --older-than 30d",
                        "remove old items, archived first so the step can be undone"),
                    cmd("mbx quota raise USER --by 1G", "raise the limit in the directory; undoable")},
                   ArticleCoverage::full};
}

std::vector<MisCode> build_catalogue() {
    return {mis_0(), mis_1(), mis_2(), mis_3(), mis_4(), mis_5(), mis_6(), mis_7(), mis_8(), mis_9()};
}

} // namespace

std::span<const std::string_view> shipped_commands() { return kShipped; }

bool is_shipped(std::string_view command) {
    for (std::string_view prefix : kShipped) {
        if (command.starts_with(prefix) && (command.size() == prefix.size() || command[prefix.size()] == ' '))
            return true;
    }
    return false;
}

std::span<const MisCode> all_codes() {
    static const std::vector<MisCode> catalogue = build_catalogue();
    return catalogue;
}

std::string MisCode::code() const { return "MIS_" + std::to_string(number); }

} // namespace mbx::kb
