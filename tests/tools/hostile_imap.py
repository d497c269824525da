#!/usr/bin/python3
"""A hostile IMAP server for the red-team tests (tests/tools/hostile_servers_test.sh): TLS on
127.0.0.1, greeting and login as a real server does them, then, for the first command after the
login that is not CAPABILITY, one of these behaviours:

  flood        `* 1 EXISTS` forever, as fast as the client reads
  drip         `* OK still working` every 0.2 s, forever (the connection is never idle)
  literals     one endless response line of one-byte literals: `* LIST () "/" {1}\\r\\nA {1}...`
  unavailable  the login is refused with `NO [UNAVAILABLE] Temporary authentication failure.`
               (Dovecot's answer when its passdb, e.g. LDAP, is down)

and two HTTPS servers, for the ActiveSync side, that answer every request with:

  http-status   the status line `HTTP/1.1 999999999999 OK`
  http-garbage  4 KiB of random bytes, no status line at all

  hostile_imap.py MODE CERT KEY PORTFILE   listens on a free port, writes it to PORTFILE, serves
                                           clients one at a time until killed
"""
import socket
import ssl
import sys
import threading
import time

MODE, CERT, KEY, PORTFILE = sys.argv[1:5]


def serve(conn):
    f = conn.makefile("rb")

    def say(data):
        conn.sendall(data if isinstance(data, bytes) else data.encode())

    say("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] hostile test server ready\r\n")
    while True:
        line = f.readline()
        if not line:
            return
        parts = line.decode(errors="replace").strip().split(" ", 2)
        tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else "")
        if cmd == "CAPABILITY":
            say("* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN NAMESPACE UIDPLUS\r\n" + tag + " OK done\r\n")
        elif cmd in ("AUTHENTICATE", "LOGIN"):
            if cmd == "AUTHENTICATE" and len(parts) == 3 and " " not in parts[2]:  # no SASL-IR: a continuation
                say("+ \r\n")
                f.readline()
            if MODE == "unavailable":
                say(tag + " NO [UNAVAILABLE] Temporary authentication failure. [host:2026-12-07 08:00:00]\r\n")
            else:
                say(tag + " OK [CAPABILITY IMAP4rev1 LITERAL+ NAMESPACE UIDPLUS] Logged in\r\n")
        elif cmd == "LOGOUT":
            say("* BYE\r\n" + tag + " OK bye\r\n")
            return
        elif MODE == "flood":
            chunk = b"* 1 EXISTS\r\n" * 4096
            while True:
                conn.sendall(chunk)
        elif MODE == "drip":
            while True:
                say("* OK still working\r\n")
                time.sleep(0.2)
        elif MODE == "literals":
            say('* LIST () "/" ')
            chunk = b"{1}\r\nA " * 8192
            while True:
                conn.sendall(chunk)
        else:
            say(tag + " OK nothing\r\n")


def serve_http(conn):
    conn.recv(65536)  # the request, whatever it is
    if MODE == "http-status":
        conn.sendall(b"HTTP/1.1 999999999999 OK\r\nContent-Length: 0\r\n\r\n")
    else:
        import os
        conn.sendall(os.urandom(4096))


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    with open(PORTFILE + ".tmp", "w") as out:
        out.write(str(listener.getsockname()[1]))
    import os
    os.rename(PORTFILE + ".tmp", PORTFILE)
    while True:
        raw, _ = listener.accept()

        def run(raw=raw):
            try:
                with ctx.wrap_socket(raw, server_side=True) as conn:
                    (serve_http if MODE.startswith("http-") else serve)(conn)
            except (OSError, ssl.SSLError):
                pass

        threading.Thread(target=run, daemon=True).start()


if __name__ == "__main__":
    main()
