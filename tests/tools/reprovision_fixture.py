#!/usr/bin/python3
"""LDAP and IMAP helpers for the mbx reprovision tool tests (standard library only).

Everything merge_fixture.py does (reset, fill, state, compare), for logins with any character
(`#rpv,+"\\=x`: LOGIN arguments are quoted here), plus:

  reprovision_fixture.py [--env FILE] adduser UID [--alias ADDR]... [--quota BYTES]
                            a user like the generator's (inetOrgPerson + mbxMailUser, cn, sn,
                            givenName, displayName, mail UID-ish@example.org, {SSHA} password)
  reprovision_fixture.py [--env FILE] dn UID       its DN (RFC 4514: every special escaped)
  reprovision_fixture.py [--env FILE] cleanup PREFIX...   remove the entries whose uid starts
                            with a PREFIX and their mail directories
  reprovision_fixture.py [--env FILE] fill USER small|tiny|bulk:N
                            small: 7 folders, flags, keywords, dates, a \\Deleted message;
                            tiny: 3 messages in INBOX
  reprovision_fixture.py [--env FILE] login USER PASSWORD_FILE
                            a real login (not the master) and SELECT INBOX: prints EXISTS

Entries are written as cn=admin (rootdn) with every value base64-encoded in the LDIF, so no
character of a uid is interpreted on the way in.
"""

import base64
import hashlib
import imaplib
import os
import shutil
import ssl
import subprocess
import sys

import merge_fixture as mf

PEOPLE = "ou=people,dc=example,dc=org"


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def master_login(env, user):
    host, port = env["TESTENV_IMAPS_URI"].split("//")[1].split(":")
    ctx = ssl.create_default_context(cafile=env["TESTENV_CA_FILE"])
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    with open(env["TESTENV_IMAP_MASTER_PASSWORD_FILE"]) as f:
        pw = f.read().strip()
    # imaplib quotes the password, not the user name
    m.login(quote(user + "*" + env["TESTENV_IMAP_MASTER_USER"]), pw)
    return m


mf.login = master_login  # state, reset, fill: any login name


def escape_dn_value(v):  # RFC 4514 2.4 (and '=' too: allowed, and what a careful tool does)
    out = []
    for i, ch in enumerate(v):
        if ch in '"+,;<>\\=' or (i == 0 and ch in "# ") or (i == len(v) - 1 and ch == " "):
            out.append("\\" + ch)
        elif ch == "\0":
            out.append("\\00")
        else:
            out.append(ch)
    return "".join(out)


def dn_of(uid):
    return "uid=" + escape_dn_value(uid) + "," + PEOPLE


def b64(s):
    return base64.b64encode(s.encode()).decode()


def ldap(env, tool, *args, stdin=None):
    cmd = [tool, "-x", "-H", env["TESTENV_LDAP_URI"], "-D", env["TESTENV_LDAP_ADMIN_DN"],
           "-y", env["TESTENV_LDAP_ADMIN_PASSWORD_FILE"], *args]
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if r.returncode not in (0, 32):  # 32: no such object
        raise SystemExit("%s: exit %d: %s" % (tool, r.returncode, r.stderr.strip()))
    return r.stdout


def parse_ldif(text):
    """[(dn, {attr: [values]})] from unwrapped ldapsearch -LLL output (base64 values decoded)."""
    entries, cur = [], None
    lines = []
    for line in text.split("\n"):  # unfold continuation lines first
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    for line in lines + [""]:
        if not line:
            if cur:
                entries.append(cur)
            cur = None
            continue
        attr, _, value = line.partition(":")
        if value.startswith(":"):
            value = base64.b64decode(value[1:].strip()).decode("utf-8", "replace")
        else:
            value = value.strip()
        if attr == "dn":
            cur = (value, {})
        elif cur:
            cur[1].setdefault(attr, []).append(value)
    return entries


def adduser(env, uid, aliases, quota):
    with open(env["TESTENV_USER_PASSWORD_FILE"], "rb") as f:
        pw = f.read().strip()
    salt = os.urandom(8)
    ssha = "{SSHA}" + base64.b64encode(hashlib.sha1(pw + salt).digest() + salt).decode()
    safe = "".join(c for c in uid if c.isalnum()) or "user"
    attrs = [("objectClass", "inetOrgPerson"), ("objectClass", "mbxMailUser"), ("uid", uid),
             ("cn", "Test " + uid), ("sn", uid), ("givenName", "Test"),
             ("displayName", "Test user " + uid), ("mail", safe + "@example.org"),
             ("userPassword", ssha), ("mailQuota", str(quota))]
    attrs += [("mailAlternateAddress", a) for a in aliases]
    ldif = "dn:: " + b64(dn_of(uid)) + "\n" + "".join("%s:: %s\n" % (a, b64(v)) for a, v in attrs)
    ldap(env, "ldapadd", stdin=ldif)


def cleanup(env, prefixes):
    flt = "(|" + "".join("(uid=%s*)" % p.replace("\\", "\\5c").replace("*", "\\2a")
                         .replace("(", "\\28").replace(")", "\\29") for p in prefixes) + ")"
    out = ldap(env, "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", PEOPLE, flt, "uid")
    for dn, attrs in parse_ldif(out):
        ldap(env, "ldapdelete", dn)
        for uid in attrs.get("uid", []):
            home = os.path.join(env["TESTENV_MAIL_ROOT"], uid)
            if os.path.dirname(home) == env["TESTENV_MAIL_ROOT"].rstrip("/") and os.path.isdir(home):
                shutil.rmtree(home)


def small(m, user):
    """merge_fixture's rich preset without its 30 MB message."""
    mf.rich(m, user, big=False, tag="rpv")


def tiny(m, user):
    for n in range(3):
        msg = mf.make_message("<rpv-tiny-%d-%d@example.net>" % (n, int(hashlib.md5(user.encode()).hexdigest()[:6], 16)),
                              "tiny %d" % n, "Mon, 4 Mar 2019 10:00:00 +0000", 1500 + n, body_seed="rpv")
        mf.append(m, "INBOX", r"(\Seen)" if n else None, "0%d-Mar-2019 10:00:00 +0000" % (n + 1), msg)


def user_login(env, user, password_file):
    host, port = env["TESTENV_IMAPS_URI"].split("//")[1].split(":")
    ctx = ssl.create_default_context(cafile=env["TESTENV_CA_FILE"])
    with open(password_file) as f:
        pw = f.read().rstrip("\n")
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    try:
        m.login(quote(user), pw)
    except imaplib.IMAP4.error as e:
        raise SystemExit("login as %r failed: %s" % (user, e))
    typ, data = m.select("INBOX")
    if typ != "OK":
        raise SystemExit("SELECT INBOX as %r failed: %r" % (user, data))
    print(int(data[0]))
    m.logout()


def main():
    args = sys.argv[1:]
    env_file = None
    if len(args) >= 2 and args[0] == "--env":
        env_file = args[1]
    rest = args[2:] if env_file else args
    env = mf.load_env(env_file)
    cmd = rest[0] if rest else ""
    if cmd == "adduser":
        uid, aliases, quota, i = rest[1], [], 209715200, 2
        while i < len(rest):
            if rest[i] == "--alias":
                aliases.append(rest[i + 1])
            elif rest[i] == "--quota":
                quota = int(rest[i + 1])
            else:
                raise SystemExit("adduser: unknown option " + rest[i])
            i += 2
        adduser(env, uid, aliases, quota)
    elif cmd == "dn":
        print(dn_of(rest[1]))
    elif cmd == "cleanup":
        cleanup(env, rest[1:])
    elif cmd == "login":
        user_login(env, rest[1], rest[2])
    elif cmd == "fill" and rest[2] in ("small", "tiny"):
        m = master_login(env, rest[1])
        (small if rest[2] == "small" else tiny)(m, rest[1])
        m.logout()
    else:
        mf.main()  # reset, fill rich|quota|bulk, state, compare (with the login above)


if __name__ == "__main__":
    main()
