#!/usr/bin/env bash
# mbx diagnose against the real slapd, Dovecot and SOGo of the testenv_sogo fixture. Each finding
# is produced by breaking the environment on purpose -- a mailbox filled past its limit, a
# folder deleted, a folder made unreadable, a duplicate entry, a disabled account, an account
# the mail server cannot use, a server stopped -- then checked for its status, MIS code and
# remedy, and where mbxkit has the fix, the fix is run and diagnose says ok again.
# Holds RESOURCE_LOCK testenv_sogo: it stops and starts the sandbox's servers.
#   tests/tools/diagnose_test.sh BINDIR     (TESTENV_FILE = a `testenv up --with-sogo` DIR/env)
bin="$1"
. "$(dirname "$0")/lib.sh"
need_testenv
[ -n "${TESTENV_EAS_URL:-}" ] || { fail "TESTENV_FILE has no TESTENV_EAS_URL (not --with-sogo)"; finish; }
testenv="$(cd "$(dirname "$0")/../.." && pwd)/scripts/testenv"
mbx() { "$bin/mbx" "$@"; }
journal="$work/journal.sqlite"
dg() { mbx diagnose --config "$conf" --journal "$journal" "$@"; }
people="$TESTENV_LDAP_PEOPLE"
ldap_admin() { "$1" -x -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" "${@:2}"; }
master="$(cat "$TESTENV_IMAP_MASTER_PASSWORD_FILE")"
pw="$(head -n 1 "$TESTENV_USER_PASSWORD_FILE")"

# finding AREA CHECK: the row of that finding in $out (JSON), as "status|mis|detail|remedy"
finding() {
  /usr/bin/python3 -c '
import json, sys
for r in json.loads(sys.argv[1])["rows"]:
    if r["area"] == sys.argv[2] and r["check"] == sys.argv[3]:
        print("|".join(str(r[k] or "") for k in ("status", "mis", "detail", "remedy"))); break' "$out" "$1" "$2"
}
# expect NAME AREA CHECK STATUS MIS [TEXT...]: the finding has that status and MIS code and
# every TEXT in its detail or remedy.
expect() {
  local name="$1" f; f="$(finding "$2" "$3")"
  local want="$4|$5|"
  if [ "${f:0:${#want}}" != "$want" ]; then fail "$name: $2/$3 is '${f:0:400}', want '$want...'"; return; fi
  shift 5
  for t in "$@"; do has "$f" "$t" || { fail "$name: '$t' not in '${f:0:400}'"; return; }; done
  ok "$name"
}

# --- users of this test, created fresh ------------------------------------------------------
tag="dg$$"
entry() { # UID QUOTA [EXTRA-LDIF-LINE]
  printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: mbxMailUser\nuid: %s\ncn: %s\nsn: %s\nmail: %s@example.org\nmailQuota: %s\n' \
    "$1" "$people" "$1" "$1" "$1" "$1" "$2"
  [ -z "${3:-}" ] || printf '%s\n' "$3"
  echo
}
{
  entry "${tag}ok" 52428800
  entry "${tag}full" 100000
  entry "${tag}fold" 52428800
  entry "${tag}dup" 52428800
  entry "${tag}off" 52428800 "mbxAccountDisabled: TRUE"
  # The same uid and address again, under another RDN: a provisioning run twice.
  printf 'dn: cn=%s copy,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s copy\nsn: x\nmail: %s@example.org\n\n' \
    "${tag}dup" "$people" "${tag}dup" "${tag}dup" "${tag}dup"
  # An entry the directory has but the mail server cannot use (not an inetOrgPerson).
  printf 'dn: uid=%s,%s\nobjectClass: account\nuid: %s\n\n' "${tag}bad" "$people" "${tag}bad"
} | ldap_admin ldapadd >/dev/null || { fail "cannot add the test users"; finish; }
cleanup_users() {
  for dn in "cn=${tag}dup copy,$people" uid=${tag}{ok,full,fold,dup,off,bad},"$people"; do
    ldap_admin ldapdelete "$dn" >/dev/null 2>&1
  done
}
trap 'cleanup_users; rm -rf "$work"' EXIT
appendmsg() { # USER BYTES: one message of about BYTES into USER's INBOX, as the master user
  { printf 'From: t@example.org\r\nTo: %s@example.org\r\nSubject: fill\r\n\r\n' "$1"
    head -c "$2" /dev/zero | tr '\0' 'x' | fold -w 76 | sed 's/$/\r/'; } >"$work/msg"
  curl -sS --cacert "$TESTENV_CA_FILE" --sasl-authzid "$1" -u "$TESTENV_IMAP_MASTER_USER:$master" \
    --login-options AUTH=PLAIN -T "$work/msg" "$TESTENV_IMAPS_URI/INBOX" >/dev/null
}
maildir() { echo "$TESTENV_MAIL_ROOT/$1/Maildir"; }

# --- a healthy account: every check ok, exit 0 ---------------------------------------------
if run "healthy user" 0 dg "${tag}ok" --format json; then
  expect "healthy: LDAP answers, with its latency" server ldap ok "" "answers"
  expect "healthy: the LDAP certificate and its expiry" server ldap-certificate ok "" "expires 20"
  expect "healthy: the IMAP master login works" server imap-login ok "" "master login for '${tag}ok'"
  expect "healthy: the IMAP certificate" server imap-certificate ok "" "IMAP certificate"
  expect "healthy: SOGo answers OPTIONS with its versions" server activesync ok "" "versions 2.5,12.0,12.1,14.0,14.1"
  expect "healthy: one entry" directory entry ok "" "uid=${tag}ok,$people"
  expect "healthy: the uid is unique" directory uid-unique ok ""
  expect "healthy: enabled" directory enabled ok "" "mbxAccountDisabled"
  expect "healthy: the mail address" directory mail ok "" "${tag}ok@example.org"
  expect "healthy: the address on no other entry" directory mail-unique ok ""
  for f in INBOX Drafts Sent Trash; do expect "healthy: $f opens" folders "$f" ok "" "opens"; done
  expect "healthy: quota ok" quota usage ok "" "of 50.0 MiB"
  check "healthy: latency reported for the servers" /usr/bin/python3 -c '
import json, sys
rows = [r for r in json.loads(sys.argv[1])["rows"] if r["area"] == "server" and r["check"] in ("ldap", "imap-login", "activesync")]
assert len(rows) == 3 and all(isinstance(r["latency_ms"], int) and r["latency_ms"] >= 0 for r in rows), rows' "$out"
  check "healthy: the summary counts no failure" has "$out" '"failed":0'
fi
if run "healthy, table" 0 dg "${tag}ok"; then
  check "table: a row per check and the verdict" bash -c 'grep -q "^folders *Trash *ok" <<<"$1" && grep -q "nothing found" <<<"$1"' _ "$out"
fi
run "certificate warning window" 1 dg "${tag}ok" --format json --diagnose-certificate-warning-days 100000 &&
  expect "certificates inside the warning window are warnings" server imap-certificate warning MIS_5 "renew it before"
run "no such user" 65 dg "nosuch$tag" --format json &&
  expect "an unknown user: named, exit 65, no IMAP tried" directory entry failed "" "no entry with uid 'nosuch$tag'"
run "no user operand" 64 dg --format json && check "no user: usage error named" has "$err" "no user to diagnose"

# --- MIS_9: a mailbox filled past prohibit-send; the remedy fixes it -------------------------
for i in 1 2 3 4; do appendmsg "${tag}full" 24000; done
if run "full mailbox" 2 dg "${tag}full" --format json; then
  expect "full: MIS_9 at the prohibit-send tier, with the bytes to free" quota usage failed MIS_9 \
    "prohibit-send tier" "to free to get under the 80% warning tier" "mbx quota cleanup ${tag}full" "mbx quota raise ${tag}full --to 1M"
fi
run "the remedy: quota raise" 0 mbx quota raise "${tag}full" --to 1M --config "$conf" --journal "$journal" --format json
raise_run=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["summary"]["run_id"])' "$out" 2>/dev/null ||
  mbx journal list --tool quota --journal "$journal" --format json --limit 1 |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])')
if run "full mailbox after the raise" 0 dg "${tag}full" --format json; then
  expect "after the raise: quota ok" quota usage ok "" "of 1.0 MiB"
  expect "after the raise: the raise is in the history with its undo" history "run $raise_run" ok "" \
    "mbx quota raise ${tag}full" "mbx journal undo $raise_run"
fi

run "undo the raise" 0 mbx journal undo "$raise_run" --config "$conf" --journal "$journal"
if run "full mailbox after the undo" 2 dg "${tag}full" --format json; then
  expect "after the undo: MIS_9 again" quota usage failed MIS_9 "prohibit-send tier"
  expect "after the undo: the raise is marked undone, no undo offered" history "run $raise_run" ok "" "undone by run"
  row="$(finding history "run $raise_run")"
  check "after the undo: the raise row offers no second undo" bash -c '[ -n "$2" ] && ! grep -qF "journal undo $1" <<<"$2"' _ "$raise_run" "$row"
fi

# --- MIS_8: a folder deleted (and kept from coming back), a folder unreadable ----------------
run "folders: warm up the mailbox" 0 dg "${tag}fold" --format json
md="$(maildir "${tag}fold")"
if [ -d "$md/.Trash" ] && [ -d "$md/.Drafts" ]; then
  # Dovecot re-creates its auto folders at login: a file where the folder was keeps it away.
  rm -rf "$md/.Trash" && touch "$md/.Trash"
  chmod 000 "$md/.Drafts"
  if run "broken folders" 2 dg "${tag}fold" --format json; then
    expect "a deleted Trash: MIS_8 with the fix" folders Trash failed MIS_8 "Trash"
    expect "an unreadable Drafts: MIS_8" folders Drafts failed MIS_8 "Drafts"
    expect "INBOX still fine" folders INBOX ok ""
    # Dovecot sums the quota over every folder: an unreadable one makes it fail to count.
    expect "the quota check still runs, and says why it has no usage" quota usage warning "" "cannot read the usage"
  fi
  chmod 700 "$md/.Drafts"; rm -f "$md/.Trash"
else
  fail "folders: no Maildir/.Trash and .Drafts under $md"
fi

# --- MIS_5: corrupted provisioning -----------------------------------------------------------
if run "duplicate entry" 2 dg "${tag}dup" --format json; then
  expect "duplicate uid: MIS_5, both DNs named" directory uid-unique failed MIS_5 "is on 2 entries" "cn=${tag}dup copy"
  expect "duplicate address: MIS_5" directory mail-unique failed MIS_5 "${tag}dup@example.org is also on cn=${tag}dup copy"
fi
ldap_admin ldapdelete "cn=${tag}dup copy,$people" >/dev/null
run "duplicate removed" 0 dg "${tag}dup" --format json &&
  expect "after removing the copy: unique again" directory uid-unique ok ""
run "disabled account" 2 dg "${tag}off" --format json &&
  expect "a disabled account: MIS_5" directory enabled failed MIS_5 "mbxAccountDisabled: TRUE"
# mbxkit is told to see `account` entries too; Dovecot (inetOrgPerson only) refuses the login.
if run "broken account" 2 dg "${tag}bad" --format json --ldap-user-filter '(|(objectClass=inetOrgPerson)(objectClass=account))'; then
  expect "login refused for the user, fine for another: the account, reprovision" server imap-login failed MIS_5 \
    "but is refused for '${tag}bad'" "mbx reprovision ${tag}bad --new-uid"
  expect "no mail address: MIS_5" directory mail failed MIS_5 "no mail"
  expect "the folders are skipped without a login" folders INBOX skipped ""
fi
run "broken account, an explicit reference user" 2 dg "${tag}bad" --format json \
  --ldap-user-filter '(|(objectClass=inetOrgPerson)(objectClass=account))' --diagnose-reference-user bob &&
  expect "the reference user named" server imap-login failed MIS_5 "works for 'bob'"

# --- MIS_2: the user's devices against the server's versions --------------------------------
foldersync() { # DEVICEID VERSION
  printf '\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30\x00\x01\x01' |
    curl -sS -o /dev/null --cacert "$TESTENV_CA_FILE" -u "alice:$pw" -A 'Apple-iPhone9C3/1504.100' \
      -H "MS-ASProtocolVersion: $2" -H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @- \
      "$TESTENV_EAS_URL/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=$1&DeviceType=iPhone"
}
dev="MBXDG$$"
foldersync "${dev}OLD" 14.1
foldersync "${dev}NEW" 16.1
sleep 1
grep -F "$dev" "$TESTENV_EAS_ACCESS_LOG" >"$work/mine.log"
check "devices: nginx logged both devices" [ "$(grep -c "$dev" "$work/mine.log")" -ge 2 ]
if run "devices from the log" 2 dg alice --log "$work/mine.log" --format json; then
  expect "a device on 14.1: ok against SOGo's 2.5..14.1" devices "${dev}OLD" ok "" "uses 14.1"
  expect "a device that speaks only 16.1: MIS_2" devices "${dev}NEW" failed MIS_2 "uses 16.1" "the server's OPTIONS answer"
fi
if run "one device" 0 dg alice --log "$work/mine.log" --device "${dev}OLD" --format json; then
  check "--device: only that device" bash -c '! grep -q "${1}NEW" <<<"$2"' _ "$dev" "$out"
fi
run "an unknown device" 1 dg alice --log "$work/mine.log" --device NOSUCHDEVICE --format json &&
  expect "--device not in the logs: a warning naming the devices seen" devices NOSUCHDEVICE warning "" "${dev}OLD"
run "audit clients into the journal" 0 mbx audit clients --log "$work/mine.log" --config "$conf" --journal "$journal" --format json
run "devices from the journal" 2 dg alice --format json &&
  expect "the journal's audit clients run is the source" devices "${dev}NEW" failed MIS_2 "uses 16.1"
run "devices, no data" 0 mbx diagnose "${tag}ok" --config "$conf" --journal "$work/empty.sqlite" --format json &&
  expect "no device data: skipped with how to get it" devices devices skipped "" "audit clients"

# --- a certificate the client does not accept: not "down", and waiting does not fix it --------
if run "untrusted certificates" 2 dg "${tag}ok" --format json --ldap-ca-file /etc/ssl/certs/ca-certificates.crt \
     --imap-ca-file /etc/ssl/certs/ca-certificates.crt --activesync-ca-file /etc/ssl/certs/ca-certificates.crt; then
  expect "LDAP: the certificate named in the remedy" server ldap failed MIS_5 "certificate is not accepted" "[ldap] ca-file"
  expect "IMAP: the certificate named in the remedy" server imap-login failed MIS_5 "certificate is not accepted" "[imap] ca-file"
  expect "ActiveSync: the certificate named in the remedy" server activesync failed MIS_5 "certificate is not accepted"
fi

# --- MIS_5, the server side: stopped servers ------------------------------------------------
"$testenv" stop "$TESTENV_DIR" dovecot
if run "dovecot stopped" 2 dg "${tag}ok" --format json; then
  expect "IMAP down: MIS_5 retry later, not the account" server imap-login failed MIS_5 "unavailable" "retry"
  expect "the directory checks still run" directory entry ok ""
  expect "folders skipped" folders INBOX skipped ""
fi
"$testenv" start "$TESTENV_DIR" dovecot
"$testenv" stop "$TESTENV_DIR" slapd
if run "slapd stopped" 2 dg "${tag}ok" --format json; then
  expect "LDAP down: MIS_5 retry later" server ldap failed MIS_5 "directory unavailable"
  expect "the directory checks skipped" directory entry skipped ""
fi
"$testenv" start "$TESTENV_DIR" slapd
run "after the restarts" 0 dg "${tag}ok" --format json && ok "servers back: healthy again"

# --- the journal: one diagnose.check per finding, no secret ---------------------------------
run "journal list" 0 mbx journal list --tool diagnose --journal "$journal" --format json &&
  check "journal: every diagnose run recorded" [ "$(grep -o '"tool":"diagnose"' <<<"$out" | wc -l)" -ge 10 ]
check "no secret in the journal" bash -c '! grep -aqF -- "$1" "$3"* && ! grep -aqF -- "$2" "$3"*' _ "$master" "$pw" "$journal"

finish
