#!/usr/bin/python3
"""Test-data generator for the mbxkit sandbox (scripts/testenv). Standard library only.

It writes Maildir files straight to disk (never through IMAP APPEND, which would be slow and
would exercise the code under test) and the matching LDAP entries as LDIF, which testenv then
loads with slapadd (at `up`, server stopped) or one ldapadd (at `populate`).

Subcommands
  hash PASSWORD_FILE              print an {SSHA} hash of the password in the file
  demo --dir DIR --uid U --gid G  base entries + demo users alice bob carol dave with mail;
                                  writes DIR/slapd/init.ldif
  bulk --dir DIR --users N --messages M [--prefix P] [--seed S] [--max-bytes B] [--jobs J]
                                  N generated users with M messages each; writes the LDIF
                                  to the path given by --ldif-out

Determinism: everything random comes from random.Random seeded with (seed, user name), so the
same --seed gives the same users, quotas, messages, flags and file names whatever --jobs is.
Dates are "age before a reference time"; the reference time is the start of the current UTC
day unless --ref-time EPOCH is given, so the bytes are identical for a seed within a day and
the ages are identical always.

Maildir details that Dovecot relies on
  * file name  <time>.M<n>P<user>.mbxkit,S=<size>,W=<vsize>:2,<flags>
    S= is the size on disk (LF line ends), W= the RFC 822 "virtual" size with CRLF line ends;
    with both in the name Dovecot never needs to read a file to know its size (quota_vsizes).
  * flags      D=\\Draft F=\\Flagged R=\\Answered S=\\Seen, then keyword letters a.. in
               ASCII order, letters mapped through the folder's dovecot-keywords file.
  * mtime      is the IMAP INTERNALDATE.
  * folders    Maildir++: .Sent, .Projects.2026 (IMAP "Projects/2026" with separator "/").
"""

import argparse
import base64
import hashlib
import math
import os
import random
import sys
import time
from email.header import Header
from email.utils import formatdate

DOMAIN = "example.org"
BASE = "dc=example,dc=org"
PEOPLE = "ou=people," + BASE
SERVICES = "ou=services," + BASE
MiB = 1024 * 1024
KiB = 1024

# Folder (IMAP name, Maildir++ directory name relative to ~/Maildir, share of messages).
FOLDERS = [
    ("INBOX", "", 50),
    ("Sent", ".Sent", 15),
    ("Archive", ".Archive", 12),
    ("Projects/2026", ".Projects.2026", 8),
    ("Trash", ".Trash", 5),
    ("Junk", ".Junk", 5),
    ("Drafts", ".Drafts", 3),
    ("Projects", ".Projects", 2),
]
# Folders that Dovecot does not auto-subscribe (the special-use ones are `auto = subscribe`).
EXTRA_SUBSCRIPTIONS = ["INBOX", "Projects", "Projects/2026"]
# Same keyword -> letter mapping in every folder (dovecot-keywords: "<index> <name>").
KEYWORDS = ["$Forwarded", "$Junk", "ProjectX"]
KEYWORD_FILE = "".join(f"{i} {k}\n" for i, k in enumerate(KEYWORDS))

# Size classes: (share %, min bytes, max bytes, kind).
SIZE_CLASSES = [
    (70, 2 * KiB, 20 * KiB, "text"),
    (25, 20 * KiB, 300 * KiB, "attach"),
    (5, 300 * KiB, 3 * MiB, "attach"),
]
# sizes are log-uniform inside a class: mean (hi - lo) / ln(hi / lo)
MEAN_SIZE = sum(p / 100 * (hi - lo) / math.log(hi / lo) for p, lo, hi, _ in SIZE_CLASSES)

FIRST = ("Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy "
         "Rupert Sybil Trent Victor Walter Yolanda Zoe Liam Emma Noah Ava Lucas Mia Ethan "
         "Sofia Mateo Chloe Hiro Aiko Lars Ingrid Pedro Lucia Omar Leila Kwame Amara").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Martinez Lopez Wilson "
        "Anderson Taylor Thomas Moore Jackson Martin Lee Thompson White Harris Clark Lewis "
        "Walker Hall Young King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell "
        "Carter Roberts Tanaka Larsen Okafor Haddad Novak").split()
WORDS = ("the quarterly report budget meeting schedule project deadline review draft "
         "proposal customer invoice shipment server migration mailbox quota backup archive "
         "please find attached below thanks regards update status notes agenda minutes "
         "action items follow up next week tomorrow today office travel conference call "
         "contract renewal license support ticket issue resolved pending approval team "
         "release plan roadmap design test results performance numbers figures summary "
         "question answer request confirm available discuss details options changes").split()
SUBJECTS = ["Quarterly report", "Meeting notes", "Budget review", "Project update",
            "Invoice", "Travel plans", "Server migration", "Contract renewal",
            "Support ticket", "Release plan", "Lunch on Friday?", "Action items",
            "Conference call", "Design review", "Test results", "Weekly status"]
UTF8_SUBJECTS = ["Überprüfung der Zahlen", "Réunion de l'équipe", "Résumé du projet",
                 "Presupuesto año 2026", "Встреча в пятницу", "会議の議事録"]
CORRESPONDENTS = ["partner.example.net", "vendor.example.com", "lists.example.net",
                  DOMAIN, DOMAIN, "customer.example.com"]
ATTACHMENTS = [("report.pdf", "application/pdf"), ("photo.jpg", "image/jpeg"),
               ("slides.pptx", "application/vnd.openxmlformats-officedocument."
                               "presentationml.presentation"),
               ("data.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
               ("archive.zip", "application/zip")]


# --------------------------------------------------------------------------- helpers

def ssha(password: bytes, rng: random.Random) -> str:
    salt = rng.randbytes(8)
    digest = hashlib.sha1(password + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def read_secret(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read().strip()


class Pools:
    """Large text and base64 pools built once per seed; bodies are slices of them (fast)."""

    def __init__(self, seed: str):
        rng = random.Random(f"{seed}:pools")
        lines, line, total = [], [], 0
        while total < 2 * MiB:
            w = rng.choice(WORDS)
            if sum(len(x) + 1 for x in line) + len(w) > 72:
                s = " ".join(line).capitalize() + ("." if rng.random() < 0.3 else "")
                lines.append(s)
                total += len(s) + 1
                line = []
                if rng.random() < 0.15:
                    lines.append("")
                    total += 1
            line.append(w)
        self.text = "\n".join(lines) + "\n"
        # base64.encodebytes yields 76-character lines + "\n" (77 bytes per line).
        self.b64 = base64.encodebytes(rng.randbytes(3 * MiB + 64 * KiB)).decode("ascii")

    def text_slice(self, rng: random.Random, n: int) -> str:
        n = max(1, min(n, len(self.text) // 2))
        start = self.text.find("\n", rng.randrange(0, len(self.text) - n - 1)) + 1
        end = self.text.rfind("\n", start, start + n)
        return self.text[start:end + 1] if end > start else self.text[start:start + 73] + "\n"

    def b64_slice(self, rng: random.Random, n: int) -> str:
        nlines = max(1, min(n // 77, len(self.b64) // 77 - 1))
        first = rng.randrange(0, len(self.b64) // 77 - nlines)
        return self.b64[first * 77:(first + nlines) * 77]


def encode_subject(s: str) -> str:
    try:
        s.encode("ascii")
        return s
    except UnicodeEncodeError:
        return Header(s, "utf-8").encode()


def fmt_addr(name: str, addr: str) -> str:
    return f"{name} <{addr}>"


# --------------------------------------------------------------------------- messages

class MailboxWriter:
    def __init__(self, home: str, user: str, uid: int, gid: int, pools: Pools,
                 rng: random.Random, ref_time: int, tag: str):
        self.home, self.user, self.uid, self.gid = home, user, uid, gid
        self.maildir = os.path.join(home, "Maildir")
        self.pools, self.rng, self.ref_time, self.tag = pools, rng, ref_time, tag
        self.counter = 0
        self.vsize_total = 0
        self.count = 0
        self.folders_made = set()
        self.keyword_files = set()
        self.chown = os.geteuid() != uid

    def _chown(self, path_or_fd):
        # bulk drops to the mail uid up front (no chown needed); demo runs as root
        if self.chown:
            os.chown(path_or_fd, self.uid, self.gid)

    def _mkdir(self, path: str):
        os.mkdir(path, 0o700)
        self._chown(path)

    def _write_small(self, path: str, data: str):
        with open(path, "w") as f:
            f.write(data)
        self._chown(path)

    def setup(self):
        for p in (self.home, self.maildir):
            if not os.path.isdir(p):
                self._mkdir(p)
        self._folder("")
        # Dovecot 2.3 subscriptions file, version 2: hierarchy levels separated by TAB
        subs = "V\t2\n\n" + "".join(s.replace("/", "\t") + "\n" for s in EXTRA_SUBSCRIPTIONS)
        self._write_small(os.path.join(self.maildir, "subscriptions"), subs)

    def _folder(self, d: str) -> str:
        path = os.path.join(self.maildir, d) if d else self.maildir
        if d not in self.folders_made:
            if d:
                self._mkdir(path)
            # Only cur/: Dovecot creates a missing new/ and tmp/ itself when it opens the
            # folder, and every mkdir counts when populate makes 10,000 users.
            self._mkdir(os.path.join(path, "cur"))
            self.folders_made.add(d)
        return path

    def _keywords(self, d: str):
        if d not in self.keyword_files:
            self._write_small(os.path.join(self._folder(d), "dovecot-keywords"), KEYWORD_FILE)
            self.keyword_files.add(d)

    def make_all_folders(self):
        for _, d, _ in FOLDERS:
            self._folder(d)

    def pick_folder(self):
        r = self.rng.randrange(100)
        for name, d, share in FOLDERS:
            if r < share:
                return name, d
            r -= share
        return FOLDERS[0][0], FOLDERS[0][1]

    def pick_size(self, scale: float):
        r = self.rng.randrange(100)
        for share, lo, hi, kind in SIZE_CLASSES:
            if r < share:
                # log-uniform inside the class: more small than big ones, as in real mail
                return int(lo * (hi / lo) ** self.rng.random() * scale), kind
            r -= share
        return int(2 * KiB * scale), "text"

    def flags_for(self, folder: str) -> str:
        r = self.rng.random
        f, kw = set(), set()
        if folder == "Sent":
            f.add("S")
        elif folder == "Drafts":
            f.update("DS")
        elif folder == "Junk":
            kw.add(1)
            if r() < 0.3:
                f.add("S")
        elif folder in ("Archive", "Trash"):
            if r() < 0.95:
                f.add("S")
        else:  # INBOX, Projects*
            if r() < 0.75:
                f.add("S")
                if r() < 0.2:
                    f.add("R")
                if r() < 0.06:
                    kw.add(0)
        if folder not in ("Drafts", "Junk") and r() < 0.08:
            f.add("F")
        if folder.startswith("Projects") and r() < 0.6 or r() < 0.02:
            kw.add(2)
        return "".join(sorted(f)) + "".join(chr(ord("a") + k) for k in sorted(kw))

    def build(self, folder: str, size: int, kind: str, ts: int):
        rng = self.rng
        me = fmt_addr(self.user.capitalize(), f"{self.user}@{DOMAIN}")
        other_name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        other_dom = rng.choice(CORRESPONDENTS)
        other = fmt_addr(other_name, other_name.lower().replace(" ", ".") + "@" + other_dom)
        outgoing = folder in ("Sent", "Drafts")
        frm, to = (me, other) if outgoing else (other, me)
        subject = rng.choice(UTF8_SUBJECTS) if rng.random() < 0.1 else rng.choice(SUBJECTS)
        reply = rng.random() < 0.25
        if reply:
            subject = "Re: " + subject
        self.counter += 1
        msgid = f"<{hashlib.md5(f'{self.tag}:{self.user}:{self.counter}'.encode()).hexdigest()}" \
                f"@{other_dom if not outgoing else DOMAIN}>"
        date = formatdate(ts - rng.randrange(2, 600), localtime=False)
        h = []
        if not outgoing:
            h.append(f"Return-Path: <{other.split('<')[1]}")
            h.append(f"Delivered-To: {self.user}@{DOMAIN}")
            h.append(f"Received: from mx.{other_dom} (mx.{other_dom} [192.0.2.{rng.randrange(1, 255)}])\n"
                     f"\tby mail.{DOMAIN} with ESMTPS id {msgid[1:13]}\n"
                     f"\tfor <{self.user}@{DOMAIN}>; {formatdate(ts, localtime=False)}")
        h += [f"Message-ID: {msgid}", f"Date: {date}", f"From: {frm}", f"To: {to}",
              f"Subject: {encode_subject(subject)}"]
        if reply:
            h.append(f"In-Reply-To: <{hashlib.md5(subject.encode()).hexdigest()}@{other_dom}>")
        h.append("MIME-Version: 1.0")
        head_len = sum(len(x) + 1 for x in h)
        if kind == "text" or size < 4 * KiB:
            h.append("Content-Type: text/plain; charset=us-ascii")
            h.append("Content-Transfer-Encoding: 7bit")
            body = self.pools.text_slice(rng, max(64, size - head_len - 80))
            return "\n".join(h) + "\n\n" + body
        boundary = "=_mbx_" + msgid[1:17]
        h.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        text = self.pools.text_slice(rng, rng.randrange(300, 1500))
        fname, ctype = rng.choice(ATTACHMENTS)
        att = self.pools.b64_slice(rng, max(77, size - head_len - len(text) - 400))
        return ("\n".join(h) + "\n\nThis is a multi-part message in MIME format.\n\n"
                f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n"
                f"Content-Transfer-Encoding: 7bit\n\n{text}\n"
                f"--{boundary}\nContent-Type: {ctype}; name=\"{fname}\"\n"
                f"Content-Disposition: attachment; filename=\"{fname}\"\n"
                f"Content-Transfer-Encoding: base64\n\n{att}\n--{boundary}--\n")

    def add(self, folder_name: str, folder_dir: str, data: str, ts: int, flags: str):
        raw = data.encode("utf-8")
        size = len(raw)
        vsize = size + raw.count(b"\n")
        self.counter += 1
        name = f"{ts}.M{self.counter:06d}P{self.tag}.mbxkit,S={size},W={vsize}:2,{flags}"
        if flags[-1:].islower():
            self._keywords(folder_dir)
        path = os.path.join(self._folder(folder_dir), "cur", name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, raw)
            self._chown(fd)
            os.utime(fd, (ts, ts))  # mtime = INTERNALDATE
        finally:
            os.close(fd)
        self.vsize_total += vsize
        self.count += 1
        return vsize

    def fill(self, messages: int, scale: float = 1.0, max_vsize: int = 0, target_vsize: int = 0):
        """Add `messages` messages (or, with target_vsize, as many as needed to reach it).

        max_vsize caps the mailbox size: a message that would pass it is downsized to the small
        class, so demo users stay below their quota however the dice fall."""
        two_years = 730 * 86400
        n = 0
        while True:
            if target_vsize:
                remaining = target_vsize - self.vsize_total
                if remaining < 1500:
                    break
            elif n >= messages:
                break
            n += 1
            folder_name, folder_dir = self.pick_folder()
            size, kind = self.pick_size(scale)
            if target_vsize:
                size, kind = min(size, 12 * KiB, remaining - 300), "text"
            elif max_vsize and self.vsize_total + size * 1.05 > max_vsize:
                size, kind = int(self.rng.randrange(2 * KiB, 8 * KiB) * scale), "text"
                if self.vsize_total + size * 1.05 > max_vsize:
                    break
            age = int(two_years * self.rng.random() ** 1.6)  # more recent than old mail
            ts = self.ref_time - age
            data = self.build(folder_name, size, kind, ts)
            self.add(folder_name, folder_dir, data, ts, self.flags_for(folder_name))


# --------------------------------------------------------------------------- LDIF

def ldif_user(uid: str, given: str, sn: str, pw_hash: str, quota, aliases=(), disabled=False):
    out = [f"dn: uid={uid},{PEOPLE}", "objectClass: inetOrgPerson", "objectClass: mbxMailUser",
           f"uid: {uid}", f"cn: {given} {sn}", f"sn: {sn}", f"givenName: {given}",
           f"mail: {uid}@{DOMAIN}", f"userPassword: {pw_hash}"]
    if quota is not None:
        out.append(f"mailQuota: {quota}")
    out += [f"mailAlternateAddress: {a}" for a in aliases]
    if disabled:
        out.append("mbxAccountDisabled: TRUE")
    return "\n".join(out) + "\n\n"


def base_ldif(mbxkit_hash: str, dovecot_hash: str) -> str:
    return (f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
            f"o: Example Org (mbxkit testenv)\n\n"
            f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
            f"dn: {SERVICES}\nobjectClass: organizationalUnit\nou: services\n\n"
            f"dn: cn=mbxkit,{SERVICES}\nobjectClass: organizationalRole\n"
            f"objectClass: simpleSecurityObject\ncn: mbxkit\n"
            f"description: service account of the mbxkit tools\nuserPassword: {mbxkit_hash}\n\n"
            f"dn: cn=dovecot,{SERVICES}\nobjectClass: organizationalRole\n"
            f"objectClass: simpleSecurityObject\ncn: dovecot\n"
            f"description: Dovecot passdb/userdb lookups\nuserPassword: {dovecot_hash}\n\n")


# --------------------------------------------------------------------------- commands

DEMO_USERS = [
    # uid, given, sn, quota bytes, messages, fill mode, aliases
    ("alice", "Alice", "Adams", 50 * MiB, 200, "cap", ["alice.adams@" + DOMAIN]),
    ("bob", "Bob", "Brown", 10 * MiB, 60, "cap", []),
    ("carol", "Carol", "Carter", 100 * MiB, 120, "cap", ["c.carter@" + DOMAIN]),
    ("dave", "Dave", "Davis", 1 * MiB, 0, "fill95", []),
]


def default_ref_time(arg):
    if arg is not None:
        return int(arg)
    now = int(time.time())
    return now - now % 86400


def cmd_hash(a):
    print(ssha(read_secret(a.password_file), random.Random()))


def cmd_demo(a):
    ref = default_ref_time(a.ref_time)
    pools = Pools(a.seed)
    user_pw = read_secret(os.path.join(a.dir, "secrets", "user.pw"))
    svc_pw = read_secret(os.path.join(a.dir, "secrets", "ldap-mbxkit.pw"))
    dc_pw = read_secret(os.path.join(a.dir, "secrets", "ldap-dovecot.pw"))
    rng = random.Random(f"{a.seed}:demo")
    out = [base_ldif(ssha(svc_pw, rng), ssha(dc_pw, rng))]
    for uid, given, sn, quota, msgs, mode, aliases in DEMO_USERS:
        urng = random.Random(f"{a.seed}:{uid}")
        w = MailboxWriter(os.path.join(a.dir, "mail", uid), uid, a.uid, a.gid, pools, urng, ref, uid)
        w.setup()
        w.make_all_folders()
        if mode == "fill95":
            w.fill(0, target_vsize=int(quota * 0.95))
        else:
            w.fill(msgs, max_vsize=int(quota * 0.7))
        out.append(ldif_user(uid, given, sn, ssha(user_pw, urng), quota, aliases))
        print(f"demo: {uid}: {w.count} messages, {w.vsize_total} bytes "
              f"({100 * w.vsize_total / quota:.1f}% of {quota})", file=sys.stderr)
    with open(os.path.join(a.dir, "slapd", "init.ldif"), "w") as f:
        f.write("".join(out))


# bulk work is split over processes; globals are inherited by fork
_BULK = {}


def bulk_one(i: int) -> str:
    a, pools, user_pw, scale, width = (_BULK[k] for k in ("a", "pools", "pw", "scale", "width"))
    uid = f"{a.prefix}{i:0{width}d}"
    rng = random.Random(f"{a.seed}:{uid}")
    w = MailboxWriter(os.path.join(a.dir, "mail", uid), uid, a.uid, a.gid, pools, rng,
                      _BULK["ref"], f"{i}")
    w.setup()
    w.fill(a.messages, scale=scale)
    given, sn = rng.choice(FIRST), rng.choice(LAST)
    used = w.vsize_total
    r = rng.random()
    if r < 0.05 and used > 0:       # 5%: near or over quota (85%..108% used)
        quota = max(KiB, int(used / rng.uniform(0.85, 1.08)))
    elif r < 0.08:                  # 3%: no mailQuota at all (unlimited)
        quota = None
    else:                           # the rest: a plan tier at least twice the usage
        quota = next((t for t in (100 * MiB, 500 * MiB, 1024 * MiB, 2048 * MiB)
                      if t >= 2 * used), (4 * used // MiB + 1) * MiB)
    aliases = [f"{given}.{sn}.{i}@{DOMAIN}".lower()] if rng.random() < 0.1 else []
    disabled = rng.random() < 0.01
    return ldif_user(uid, given, sn, ssha(user_pw, rng), quota, aliases, disabled)


def cmd_bulk(a):
    import multiprocessing
    width = max(5, len(str(a.start + a.users - 1)))
    expected = a.users * a.messages * MEAN_SIZE
    scale = 1.0 if expected <= a.max_bytes else a.max_bytes / expected
    _BULK.update(a=a, pools=Pools(a.seed), pw=read_secret(os.path.join(a.dir, "secrets", "user.pw")),
                 scale=scale, width=width, ref=default_ref_time(a.ref_time))
    for i in range(a.start, a.start + a.users):
        home = os.path.join(a.dir, "mail", f"{a.prefix}{i:0{width}d}")
        if os.path.exists(home):
            sys.exit(f"generate: {home} already exists (use another --prefix or --start)")
    t0 = time.time()
    ids = range(a.start, a.start + a.users)
    out = sys.stdout if a.ldif_out == "-" else open(a.ldif_out, "w")
    # Secrets are read and the output is open: become the mail user, so that every file and
    # directory is created with the right owner and no chown is needed.
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(a.gid)
        os.setuid(a.uid)
    with out:
        if a.jobs > 1 and a.users >= 50:
            with multiprocessing.Pool(a.jobs) as pool:
                for chunk in pool.imap(bulk_one, ids, chunksize=64):
                    out.write(chunk)
        else:
            for i in ids:
                out.write(bulk_one(i))
    print(f"generate: {a.users} users x {a.messages} messages (size scale {scale:.3f}) "
          f"in {time.time() - t0:.1f}s", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hash")
    h.add_argument("password_file")
    for name in ("demo", "bulk"):
        s = sub.add_parser(name)
        s.add_argument("--dir", required=True)
        s.add_argument("--uid", type=int, required=True)
        s.add_argument("--gid", type=int, required=True)
        s.add_argument("--seed", default="1")
        s.add_argument("--ref-time", default=None)
        if name == "bulk":
            s.add_argument("--users", type=int, required=True)
            s.add_argument("--messages", type=int, required=True)
            s.add_argument("--prefix", default="user")
            s.add_argument("--start", type=int, default=1)
            s.add_argument("--max-bytes", type=int, default=1024 * MiB,
                           help="scale message sizes down so the expected total stays below this")
            s.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
            s.add_argument("--ldif-out", required=True, help="file, or - for stdout")
    a = p.parse_args()
    {"hash": cmd_hash, "demo": cmd_demo, "bulk": cmd_bulk}[a.cmd](a)


if __name__ == "__main__":
    main()
