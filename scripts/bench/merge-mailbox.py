#!/usr/bin/python3
"""Source mailbox for scripts/bench/merge, and the comparison of a merged target against it.
Standard library only.

  merge-mailbox.py write --maildir DIR --uid U --gid G [--messages N] [--small N]
                         [--seed S] [--ref-time EPOCH] [--manifest FILE]
      Writes messages straight into an existing user's Maildir (never through IMAP), as the
      mail uid/gid U:G (run as root, it opens only --manifest before dropping to them).
        --messages N (default 10000): the "realistic" mailbox -- 13 folders (INBOX, Sent,
            Drafts, Trash, Junk, Archive, Archive/2024, Archive/2025, Lists/dev,
            Lists/announce, Projects/Acme, Projects/Acme/Invoices, Kunden/Müller),
            85% 2-20 KB, 12% 20-100 KB, 2.75% 100 KB-2 MB (log-uniform inside each class;
            about 30 KB a message on average, ~300 MB for 10,000).
        --small N: instead, one folder "Notifications" of N messages of 1-3 KB.
      Every message has a unique Message-ID. Maildir info flags D F R S T (Draft, Flagged,
      Answered, Seen, Deleted), keywords as letters a.. mapped through the folder's
      dovecot-keywords file, the file mtime is the INTERNALDATE, and the file name carries
      S=<size on disk>,W=<RFC 822 size> like files Dovecot delivers itself. Folders are
      Maildir++ (".Lists.dev" for "Lists/dev", names in modified UTF-7), the subscriptions
      file lists them all. Deterministic: the same --seed and --ref-time give the same bytes.
      Prints one JSON line: messages, bytes, per-folder counts. --manifest FILE: one TSV
      line per message (folder, message-id, flags, keywords, internaldate, size).

  merge-mailbox.py compare SOURCE.tsv TARGET.tsv [--skip-deleted] [--name NAME]
                           [--source-maildir DIR --target-maildir DIR]
      Both files are `doveadm -f tab fetch 'mailbox flags date.received.unixtime
      size.virtual hdr.message-id' all` outputs. Matches messages by Message-ID and prints
      one JSON line: messages on the target, missing, extra/duplicates, folders that differ,
      and whether flags, keywords and INTERNALDATEs all match (with examples of mismatches).
      --skip-deleted: source messages flagged \\Deleted are not expected on the target.
      With both maildirs: also whether every message's bytes are identical (SHA-1 of the
      file with LF line ends, matched by Message-ID).
      --time/--rc/--limit/--server-cpu/--command/--mailbox: the run's measurements, copied
      into the JSON line for `report`.

  merge-mailbox.py report RESULTS.jsonl
      The markdown table of the compare lines and the issue's targets per mailbox.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import sys
from email.utils import formatdate

KiB = 1024
MiB = 1024 * KiB
DOMAIN = "example.org"
REF_TIME = 1767225600  # 2026-01-01T00:00:00Z: dates are ages before this, so bytes never drift

# Every folder gets the same dovecot-keywords file: letter a = index 0, ...
KEYWORDS = ["$Forwarded", "$MDNSent", "$Junk", "$NotJunk", "$label1", "$label2", "Todo",
            "ProjectX"]
KW = {k: chr(ord("a") + i) for i, k in enumerate(KEYWORDS)}
KEYWORD_FILE = "".join(f"{i} {k}\n" for i, k in enumerate(KEYWORDS))

# (IMAP name, share of messages %)
FOLDERS = [
    ("INBOX", 33), ("Sent", 14), ("Drafts", 1), ("Trash", 3), ("Junk", 3),
    ("Archive", 8), ("Archive/2024", 8), ("Archive/2025", 8),
    ("Lists/dev", 10), ("Lists/announce", 4),
    ("Projects/Acme", 5), ("Projects/Acme/Invoices", 2), ("Kunden/Müller", 1),
]
SMALL_FOLDER = "Notifications"

# (share %, min bytes, max bytes, kind)
SIZE_CLASSES = [(85.25, 2 * KiB, 20 * KiB, "text"), (12, 20 * KiB, 100 * KiB, "html"),
                (2.75, 100 * KiB, 2 * MiB, "attach")]

FIRST = ("Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Niaj Olivia Peggy Rupert "
         "Sybil Trent Victor Walter Zoe Liam Emma Noah Lucas Mia Hiro Aiko Lars Ingrid Omar "
         "Leila Kwame Amara").split()
LAST = ("Smith Johnson Brown Garcia Miller Davis Lopez Wilson Taylor Moore Martin Lee White "
        "Clark Walker Young King Wright Green Baker Adams Tanaka Larsen Okafor Haddad Novak "
        "Müller").split()
WORDS = ("the quarterly report budget meeting schedule project deadline review draft proposal "
         "customer invoice shipment server migration mailbox quota backup archive please find "
         "attached below thanks regards update status notes agenda minutes action items follow "
         "up next week tomorrow today office travel conference call contract renewal license "
         "support ticket issue resolved pending approval team release plan roadmap design test "
         "results performance numbers figures summary question answer request confirm").split()
SUBJECTS = ["Quarterly report", "Meeting notes", "Budget review", "Project update", "Invoice",
            "Travel plans", "Server migration", "Contract renewal", "Support ticket",
            "Release plan", "Action items", "Design review", "Test results", "Weekly status",
            "=?UTF-8?Q?=C3=9Cberpr=C3=BCfung_der_Zahlen?=", "=?UTF-8?B?0JLRgdGC0YDQtdGH0LA=?="]
LIST_NAMES = {"Lists/dev": "dev.lists.example.net", "Lists/announce": "announce.lists.example.net"}
ATTACHMENTS = [("report.pdf", "application/pdf"), ("photo.jpg", "image/jpeg"),
               ("slides.pptx", "application/vnd.openxmlformats-officedocument.presentationml"
                               ".presentation"), ("archive.zip", "application/zip")]


def mutf7(name: str) -> str:
    """IMAP modified UTF-7 (RFC 3501 5.1.3), as Dovecot stores Maildir++ folder names."""
    out, buf = [], []

    def flush():
        if buf:
            b = base64.b64encode("".join(buf).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b.replace("/", ",") + "-")
            buf.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)


class Pools:
    """A 2 MB text pool and a 2.2 MB base64 pool; bodies are slices (fast, deterministic)."""

    def __init__(self, rng: random.Random):
        lines, total = [], 0
        while total < 2 * MiB:
            n = rng.randrange(6, 13)
            s = " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
            lines.append(s)
            total += len(s) + 1
            if rng.random() < 0.12:
                lines.append("")
                total += 1
        self.text = "\n".join(lines) + "\n"
        self.b64 = base64.encodebytes(rng.randbytes(2 * MiB + 256 * KiB)).decode("ascii")

    def text_slice(self, rng, n):
        n = max(40, min(n, len(self.text) // 2))
        start = self.text.find("\n", rng.randrange(0, len(self.text) - n - 1)) + 1
        end = self.text.rfind("\n", start, start + n)
        return self.text[start:end + 1] if end > start else self.text[start:start + 60] + "\n"

    def b64_slice(self, rng, n):
        nlines = max(1, min(n // 77, len(self.b64) // 77 - 1))
        first = rng.randrange(0, len(self.b64) // 77 - nlines)
        return self.b64[first * 77:(first + nlines) * 77]


def pick(rng, table, weight):
    """One row of table, chosen with the probability row[weight] / sum of them."""
    r = rng.random() * sum(t[weight] for t in table)
    for t in table:
        if r < t[weight]:
            return t
        r -= t[weight]
    return table[-1]


def flags_for(rng, folder):
    """(system flag letters, keyword names) for one message of the folder."""
    r = rng.random
    f, kw = set(), set()
    if folder == "Sent":
        f.add("S")
        if r() < 0.03:
            kw.add("$MDNSent")
    elif folder == "Drafts":
        f.update("DS")
    elif folder == "Junk":
        kw.add("$Junk")
        if r() < 0.3:
            f.add("S")
    elif folder == "Trash":
        if r() < 0.9:
            f.add("S")
        if r() < 0.25:
            f.add("T")
    elif folder == SMALL_FOLDER:
        if r() < 0.9:
            f.add("S")
        if r() < 0.05:
            kw.add("Todo")
    else:
        seen = 0.98 if folder.startswith("Archive") else 0.8
        if r() < seen:
            f.add("S")
            if r() < 0.15:
                f.add("R")
            if r() < 0.05:
                kw.add("$Forwarded")
        if folder == "INBOX" and r() < 0.01:
            f.add("T")
        if folder.startswith("Lists") and r() < 0.02:
            kw.add("$NotJunk")
    if folder not in ("Drafts", "Junk", SMALL_FOLDER) and r() < 0.06:
        f.add("F")
    if folder.startswith("Projects") and r() < 0.5:
        kw.add("ProjectX")
    if r() < 0.03:
        kw.add(rng.choice(["$label1", "$label2", "Todo"]))
    return "".join(sorted(f)), sorted(kw)


class Writer:
    def __init__(self, maildir, seed, ref_time):
        self.maildir = maildir
        self.rng = random.Random(f"{seed}:messages")
        self.pools = Pools(random.Random(f"{seed}:pools"))
        self.seed, self.ref_time = seed, ref_time
        self.n = 0
        self.dirs = {}
        self.counts = {}
        self.bytes = 0
        self.manifest = []

    def folder_dir(self, name):
        if name in self.dirs:
            return self.dirs[name]
        if name == "INBOX":
            path = self.maildir
        else:
            path = os.path.join(self.maildir, "." + ".".join(mutf7(p) for p in name.split("/")))
            os.makedirs(path, 0o700, exist_ok=True)
            open(os.path.join(path, "maildirfolder"), "a").close()
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(path, sub), 0o700, exist_ok=True)
        with open(os.path.join(path, "dovecot-keywords"), "w") as f:
            f.write(KEYWORD_FILE)
        self.dirs[name] = path
        self.counts[name] = 0
        return path

    def build(self, folder, size, kind, ts):
        rng = self.rng
        self.n += 1
        other = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        other_addr = other.lower().replace(" ", ".").replace("ü", "ue") + "@partner.example.net"
        me = f"Mara Quell <mara.quell@{DOMAIN}>"
        outgoing = folder in ("Sent", "Drafts")
        frm, to = (me, f"{other} <{other_addr}>") if outgoing else (f"{other} <{other_addr}>", me)
        mid = hashlib.sha1(f"{self.seed}:{self.n}".encode()).hexdigest()[:24]
        msgid = f"<{mid}.{self.n}@{'mail.' + DOMAIN if outgoing else 'partner.example.net'}>"
        subject = rng.choice(SUBJECTS)
        if rng.random() < 0.3:
            subject = "Re: " + subject
        h = []
        if not outgoing:
            h += [f"Return-Path: <{other_addr}>", f"Delivered-To: mara.quell@{DOMAIN}",
                  f"Received: from mx.partner.example.net (mx.partner.example.net "
                  f"[192.0.2.{rng.randrange(1, 255)}])\n\tby mail.{DOMAIN} (Postfix) with ESMTPS "
                  f"id {mid[:10].upper()}\n\tfor <mara.quell@{DOMAIN}>; {formatdate(ts)}"]
        if folder in LIST_NAMES:
            h += [f"List-Id: <{LIST_NAMES[folder]}>",
                  f"List-Unsubscribe: <mailto:leave@{LIST_NAMES[folder]}>"]
        h += [f"Message-ID: {msgid}", f"Date: {formatdate(ts - rng.randrange(5, 900))}",
              f"From: {frm}", f"To: {to}", f"Subject: {subject}", "MIME-Version: 1.0"]
        head = "\n".join(h) + "\n"
        if kind == "text":
            body = self.pools.text_slice(rng, max(60, size - len(head) - 90))
            return (head + "Content-Type: text/plain; charset=utf-8\n"
                    "Content-Transfer-Encoding: 8bit\n\n" + body)
        b = "=_b" + mid
        if kind == "html":
            text = self.pools.text_slice(rng, max(200, (size - len(head)) // 3))
            html_inner = self.pools.text_slice(rng, max(200, size - len(head) - len(text) - 500))
            html = "<html><body>\n<p>" + html_inner.replace("\n\n", "</p>\n<p>") + "</p>\n</body></html>\n"
            return (head + f'Content-Type: multipart/alternative; boundary="{b}"\n\n'
                    f"--{b}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
                    f"--{b}\nContent-Type: text/html; charset=utf-8\n\n{html}\n--{b}--\n")
        text = self.pools.text_slice(rng, rng.randrange(300, 2000))
        fname, ctype = rng.choice(ATTACHMENTS)
        # a 2 MB message may need more than one pass over the pool
        need = max(77, size - len(head) - len(text) - 500)
        att = []
        while need > 0:
            part = self.pools.b64_slice(rng, min(need, 2 * MiB))
            att.append(part)
            need -= len(part)
        return (head + f'Content-Type: multipart/mixed; boundary="{b}"\n\n'
                "This is a multi-part message in MIME format.\n\n"
                f"--{b}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
                f'--{b}\nContent-Type: {ctype}; name="{fname}"\n'
                f'Content-Disposition: attachment; filename="{fname}"\n'
                f"Content-Transfer-Encoding: base64\n\n{''.join(att)}\n--{b}--\n")

    def add(self, folder, data, ts, flags, keywords):
        raw = data.encode("utf-8")
        size, vsize = len(raw), len(raw) + raw.count(b"\n")
        info = flags + "".join(KW[k] for k in keywords)
        path = os.path.join(self.folder_dir(folder), "cur",
                            f"{ts}.M{self.n}P{os.getpid()}.mbxbench,S={size},W={vsize}:2,{info}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, raw)
            os.utime(fd, (ts, ts))  # mtime = INTERNALDATE
        finally:
            os.close(fd)
        self.counts[folder] += 1
        self.bytes += vsize
        msgid = data.split("Message-ID: ", 1)[1].split("\n", 1)[0]
        self.manifest.append((folder, msgid, flags, " ".join(keywords), ts, vsize))

    def fill(self, n, small):
        rng = self.rng
        five_years = 5 * 365 * 86400
        if not small:
            for name, _ in FOLDERS:  # every folder exists, even if the dice leave one empty
                self.folder_dir(name)
        for _ in range(n):
            if small:
                folder, size, kind = SMALL_FOLDER, rng.randrange(1 * KiB, 3 * KiB), "text"
            else:
                folder = pick(rng, FOLDERS, 1)[0]
                _, lo, hi, kind = pick(rng, SIZE_CLASSES, 0)
                size = int(lo * (hi / lo) ** rng.random())
            ts = self.ref_time - int(five_years * rng.random() ** 1.5) - rng.randrange(86400)
            flags, kws = flags_for(rng, folder)
            self.add(folder, self.build(folder, size, kind, ts), ts, flags, kws)

    def subscriptions(self):
        # Dovecot 2.3 subscriptions file, version 2: hierarchy levels separated by TAB
        names = sorted(self.dirs)
        with open(os.path.join(self.maildir, "subscriptions"), "w") as f:
            f.write("V\t2\n\n" + "".join(n.replace("/", "\t") + "\n" for n in names))


def cmd_write(a):
    if not os.path.isdir(a.maildir):
        sys.exit(f"merge-mailbox: {a.maildir} is not a directory (populate the user first)")
    manifest = open(a.manifest, "w") if a.manifest else None  # opened before dropping root
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(a.gid)
        os.setuid(a.uid)
    elif os.geteuid() != a.uid:
        sys.exit("merge-mailbox: run as root or as the mail uid")
    os.umask(0o077)
    w = Writer(a.maildir, a.seed, a.ref_time)
    if a.small:
        w.fill(a.small, small=True)
    else:
        w.fill(a.messages, small=False)
    w.subscriptions()
    if manifest:
        with manifest as f:
            for row in w.manifest:
                f.write("\t".join(str(x) for x in row) + "\n")
    print(json.dumps({"messages": sum(w.counts.values()), "bytes": w.bytes,
                      "folders": w.counts}, ensure_ascii=False))


SYSTEM_FLAGS = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"}


def read_fetch(path):
    """doveadm -f tab fetch output -> list of dicts (header line names the fields)."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            vals = line.rstrip("\n").split("\t")
            if len(vals) != len(header):
                continue
            r = dict(zip(header, vals))
            fl = r.get("flags", "").split()
            r["sys"] = frozenset(x for x in fl if x in SYSTEM_FLAGS)
            r["kw"] = frozenset(x for x in fl if not x.startswith("\\"))
            rows.append(r)
    return rows


def field(r, *names):
    for n in names:
        if n in r:
            return r[n]
    return ""


def maildir_hashes(maildir):
    """Message-ID -> SHA-1 of every message file under MAILDIR (*/cur, */new), line ends
    normalised to LF (Dovecot stores LF whatever the client sent)."""
    out = {}
    for root, dirs, files in os.walk(maildir):
        if os.path.basename(root) not in ("cur", "new"):
            continue
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            data = data.replace(b"\r\n", b"\n")
            head = b"\n" + data.split(b"\n\n", 1)[0]
            i = head.lower().find(b"\nmessage-id:")
            if i < 0:
                continue
            mid = head[i + 12:].split(b"\n", 1)[0].strip().decode("utf-8", "replace")
            out.setdefault(mid, hashlib.sha1(data).hexdigest())
    return out


def cmd_compare(a):
    src, dst = read_fetch(a.source), read_fetch(a.target)
    mid = ("hdr.message-id",)
    by_id = {}
    for r in src:
        by_id[field(r, *mid).strip()] = r
    seen, extra, dup = set(), 0, 0
    bad = {"flags": [], "keywords": [], "dates": [], "size": [], "folder": [], "bytes": []}
    for r in dst:
        m = field(r, *mid).strip()
        s = by_id.get(m)
        if s is None:
            extra += 1
            continue
        if m in seen:
            dup += 1
            continue
        seen.add(m)
        if s["sys"] != r["sys"]:
            bad["flags"].append(f"{m}: {' '.join(sorted(s['sys']))} -> {' '.join(sorted(r['sys']))}")
        if s["kw"] != r["kw"]:
            bad["keywords"].append(f"{m}: {' '.join(sorted(s['kw']))} -> {' '.join(sorted(r['kw']))}")
        sd, td = field(s, "date.received.unixtime", "date.received"), \
            field(r, "date.received.unixtime", "date.received")
        if sd != td:
            bad["dates"].append(f"{m}: {sd} -> {td}")
        if field(s, "size.virtual") != field(r, "size.virtual"):
            bad["size"].append(f"{m}: {field(s, 'size.virtual')} -> {field(r, 'size.virtual')}")
        if s["mailbox"] != r["mailbox"]:
            bad["folder"].append(f"{m}: {s['mailbox']} -> {r['mailbox']}")
    if a.source_maildir and a.target_maildir:
        sh, th = maildir_hashes(a.source_maildir), maildir_hashes(a.target_maildir)
        for m in seen:
            if sh.get(m) is None or sh.get(m) != th.get(m):
                bad["bytes"].append(m)
    expected = {m for m, r in by_id.items()
                if not (a.skip_deleted and "\\Deleted" in r["sys"])}
    missing = expected - seen
    missing_deleted = sum(1 for m in missing if "\\Deleted" in by_id[m]["sys"])
    folders = {}
    for r in src:
        if field(r, *mid).strip() in expected:
            folders.setdefault(r["mailbox"], [0, 0])[0] += 1
    for r in dst:
        folders.setdefault(r["mailbox"], [0, 0])[1] += 1
    secs = rss_kb = user = sys_ = None
    if a.time:
        with open(a.time) as f:
            last = [ln.split() for ln in f if ln.strip()][-1]
        secs, rss_kb, user, sys_ = float(last[0]), int(last[1]), float(last[2]), float(last[3])
    found_bytes = sum(int(field(by_id[m], "size.virtual") or 0) for m in seen)
    out = {
        "name": a.name, "mailbox": a.mailbox, "command": a.command, "rc": a.rc, "limit": a.limit,
        "seconds": secs, "rss_kb": rss_kb, "cpu_client": None if user is None else round(user + sys_, 2),
        "cpu_server": a.server_cpu, "found": len(seen), "found_bytes": found_bytes,
        "source_bytes": sum(int(field(r, "size.virtual") or 0) for r in src),
        "source": len(src), "expected": len(expected), "target": len(dst),
        "missing": len(missing), "missing_deleted": missing_deleted, "extra": extra,
        "duplicates": dup,
        "folders_differ": {k: v for k, v in sorted(folders.items()) if v[0] != v[1]},
        "flags": not bad["flags"], "keywords": not bad["keywords"], "dates": not bad["dates"],
        "sizes": not bad["size"],
        "bytes": (not bad["bytes"]) if a.source_maildir and a.target_maildir else None,
        "mismatches": {k: len(v) for k, v in bad.items()},
        "examples": {k: v[:3] for k, v in bad.items() if v},
        "missing_examples": sorted(missing)[:3],
    }
    print(json.dumps(out, ensure_ascii=False))


def yesno(ok, n):
    return "—" if ok is None else ("yes" if ok else f"**no** ({n})")


def cmd_report(a):
    rows = [json.loads(ln) for ln in open(a.results) if ln.strip()]
    print("| mailbox | tool | messages | MB | wall s | msg/s | MB/s | peak RSS MB "
          "| CPU s tool / Dovecot | flags | keywords | dates | bytes | complete |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    by = {}
    for r in rows:
        secs = r["seconds"] or 0
        mb = r["found_bytes"] / MiB
        r["mps"] = r["found"] / secs if secs else 0
        r["mbps"] = mb / secs if secs else 0
        by[(r["mailbox"], r["name"])] = r
        problems = []
        if r["rc"] == 124 and r.get("limit"):
            problems.append(f"stopped at the {r['limit']} s time limit")
        elif r["rc"]:
            problems.append(f"exit {r['rc']}")
        if r["missing"]:
            problems.append(f"{r['missing']} missing")
        if r["duplicates"] or r["extra"]:
            problems.append(f"{r['duplicates']} duplicates, {r['extra']} unknown")
        mm = r["mismatches"]
        print(f"| {r['mailbox']} | {r['name']} | {r['found']:,} | {mb:,.1f} | {secs:.1f} "
              f"| {r['mps']:,.0f} | {r['mbps']:.1f} | {(r['rss_kb'] or 0) / 1024:.1f} "
              f"| {r['cpu_client'] or 0:.1f} / {r['cpu_server'] or 0:.1f} "
              f"| {yesno(r['flags'], mm['flags'])} | {yesno(r['keywords'], mm['keywords'])} "
              f"| {yesno(r['dates'], mm['dates'])} | {yesno(r['bytes'], mm['bytes'])} "
              f"| {'yes' if not problems else '**no**: ' + ', '.join(problems)} |")
    print()
    print("MB = MiB of RFC 822 message sizes of the messages found on the target; CPU: user+sys "
          "of the tool's process / of Dovecot's processes during the run.")
    print()
    for mbox in sorted({r["mailbox"] for r in rows}):
        m = by.get((mbox, "mbx"))
        if not m:
            continue
        out = []
        for peer, want, label in (("zero", 0.7, ">= 70% of the zero-work IMAP client"),
                                  ("mbsync", 2.0, ">= 2x mbsync")):
            p = by.get((mbox, peer))
            if p and p["mps"]:
                ratio = m["mps"] / p["mps"]
                shown = f"{ratio:.2f}x" if want >= 1 else f"{100 * ratio:.0f}%"
                out.append(f"msg/s {label}: {shown} -> {'met' if ratio >= want else 'NOT met'}")
        rss = (m["rss_kb"] or 0) / 1024
        out.append(f"peak RSS < 100 MB: {rss:.1f} MB -> {'met' if rss < 100 else 'NOT met'}")
        ok = not m["rc"] and not m["missing"]
        out.append("mbx merge complete and verified" if ok else "mbx merge INCOMPLETE (see table)")
        print(f"- mailbox {mbox}: " + "; ".join(out))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("--maildir", required=True)
    w.add_argument("--uid", type=int, required=True)
    w.add_argument("--gid", type=int, required=True)
    w.add_argument("--messages", type=int, default=10000)
    w.add_argument("--small", type=int, default=0)
    w.add_argument("--seed", default="1")
    w.add_argument("--ref-time", type=int, default=REF_TIME)
    w.add_argument("--manifest")
    c = sub.add_parser("compare")
    c.add_argument("source")
    c.add_argument("target")
    c.add_argument("--skip-deleted", action="store_true")
    c.add_argument("--source-maildir")
    c.add_argument("--target-maildir")
    c.add_argument("--name", default="")
    c.add_argument("--mailbox", default="")
    c.add_argument("--time", help="GNU time -f '%%e %%M %%U %%S' output of the run")
    c.add_argument("--rc", type=int)
    c.add_argument("--limit", type=int, help="the run's time limit (exit 124 = stopped at it)")
    c.add_argument("--server-cpu", type=float)
    c.add_argument("--command", default="")
    r = sub.add_parser("report")
    r.add_argument("results")
    a = p.parse_args()
    {"write": cmd_write, "compare": cmd_compare, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
