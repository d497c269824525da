#!/usr/bin/env bash
# Smoke test of the ActiveSync sandbox (scripts/testenv up DIR --with-sogo) against the real
# SOGo behind nginx: authentication, the OPTIONS headers, a WBXML FolderSync, the access log
# that `mbx audit clients` reads, and stop/start of sogod.
#
#   tests/integration/sogo_smoke.sh [ENV-FILE]
#
# ENV-FILE (default: $TESTENV_FILE, as set by the CTest fixture testenv_sogo) is a sandbox's
# DIR/env. Without either, the test brings up its own sandbox in ${TMPDIR:-/tmp} and takes it
# down again, checking that no process and no port is left.
# Exit 0 = all good, 1 = failure, 77 = skipped: no SOGo sandbox and CI is not "true" (with
# CI=true a missing or broken SOGo is a failure, never a skip). Needs root (scripts/testenv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TESTENV="$ROOT/scripts/testenv"
[ $# -le 1 ] || { echo "usage: $0 [ENV-FILE]" >&2; exit 64; }
ENV_FILE="${1:-${TESTENV_FILE:-}}"
OWN_DIR=""
TMP="${TMPDIR:-/tmp}"
WORK="$(mktemp -d "$TMP/mbx-sogo-smoke.XXXXXX")"

step() { printf '\n== [%s] %s\n' "$(date +%T)" "$*"; }
fail() { echo "SOGO SMOKE FAIL: $*" >&2; exit 1; }
skip_or_fail() {
  if [ "${CI:-}" = true ]; then fail "$* (CI=true: a SOGo that cannot start is a failure)"; fi
  echo "SOGO SMOKE SKIP: $*" >&2
  exit 77
}
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${TESTENV_DIR:-}" ] && [ -d "$TESTENV_DIR/log" ]; then
    for f in sogod nginx postgresql memcached; do
      echo "---- $TESTENV_DIR/log/$f.log (tail) ----" >&2
      tail -n 15 "$TESTENV_DIR/log/$f.log" >&2 2>/dev/null || true
    done
  fi
  [ -z "$OWN_DIR" ] || "$TESTENV" down "$OWN_DIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

t_start=$(date +%s%N)
if [ -z "$ENV_FILE" ]; then
  [ -x /usr/sbin/sogod ] || skip_or_fail "sogod is not installed (scripts/bootstrap)"
  OWN_DIR="$(mktemp -d "$TMP/mbx-sogo.XXXXXX")"
  step "up $OWN_DIR --with-sogo"
  t0=$(date +%s%N)
  "$TESTENV" up "$OWN_DIR" --with-sogo
  echo "up --with-sogo took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  ENV_FILE="$OWN_DIR/env"
fi
[ -f "$ENV_FILE" ] || skip_or_fail "no sandbox env file $ENV_FILE (fixture testenv_sogo did not bring one up)"
while IFS='=' read -r k v; do export "$k=$v"; done <"$ENV_FILE"
[ -n "${TESTENV_EAS_URL:-}" ] || skip_or_fail "$ENV_FILE has no TESTENV_EAS_URL (sandbox without --with-sogo)"
for k in TESTENV_EAS_ACCESS_LOG TESTENV_EAS_USER TESTENV_SOGO_URL TESTENV_SOGO_LOG \
  TESTENV_SOGO_DB_URI TESTENV_SOGO_DB_PASSWORD_FILE TESTENV_SOGO_MEMCACHED; do
  [ -n "${!k:-}" ] || fail "env: $k missing"
done
DIR="$TESTENV_DIR"
EAS="$TESTENV_EAS_URL/Microsoft-Server-ActiveSync"
USER_NAME="$TESTENV_EAS_USER"
PW="$(cat "$TESTENV_USER_PASSWORD_FILE")"
UA="mbxkit-sogo-smoke/1.0 (pid $$)"
DEVICE=MBXTEST0001

# curl against the sandbox: only its CA is trusted; -D: headers to a file, -o: body
eas() { curl -sS --max-time 30 --cacert "$TESTENV_CA_FILE" "$@"; }
# header NAME FILE -> value of the (last) header NAME, matched case-insensitively
header() { tr -d '\r' <"$2" | awk -v n="$1" '
  { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == tolower(n)) { v = substr($0, i + 1); sub(/^ +/, "", v) } }
  END { print v }'; }
status_of() { tr -d '\r' <"$1" | awk 'NR == 1 { print $2 }'; }

step "status, mbxkit.conf [activesync]"
st="$("$TESTENV" status "$DIR")" || fail "status: not everything runs: $st"
echo "$st"
for s in postgresql memcached sogod nginx; do
  grep -q "^$s: running" <<<"$st" || fail "status does not show $s running"
done
grep -A6 '^\[activesync\]$' "$DIR/mbxkit.conf" | grep -qx "url = $TESTENV_EAS_URL" ||
  fail "mbxkit.conf: no [activesync] url = $TESTENV_EAS_URL"
grep -A6 '^\[activesync\]$' "$DIR/mbxkit.conf" | grep -qx "password-file = $TESTENV_USER_PASSWORD_FILE" ||
  fail "mbxkit.conf: [activesync] password-file"

step "TLS: the certificate is verified (no CA -> curl fails)"
if curl -sS --max-time 10 -o /dev/null -X OPTIONS "$EAS" 2>/dev/null; then
  fail "curl without the sandbox CA succeeded: certificate not from the sandbox CA?"
fi

step "OPTIONS without credentials -> 401"
eas -o /dev/null -D "$WORK/h0" -X OPTIONS "$EAS"
[ "$(status_of "$WORK/h0")" = 401 ] || fail "OPTIONS without auth: $(head -n1 "$WORK/h0")"
header WWW-Authenticate "$WORK/h0" | grep -qi '^basic' || fail "401 without a Basic challenge"

step "OPTIONS with a wrong password -> 401"
eas -o /dev/null -D "$WORK/h1" -u "$USER_NAME:wrong-$PW" -X OPTIONS "$EAS"
[ "$(status_of "$WORK/h1")" = 401 ] || fail "OPTIONS with a wrong password: $(head -n1 "$WORK/h1")"

step "OPTIONS as $USER_NAME -> 200 and the MS-AS headers"
eas -o /dev/null -D "$WORK/h2" -u "$USER_NAME:$PW" -A "$UA" -X OPTIONS "$EAS"
tr -d '\r' <"$WORK/h2"
[ "$(status_of "$WORK/h2")" = 200 ] || fail "OPTIONS as $USER_NAME: $(head -n1 "$WORK/h2")"
versions="$(header MS-ASProtocolVersions "$WORK/h2")"
tr ',' '\n' <<<"$versions" | tr -d ' ' | grep -qx '14.1' || fail "MS-ASProtocolVersions lacks 14.1: '$versions'"
commands="$(header MS-ASProtocolCommands "$WORK/h2")"
tr ',' '\n' <<<"$commands" | tr -d ' ' | grep -qx 'FolderSync' || fail "MS-ASProtocolCommands lacks FolderSync: '$commands'"
[ -n "$(header MS-Server-ActiveSync "$WORK/h2")" ] || fail "no MS-Server-ActiveSync header"

step "FolderSync (WBXML, MS-ASProtocolVersion 14.1, plain query)"
# FolderSync, SyncKey 0: 03 01 6A 00 = WBXML 1.3, unknown public id, UTF-8, empty string
# table; 00 07 = code page 7 (FolderHierarchy); 56 = <FolderSync> with content; 52 03 "0" 00
# 01 = <SyncKey>0</SyncKey>; 01 = </FolderSync>
printf '\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30\x00\x01\x01' >"$WORK/foldersync.wbxml"
query="Cmd=FolderSync&User=$USER_NAME&DeviceId=$DEVICE&DeviceType=mbxkit"
t0=$(date +%s%N)
eas -D "$WORK/h3" -o "$WORK/fs.wbxml" -u "$USER_NAME:$PW" -A "$UA" \
  -H 'MS-ASProtocolVersion: 14.1' -H 'Content-Type: application/vnd.ms-sync.wbxml' \
  --data-binary @"$WORK/foldersync.wbxml" "$EAS?$query"
echo "FolderSync took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
[ "$(status_of "$WORK/h3")" = 200 ] || fail "FolderSync: $(head -n1 "$WORK/h3")"
header Content-Type "$WORK/h3" | grep -qi '^application/vnd.ms-sync.wbxml' ||
  fail "FolderSync Content-Type: $(header Content-Type "$WORK/h3")"
tr ',' '\n' <<<"$(header MS-ASProtocolVersions "$WORK/h3")" | tr -d ' ' | grep -qx '14.1' ||
  fail "the FolderSync response does not repeat MS-ASProtocolVersions"
[ "$(head -c1 "$WORK/fs.wbxml" | od -An -tx1 | tr -d ' ')" = 03 ] || fail "response is not WBXML 1.3"
wbxml2xml -l ACTIVESYNC -o "$WORK/fs.xml" "$WORK/fs.wbxml" >/dev/null 2>&1 ||
  fail "wbxml2xml cannot decode the FolderSync response"
tr -d '\n' <"$WORK/fs.xml" | grep -q '<FolderSync[^>]*><Status>1</Status>' ||
  fail "FolderSync Status is not 1: $(head -c 400 "$WORK/fs.xml")"
grep -q '<SyncKey>[^<]' "$WORK/fs.xml" || fail "FolderSync: no new SyncKey"
# the folders come from the sandbox Dovecot over imaps (alice's demo mailboxes)
for f in INBOX Sent Trash Archive; do
  grep -q "<DisplayName>$f</DisplayName>" "$WORK/fs.xml" || fail "FolderSync: no folder $f (IMAP to Dovecot?)"
done
echo "FolderSync: Status 1, $(grep -c '<Add>' "$WORK/fs.xml") folders"

step "nginx access log: DeviceId, user agent, protocol version"
sleep 0.2  # nginx writes the line after the response
line="$(grep -F "DeviceId=$DEVICE" "$TESTENV_EAS_ACCESS_LOG" | grep -F "\"$UA\"" | grep -F 'Cmd=FolderSync' | tail -n 1)"
echo "$line"
[ -n "$line" ] || fail "no access log line with DeviceId=$DEVICE and user agent '$UA' in $TESTENV_EAS_ACCESS_LOG"
[[ "$line" == *'" 200 '* ]] || fail "access log: status is not 200"
[[ "$line" == *' "14.1"' ]] || fail "access log: the last field is not \"14.1\""
[[ "$line" == "127.0.0.1 - $USER_NAME ["* ]] || fail "access log: no remote user $USER_NAME"
grep -F 'OPTIONS /Microsoft-Server-ActiveSync' "$TESTENV_EAS_ACCESS_LOG" | grep -F "\"$UA\"" | grep -q ' "-"$' ||
  fail "access log: the OPTIONS line without MS-ASProtocolVersion should end in \"-\""

step "stop/start sogod (nginx answers 502 meanwhile)"
"$TESTENV" stop "$DIR" sogod
eas -o /dev/null -D "$WORK/h4" -u "$USER_NAME:$PW" -X OPTIONS "$EAS" || true
[ "$(status_of "$WORK/h4")" = 502 ] || fail "with sogod stopped, nginx should answer 502: $(head -n1 "$WORK/h4" 2>/dev/null)"
! "$TESTENV" status "$DIR" >/dev/null || fail "status should fail with sogod stopped"
"$TESTENV" start "$DIR" sogod
eas -o /dev/null -D "$WORK/h5" -u "$USER_NAME:$PW" -X OPTIONS "$EAS"
[ "$(status_of "$WORK/h5")" = 200 ] || fail "OPTIONS after restarting sogod: $(head -n1 "$WORK/h5")"
"$TESTENV" status "$DIR" >/dev/null || fail "status after restarting sogod"

if [ -n "$OWN_DIR" ]; then
  step "down"
  # the servers and their children (sogod's workers have sessions of their own)
  pids="$(cat "$OWN_DIR"/run/*.pid)"
  pids="$pids $(ps -e -o pid=,ppid= | awk -v l=" ${pids//$'\n'/ } " 'index(l, " " $2 " ") { print $1 }')"
  ports="$(cut -d= -f2 "$OWN_DIR/ports")"
  "$TESTENV" down "$OWN_DIR"
  [ ! -e "$OWN_DIR" ] || fail "$OWN_DIR still exists after down"
  OWN_DIR=""
  sleep 0.3
  for p in $pids; do
    left="$(ps -e -o pid=,sid=,stat=,args= | awk -v s="$p" '($1 == s || $2 == s) && $3 !~ /^Z/')"
    [ -z "$left" ] || fail "processes left after down: $left"
  done
  for port in $ports; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "port $port still open after down"; fi
  done
fi
echo
echo "SOGO SMOKE OK ($(( ($(date +%s%N) - t_start) / 1000000 )) ms)"
