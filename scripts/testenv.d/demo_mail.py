#!/usr/bin/python3
"""Demo mail for scripts/testenv's directory Dovecots (dovecot-ad: --with-samba-ad,
dovecot-389ds: --with-389ds), written over IMAP as the master user.

  demo_mail.py --port PORT --master USER --master-pw FILE --users "alice bob"
               --server NAME --tag TAG
      Three small messages into each user's INBOX (LOGIN user*master; Subject "TAG demo
      message N for USER", Message-ID <tag-demo-N-USER@testenv.example.org>, the body names
      the server NAME), and for alice a subscribed folder Projects with one message.
"""
import argparse
import imaplib
import sys
import time

MAIL_DOMAIN = "example.org"


def read_secret(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip("\n")


def append(imap, user, mailbox, msg):
    typ, data = imap.append(mailbox, None, imaplib.Time2Internaldate(time.time()), msg.encode())
    if typ != "OK":
        sys.exit("APPEND to %s's %s failed: %r" % (user, mailbox, data))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--master", required=True)
    p.add_argument("--master-pw", required=True)
    p.add_argument("--users", required=True)
    p.add_argument("--server", required=True, help="the Dovecot's name, for the message body")
    p.add_argument("--tag", required=True, help="Subject prefix; lowercased in Message-IDs")
    args = p.parse_args()
    pw = read_secret(args.master_pw)
    tag, mid = args.tag, args.tag.lower()
    for user in args.users.split():
        imap = imaplib.IMAP4("127.0.0.1", args.port)
        imap.login("%s*%s" % (user, args.master), pw)
        if user == "alice":
            imap.create("Projects")
            imap.subscribe("Projects")
        for i in range(1, 4):
            append(imap, user, "INBOX",
                   "From: Testenv <testenv@example.org>\r\n"
                   "To: %s@%s\r\n"
                   "Subject: %s demo message %d for %s\r\n"
                   "Date: Mon, 07 Dec 2026 12:0%d:00 +0000\r\n"
                   "Message-ID: <%s-demo-%d-%s@testenv.example.org>\r\n"
                   "\r\n"
                   "Message %d in %s's INBOX on %s.\r\n"
                   % (user, MAIL_DOMAIN, tag, i, user, i, mid, i, user, i, user, args.server))
        if user == "alice":
            append(imap, user, "Projects",
                   "From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
                   "Subject: Project plan\r\n"
                   "Message-ID: <%s-demo-projects@testenv.example.org>\r\n"
                   "\r\nThe plan.\r\n" % mid)
        imap.logout()
    return 0


if __name__ == "__main__":
    sys.exit(main())
