#!/usr/bin/env bash
# Smoke test of the Cyrus IMAP and the "INBOX." Dovecot of scripts/testenv (up --with-cyrus
# --with-dovecot-inbox): runs against the shared fixture (TESTENV_FILE=DIR/env), with curl and
# python3's imaplib only. Exit 0 = all good, 77 = the sandbox has no Cyrus (skip), 1 = failure.
#
#   TESTENV_FILE=/tmp/x/env tests/integration/testenv_cyrus.sh
#
# What it checks: a proxied login (SASL PLAIN authzid=alice, authcid=mbxadmin) over imaps with
# CA verification; Cyrus's NAMESPACE (personal "INBOX." with "."); alice's LIST (INBOX.Sent with
# \Sent, bob's shared folder, the shared folder); her GETQUOTAROOT limit; the admin's GETQUOTA
# and SETQUOTA on user.alice; what a proxied login as a user who is not in LDAP does (Debian's
# autocreate_quota: 0 makes Cyrus create the INBOX); the second Dovecot's NAMESPACE.
set -euo pipefail

fail() { echo "CYRUS SMOKE FAIL: $*" >&2; exit 1; }
step() { printf '\n== [%s] %s\n' "$(date +%T)" "$*"; }

if [ -z "${TESTENV_FILE:-}" ] || [ ! -f "$TESTENV_FILE" ]; then fail "TESTENV_FILE must name a testenv DIR/env"; fi
# load DIR/env (KEY=value lines)
while IFS='=' read -r k v; do export "$k=$v"; done <"$TESTENV_FILE"
if [ -z "${TESTENV_CYRUS_IMAPS_URI:-}" ]; then
  echo "testenv_cyrus: $TESTENV_DIR was not brought up with --with-cyrus; skipping" >&2
  exit 77
fi
for k in TESTENV_CYRUS_IMAP_URI TESTENV_CYRUS_ADMIN_USER TESTENV_CYRUS_ADMIN_PASSWORD_FILE \
  TESTENV_CYRUS_SHARED_FOLDER TESTENV_CYRUS_OTHER_USER_FOLDER; do
  [ -n "${!k:-}" ] || fail "env: $k missing"
done
grep -q '^\[imap.cyrus\]$' "$TESTENV_DIR/mbxkit.conf" || fail "mbxkit.conf has no [imap.cyrus]"
grep -q "^uri = $TESTENV_CYRUS_IMAPS_URI\$" "$TESTENV_DIR/mbxkit.conf" || fail "mbxkit.conf: no Cyrus uri"
# the shared fixture always has the second Dovecot too; a sandbox made by hand may not
DCI=0
if [ -n "${TESTENV_DOVECOT_INBOX_IMAPS_URI:-}" ]; then
  DCI=1
  [ -n "${TESTENV_DOVECOT_INBOX_IMAP_URI:-}" ] || fail "env: TESTENV_DOVECOT_INBOX_IMAP_URI missing"
  grep -q '^\[imap.inbox\]$' "$TESTENV_DIR/mbxkit.conf" || fail "mbxkit.conf has no [imap.inbox]"
  grep -q "^uri = $TESTENV_DOVECOT_INBOX_IMAPS_URI\$" "$TESTENV_DIR/mbxkit.conf" || fail "mbxkit.conf: no [imap.inbox] uri"
fi

ADMIN="$TESTENV_CYRUS_ADMIN_USER"
ADMINPW="$(cat "$TESTENV_CYRUS_ADMIN_PASSWORD_FILE")"
imap() { curl -sS --max-time 20 --cacert "$TESTENV_CA_FILE" "$@"; }
# as alice through the admin, the way mbxkit's master login (master-method = authzid) does it
as_alice() { imap -u "$ADMIN:$ADMINPW" --sasl-authzid alice --login-options AUTH=PLAIN "$@"; }

step "Cyrus: proxied login as alice over imaps (CA verified), NAMESPACE"
out="$(as_alice "$TESTENV_CYRUS_IMAPS_URI/" -X NAMESPACE)" || fail "proxied login as alice failed"
echo "$out"
grep -q '^\* NAMESPACE (("INBOX\." "\."))' <<<"$out" || fail "personal namespace is not (\"INBOX.\" \".\"): $out"
if imap --cacert /dev/null -u "$ADMIN:$ADMINPW" --sasl-authzid alice --login-options AUTH=PLAIN \
  "$TESTENV_CYRUS_IMAPS_URI/" -X NOOP >/dev/null 2>&1; then
  fail "imaps succeeded without the sandbox CA (certificate not verified?)"
fi

step "Cyrus: alice's LIST (special-use, another user's folder, the shared folder)"
out="$(as_alice "$TESTENV_CYRUS_IMAPS_URI/" -X 'LIST "" "*"' | tr -d '\r')"
echo "$out"
grep -q '^\* LIST (.*\\Sent.*) "\." INBOX\.Sent$' <<<"$out" || fail "LIST: no INBOX.Sent with \\Sent"
for su in Drafts Trash Junk Archive; do
  grep -q "^\\* LIST (.*\\\\$su.*) \"\\.\" INBOX\\.$su\$" <<<"$out" || fail "LIST: no INBOX.$su with \\$su"
done
grep -q "^\\* LIST (.*) \"\\.\" $TESTENV_CYRUS_OTHER_USER_FOLDER\$" <<<"$out" ||
  fail "LIST: no $TESTENV_CYRUS_OTHER_USER_FOLDER (bob's folder shared with alice)"
grep -q "^\\* LIST (.*) \"\\.\" $TESTENV_CYRUS_SHARED_FOLDER\$" <<<"$out" ||
  fail "LIST: no shared folder $TESTENV_CYRUS_SHARED_FOLDER"

step "Cyrus: alice's GETQUOTAROOT INBOX (10 MiB), alice's own password (saslauthd -> LDAP)"
out="$(as_alice "$TESTENV_CYRUS_IMAPS_URI/" -X 'GETQUOTAROOT INBOX')"
echo "$out"
grep -q 'QUOTA INBOX (STORAGE [0-9]* 10240)' <<<"$out" || fail "alice's quota limit is not 10240 KiB"
out="$(imap -u "alice:$(cat "$TESTENV_USER_PASSWORD_FILE")" "$TESTENV_CYRUS_IMAPS_URI/" -X 'GETQUOTAROOT INBOX')" ||
  fail "alice cannot log in to Cyrus with her LDAP password"
grep -q 'STORAGE [0-9]* 10240' <<<"$out" || fail "alice's own login: $out"
if imap -u "alice:wrong-password" "$TESTENV_CYRUS_IMAPS_URI/" -X NOOP >/dev/null 2>&1; then
  fail "alice logged in with a wrong password"
fi
# shellcheck disable=SC2153  # from DIR/env, checked above
imap --ssl-reqd -u "bob:$(cat "$TESTENV_USER_PASSWORD_FILE")" "$TESTENV_CYRUS_IMAP_URI/" -X NOOP >/dev/null ||
  fail "imap:// with STARTTLS as bob"

step "Cyrus: admin GETQUOTA / SETQUOTA, proxied login as a user who is not in LDAP"
out="$(ADMINPW="$ADMINPW" /usr/bin/python3 - <<'EOF'
import imaplib, os, ssl, sys
host, port = os.environ["TESTENV_CYRUS_IMAPS_URI"].split("//")[1].split(":")
ctx = ssl.create_default_context(cafile=os.environ["TESTENV_CA_FILE"])
admin, pw = os.environ["TESTENV_CYRUS_ADMIN_USER"], os.environ["ADMINPW"]

def check(what, typ, data, want="OK"):
    print(f"{what}: {typ} {data}")
    if typ != want:
        sys.exit(f"{what}: expected {want}, got {typ} {data}")

c = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
check("LOGIN admin", *c.login(admin, pw))
check("GETQUOTA user.alice", *c._simple_command("GETQUOTA", "user.alice"))
q = c.untagged_responses.pop("QUOTA", [])
print(f"  * QUOTA {q}")
if not q or b"user.alice (STORAGE" not in q[0] or not q[0].endswith(b" 10240)"):
    sys.exit(f"GETQUOTA user.alice: {q}")
check("SETQUOTA user.alice 20480", *c.setquota("user.alice", "(STORAGE 20480)"))
check("GETQUOTA again", *c._simple_command("GETQUOTA", "user.alice"))
q = c.untagged_responses.pop("QUOTA", [])
if not q or not q[0].endswith(b" 20480)"):
    sys.exit(f"GETQUOTA after SETQUOTA: {q}")
check("SETQUOTA user.alice back to 10240", *c.setquota("user.alice", "(STORAGE 10240)"))

# a proxied login for a user the directory does not have: Cyrus does not ask LDAP (only the
# admin's password is checked) and, with Debian's autocreate_quota: 0, creates user.NAME
ghost = f"nosuch{os.getpid()}"
g = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
typ, data = g.authenticate("PLAIN", lambda _: f"{ghost}\0{admin}\0{pw}".encode())
print(f"AUTHENTICATE PLAIN authzid={ghost}: {typ} {data[0][-60:]}")
if typ == "OK":
    print("  STATUS INBOX:", *g.status("INBOX", "(MESSAGES UIDNEXT)"))
    print("  LIST:", *g.list('""', "*"))
    print("  SELECT INBOX:", *g.select("INBOX"))
    g.logout()
    typ, data = c.list('""', f"user.{ghost}")
    print(f"admin LIST user.{ghost}: {typ} {data}")
    # clean up: the fixture's Cyrus keeps no mailbox for a user that does not exist
    check(f"SETACL user.{ghost} {admin} (all rights)", *c.setacl(f"user.{ghost}", admin, "lrswipkxtecdan"))
    check(f"DELETE user.{ghost}", *c.delete(f"user.{ghost}"))
    # Debian's Cyrus deletes lazily (delete_mode: delayed): the mailbox is now DELETED.user.NAME.<hex>
    typ, data = c.list('""', f"DELETED.user.{ghost}.*")
    for line in data or []:
        if line:
            name = line.decode().rsplit(" ", 1)[1].strip('"')
            check(f"DELETE {name}", *c.delete(name))
c.logout()
EOF
)" || { echo "$out"; fail "admin quota commands / nonexistent user"; }
echo "$out"

if [ "$DCI" = 0 ]; then
  echo "testenv_cyrus: $TESTENV_DIR has no --with-dovecot-inbox: its checks skipped" >&2
  echo; echo "CYRUS SMOKE OK"; exit 0
fi
step "Dovecot with INBOX. namespace: NAMESPACE, special-use folders, master login"
out="$(as_alice "$TESTENV_DOVECOT_INBOX_IMAPS_URI/" -X NAMESPACE)" || fail "dovecot-inbox: proxied login"
echo "$out"
grep -q '^\* NAMESPACE (("INBOX\." "\."))' <<<"$out" || fail "dovecot-inbox: personal namespace is not INBOX. with .: $out"
out="$(imap -u "carol:$(cat "$TESTENV_USER_PASSWORD_FILE")" "$TESTENV_DOVECOT_INBOX_IMAP_URI/" -X 'LIST "" "*"' | tr -d '\r')"
grep -q '^\* LIST (.*\\Sent.*) "\." INBOX\.Sent$' <<<"$out" || fail "dovecot-inbox: no INBOX.Sent with \\Sent: $out"

echo
echo "CYRUS SMOKE OK"
