#!/usr/bin/env bash
# Smoke test of scripts/testenv against the real servers: brings a sandbox up, checks every
# feature the integration tests rely on, takes it down and checks nothing is left running.
# Needs root (like scripts/testenv). Exit 0 = all good; any failure prints what and exits 1.
#
#   tests/integration/testenv_smoke.sh [--keep] [--two]
#     --keep  leave the sandbox up (prints its DIR) instead of taking it down
#     --two   also bring a second sandbox up at the same time and check both answer
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TESTENV="$ROOT/scripts/testenv"
KEEP=0 TWO=0
for a in "$@"; do
  case "$a" in --keep) KEEP=1 ;; --two) TWO=1 ;; *) echo "usage: $0 [--keep] [--two]" >&2; exit 64 ;; esac
done

DIR="$(mktemp -d /tmp/mbx-smoke.XXXXXX)"
DIR2=""
step() { printf '\n== [%s] %s\n' "$(date +%T)" "$*"; }
fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    for d in "$DIR" $DIR2; do
      [ -d "$d/log" ] || continue
      echo "---- $d/log/dovecot.log (tail) ----" >&2; tail -n 15 "$d/log/dovecot.log" >&2 || true
      echo "---- $d/log/slapd.log (tail) ----" >&2; tail -n 15 "$d/log/slapd.log" >&2 || true
    done
  fi
  if [ "$KEEP" = 1 ] && [ "$rc" -eq 0 ]; then
    echo "kept: $DIR"
  else
    [ -z "$DIR2" ] || "$TESTENV" down "$DIR2" >/dev/null 2>&1 || true
    [ ! -e "$DIR/.mbxkit-testenv" ] || "$TESTENV" down "$DIR" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup EXIT

# load DIR/env (KEY=value lines, values may contain spaces) into the environment
load_env() { # DIR
  local k v
  while IFS='=' read -r k v; do export "$k=$v"; done <"$1/env"
}

# curl for IMAP, trusting only the sandbox CA
imap() { curl -sS --max-time 20 --cacert "$TESTENV_CA_FILE" "$@"; }

step "up $DIR"
t0=$(date +%s%N)
"$TESTENV" up "$DIR"
echo "up took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
load_env "$DIR"
"$TESTENV" env "$DIR" | diff - "$DIR/env" >/dev/null || fail "env output differs from DIR/env"
for k in TESTENV_DIR TESTENV_CA_FILE TESTENV_LDAP_URI TESTENV_LDAPS_URI TESTENV_LDAP_BASE \
  TESTENV_LDAP_PEOPLE TESTENV_LDAP_BIND_DN TESTENV_LDAP_PASSWORD_FILE TESTENV_LDAP_ADMIN_DN \
  TESTENV_LDAP_ADMIN_PASSWORD_FILE TESTENV_IMAP_URI TESTENV_IMAPS_URI TESTENV_IMAP_MASTER_USER \
  TESTENV_IMAP_MASTER_PASSWORD_FILE TESTENV_USER_PASSWORD_FILE TESTENV_DOVEADM_URL \
  TESTENV_DOVEADM_API_KEY_FILE TESTENV_DOVECOT_CONF TESTENV_MAIL_ROOT TESTENV_RAWLOG_DIR \
  TESTENV_DEMO_USERS; do
  [ -n "${!k:-}" ] || fail "env: $k missing"
done
for f in "$TESTENV_LDAP_PASSWORD_FILE" "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" \
  "$TESTENV_IMAP_MASTER_PASSWORD_FILE" "$TESTENV_USER_PASSWORD_FILE" "$TESTENV_DOVEADM_API_KEY_FILE"; do
  [ "$(stat -c %a "$f")" = 600 ] || fail "secret $f is not 0600"
done
grep -q "^password-file = $TESTENV_LDAP_PASSWORD_FILE\$" "$DIR/mbxkit.conf" || fail "mbxkit.conf"
"$TESTENV" status "$DIR" || fail "status says not running"

USERPW="$(cat "$TESTENV_USER_PASSWORD_FILE")"
MASTERPW="$(cat "$TESTENV_IMAP_MASTER_PASSWORD_FILE")"
export LDAPTLS_CACERT="$TESTENV_CA_FILE"
LDAP_BIND=(-x -D "$TESTENV_LDAP_BIND_DN" -y "$TESTENV_LDAP_PASSWORD_FILE")

step "LDAP: StartTLS (-ZZ) with the CA, and ldaps"
out="$(ldapsearch -ZZ -LLL -H "$TESTENV_LDAP_URI" "${LDAP_BIND[@]}" -b "$TESTENV_LDAP_PEOPLE" '(uid=alice)' mailQuota mail)"
grep -q '^mailQuota: 52428800$' <<<"$out" || fail "StartTLS search: alice mailQuota: $out"
out="$(ldapsearch -LLL -H "$TESTENV_LDAPS_URI" "${LDAP_BIND[@]}" -b "$TESTENV_LDAP_PEOPLE" '(objectClass=mbxMailUser)' uid)"
[ "$(grep -c '^uid: ' <<<"$out")" -eq 4 ] || fail "ldaps: expected 4 demo users: $out"
if LDAPTLS_CACERT=/dev/null ldapsearch -ZZ -LLL -H "$TESTENV_LDAP_URI" "${LDAP_BIND[@]}" -b "$TESTENV_LDAP_BASE" -s base >/dev/null 2>&1; then
  fail "StartTLS succeeded without the CA (certificate not verified?)"
fi

step "populate --users 600 --messages 2; paged search"
"$TESTENV" populate "$DIR" --users 600 --messages 2
set +e
ldapsearch -ZZ -LLL -H "$TESTENV_LDAP_URI" "${LDAP_BIND[@]}" -b "$TESTENV_LDAP_PEOPLE" '(objectClass=inetOrgPerson)' uid >/tmp/smoke.$$ 2>&1
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "unpaged search of 604 entries: expected sizeLimitExceeded (4), got $rc"
n="$(ldapsearch -ZZ -LLL -H "$TESTENV_LDAP_URI" "${LDAP_BIND[@]}" -b "$TESTENV_LDAP_PEOPLE" \
  -E pr=200/noprompt '(objectClass=inetOrgPerson)' uid | grep -c '^uid: ')"
[ "$n" -eq 604 ] || fail "paged search returned $n entries, want 604"
echo "paged search: $n entries"
rm -f /tmp/smoke.$$
[ "$(find "$TESTENV_MAIL_ROOT/user00600/Maildir" -type f -path '*/cur/*' | wc -l)" -eq 2 ] ||
  fail "user00600 does not have 2 messages on disk"

step "IMAP: alice over imaps with the CA"
out="$(imap -u "alice:$USERPW" "$TESTENV_IMAPS_URI/" -X 'GETQUOTAROOT INBOX')"
echo "$out"
grep -q 'STORAGE [0-9]* 51200' <<<"$out" || fail "alice's GETQUOTAROOT limit is not 51200 KiB (50 MiB)"
grep -q 'MESSAGE [0-9]* ' <<<"$out" || fail "no MESSAGE resource"
out="$(imap -u "alice:$USERPW" "$TESTENV_IMAPS_URI/" -X 'LIST "" "*" RETURN (SPECIAL-USE)')"
for su in Drafts Sent Trash Junk Archive; do
  grep -q "\\\\$su.*\"/\" $su\$" <<<"$(tr -d '\r' <<<"$out")" || fail "LIST: no \\$su on $su: $out"
done
grep -q 'Projects/2026' <<<"$out" || fail "LIST: no Projects/2026"
exec 3<>"/dev/tcp/127.0.0.1/${TESTENV_IMAP_URI##*:}"
IFS= read -r -t 5 greeting <&3 || true
exec 3<&-
grep -q STARTTLS <<<"$greeting" || fail "imap greeting does not offer STARTTLS: $greeting"
imap --ssl-reqd -u "alice:$USERPW" "$TESTENV_IMAP_URI/INBOX" -X 'NOOP' >/dev/null || fail "imap with STARTTLS"

step "IMAP: master user via SASL PLAIN authzid and via alice*mbxadmin"
out="$(imap --sasl-authzid alice -u "mbxadmin:$MASTERPW" --login-options AUTH=PLAIN "$TESTENV_IMAPS_URI/" -X 'GETQUOTAROOT INBOX')"
grep -q 'STORAGE [0-9]* 51200' <<<"$out" || fail "authzid master login: $out"
out="$(imap -u "alice*mbxadmin:$MASTERPW" "$TESTENV_IMAP_URI/" -X 'GETQUOTAROOT INBOX')"
grep -q 'STORAGE [0-9]* 51200' <<<"$out" || fail "alice*mbxadmin login: $out"
if imap --sasl-authzid nosuchuser -u "mbxadmin:$MASTERPW" --login-options AUTH=PLAIN "$TESTENV_IMAP_URI/" -X NOOP >/dev/null 2>&1; then
  fail "master login to a user that is not in LDAP succeeded"
fi

step "quota limit follows LDAP mailQuota"
printf 'dn: uid=alice,%s\nchangetype: modify\nreplace: mailQuota\nmailQuota: 73400320\n' "$TESTENV_LDAP_PEOPLE" |
  ldapmodify -ZZ -H "$TESTENV_LDAP_URI" "${LDAP_BIND[@]}" >/dev/null
out="$(imap -u "alice:$USERPW" "$TESTENV_IMAPS_URI/" -X 'GETQUOTAROOT INBOX')"
grep -q 'STORAGE [0-9]* 71680' <<<"$out" || fail "after mailQuota=70MiB: $out"
dave="$(imap -u "dave:$USERPW" "$TESTENV_IMAPS_URI/" -X 'GETQUOTAROOT INBOX')"
echo "dave: $(grep STORAGE <<<"$dave")"
read -r used limit < <(sed -n 's/.*STORAGE \([0-9]*\) \([0-9]*\).*/\1 \2/p' <<<"$dave")
if [ "$limit" != 1024 ] || [ "$used" -lt 900 ]; then fail "dave should be near his 1 MiB quota: $dave"; fi

step "doveadm HTTP API quotaGet allUsers, and the CLI"
auth="X-Dovecot-API $(base64 -w0 <"$TESTENV_DOVEADM_API_KEY_FILE")"
out="$(curl -sS --max-time 300 -H "Authorization: $auth" "$TESTENV_DOVEADM_URL" \
  -d '[["quotaGet",{"allUsers":true},"t1"]]')"
n="$(grep -o '"type":"STORAGE"' <<<"$out" | wc -l)"
[ "$n" -eq 604 ] || fail "doveadm quotaGet allUsers: $n STORAGE rows, want 604: ${out:0:300}"
grep -q '"username":"alice","root":"User quota","type":"STORAGE","value":"[0-9]*","limit":"71680"' <<<"$out" ||
  fail "doveadm HTTP: alice's limit is not 71680"
doveadm -c "$TESTENV_DOVECOT_CONF" quota get -u bob | grep -q 'STORAGE.* 10240 ' || fail "doveadm CLI quota get"

step "rawlog transcript"
imap -u "bob:$USERPW" "$TESTENV_IMAP_URI/" -X 'SELECT INBOX' >/dev/null
ls "$TESTENV_RAWLOG_DIR/bob/"*.in >/dev/null 2>&1 || fail "no rawlog for bob in $TESTENV_RAWLOG_DIR/bob"
grep -q 'SELECT INBOX' "$TESTENV_RAWLOG_DIR"/bob/*.in || fail "rawlog lacks the SELECT"
! grep -q "$USERPW" "$TESTENV_RAWLOG_DIR"/bob/* || fail "rawlog contains the password"

step "stop/start dovecot and slapd (same ports, same data)"
"$TESTENV" stop "$DIR" dovecot
if imap -u "alice:$USERPW" "$TESTENV_IMAPS_URI/" -X NOOP >/dev/null 2>&1; then fail "dovecot still answers after stop"; fi
! "$TESTENV" status "$DIR" >/dev/null || fail "status should fail with dovecot stopped"
"$TESTENV" start "$DIR" dovecot
imap -u "alice:$USERPW" "$TESTENV_IMAPS_URI/" -X NOOP >/dev/null || fail "dovecot after restart"
"$TESTENV" stop "$DIR" slapd
if ldapsearch -LLL -H "$TESTENV_LDAP_URI" -x -s base -b '' >/dev/null 2>&1; then fail "slapd still answers after stop"; fi
"$TESTENV" start "$DIR" slapd
out="$(ldapsearch -ZZ -LLL -H "$TESTENV_LDAP_URI" "${LDAP_BIND[@]}" -b "$TESTENV_LDAP_PEOPLE" '(uid=alice)' mailQuota)"
grep -q '^mailQuota: 73400320$' <<<"$out" || fail "slapd after restart lost data: $out"
imap -u "alice:$USERPW" "$TESTENV_IMAPS_URI/" -X NOOP >/dev/null || fail "dovecot cannot authenticate after slapd restart"

if [ "$TWO" = 1 ]; then
  step "a second sandbox at the same time"
  DIR2="$(mktemp -d /tmp/mbx-smoke2.XXXXXX)"
  "$TESTENV" up "$DIR2"
  (
    load_env "$DIR2"
    [ "$TESTENV_IMAPS_URI" != "$(grep ^TESTENV_IMAPS_URI= "$DIR/env" | cut -d= -f2)" ] || exit 1
    imap -u "carol:$(cat "$TESTENV_USER_PASSWORD_FILE")" "$TESTENV_IMAPS_URI/" -X 'GETQUOTAROOT INBOX' |
      grep -q 'STORAGE [0-9]* 102400'
  ) || fail "second sandbox"
  imap -u "alice:$USERPW" "$TESTENV_IMAPS_URI/" -X NOOP >/dev/null || fail "first sandbox after second came up"
  "$TESTENV" status "$DIR2" >/dev/null || fail "second sandbox status"
fi

[ "$KEEP" = 1 ] && exit 0

step "down"
pids="$(cat "$DIR/run/slapd.pid" "$DIR/run/dovecot.pid")"
ports="$(cut -d= -f2 "$DIR/ports")"
"$TESTENV" down "$DIR"
[ ! -e "$DIR" ] || fail "$DIR still exists after down"
for p in $pids; do
  # A zombie (state Z) has exited and holds nothing; it waits for its parent (init, once the
  # script that started the server is gone) to reap it, which some containers' init is slow at.
  left="$(ps -e -o pid=,sid=,stat=,args= | awk -v s="$p" '($1 == s || $2 == s) && $3 !~ /^Z/')"
  [ -z "$left" ] || fail "processes of $DIR left after down: $left"
done
# A port may be open again by the time we look: other sandboxes (the test suite runs several at
# once) are free to take it. It must not be open by a process of this one.
for port in $ports; do
  for pid in $(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$DIR"; then
      fail "port $port still open by $(tr '\0' ' ' <"/proc/$pid/cmdline") after down"
    fi
  done
done
if [ -n "$DIR2" ]; then
  "$TESTENV" status "$DIR2" >/dev/null || fail "second sandbox went down with the first"
fi
echo
echo "SMOKE OK"
