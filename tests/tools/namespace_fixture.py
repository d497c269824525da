#!/usr/bin/python3
"""IMAP helper for the cross-server merge tests (standard library only).

Works on any of the testenv's IMAP servers through the master (proxy) login with SASL PLAIN
authzid, and in each server's own personal namespace (NAMESPACE, RFC 2342), so that a folder is
described by its levels below the personal prefix: ["Projects", "2026"] is "Projects/2026" on
Dovecot's default layout and "INBOX.Projects.2026" on Cyrus or a Dovecot with the INBOX. prefix.

  namespace_fixture.py URI USER fill [--extras]
                                            tricky folders (quotes, '&', non-ASCII, a level
                                            holding the other layout's delimiter, left out where
                                            the server refuses it), messages in each with flags
                                            and keywords ("Über & Co": dated 2020); --extras: also 'Quote "me"' and
                                            "Back\\slash", which Cyrus refuses
  namespace_fixture.py URI USER state       JSON {"delimiter", "prefix", "folders": {levels
                                            joined by U+241F: {"ids": [Message-ID, ...], "flags":
                                            {Message-ID: [flags]}}}} of the personal namespace
  namespace_fixture.py expect SRC.json DST.json   every source folder's messages in the target
                                            folder with the same levels (a level holding the
                                            target's delimiter gets '_' in its place), once,
                                            with the same flags

URI is imaps://127.0.0.1:PORT; TESTENV_CA_FILE and TESTENV_IMAP_MASTER_PASSWORD_FILE come from
the environment (the testenv's env file), the master user is TESTENV_IMAP_MASTER_USER.
"""

import email.utils
import imaplib
import json
import os
import re
import ssl
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from merge_fixture import box, mutf7_decode  # noqa: E402  (modified UTF-7, quoting: one place)

SEP = "\u241f"
imaplib._MAXLINE = 10_000_000


def quote(name):
    return box(name)


def login(uri, user):
    host, port = uri.split("//")[1].split(":")
    ctx = ssl.create_default_context(cafile=os.environ["TESTENV_CA_FILE"])
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    with open(os.environ["TESTENV_IMAP_MASTER_PASSWORD_FILE"]) as f:
        pw = f.read().strip()
    master = os.environ.get("TESTENV_IMAP_MASTER_USER", "mbxadmin")
    m.authenticate("PLAIN", lambda _: f"{user}\0{master}\0{pw}".encode())
    return m


def ok(typ, data, what):
    if typ != "OK":
        raise SystemExit(f"{what}: {typ} {data}")
    return data


def personal(m):
    data = ok(*m.namespace(), "NAMESPACE")
    text = data[0].decode()
    got = re.match(r'\(\("([^"]*)" (?:"(.)"|NIL)\)', text)
    if not got:
        raise SystemExit(f"cannot read the personal namespace from {text!r}")
    return mutf7_decode(got.group(1)), got.group(2)


def parse_list_line(raw):
    if isinstance(raw, tuple):  # a literal name
        head, name = raw[0].decode(), raw[1].decode()
    else:
        head, name = raw.decode(), None
    got = re.match(r'\(([^)]*)\) (?:"((?:[^"\\]|\\.)*)"|NIL) ?(.*)$', head)
    attrs, delim, rest = got.group(1).split(), got.group(2), got.group(3)
    if delim is not None:
        delim = delim.replace('\\\\', '\\').replace('\\"', '"')
    if name is None:
        rest = rest.strip()
        if rest.startswith('"'):
            name = rest[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        else:
            name = rest
    return attrs, delim, mutf7_decode(name)


def levels_of(name, prefix, delim):
    """The levels of a personal folder, or None for one outside the personal namespace."""
    if name.upper() == "INBOX":
        return ["INBOX"]
    if not name.startswith(prefix):
        return None
    return name[len(prefix):].split(delim) if delim else [name[len(prefix):]]


def name_of(levels, prefix, delim):
    if levels == ["INBOX"]:
        return "INBOX"
    return prefix + delim.join(levels)


def message(folder, i):
    mid = f"<ns-{zlib.crc32(folder.encode()):08x}-{i}@fixture.example>"
    return (
        f"Message-ID: {mid}\r\nFrom: fixture <f@example.org>\r\nTo: u@example.org\r\n"
        f"Subject: {folder} #{i}\r\nDate: {email.utils.formatdate(1700000000 + i * 60)}\r\n\r\n"
        f"body of {folder} message {i}\r\n"
    )


def fill(uri, user, extra=False):
    m = login(uri, user)
    prefix, delim = personal(m)
    other = "/" if delim == "." else "."
    folders = [
        ["INBOX"],
        ["Projects"],
        ["Projects", "2026"],
        [f"Projects{other}2026"],  # holds the other layout's delimiter
        ["It's #1 + Q3"],
        ["R&D", "Entwürfe"],
        ["Über & Co"],
    ]
    if extra:  # names Dovecot takes and Cyrus refuses ("Invalid mailbox name")
        folders += [['Quote "me"'], ["Back\\slash"]]
    for levels in folders:
        name = name_of(levels, prefix, delim)
        if levels != ["INBOX"]:
            typ, data = m._simple_command("CREATE", quote(name))
            if typ != "OK" and "exist" not in str(data):
                if levels == folders[3]:  # servers that refuse the other delimiter in a name
                    print(f"fill: {name!r} refused by the server ({data}); left out", file=sys.stderr)
                    continue
                raise SystemExit(f"CREATE {name}: {typ} {data}")
        for i in range(3):
            flags = ["(\\Seen)", "(\\Seen \\Flagged $Forwarded)", "()"][i]
            # "Über & Co" holds old mail (INTERNALDATE in 2020) for the cleanup test.
            when = imaplib.Time2Internaldate(1577880000 + i * 60) if levels == ["Über & Co"] else None
            ok(*m.append(quote(name), flags, when, message(SEP.join(levels), i).encode()), f"APPEND {name}")
    m.logout()


def state(uri, user):
    m = login(uri, user)
    prefix, delim = personal(m)
    out = {"prefix": prefix, "delimiter": delim, "folders": {}}
    typ, data = m.list('""', '"*"')
    ok(typ, data, "LIST")
    for raw in data:
        if raw is None or raw in (b"", b")"):
            continue
        attrs, d, name = parse_list_line(raw)
        if any(a.lower() in ("\\noselect", "\\nonexistent") for a in attrs):
            continue
        levels = levels_of(name, prefix, delim)
        if levels is None:
            continue
        ok(*m.select(quote(name), readonly=True), f"EXAMINE {name}")
        typ, fetched = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids, flags = [], {}
        for item in fetched or []:
            if not isinstance(item, tuple):
                continue
            mid = item[1].decode().split(":", 1)[1].strip() if b":" in item[1] else ""
            fl = re.search(r"FLAGS \(([^)]*)\)", item[0].decode())
            ids.append(mid)
            flags[mid] = sorted(f for f in (fl.group(1).split() if fl else []) if f != "\\Recent")
        out["folders"][SEP.join(levels)] = {"ids": sorted(ids), "flags": flags}
    m.logout()
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))


def expect(src_path, dst_path):
    src, dst = json.load(open(src_path)), json.load(open(dst_path))
    d = dst["delimiter"]
    bad = []
    for key, f in src["folders"].items():
        if not f["ids"]:
            continue
        levels = key.split(SEP)
        want = SEP.join(level.replace(d, "_") for level in levels)
        got = dst["folders"].get(want)
        if got is None:
            bad.append(f"{levels} -> {want!r}: no such folder on the target ({sorted(dst['folders'])})")
            continue
        if got["ids"] != f["ids"]:
            bad.append(f"{want!r}: messages {got['ids']} instead of {f['ids']}")
            continue
        for mid, fl in f["flags"].items():
            if got["flags"].get(mid) != fl:
                bad.append(f"{want!r} {mid}: flags {got['flags'].get(mid)} instead of {fl}")
    if bad:
        raise SystemExit("\n".join(bad))


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "expect":
        expect(a[1], a[2])
    elif len(a) in (3, 4) and a[2] == "fill":
        fill(a[0], a[1], extra=a[3:] == ["--extras"])
    elif len(a) == 3 and a[2] == "state":
        state(a[0], a[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
