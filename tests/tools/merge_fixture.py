#!/usr/bin/python3
"""IMAP helper for the mbx merge tool tests (standard library only).

Fills a source mailbox over IMAP (APPEND with flags and INTERNALDATE, master login) and reads a
mailbox back as JSON so the tests compare what the servers hold, never what the tool printed.

  merge_fixture.py [--env FILE] reset USER          empty INBOX and the special-use folders,
                                                    delete every other folder, unsubscribe them
  merge_fixture.py [--env FILE] fill USER PRESET    rich | quota | bulk[:N]
  merge_fixture.py [--env FILE] state USER [--bodies]   folders, attributes, subscriptions and,
                                                    per message: key, Message-ID, size, flags
                                                    (without \\Recent), INTERNALDATE, sha256
  merge_fixture.py [--env FILE] damage USER FOLDER N   the first N messages of FOLDER get the
                                                    keyword unknown-0 in place of their flags
                                                    (what a target server crash can leave)
  merge_fixture.py compare SRC.json DST.json [--map OLD=NEW]... [--include-deleted] [--exact]
                                                    every source message exactly once in its
                                                    target folder, same flags, date, size, bytes

--env FILE reads the TESTENV_* variables from a testenv env file (a second server); without it
they come from the environment. The folder a message is expected in: --map, else the target
folder with the source folder's special-use attribute, else the same name.
"""

import argparse
import base64
import collections
import datetime
import hashlib
import json
import os
import random
import re
import ssl
import sys
import imaplib

SPECIAL = ("\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged")
imaplib._MAXLINE = 10_000_000


# ------------------------------------------------------------------------------- connection

def load_env(path):
    if not path:
        return os.environ
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v
    return env


def login(env, user):
    host, port = env["TESTENV_IMAPS_URI"].split("//")[1].split(":")
    ctx = ssl.create_default_context(cafile=env["TESTENV_CA_FILE"])
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    with open(env["TESTENV_IMAP_MASTER_PASSWORD_FILE"]) as f:
        pw = f.read()
    m.login(user + "*" + env["TESTENV_IMAP_MASTER_USER"], pw)
    return m


def ok(r):
    typ, data = r
    if typ != "OK":
        raise SystemExit("imap: %s %r" % (typ, data))
    return data


# ------------------------------------------------------------------------------- names

def mutf7_encode(name):  # RFC 3501 5.1.3 modified UTF-7
    out, run = [], ""

    def flush():
        nonlocal run
        if run:
            b = base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append("&" + b + "-")
            run = ""
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run += ch
    flush()
    return "".join(out)


def mutf7_decode(s):
    def repl(m):
        b = m.group(1)
        if not b:
            return "&"
        b = b.replace(",", "/")
        b += "=" * (-len(b) % 4)
        return base64.b64decode(b).decode("utf-16-be")
    return re.sub(r"&([^-]*)-", repl, s)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def box(name):
    return quote(mutf7_encode(name))


def unquote(s):
    if s.startswith('"'):
        return re.sub(r'\\(.)', r'\1', s[1:-1])
    return s


LIST_RE = re.compile(rb'^\((?P<attrs>[^)]*)\) (?P<delim>NIL|"(?:[^"\\]|\\.)*") ?(?P<name>.*)$', re.S)


def list_folders(m, subscribed_only=False):
    """[(name, [attrs])] from LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED) (or LSUB)."""
    if subscribed_only:
        typ, data = m._simple_command("LSUB", '""', '"*"')
        data = m.untagged_responses.pop("LSUB", [])
    else:
        typ, data = m._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE SUBSCRIBED)")
        data = m.untagged_responses.pop("LIST", [])
    if typ != "OK":
        raise SystemExit("imap: LIST failed")
    out = []
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):  # name sent as a literal
            mm = LIST_RE.match(item[0])
            name = item[1].decode()
        else:
            mm = LIST_RE.match(item)
            name = unquote(mm.group("name").decode())
        attrs = mm.group("attrs").decode().split()
        out.append((mutf7_decode(name), attrs))
    return out


# ------------------------------------------------------------------------------- messages

CRLF = "\r\n"


def make_message(mid, subject, date_hdr, size, frm="Old Sender <old@example.net>", body_seed=None):
    """An RFC 5322 message of exactly `size` bytes (CRLF line ends); mid None = no Message-ID."""
    head = ["From: " + frm, "To: someone@example.org", "Subject: " + subject]
    if mid:
        head.append("Message-ID: " + mid)
    head += ["Date: " + date_hdr, "MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii"]
    head = CRLF.join(head) + CRLF + CRLF
    line = ("%s %s " % (subject, body_seed or "")).ljust(74, "x")[:74] + CRLF
    need = size - len(head)
    if need < 2:
        raise SystemExit("message too small")
    body = (line * (need // len(line) + 1))[:need - 2] + CRLF
    msg = (head + body).encode()
    assert len(msg) == size, (len(msg), size)
    return msg


def big_message(mid, size):
    """A multipart message of exactly `size` bytes with a base64 attachment of random bytes."""
    rng = random.Random("merge-big")
    head = CRLF.join([
        "From: Big Sender <big@example.net>", "To: someone@example.org",
        "Subject: the big one", "Message-ID: " + mid, "Date: Tue, 5 Mar 2019 08:00:00 +0100",
        "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b1"']) + CRLF + CRLF
    part = CRLF.join(["--b1", "Content-Type: application/octet-stream; name=\"blob.bin\"",
                      "Content-Transfer-Encoding: base64"]) + CRLF + CRLF
    tail = CRLF + "--b1--" + CRLF
    need = size - len(head) - len(part) - len(tail)
    raw = base64.encodebytes(rng.randbytes(need * 3 // 4 + 100)).decode().replace("\n", CRLF)
    raw = raw[:need]
    # end the attachment on a full line: pad the last line with 'A's
    cut = raw.rfind(CRLF, 0, need - 2)
    raw = raw[:cut + 2] + "A" * (need - cut - 4) + CRLF
    msg = (head + part + raw + tail).encode()
    assert len(msg) == size, (len(msg), size)
    return msg


def append(m, folder, flags, idate, msg):
    ok(m.append(box(folder), flags or None, '"' + idate + '"', msg))


def rich(m, user, big=True, tag="merge"):
    """Flags, keywords, dates, awkward folder names, an empty folder, a 30 MB message (unless
    not big). Message-IDs carry `tag` and the user name (made header-safe)."""
    safe_user = re.sub(r"[^A-Za-z0-9.-]", lambda c: "=%02X" % ord(c.group()), user)

    def mid(n):
        return "<%s-%s-%d@example.net>" % (tag, safe_user, n)
    folders = [
        # (name, subscribed)
        ("Projects", True),
        ("Projects/Old", True),
        ('Old "stuff" \\ Ünïcode', False),
        ("R&D", True),
        ("Ärger", True),
        ("Ärger/Öl", False),
        ("Empty one", True),
    ]
    for name, sub in folders:
        ok(m.create(box(name)))
        if sub:
            ok(m.subscribe(box(name)))
    # (folder, n, flags, INTERNALDATE, size)
    plan = [
        ("INBOX", 1, r"(\Seen)", "04-Mar-2019 10:00:00 +0000", 3000),
        ("INBOX", 2, r"(\Answered \Seen)", "07-Jun-2020 11:22:33 +0200", 4000),
        ("INBOX", 3, r"(\Flagged)", "10-Sep-2021 23:59:59 -0700", 5000),
        ("INBOX", 4, r"(\Draft)", "01-Jan-2001 00:00:01 +0000", 2500),
        ("INBOX", 5, r"($Forwarded \Seen)", "29-Feb-2016 12:00:00 +0530", 6000),
        ("INBOX", 6, r"($Junk)", "31-Dec-2022 23:59:59 +0000", 2200),
        ("INBOX", 7, r"(Client-Acme $Forwarded \Flagged \Answered)", "15-Aug-2018 06:30:00 -0300", 7000),
        ("INBOX", 8, None, "02-Feb-2012 02:02:02 +0100", 2100),
        ("INBOX", 9, r"(\Deleted \Seen)", "03-Mar-2013 03:03:03 +0000", 2300),
        ("INBOX", 10, r"(\Seen)", "04-Apr-2014 04:04:04 +0000", 2400),  # no Message-ID
        ("INBOX", 11, r"(\Seen \Flagged)", "05-May-2015 05:05:05 +0000", 2600),  # also in R&D
        ("Sent", 20, r"(\Seen)", "06-Jun-2016 06:06:06 +0000", 3100),
        ("Sent", 21, r"(\Seen \Answered)", "07-Jul-2017 07:07:07 +0000", 3200),
        ("Sent", 22, r"(\Seen $Forwarded)", "08-Aug-2018 08:08:08 +0000", 3300),
        ("Drafts", 30, r"(\Draft \Seen)", "09-Sep-2019 09:09:09 +0000", 2700),
        ("Junk", 40, r"($Junk)", "10-Oct-2020 10:10:10 +0000", 2800),
        ("Projects", 50, r"(\Seen Client-Acme)", "11-Nov-2011 11:11:11 +0000", 2900),
        ("Projects/Old", 60, r"(\Seen)", "12-Dec-2012 12:12:12 +0000", 3400),
        ("Projects/Old", 61, None, "13-Jan-2013 13:13:13 +0000", 3500),
        ('Old "stuff" \\ Ünïcode', 70, r"(\Seen)", "14-Feb-2014 14:14:14 +0000", 3600),
        ('Old "stuff" \\ Ünïcode', 71, r"(\Flagged)", "15-Mar-2015 15:15:15 +0000", 3700),
        ("R&D", 80, r"($Forwarded)", "16-Apr-2016 16:16:16 +0000", 3800),
        ("R&D", 11, r"(\Seen)", "05-May-2015 05:05:05 +0000", 2600),  # same message as INBOX 11
        ("Ärger", 90, r"(\Seen)", "17-May-2017 17:17:17 +0000", 3900),
        ("Ärger/Öl", 91, r"(\Answered)", "18-Jun-2018 18:18:18 +0000", 4100),
        ("Ärger/Öl", 92, r"(\Seen \Draft)", "19-Jul-2019 19:19:19 +0000", 4200),
    ]
    for folder, n, flags, idate, size in plan:
        msg = make_message(None if n == 10 else mid(n), "merge test %d" % n,
                           "Mon, 4 Mar 2019 10:00:%02d +0000" % (n % 60), size, body_seed=user)
        append(m, folder, flags, idate, msg)
    if big:
        append(m, "INBOX", r"(\Seen)", "20-Aug-2020 20:20:20 +0000", big_message(mid(100), 30 * 1024 * 1024))


def quota_fixture(m, user):
    """20 messages of 50,000 bytes: 12 in INBOX, 8 in Projects."""
    ok(m.create(box("Projects")))
    for n in range(20):
        folder = "INBOX" if n < 12 else "Projects"
        msg = make_message("<merge-quota-%s-%d@example.net>" % (user, n), "quota test %d" % n,
                           "Mon, 4 Mar 2019 10:00:00 +0000", 50000, body_seed=user)
        append(m, folder, r"(\Seen)" if n % 2 else None, "%02d-Mar-2019 10:00:00 +0000" % (n + 1), msg)


def multiappend(m, folder, items):
    """One MULTIAPPEND (RFC 3502) with LITERAL+ literals: one commit for many messages, so
    1500 messages take seconds instead of a round trip and an fsync each."""
    tag = m._new_tag()
    parts = [tag + b" APPEND " + box(folder).encode()]
    for flags, idate, msg in items:
        parts.append(b" " + (flags.encode() + b" " if flags else b"") + b'"' + idate.encode() +
                     b'" {%d+}\r\n' % len(msg) + msg)
    parts.append(b"\r\n")
    m.send(b"".join(parts))
    ok(m._command_complete("APPEND", tag))


def bulk(m, user, count):
    """`count` messages of 1..12 KB over INBOX, Sent and Lists/Big with varied flags."""
    rng = random.Random("merge-bulk:" + user)
    for name in ("Lists", "Lists/Big"):
        ok(m.create(box(name)))
        ok(m.subscribe(box(name)))
    flagsets = [None, r"(\Seen)", r"(\Seen \Answered)", r"(\Flagged)", r"($Forwarded \Seen)",
                r"(\Seen Client-Acme)", r"($Junk)"]
    batches = collections.defaultdict(list)
    for n in range(count):
        r = n % 10
        folder = "INBOX" if r < 5 else "Sent" if r < 7 else "Lists/Big"
        size = rng.randrange(1000, 12000)
        ts = 1262304000 + rng.randrange(0, 500_000_000)
        idate = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%d-%b-%Y %H:%M:%S +0000")
        msg = make_message("<merge-bulk-%s-%d@example.net>" % (user, n), "bulk %d" % n,
                           "Mon, 4 Mar 2019 10:00:00 +0000", size, body_seed=user)
        batches[folder].append((rng.choice(flagsets), idate, msg))
    for folder, items in batches.items():
        for i in range(0, len(items), 250):
            multiappend(m, folder, items[i:i + 250])


# ------------------------------------------------------------------------------- read back

FETCH_RE = re.compile(rb'UID (\d+)|FLAGS \(([^)]*)\)|INTERNALDATE "([^"]+)"|RFC822\.SIZE (\d+)')


def parse_idate(s):
    return int(datetime.datetime.strptime(s.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp())


def header_value(raw, name):
    text = raw.decode("utf-8", "replace").replace("\r\n ", " ").replace("\r\n\t", " ")
    for line in text.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def read_folder(m, name, bodies):
    typ, data = m.select(box(name), readonly=True)
    if typ != "OK":
        return None
    if int(data[0]) == 0:
        return []
    typ, data = m.uid("FETCH", "1:*",
                      "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT)])")
    ok((typ, data))
    out = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        fields = {}
        for mm in FETCH_RE.finditer(item[0]):
            if mm.group(1):
                fields["uid"] = int(mm.group(1))
            elif mm.group(2) is not None:
                fields["flags"] = sorted(f for f in mm.group(2).decode().split() if f != "\\Recent")
            elif mm.group(3):
                fields["date"] = parse_idate(mm.group(3).decode())
            elif mm.group(4):
                fields["size"] = int(mm.group(4))
        mid = header_value(item[1], "Message-ID")
        fields["mid"] = mid
        fields["key"] = (mid or "no-id:" + header_value(item[1], "Subject")) + "/" + str(fields["size"])
        out.append(fields)
    if bodies:
        for msg in out:
            typ, data = m.uid("FETCH", str(msg["uid"]), "(BODY.PEEK[])")
            ok((typ, data))
            body = next(x[1] for x in data if isinstance(x, tuple))
            msg["sha256"] = hashlib.sha256(body).hexdigest()
    for msg in out:
        del msg["uid"]
    return sorted(out, key=lambda x: (x["key"], x["flags"], x["date"]))


def state(env, user, bodies):
    m = login(env, user)
    subscribed = {name for name, _ in list_folders(m, subscribed_only=True)}
    folders = {}
    for name, attrs in list_folders(m):
        special = [a for a in attrs if a in SPECIAL]
        selectable = not any(a.lower() in ("\\noselect", "\\nonexistent") for a in attrs)
        folders[name] = {
            "special": special[0] if special else None,
            "selectable": selectable,
            "subscribed": name in subscribed,
            "messages": read_folder(m, name, bodies) if selectable else [],
        }
    m.logout()
    return {"folders": folders}


def reset(env, user):
    m = login(env, user)
    for name, attrs in sorted(list_folders(m), key=lambda x: -x[0].count("/")):
        if name == "INBOX" or any(a in SPECIAL for a in attrs):
            typ, data = m.select(box(name))
            ok((typ, data))
            if int(data[0]) > 0:
                ok(m.store("1:*", "+FLAGS.SILENT", r"(\Deleted)"))
                ok(m.expunge())
            m.close()
        else:
            ok(m.delete(box(name)))
    for name, attrs in list_folders(m, subscribed_only=True):
        if name != "INBOX" and not any(a in SPECIAL for a in attrs):
            ok(m.unsubscribe(box(name)))
    m.logout()


# ------------------------------------------------------------------------------- compare

def damage(env, user, folder, count):
    """What a crash of the target server can leave on messages it just stored: their first
    `count` messages (by UID) get one keyword, `unknown-0`, in place of all their flags (a
    SIGKILLed Dovecot may lose the names of keywords it was writing). Prints how many."""
    m = login(env, user)
    ok(m.select(box(folder)))
    uids = ok(m.uid("SEARCH", None, "ALL"))[0].split()[:count]
    for uid in uids:
        ok(m.uid("STORE", uid, "FLAGS.SILENT", "(unknown-0)"))
    m.logout()
    print(len(uids))


def compare(src, dst, maps, include_deleted, exact):
    problems = []
    by_special = {f["special"]: name for name, f in dst["folders"].items() if f["special"]}
    expected_total = 0
    for name, f in src["folders"].items():
        if not f["selectable"]:
            continue
        target = maps.get(name) or (by_special.get(f["special"]) if f["special"] else None) or name
        want = [x for x in f["messages"] if include_deleted or "\\Deleted" not in x["flags"]]
        expected_total += len(want)
        if target not in dst["folders"]:
            problems.append("folder %r -> %r: missing on the target" % (name, target))
            continue
        have = dst["folders"][target]["messages"]
        wk, hk = collections.Counter(x["key"] for x in want), collections.Counter(x["key"] for x in have)
        for k in wk:
            if hk[k] != wk[k]:
                problems.append("%r -> %r: %s %d time(s) on the target, %d in the source"
                                % (name, target, k, hk[k], wk[k]))
        if exact:
            for k in hk:
                if k not in wk:
                    problems.append("%r -> %r: %s on the target only" % (name, target, k))
        hmap = {x["key"]: x for x in have}
        for x in want:
            y = hmap.get(x["key"])
            if not y:
                continue
            for field in ("flags", "date", "size", "sha256"):
                if field in x and field in y and x[field] != y[field]:
                    problems.append("%r -> %r: %s: %s %r on the target, %r in the source"
                                    % (name, target, x["key"], field, y[field], x[field]))
    if exact:
        total = sum(len(f["messages"]) for f in dst["folders"].values())
        if total != expected_total:
            problems.append("target holds %d messages, expected %d" % (total, expected_total))
    for p in problems[:20]:
        print(p)
    if len(problems) > 20:
        print("... and %d more" % (len(problems) - 20))
    return not problems


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("reset")
    s.add_argument("user")
    s = sub.add_parser("fill")
    s.add_argument("user")
    s.add_argument("preset")
    s = sub.add_parser("state")
    s.add_argument("user")
    s.add_argument("--bodies", action="store_true")
    s = sub.add_parser("compare")
    s.add_argument("src")
    s.add_argument("dst")
    s.add_argument("--map", action="append", default=[])
    s.add_argument("--include-deleted", action="store_true")
    s.add_argument("--exact", action="store_true")
    s = sub.add_parser("damage")
    s.add_argument("user")
    s.add_argument("folder")
    s.add_argument("count", type=int)
    a = p.parse_args()
    env = load_env(a.env)
    if a.cmd == "reset":
        reset(env, a.user)
    elif a.cmd == "fill":
        m = login(env, a.user)
        preset, _, arg = a.preset.partition(":")
        if preset == "rich":
            rich(m, a.user)
        elif preset == "quota":
            quota_fixture(m, a.user)
        elif preset == "bulk":
            bulk(m, a.user, int(arg or 1500))
        else:
            raise SystemExit("unknown preset " + a.preset)
        m.logout()
    elif a.cmd == "damage":
        damage(env, a.user, a.folder, a.count)
    elif a.cmd == "state":
        print(json.dumps(state(env, a.user, a.bodies), sort_keys=True, ensure_ascii=False))
    elif a.cmd == "compare":
        with open(a.src) as f:
            src = json.load(f)
        with open(a.dst) as f:
            dst = json.load(f)
        maps = dict(x.split("=", 1) for x in a.map)
        sys.exit(0 if compare(src, dst, maps, a.include_deleted, a.exact) else 1)


if __name__ == "__main__":
    main()
