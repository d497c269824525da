#!/usr/bin/python3
"""Helpers of scripts/testenv --with-samba-ad (run with Debian's /usr/bin/python3: the samba
bindings live in its dist-packages).

  samba_ad.py load --samdb DIR/samba/private/sam.ldb --user-pw FILE --mbxkit-pw FILE
      The demo directory, written offline into sam.ldb (before samba starts; one process is
      much faster than one samba-tool per object): OU=People and its users, the service account
      CN=mbxkit,CN=Users (member of Account Operators) and the computer ws01.
(dovecot-ad's demo mail: demo_mail.py, shared with dovecot-389ds.)
"""
import argparse
import sys

PEOPLE = "OU=People"
LOCKOUT_THRESHOLD = 5

# sAMAccountName: (givenName, sn, mail, proxyAddresses, flags)
USERS = [
    ("alice", "Alice", "Smith", "alice@example.org",
     ["SMTP:alice@example.org", "smtp:alice.smith@example.org"], ""),
    ("bob", "Bob", "Jones", "bob@example.org", ["SMTP:bob@example.org"], ""),
    ("carol", "Carol", "White", "carol@example.org", [], "disabled"),
    # locked out by testenv after samba starts (failed binds), see setup_samba_ad
    ("dave", "Dave", "Brown", "dave@example.org", [], ""),
    ("erin", "Erin", "Green", "erin@example.org", [], "must-change"),
    ("svc-backup", None, "Backup service", None, [], ""),
]


def read_secret(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip("\n")


def cmd_load(args):
    import ldb
    from samba.auth import system_session
    from samba.param import LoadParm
    from samba.samdb import SamDB

    lp = LoadParm()
    lp.load(args.smbconf)
    db = SamDB(url=args.samdb, session_info=system_session(), lp=lp)
    base = db.domain_dn()
    user_pw = read_secret(args.user_pw)

    # password policy (what `samba-tool domain passwordsettings set --complexity=off
    # --min-pwd-age=0 --max-pwd-age=0 --account-lockout-threshold=5
    # --account-lockout-duration=99999 --reset-account-lockout-after=1` writes): the sandbox's
    # hex passwords fail the complexity rule; 5 failed binds within a minute lock an account
    # (dave) for 69 days; passwords never expire
    minute = 60 * 10**7
    m = ldb.Message(ldb.Dn(db, base))
    for attr, value in (("pwdProperties", "0"), ("minPwdAge", "0"),
                        ("maxPwdAge", str(-0x8000000000000000)),
                        ("lockoutThreshold", str(LOCKOUT_THRESHOLD)),
                        ("lockoutDuration", str(-99999 * minute)),
                        ("lockOutObservationWindow", str(-1 * minute))):
        m[attr] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, attr)
    db.modify(m)

    db.add({"dn": "%s,%s" % (PEOPLE, base), "objectClass": "organizationalUnit",
            "description": "mbxkit testenv: the demo mail users"})

    for sam, given, sn, mail, proxies, flags in USERS:
        db.newuser(sam, user_pw, useusernameascn=True, userou=PEOPLE, surname=sn,
                   givenname=given, mailaddress=mail,
                   force_password_change_at_next_login_req=(flags == "must-change"))
        dn = "CN=%s,%s,%s" % (sam, PEOPLE, base)
        m = ldb.Message(ldb.Dn(db, dn))
        display = " ".join(x for x in (given, sn) if x)
        m["displayName"] = ldb.MessageElement(display, ldb.FLAG_MOD_REPLACE, "displayName")
        if proxies:
            m["proxyAddresses"] = ldb.MessageElement(proxies, ldb.FLAG_MOD_REPLACE, "proxyAddresses")
        if flags == "disabled":
            m["userAccountControl"] = ldb.MessageElement("514", ldb.FLAG_MOD_REPLACE,
                                                         "userAccountControl")
        db.modify(m)

    # the service account of the mbxkit tools: Account Operators may create, change, reset
    # the password of and delete users in OUs (AD's default security descriptors grant it)
    db.newuser("mbxkit", read_secret(args.mbxkit_pw), useusernameascn=True, surname="mbxkit",
               description="service account of the mbxkit tools (testenv)")
    m = ldb.Message(ldb.Dn(db, "CN=mbxkit,CN=Users,%s" % base))
    # the password never expires (UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD)
    m["userAccountControl"] = ldb.MessageElement(str(0x200 | 0x10000), ldb.FLAG_MOD_REPLACE,
                                                 "userAccountControl")
    db.modify(m)
    db.add_remove_group_members("Account Operators", ["mbxkit"], add_members_operation=True)

    db.newcomputer("ws01", description="mbxkit testenv workstation")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("load")
    s.add_argument("--samdb", required=True)
    s.add_argument("--smbconf", required=True)
    s.add_argument("--user-pw", required=True)
    s.add_argument("--mbxkit-pw", required=True)
    args = p.parse_args()
    return cmd_load(args)


if __name__ == "__main__":
    sys.exit(main())
