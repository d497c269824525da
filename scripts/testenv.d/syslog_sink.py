#!/usr/bin/python3
"""A syslog receiver for one program of the mbxkit sandbox (scripts/testenv --with-cyrus).

    syslog_sink.py SOCKET LOGFILE

Binds the Unix datagram socket SOCKET (mode 0666) and appends every message it receives to
LOGFILE, one line each: "<facility>.<severity> <message as sent>", the message being what
glibc's syslog() sends ("Mon dd hh:mm:ss ident[pid]: text"). testenv points /dev/log at SOCKET
in a private mount namespace for Cyrus's master, so Cyrus's syslog lands in LOGFILE although
the machine has no syslog daemon. Runs until killed (SIGTERM).
"""

import os
import re
import signal
import socket
import sys

SEVERITY = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
FACILITY = {0: "kern", 1: "user", 2: "mail", 3: "daemon", 4: "auth", 10: "authpriv",
            16: "local0", 17: "local1", 18: "local2", 19: "local3", 20: "local4",
            21: "local5", 22: "local6", 23: "local7"}
PRI = re.compile(rb"^<(\d{1,3})>")


def main():
    path, logfile = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(logfile, "ab", buffering=0) as log:
        while True:
            data = s.recv(65536).rstrip(b"\n\0")
            m = PRI.match(data)
            if m:
                pri = int(m.group(1))
                tag = f"{FACILITY.get(pri >> 3, str(pri >> 3))}.{SEVERITY[pri & 7]} ".encode()
                data = tag + data[m.end():]
            log.write(data.replace(b"\n", b" ") + b"\n")


if __name__ == "__main__":
    main()
