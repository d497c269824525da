#!/usr/bin/python3
"""Cyrus IMAP side of the mbxkit sandbox (scripts/testenv up --with-cyrus). Standard library only.

Talks IMAP over TLS to the sandbox's Cyrus as the admin (mbxadmin, SASL PLAIN), and as a user
through the admin (SASL PLAIN authzid=USER, authcid=mbxadmin: Cyrus's proxyservers).

Subcommands (common options: --port P --ca CA --admin NAME --password-file F)
  demo --users "alice bob ..."   user.NAME with quota, special-use folders, a few messages and
                                 subscriptions per user; the shared folder shared.announcements
                                 (anyone lrs) and user.bob.Projects shared with alice (lrs)
  populate                       user.NAME with the default quota for each name on stdin (one
                                 per line), over one pipelined admin connection; no messages

Cyrus's namespace here is Debian's: altnamespace no, unixhierarchysep no, so the admin sees
user.alice, user.alice.Sent; alice sees INBOX, INBOX.Sent, user.bob.Projects, shared.*.
"""

import argparse
import base64
import re
import socket
import ssl
import sys
import time

KiB = 1024
DEFAULT_QUOTA_KIB = 100 * KiB          # 100 MiB on every user's root
QUOTA_KIB = {"alice": 10 * KiB}        # alice: 10 MiB
SHARED_FOLDER = "shared.announcements"
# (folder, special-use or None, only for) -- created by the user (proxied login)
FOLDERS = [
    ("INBOX.Drafts", "\\Drafts", None),
    ("INBOX.Sent", "\\Sent", None),
    ("INBOX.Trash", "\\Trash", None),
    ("INBOX.Junk", "\\Junk", {"alice"}),
    ("INBOX.Archive", "\\Archive", None),
    ("INBOX.Projects", None, None),
]
LITERAL_RE = re.compile(rb"\{(\d+)\+?\}\r\n$")
# a name Cyrus's user.NAME can hold here ("." is the hierarchy separator)
USER_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_+-]*$")


class ImapError(Exception):
    pass


class Imap:
    """A minimal IMAP client that can pipeline: send() many commands, then result() each."""

    def __init__(self, port: int, ca: str):
        ctx = ssl.create_default_context(cafile=ca)
        raw = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.f = self.sock.makefile("rb")
        self.n = 0
        self.greeting = self._line()
        if not self.greeting.startswith(b"* OK"):
            raise ImapError(f"greeting: {self.greeting!r}")

    def _line(self) -> bytes:
        line = self.f.readline()
        if not line:
            raise ImapError("connection closed by the server")
        # a literal in a response: read it and the rest of the line
        while True:
            m = LITERAL_RE.search(line)
            if not m:
                return line
            line += self.f.read(int(m.group(1)))
            line += self.f.readline()

    def send(self, command: str, literal: bytes = None) -> str:
        self.n += 1
        tag = f"a{self.n}"
        data = f"{tag} {command}".encode()
        if literal is not None:
            # LITERAL+ (Cyrus has it): no continuation round trip
            data += b" {%d+}\r\n" % len(literal) + literal
        self.sock.sendall(data + b"\r\n")
        return tag

    def result(self, tag: str, ok=("OK",)):
        untagged = []
        while True:
            line = self._line()
            if line.startswith(tag.encode() + b" "):
                status = line.split(b" ", 2)[1].decode()
                text = line.decode(errors="replace").rstrip("\r\n")
                if status not in ok:
                    raise ImapError(text)
                return status, untagged, text
            untagged.append(line.decode(errors="replace").rstrip("\r\n"))

    def cmd(self, command: str, literal: bytes = None, ok=("OK",)):
        return self.result(self.send(command, literal), ok)

    def authenticate(self, authcid: str, password: str, authzid: str = ""):
        # SASL-IR (RFC 4959)
        ir = base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode()).decode()
        return self.cmd(f"AUTHENTICATE PLAIN {ir}")

    def logout(self):
        try:
            self.cmd("LOGOUT")
        except (ImapError, OSError):
            pass
        self.sock.close()


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def message(to: str, subject: str, body: str, i: int) -> bytes:
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time() - 3600 * (i + 1)))
    return ("From: Testenv Demo <demo@example.org>\r\n"
            f"To: {to}@example.org\r\n"
            f"Subject: {subject}\r\n"
            f"Date: {date}\r\n"
            f"Message-ID: <cyrus-demo-{to}-{i}@testenv.example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n"
            f"{body}\r\n").encode()


def admin(a) -> Imap:
    c = Imap(a.port, a.ca)
    c.authenticate(a.admin, a.password)
    return c


def cmd_demo(a):
    users = a.users.split()
    c = admin(a)
    for u in users:
        c.cmd(f"CREATE user.{u}")
        c.cmd(f"SETQUOTA user.{u} (STORAGE {QUOTA_KIB.get(u, DEFAULT_QUOTA_KIB)})")
    # a shared folder at the top level of the namespace, readable by every user
    c.cmd(f"CREATE {SHARED_FOLDER}")
    c.cmd(f"SETACL {SHARED_FOLDER} anyone lrs")
    # the admin may administer any mailbox, but needs rights of its own to add a message
    c.cmd(f"SETACL {SHARED_FOLDER} {a.admin} lrswipkxtecdan")
    c.cmd(f"APPEND {SHARED_FOLDER} (\\Seen)",
          message("all", "Welcome to the shared folder", "Shared with anyone (lrs).", 0))
    for u in users:
        uc = Imap(a.port, a.ca)
        uc.authenticate(a.admin, a.password, authzid=u)
        tags = []
        for name, use, only in FOLDERS:
            if only is not None and u not in only:
                continue
            tags.append(uc.send(f"CREATE {name}" + (f" (USE ({use}))" if use else "")))
        for t in tags:
            uc.result(t)
        tags = [uc.send(f"SUBSCRIBE {quote(name)}")
                for name in ["INBOX"] + [f for f, _, only in FOLDERS if only is None or u in only]]
        for i in range(5):
            tags.append(uc.send("APPEND INBOX" + (" (\\Seen)" if i % 2 else ""),
                                message(u, f"Demo message {i + 1} for {u}", f"Hello {u}, #{i + 1}.", i)))
        for i in range(2):
            tags.append(uc.send("APPEND INBOX.Projects (\\Seen)",
                                message(u, f"Project note {i + 1}", "Filed under Projects.", 10 + i)))
        tags.append(uc.send("APPEND INBOX.Sent (\\Seen)",
                            message(u, "Sent by me", "A sent message.", 20)))
        for t in tags:
            uc.result(t)
        uc.logout()
        print(f"cyrus demo: user.{u}: folders, 8 messages, quota "
              f"{QUOTA_KIB.get(u, DEFAULT_QUOTA_KIB)} KiB", file=sys.stderr)
    # another user's folder that alice may read: she sees it as user.bob.Projects
    if "bob" in users and "alice" in users:
        c.cmd("SETACL user.bob.Projects alice lrs")
    c.logout()


def cmd_populate(a):
    names = [n.strip() for n in sys.stdin if n.strip()]
    skipped = [n for n in names if not USER_RE.match(n)]
    names = [n for n in names if USER_RE.match(n)]
    t0 = time.time()
    c = admin(a)
    window, pending, made, existed = 200, [], 0, 0

    def drain(keep: int):
        nonlocal made, existed
        while len(pending) > keep:
            kind, name, tag = pending.pop(0)
            status, _, text = c.result(tag, ok=("OK", "NO"))
            if status == "NO":
                if kind == "create" and "exists" in text.lower():
                    existed += 1
                    continue
                raise ImapError(f"{kind} {name}: {text}")
            if kind == "create":
                made += 1

    for n in names:
        pending.append(("create", n, c.send(f"CREATE user.{n}")))
        pending.append(("setquota", n, c.send(f"SETQUOTA user.{n} (STORAGE {DEFAULT_QUOTA_KIB})")))
        drain(window)
    drain(0)
    c.logout()
    print(f"cyrus populate: {made} mailboxes created, {existed} existed already, "
          f"{len(skipped)} names skipped (not valid in user.NAME: {' '.join(skipped[:5])}) "
          f"in {time.time() - t0:.1f}s", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("demo", "populate"):
        s = sub.add_parser(name)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--ca", required=True)
        s.add_argument("--admin", required=True)
        s.add_argument("--password-file", required=True)
        if name == "demo":
            s.add_argument("--users", required=True)
    a = p.parse_args()
    with open(a.password_file) as f:
        a.password = f.read().strip()
    try:
        {"demo": cmd_demo, "populate": cmd_populate}[a.cmd](a)
    except (ImapError, OSError) as e:
        sys.exit(f"cyrus.py {a.cmd}: {e}")


if __name__ == "__main__":
    main()
