#!/usr/bin/python3
"""Messages that servers rewrite, written straight into a testenv user's Maildir as a foreign
tool or another server's export would leave them (not through IMAP, which would normalise them
on the way in), then indexed by Dovecot (doveadm force-resync). For the mbx merge identity tests.

  merge_foreign_fixture.py write USER FOLDER [--bulk N]   the tricky set (about 40 messages) and
                                                          N ordinary ones with bare-LF endings
  merge_foreign_fixture.py census USER FOLDER             JSON: per identity (Message-ID, else
                                                          Date/From/Subject), how many messages
                                                          not marked \\Deleted the folder holds

TESTENV_* variables come from the environment (scripts/testenv env DIR).
The tricky set, each from what real servers and tools do to mail:
  bare LF line endings (Unix mbox exports), bare CR (old Mac clients), no final newline,
  unencoded 8-bit header fields in UTF-8 and in Latin-1, a NUL byte (Dovecot stores 0x80),
  lines of 10,000 and 100,000 bytes (over RFC 5322's 998), two pairs of messages that share a
  Message-ID but not their bodies, a true duplicate (same Message-ID and bytes twice), and
  messages without Message-ID that share Date, From and Subject.
"""
import collections
import email.parser
import email.policy
import imaplib
import json
import os
import ssl
import subprocess
import sys
import time

imaplib._MAXLINE = 10_000_000


def tricky():
    m = []
    date = "Mon, 30 Nov 2026 08:%02d:00 +0100"
    for i in range(6):
        m.append(f"Message-ID: <lf{i}@foreign.example>\nDate: {date % i}\nFrom: Unix Mbox <mbox@foreign.example>\n"
                 f"Subject: bare LF {i}\n\nline one\nline two\n".encode())
    for i in range(3):
        m.append(f"Message-ID: <cr{i}@foreign.example>\r\nDate: {date % (10 + i)}\r\nFrom: Old Mac <mac@foreign.example>\r\n"
                 f"Subject: bare CR {i}\r\n\r\nline one\rline two\r\n".encode())
    for i in range(3):
        m.append(f"Message-ID: <nofinal{i}@foreign.example>\r\nDate: {date % (20 + i)}\r\nFrom: a@foreign.example\r\n"
                 f"Subject: no final newline {i}\r\n\r\nthe last line has no end".encode())
    m.append("Message-ID: <utf8@foreign.example>\r\nDate: Mon, 30 Nov 2026 09:00:00 +0100\r\n"
             "From: Jörg Müller <joerg@foreign.example>\r\nSubject: Grüße aus Köln\r\n\r\nKäse\r\n".encode("utf-8"))
    m.append("Message-ID: <latin1@foreign.example>\nDate: Mon, 30 Nov 2026 09:01:00 +0100\n"
             "From: Søren <s@foreign.example>\nSubject: Smørrebrød\n\nlatin-1 body æøå\n".encode("latin-1"))
    m.append("Date: Mon, 30 Nov 2026 09:02:00 +0100\r\nFrom: Zoë <z@foreign.example>\r\n"
             "Subject: ohne Message-ID, Umlaute: äöü\r\n\r\nno id, 8-bit header\r\n".encode("utf-8"))
    m.append(b"Message-ID: <nul@foreign.example>\r\nDate: Mon, 30 Nov 2026 09:03:00 +0100\r\nFrom: n@foreign.example\r\n"
             b"Subject: a NUL byte\r\n\r\nbefore\x00after\r\n")
    m.append(b"Message-ID: <long@foreign.example>\r\nDate: Mon, 30 Nov 2026 09:04:00 +0100\r\nFrom: l@foreign.example\r\n"
             b"Subject: " + b"very long subject " * 600 + b"\r\n\r\n" + b"x" * 10000 + b"\r\n" + b"y" * 100000 + b"\r\n")
    for pair in range(2):  # the same Message-ID, different bodies (a broken client resends)
        for body in (b"first body\r\n", b"second, much longer body " * (40 + pair) + b"\r\n"):
            m.append(b"Message-ID: <dup%d@foreign.example>\r\nDate: Mon, 30 Nov 2026 10:0%d:00 +0100\r\n"
                     b"From: d@foreign.example\r\nSubject: duplicate id %d\r\n\r\n" % (pair, pair, pair) + body)
    twin = (b"Message-ID: <twin@foreign.example>\r\nDate: Mon, 30 Nov 2026 10:10:00 +0100\r\nFrom: t@foreign.example\r\n"
            b"Subject: a true duplicate\r\n\r\nsame bytes twice\r\n")
    m += [twin, twin]
    for i in range(3):  # no Message-ID, equal Date/From/Subject, different bodies
        m.append(b"Date: Mon, 30 Nov 2026 11:00:00 +0100\r\nFrom: Scanner <scan@foreign.example>\r\n"
                 b"Subject: Scan\r\n\r\nscan page %d\r\n" % i + b"." * (100 * i))
    m.append(b"Date: Mon, 30 Nov 2026 11:05:00 +0100\nFrom: Scanner <scan@foreign.example>\nSubject: Scan LF\n\nno id, bare LF\n")
    return m


def bulk(n):
    for i in range(n):
        yield (f"Message-ID: <bulk{i}@foreign.example>\nDate: Tue, 1 Dec 2026 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} +0000\n"
               f"From: Bulk <bulk@foreign.example>\nSubject: bulk message {i}\n\n" + "lorem ipsum dolor sit amet\n" * (5 + i % 40)).encode()


def maildir(user, folder):
    root = os.path.join(os.environ["TESTENV_MAIL_ROOT"], user, "Maildir")
    return root if folder == "INBOX" else os.path.join(root, "." + folder.replace("/", "."))


def write(user, folder, n_bulk):
    d = maildir(user, folder)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    messages = tricky() + list(bulk(n_bulk))
    now = int(time.time())
    for i, raw in enumerate(messages):
        with open(os.path.join(d, "cur", f"{now - i}.M{i}P{os.getpid()}.foreign:2,S"), "wb") as f:
            f.write(raw)
    uid = int(subprocess.check_output(["id", "-u", "mbxvmail"]).strip())
    gid = int(subprocess.check_output(["id", "-g", "mbxvmail"]).strip())
    for base, dirs, files in os.walk(os.path.dirname(d) if folder != "INBOX" else d):
        for x in dirs + files:
            os.chown(os.path.join(base, x), uid, gid)
    os.chown(d, uid, gid)
    conf = os.environ["TESTENV_DOVECOT_CONF"]
    subprocess.check_call(["doveadm", "-c", conf, "force-resync", "-u", user, folder])
    subprocess.check_call(["doveadm", "-c", conf, "mailbox", "subscribe", "-u", user, folder])
    print(len(messages))


def census(user, folder):
    host, port = os.environ["TESTENV_IMAPS_URI"].split("//")[1].split(":")
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=os.environ["TESTENV_CA_FILE"]))
    with open(os.environ["TESTENV_IMAP_MASTER_PASSWORD_FILE"]) as f:
        m.login(f"{user}*{os.environ['TESTENV_IMAP_MASTER_USER']}", f.read())
    typ, _ = m.select('"%s"' % folder, readonly=True)
    counts = collections.Counter()
    deleted = 0
    if typ == "OK":
        typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)])")
        for item in data or []:
            if not isinstance(item, tuple):
                continue
            if b"\\Deleted" in item[0]:
                deleted += 1
                continue
            h = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(item[1])
            mid = (h.get("Message-ID") or "").strip()
            key = mid if mid else "H:" + "|".join(" ".join(str(h.get(k, "")).split()) for k in ("Date", "From", "Subject"))
            counts[key] += 1
    m.logout()
    print(json.dumps({"messages": sum(counts.values()), "deleted": deleted, "by_identity": counts}, sort_keys=True))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "write" and len(sys.argv) >= 4:
        n = int(sys.argv[5]) if len(sys.argv) >= 6 and sys.argv[4] == "--bulk" else 0
        write(sys.argv[2], sys.argv[3], n)
    elif cmd == "census" and len(sys.argv) == 4:
        census(sys.argv[2], sys.argv[3])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
