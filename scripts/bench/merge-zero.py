#!/usr/bin/python3
"""The zero-work IMAP client of scripts/bench/merge: the limit for any IMAP copy tool.

Reads a Dovecot Maildir (the source of the benchmark) into memory first (not timed): each
message's bytes, its flags and keywords (from the file name and the folder's dovecot-keywords)
and its INTERNALDATE (the file's mtime). Then, timed: logs in to the target user (master login),
creates the folders and sends every message with pipelined MULTIAPPEND + LITERAL+ (groups of
1,000 messages or 8 MiB, as mbx merge does; up to 32 commands in flight), and waits for the last
answer. No scan, no planning, no verification, no journal: what the server can store over IMAP
on this machine, and how fast one client can feed it.

  merge-zero.py --maildir DIR --to USER --time FILE
  TESTENV_* variables from the environment. FILE gets "WALL MAXRSS_KB USER SYS" (GNU time's
  -f '%e %M %U %S') for the timed part.
"""
import argparse
import os
import resource
import socket
import ssl
import sys
import threading
import time

FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def imap_date(ts):
    t = time.gmtime(ts)
    return f'"{t.tm_mday:02d}-{MONTHS[t.tm_mon - 1]}-{t.tm_year} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"'


def quoted(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load(maildir):
    folders = []
    for entry in sorted(os.listdir(maildir)):
        path = os.path.join(maildir, entry)
        if entry == "cur":
            folders.append(("INBOX", maildir))
        elif entry.startswith(".") and os.path.isdir(os.path.join(path, "cur")):
            folders.append((entry[1:].replace(".", "/"), path))
    out = []
    for name, path in folders:
        keywords = {}
        try:
            with open(os.path.join(path, "dovecot-keywords")) as f:
                for line in f:
                    i, _, k = line.strip().partition(" ")
                    keywords[chr(ord("a") + int(i))] = k
        except FileNotFoundError:
            pass
        messages = []
        for sub in ("cur", "new"):
            d = os.path.join(path, sub)
            for fn in sorted(os.listdir(d)):
                full = os.path.join(d, fn)
                info = fn.split(":2,", 1)[1] if ":2," in fn else ""
                flags = [FLAGS[c] for c in info if c in FLAGS] + [keywords[c] for c in info if c in keywords]
                with open(full, "rb") as f:
                    data = f.read()
                messages.append(("(" + " ".join(flags) + ") " + imap_date(int(os.stat(full).st_mtime)), data))
        out.append((name, messages))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--time", required=True)
    a = ap.parse_args()
    folders = load(a.maildir)
    env = os.environ
    host, port = env["TESTENV_IMAPS_URI"].split("//")[1].split(":")
    with open(env["TESTENV_IMAP_MASTER_PASSWORD_FILE"]) as f:
        password = f.read().strip()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    ctx = ssl.create_default_context(cafile=env["TESTENV_CA_FILE"])
    sock = ctx.wrap_socket(socket.create_connection((host, int(port))), server_hostname=host)
    reader = sock.makefile("rb", buffering=1 << 16)
    reader.readline()  # greeting
    tags = []  # tags in the order sent
    errors = []
    done = threading.Event()
    lock = threading.Condition()
    in_flight = [0]

    def read_answers():
        n = 0
        while True:
            line = reader.readline()
            if not line:
                errors.append("connection closed")
                break
            if line.startswith(b"* "):
                continue
            if line.startswith(b"+ "):
                continue
            tag, _, rest = line.partition(b" ")
            if not rest.startswith(b"OK") and not tag.startswith(b"c"):
                errors.append(line.decode(errors="replace").strip())
            n += 1
            with lock:
                in_flight[0] -= 1
                lock.notify()
            if tag.startswith(b"l"):  # the LOGOUT's answer: the last one
                break

    def send(command, prefix="z"):
        tag = f"{prefix}{len(tags)}"
        tags.append(tag)
        with lock:
            while in_flight[0] >= 32:
                lock.wait()
            in_flight[0] += 1
        sock.sendall(tag.encode() + b" " + command)

    t = threading.Thread(target=read_answers)
    t.start()
    user = f"{a.to}*{env['TESTENV_IMAP_MASTER_USER']}"
    send(f'LOGIN {quoted(user)} {quoted(password)}\r\n'.encode())
    for name, _ in folders:
        if name != "INBOX":
            send(f"CREATE {quoted(name)}\r\n".encode(), prefix="c")  # NO if it exists: fine
    for name, messages in folders:
        i = 0
        while i < len(messages):
            parts, size = [], 0
            while i < len(messages) and len(parts) < 1000 and (not parts or size + len(messages[i][1]) <= 8 << 20):
                meta, data = messages[i]
                parts.append(f" {meta} {{{len(data)}+}}\r\n".encode() + data)
                size += len(data)
                i += 1
            send(f"APPEND {quoted(name)}".encode() + b"".join(parts) + b"\r\n")
    send(b"LOGOUT\r\n", prefix="l")
    done.set()
    t.join()
    wall = time.monotonic() - start
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    with open(a.time, "w") as f:
        f.write(f"{wall:.2f} {r1.ru_maxrss} {r1.ru_utime - r0.ru_utime:.2f} {r1.ru_stime - r0.ru_stime:.2f}\n")
    bad = [e for e in errors if "LOGOUT" not in e and not e.startswith("* BYE")]
    if bad:
        print("merge-zero: " + "; ".join(bad[:3]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
