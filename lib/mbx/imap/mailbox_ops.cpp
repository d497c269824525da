#include "mbx/imap/mailbox_ops.hpp"
#include "mbx/core/text.hpp"

#include "mbx/imap/response.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace mbx::imap {
namespace {

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// Runs `command` and turns a NO/BAD into an Error naming `what`.
Response run(Connection& conn, const Command& command, const std::string& what) {
    Response r = conn.command(command);
    if (!r.ok()) throw command_error(what, r);
    return r;
}

// Parses every untagged `keyword` line of `r`.
std::vector<Untagged> untagged_of(const Response& r, std::string_view keyword) {
    std::vector<Untagged> out;
    for (const ResponseLine* line : r.data(keyword)) out.push_back(parse_untagged(*line));
    return out;
}

bool is_item_name(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok) return false;
    }
    return true;
}

// RFC 3501 §9 sequence-set: numbers, "*", ":" and ",".
bool is_sequence_set(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || c == '*' || c == ':' || c == ',')) return false;
    }
    return true;
}

// Files one untagged line of a SELECT: "* n EXISTS" and "* OK [UIDVALIDITY n]" etc.
void note_select_line(SelectInfo& info, bool& has_validity, bool& has_exists, const ResponseLine& line) {
    // Only EXISTS and the OK codes matter here; FLAGS and other data are not parsed.
    std::string keyword = untagged_keyword(line.head());
    if (keyword != "EXISTS" && keyword != "OK") return;
    Untagged u = parse_untagged(line);
    if (u.keyword == "EXISTS" && u.number) {
        info.exists = *u.number;
        has_exists = true;
        return;
    }
    if (u.keyword != "OK" || u.code.empty()) return;
    std::vector<Value> code = parse_values(u.code);
    if (code.size() != 2 || !code[0].is_atom()) return;
    std::string name = code[0].keyword();
    if (name == "UIDVALIDITY") {
        info.uidvalidity = code[1].as_number();
        has_validity = true;
    } else if (name == "UIDNEXT") {
        info.uidnext = code[1].as_number();
    }
}

} // namespace

Error command_error(const std::string& what, const Response& response) {
    std::string code_name = ascii_upper(response.code.substr(0, response.code.find(' ')));
    std::string detail = response.status == Status::bad ? "BAD " : "NO ";
    if (!response.code.empty()) detail += "[" + response.code + "] ";
    detail += response.text;
    std::string message = "cannot " + what + ": the server said " + in_quotes(detail);
    // RFC 5530 response codes say whether trying again later can help.
    if (code_name == "OVERQUOTA") {
        return Error(ErrorCategory::temporary, message, "raise the quota with `mbx quota raise`");
    }
    if (code_name == "UNAVAILABLE" || code_name == "LIMIT") {
        return Error(ErrorCategory::temporary, message, "try again later");
    }
    if (code_name == "NONEXISTENT") {
        return Error(ErrorCategory::data, message, "check the mailbox name");
    }
    return Error(ErrorCategory::data, message);
}

std::vector<ListEntry> list_mailboxes(Connection& conn) {
    Command cmd("LIST");
    cmd.astring("").astring("*");
    // RETURN options are LIST-EXTENDED syntax (RFC 5258 §3); without it a server with
    // SPECIAL-USE may still put the attributes into a plain LIST (RFC 6154 §1).
    if (conn.has_capability("SPECIAL-USE") && conn.has_capability("LIST-EXTENDED")) {
        cmd.raw("RETURN (SPECIAL-USE)");
    }
    Response r = run(conn, cmd, "list the mailboxes on " + in_quotes(conn.uri()));
    std::vector<ListEntry> out;
    for (const Untagged& u : untagged_of(r, "LIST")) out.push_back(decode_list(u));
    return out;
}

Namespaces namespaces(Connection& conn) {
    if (conn.has_capability("NAMESPACE")) {
        Response r = run(conn, Command("NAMESPACE"), "read the namespaces of " + in_quotes(conn.uri()));
        auto lines = untagged_of(r, "NAMESPACE");
        if (lines.size() != 1)
            throw Error(ErrorCategory::data, "cannot read the namespaces of " + in_quotes(conn.uri()) +
                                                 ": the server sent " + std::to_string(lines.size()) +
                                                 " NAMESPACE responses instead of one");
        return decode_namespace(lines.front());
    }
    // RFC 3501 §6.3.8: LIST "" "" answers the hierarchy delimiter of the root.
    Command cmd("LIST");
    cmd.astring("").astring("");
    Response r = run(conn, cmd, "read the hierarchy delimiter of " + in_quotes(conn.uri()));
    Namespaces n;
    NamespaceEntry personal;
    for (const Untagged& u : untagged_of(r, "LIST")) personal.delimiter = decode_list(u).delimiter;
    n.personal.push_back(std::move(personal));
    return n;
}

void require_inbox(Connection& conn, std::string_view user) {
    Command cmd("STATUS");
    cmd.mailbox("INBOX").raw("(MESSAGES)");
    Response r = conn.command(cmd);
    if (r.ok()) return;
    const Error e = command_error("open the INBOX of " + in_quotes(user), r);
    if (e.category() != ErrorCategory::data) throw e;
    throw Error(ErrorCategory::auth, e.what(),
                "the server let the login in but has no mailbox for " + in_quotes(user) +
                    ": check the name (a proxy login is granted for any name), or create the mailbox");
}

StatusEntry status(Connection& conn, std::string_view mailbox, const std::vector<std::string>& items) {
    std::string list = "(";
    for (const auto& item : items) {
        if (!is_item_name(item)) {
            throw Error(ErrorCategory::internal, "invalid STATUS item " + in_quotes(item));
        }
        if (list.size() > 1) list += ' ';
        list += item;
    }
    list += ')';
    Command cmd("STATUS");
    cmd.mailbox(mailbox).raw(list);
    Response r = run(conn, cmd, "get the status of mailbox " + in_quotes(mailbox));
    auto lines = untagged_of(r, "STATUS");
    if (lines.empty()) {
        throw Error(ErrorCategory::data,
                    "cannot get the status of mailbox " + in_quotes(mailbox) + ": the server sent no STATUS data");
    }
    return decode_status(lines.back());
}

Command get_quota_root_command(std::string_view mailbox) {
    Command cmd("GETQUOTAROOT");
    cmd.mailbox(mailbox);
    return cmd;
}

QuotaRootInfo get_quota_root(Connection& conn, std::string_view mailbox) {
    return quota_root_result(mailbox, conn.command(get_quota_root_command(mailbox)));
}

QuotaRootInfo quota_root_result(std::string_view mailbox, const Response& r) {
    if (!r.ok()) throw command_error("get the quota of mailbox " + in_quotes(mailbox), r);
    QuotaRootInfo info;
    for (const Untagged& u : untagged_of(r, "QUOTAROOT")) {
        QuotaRoot root = decode_quota_root(u);
        info.roots.insert(info.roots.end(), root.roots.begin(), root.roots.end());
    }
    for (const Untagged& u : untagged_of(r, "QUOTA")) info.quotas.push_back(decode_quota(u));
    return info;
}

Command get_quota_command(std::string_view root) {
    Command cmd("GETQUOTA");
    cmd.astring(root);
    return cmd;
}

Command set_quota_command(std::string_view root, std::optional<std::uint64_t> storage_kib,
                          const ResourceLimits& others) {
    Command cmd("SETQUOTA");
    cmd.astring(root);
    // RFC 9208 §4.1: an empty list removes every limit of the root.
    std::string list;
    if (storage_kib) list = "STORAGE " + std::to_string(*storage_kib);
    for (const auto& [name, limit] : others) {
        const bool atom = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        });
        if (!atom || iequals(name, "STORAGE"))
            throw Error(ErrorCategory::internal, "invalid quota resource " + in_quotes(name));
        list += (list.empty() ? "" : " ") + name + " " + std::to_string(limit);
    }
    cmd.raw("(" + list + ")");
    return cmd;
}

Quota get_quota(Connection& conn, std::string_view root) {
    Response r = run(conn, get_quota_command(root), "get the quota root " + in_quotes(root));
    for (const Untagged& u : untagged_of(r, "QUOTA")) {
        Quota q = decode_quota(u);
        if (q.root == root) return q;
    }
    throw Error(ErrorCategory::data,
                "cannot get the quota root " + in_quotes(root) + ": the server sent no QUOTA response for it");
}

void set_quota(Connection& conn, std::string_view root, std::optional<std::uint64_t> storage_kib,
               const ResourceLimits& others) {
    run(conn, set_quota_command(root, storage_kib, others), "set the quota root " + in_quotes(root));
}

std::string other_user_mailbox(const Namespaces& namespaces, std::string_view user) {
    if (namespaces.other_users.empty())
        throw Error(ErrorCategory::config,
                    "the IMAP server shows the admin no other users' namespace (NAMESPACE), so no user's mailbox "
                    "can be named",
                    "log in as a real admin ([imap] master-user: Cyrus `admins:`), or use [quota] limits = ldap "
                    "and backend = imap");
    const NamespaceEntry& ns = namespaces.other_users.front();
    if (user.empty()) throw Error(ErrorCategory::data, "an empty user name names no mailbox");
    if (ns.delimiter && user.find(*ns.delimiter) != std::string_view::npos)
        throw Error(ErrorCategory::data,
                    "user " + in_quotes(user) + " contains the hierarchy delimiter '" + std::string(1, *ns.delimiter) +
                        "' of the other users' namespace " + in_quotes(ns.prefix),
                    "its mailbox cannot be named as the admin (Cyrus maps such names: use the per-user backend)");
    return ns.prefix + std::string(user);
}

SelectInfo select(Connection& conn, std::string_view mailbox, bool read_only) {
    Command cmd(read_only ? "EXAMINE" : "SELECT");
    cmd.mailbox(mailbox);
    Response r = run(conn, cmd, "open mailbox " + in_quotes(mailbox));
    SelectInfo info;
    bool has_validity = false, has_exists = false;
    for (const ResponseLine& line : r.untagged) {
        note_select_line(info, has_validity, has_exists, line);
    }
    if (!has_validity || !has_exists) {
        throw Error(ErrorCategory::data,
                    "cannot open mailbox " + in_quotes(mailbox) + ": the server sent no UIDVALIDITY or EXISTS");
    }
    info.read_only = ascii_upper(r.code) == "READ-ONLY";
    return info;
}

std::vector<std::uint64_t> uid_search(Connection& conn, std::string_view criteria) {
    Command cmd("");
    cmd.raw(criteria);
    return uid_search(conn, cmd);
}

void uid_fetch(Connection& conn, std::string_view uid_set, std::string_view items,
               const std::function<void(FetchItem&)>& callback) {
    if (!is_sequence_set(uid_set)) {
        throw Error(ErrorCategory::internal, "invalid UID set " + in_quotes(uid_set));
    }
    Command cmd("UID FETCH");
    cmd.raw(uid_set).raw(items);
    // Read the responses one at a time instead of through command(), which would hold every
    // FETCH response of a large mailbox in memory until the completion.
    std::string tag = conn.next_tag();
    conn.send_line(tag + " " + cmd.describe());
    for (;;) {
        ResponseLine line = conn.read_line();
        const std::string& head = line.head();
        if (head.starts_with("* ")) {
            if (untagged_keyword(head) == "FETCH") {
                FetchItem item = decode_fetch(parse_untagged(std::move(line)));
                callback(item);
            }
            continue;
        }
        auto completion = parse_completion(head);
        if (!completion || completion->tag != tag) {
            throw Error(ErrorCategory::data,
                        "cannot fetch messages: unexpected line " + in_quotes(head.substr(0, 200)));
        }
        if (completion->status == Status::ok) return;
        Response r{completion->tag, completion->status, completion->code, completion->text, {}};
        throw command_error("fetch messages " + in_quotes(uid_set), r);
    }
}

namespace {

// A flag atom: `\Seen`, `$Forwarded`, `Junk`: atom characters only (RFC 3501 flag-keyword),
// with at most a leading backslash.
bool is_flag_atom(std::string_view f) {
    if (!f.empty() && f.front() == '\\') f.remove_prefix(1);
    if (f.empty()) return false;
    for (unsigned char c : f) {
        if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' || c == '"' ||
            c == '\\' || c == ']')
            return false;
    }
    return true;
}

std::string flag_list(const std::vector<std::string>& flags) {
    std::string out = "(";
    for (const auto& f : flags) {
        if (!is_flag_atom(f)) throw Error(ErrorCategory::internal, "invalid IMAP flag " + in_quotes(f));
        if (ascii_upper(f) == "\\RECENT") continue; // set by the server only
        if (out.size() > 1) out += ' ';
        out += f;
    }
    return out + ")";
}

// "dd-Mon-yyyy hh:mm:ss +zzzz" (RFC 3501 date-time), the day possibly space-padded.
bool is_date_time(std::string_view s) {
    if (s.size() != 26) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = s[i];
        const bool ok = c == ' ' || c == '-' || c == ':' || c == '+' || (c >= '0' && c <= '9') ||
                        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (!ok) return false;
    }
    return true;
}

} // namespace

std::string uid_set_of(std::vector<std::uint64_t> uids) {
    if (uids.empty()) throw Error(ErrorCategory::internal, "empty UID set");
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    if (uids.front() == 0) throw Error(ErrorCategory::internal, "UID 0 in a UID set");
    std::string out;
    for (std::size_t i = 0; i < uids.size();) {
        std::size_t j = i;
        while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(uids[i]);
        if (j > i) out += ':' + std::to_string(uids[j]);
        i = j + 1;
    }
    return out;
}

void uid_store(Connection& conn, std::string_view uid_set, std::string_view action,
               const std::vector<std::string>& flags) {
    if (!is_sequence_set(uid_set)) throw Error(ErrorCategory::internal, "invalid UID set " + in_quotes(uid_set));
    const std::string a = ascii_upper(action);
    if (a != "+FLAGS" && a != "-FLAGS" && a != "FLAGS" && a != "+FLAGS.SILENT" && a != "-FLAGS.SILENT" &&
        a != "FLAGS.SILENT")
        throw Error(ErrorCategory::internal, "invalid STORE action " + in_quotes(action));
    Command cmd("UID STORE");
    cmd.raw(uid_set).raw(a).raw(flag_list(flags));
    run(conn, cmd, "set flags on " + in_quotes(uid_set));
}

void uid_expunge(Connection& conn, std::string_view uid_set) {
    if (!is_sequence_set(uid_set)) throw Error(ErrorCategory::internal, "invalid UID set " + in_quotes(uid_set));
    if (!conn.has_capability("UIDPLUS"))
        throw Error(ErrorCategory::unavailable, "the IMAP server has no UIDPLUS (RFC 4315)",
                    "mbxkit never sends a plain EXPUNGE, which could remove other deleted messages");
    Command cmd("UID EXPUNGE");
    cmd.raw(uid_set);
    run(conn, cmd, "expunge " + in_quotes(uid_set));
}

Command append_command(std::string_view mailbox, const std::vector<std::string>& flags, std::string_view internaldate,
                       std::string&& message) {
    if (!internaldate.empty() && !is_date_time(internaldate))
        throw Error(ErrorCategory::internal, "invalid IMAP date-time " + in_quotes(internaldate));
    Command cmd("APPEND");
    cmd.mailbox(mailbox).raw(flag_list(flags));
    if (!internaldate.empty()) cmd.raw("\"" + std::string(internaldate) + "\"");
    cmd.literal(std::move(message));
    return cmd;
}

AppendResult append_result(std::string_view mailbox, const Response& r) {
    if (!r.ok()) throw command_error("append to " + in_quotes(mailbox), r);
    AppendResult result;
    // [APPENDUID uidvalidity uid]
    if (ascii_upper(r.code).rfind("APPENDUID ", 0) == 0) {
        std::uint64_t v = 0, u = 0;
        if (std::sscanf(r.code.c_str() + 10, "%" SCNu64 " %" SCNu64, &v, &u) == 2) {
            result.uidvalidity = v;
            result.uid = u;
        }
    }
    return result;
}

std::optional<std::vector<std::uint64_t>> parse_uid_set(std::string_view text, std::size_t max) {
    auto number = [](std::string_view& t) -> std::optional<std::uint64_t> {
        std::size_t n = 0;
        std::uint64_t v = 0;
        for (; n < t.size() && t[n] >= '0' && t[n] <= '9'; ++n) {
            if (n >= 10) return std::nullopt; // nz-number is 32 bits
            v = v * 10 + static_cast<std::uint64_t>(t[n] - '0');
        }
        if (n == 0 || v == 0) return std::nullopt;
        t.remove_prefix(n);
        return v;
    };
    std::vector<std::uint64_t> out;
    for (;;) {
        const auto first = number(text);
        if (!first) return std::nullopt;
        std::uint64_t last = *first;
        if (!text.empty() && text.front() == ':') {
            text.remove_prefix(1);
            const auto second = number(text);
            if (!second) return std::nullopt;
            last = *second;
        }
        const std::uint64_t lo = std::min(*first, last), hi = std::max(*first, last);
        if (hi - lo >= max || out.size() + (hi - lo + 1) > max) return std::nullopt;
        for (std::uint64_t u = lo; u <= hi; ++u) out.push_back(u);
        if (text.empty()) return out;
        if (text.front() != ',') return std::nullopt;
        text.remove_prefix(1);
    }
}

std::optional<AppendUids> append_uids(std::string_view code, std::size_t count) {
    constexpr std::string_view kName = "APPENDUID ";
    if (code.size() < kName.size() || !iequals(code.substr(0, kName.size()), kName)) return std::nullopt;
    code.remove_prefix(kName.size());
    const auto space = code.find(' ');
    if (space == std::string_view::npos || space == 0 || space > 10) return std::nullopt;
    AppendUids out;
    for (const char c : code.substr(0, space)) {
        if (c < '0' || c > '9') return std::nullopt;
        out.uidvalidity = out.uidvalidity * 10 + static_cast<std::uint64_t>(c - '0');
    }
    auto uids = parse_uid_set(code.substr(space + 1), count);
    if (out.uidvalidity == 0 || !uids || uids->size() != count) return std::nullopt;
    out.uids = std::move(*uids);
    return out;
}

AppendResult append(Connection& conn, std::string_view mailbox, const std::vector<std::string>& flags,
                    std::string_view internaldate, std::string_view message) {
    Response r = conn.command(append_command(mailbox, flags, internaldate, std::string(message)));
    return append_result(mailbox, r);
}

std::optional<std::string> multiappend_start(std::string_view mailbox) {
    Command cmd("APPEND");
    cmd.mailbox(mailbox);
    if (cmd.has_literals()) return std::nullopt;
    return cmd.describe();
}

std::string multiappend_item(const std::vector<std::string>& flags, std::string_view internaldate, std::size_t size) {
    if (!internaldate.empty() && !is_date_time(internaldate))
        throw Error(ErrorCategory::internal, "invalid IMAP date-time " + in_quotes(internaldate));
    std::string out = " " + flag_list(flags);
    if (!internaldate.empty()) out += " \"" + std::string(internaldate) + "\"";
    return out + " {" + std::to_string(size) + "+}\r\n";
}

std::vector<std::string> subscribed_mailboxes(Connection& conn) {
    Command cmd("LSUB");
    cmd.astring("").astring("*");
    Response r = run(conn, cmd, "list the subscriptions on " + in_quotes(conn.uri()));
    std::vector<std::string> out;
    // LSUB data has LIST's shape (RFC 3501 §7.2.3); decode it as LIST.
    for (const ResponseLine* line : r.data("LSUB")) {
        Untagged u = parse_untagged(*line);
        u.keyword = "LIST";
        out.push_back(decode_list(u).name);
    }
    return out;
}

void subscribe(Connection& conn, std::string_view mailbox) {
    Command cmd("SUBSCRIBE");
    cmd.mailbox(mailbox);
    run(conn, cmd, "subscribe to " + in_quotes(mailbox));
}

void create_mailbox(Connection& conn, std::string_view mailbox, std::string_view special_use) {
    Command cmd("CREATE");
    cmd.mailbox(mailbox);
    if (!special_use.empty() && conn.has_capability("CREATE-SPECIAL-USE")) {
        if (!is_flag_atom(special_use) || special_use.front() != '\\')
            throw Error(ErrorCategory::internal, "invalid special-use " + in_quotes(special_use));
        cmd.raw("(USE (" + std::string(special_use) + "))");
    }
    Response r = conn.command(cmd);
    if (r.ok() || ascii_upper(r.code) == "ALREADYEXISTS") return;
    throw command_error("create mailbox " + in_quotes(mailbox), r);
}

std::vector<std::uint64_t> uid_search(Connection& conn, const Command& criteria) {
    Command cmd("UID SEARCH");
    for (const auto& piece : criteria.pieces()) {
        if (piece.literal) cmd.literal(piece.text);
        else if (!piece.text.empty()) cmd.raw(piece.text);
    }
    Response r = run(conn, cmd, "search the selected mailbox");
    std::vector<std::uint64_t> uids;
    for (const Untagged& u : untagged_of(r, "SEARCH")) {
        SearchResult s = decode_search(u);
        uids.insert(uids.end(), s.ids.begin(), s.ids.end());
    }
    return uids;
}

std::vector<std::pair<std::string, std::string>>
id(Connection& conn, const std::vector<std::pair<std::string, std::string>>& client_fields) {
    if (!conn.has_capability("ID"))
        throw Error(ErrorCategory::data,
                    "cannot send ID to " + in_quotes(conn.uri()) + ": the server lacks the ID capability");
    auto safe = [](std::string_view v) {
        for (char c : v)
            if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return false;
        return !v.empty();
    };
    std::string list;
    for (const auto& [name, value] : client_fields) {
        if (!safe(name) || !safe(value)) throw Error(ErrorCategory::internal, "invalid ID field " + in_quotes(name));
        list += list.empty() ? "(" : " ";
        list += "\"" + name + "\" \"" + value + "\"";
    }
    list += list.empty() ? "NIL" : ")";
    Command cmd("ID");
    cmd.raw(list);
    Response r = run(conn, cmd, "send ID to " + in_quotes(conn.uri()));
    std::vector<std::pair<std::string, std::string>> out;
    for (const Untagged& u : untagged_of(r, "ID")) {
        if (u.arguments.size() != 1)
            throw Error(ErrorCategory::data, "malformed ID response from " + in_quotes(conn.uri()));
        if (u.arguments[0].is_nil()) continue;
        const auto& items = u.arguments[0].list();
        if (items.size() % 2 != 0 || items.size() > 60)
            throw Error(ErrorCategory::data, "malformed ID response from " + in_quotes(conn.uri()));
        for (std::size_t i = 0; i < items.size(); i += 2)
            out.emplace_back(items[i].as_string(), items[i + 1].as_nstring().value_or(""));
    }
    return out;
}

std::string_view server_kind_name(ServerKind kind) {
    switch (kind) {
    case ServerKind::dovecot: return "dovecot";
    case ServerKind::cyrus: return "cyrus";
    case ServerKind::other: return "other";
    }
    return "other";
}

ServerKind server_kind_of(const std::vector<std::pair<std::string, std::string>>& fields) {
    for (const auto& [name, value] : fields) {
        if (!iequals(name, "name")) continue;
        const std::string v = ascii_lower(value);
        if (v.find("dovecot") != std::string::npos) return ServerKind::dovecot;
        if (v.find("cyrus") != std::string::npos) return ServerKind::cyrus;
    }
    return ServerKind::other;
}

ServerKind server_kind(Connection& conn, std::string_view configured, std::string_view setting) {
    if (configured == "dovecot") return ServerKind::dovecot;
    if (configured == "cyrus") return ServerKind::cyrus;
    if (configured == "other") return ServerKind::other;
    if (!configured.empty() && configured != "auto")
        throw Error(ErrorCategory::config, "invalid " + std::string(setting) + " " + in_quotes(configured),
                    "use auto, dovecot, cyrus or other");
    if (!conn.has_capability("ID")) return ServerKind::other;
    try {
        return server_kind_of(id(conn, {{"name", "mbxkit"}}));
    } catch (const Error& e) {
        if (e.category() == ErrorCategory::unavailable || e.category() == ErrorCategory::interrupted) throw;
        return ServerKind::other; // a malformed or refused ID: advice stays with IMAP
    }
}

} // namespace mbx::imap
