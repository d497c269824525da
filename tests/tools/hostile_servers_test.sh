#!/usr/bin/env bash
# Hostile and broken IMAP servers (tests/tools/hostile_imap.py, TLS on loopback, no testenv):
# a command answered with untagged responses forever, a server that drips a line every 0.2 s,
# an endless response of one-byte literals, a login refused with [UNAVAILABLE], and two HTTPS
# servers that do not answer in HTTP (status 999999999999, random bytes). Each must end
# with a clear error and the documented exit code, in bounded memory (peak RSS printed) and
# time; SIGTERM must end a command stuck on a dripping server at once, journal consistent.
#   hostile_servers_test.sh BIN_DIR
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")" && pwd)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hostile test CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$work/server.key" -out "$work/server.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -extfile "$work/san.ext" -out "$work/server.pem" >/dev/null 2>&1 || { fail "test certificates"; finish; }
printf 'not-a-real-password' >"$work/master.pw"
chmod 600 "$work/master.pw"

start_server() { # MODE
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -f "$work/port"
  /usr/bin/python3 "$here/hostile_imap.py" "$1" "$work/server.pem" "$work/server.key" "$work/port" &
  server_pid=$!
  for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
  cat >"$work/mbxkit.conf" <<EOC
[imap]
uri = imaps://127.0.0.1:$(cat "$work/port")
ca-file = $work/ca.pem
master-user = mbxadmin
master-password-file = $work/master.pw
timeout = 10s
command-timeout = 5s
EOC
}
journal="$work/journal.sqlite"
merge() { /usr/bin/time -f '%M' -o "$work/rss" "$bin/mbx" merge --from a --to b --config "$work/mbxkit.conf" --journal "$journal" "$@"; }
rss_mb() { echo $(( $(tail -n 1 "$work/rss") / 1024 )); }

start_server flood
if run "flood: endless untagged responses" 65 merge; then
  check "flood: the error says what the server did ($(rss_mb) MB peak RSS)" has "$err" "MiB of untagged responses to one command"
  check "flood: memory bounded (peak RSS $(rss_mb) MB < 200 MB)" [ "$(rss_mb)" -lt 200 ]
fi

start_server literals
if run "literals: an endless response of one-byte literals" 65 merge; then
  check "literals: named as one response too large ($(rss_mb) MB peak RSS)" has "$err" "one response exceeds 134217728 bytes"
  check "literals: memory bounded by what is held (peak RSS $(rss_mb) MB < 200 MB)" [ "$(rss_mb)" -lt 200 ]
fi

start_server drip
SECONDS=0
if run "drip: a server that never stops answering" 69 merge; then
  check "drip: the command deadline ended it (${SECONDS} s, command-timeout 5s)" [ "$SECONDS" -lt 30 ]
  check "drip: the error names the deadline and the setting ($(rss_mb) MB peak RSS)" has "$err" "[imap] command-timeout"
fi

# SIGTERM (what `timeout` sends) while a command is stuck: exit 130 at once, the run journaled.
sed -i 's/^command-timeout = 5s/command-timeout = 0s/' "$work/mbxkit.conf"
"$bin/mbx" merge --from a --to b --config "$work/mbxkit.conf" --journal "$journal" >/dev/null 2>"$work/term.err" </dev/null &
pid=$!
sleep 2
SECONDS=0
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  fail "SIGTERM: still running 5 s after SIGTERM"; kill -9 "$pid"; wait "$pid" 2>/dev/null
else
  wait "$pid"; rc=$?
  check "SIGTERM: ended at once with exit 130 (got $rc)" [ "$rc" = 130 ]
  check "SIGTERM: the journal is intact and the run is not left running" bash -c '
    [ "$(sqlite3 "$1" "pragma integrity_check")" = ok ] &&
    [ "$(sqlite3 "$1" "select status from runs order by id desc limit 1")" != running ]' _ "$journal"
fi

start_server unavailable
if run "unavailable: login refused with [UNAVAILABLE]" 75 merge; then
  check "unavailable: a server failure, not a wrong password ($(rss_mb) MB peak RSS)" has "$err" "the server cannot authenticate now"
  check "unavailable: not the master-user advice" bash -c '! grep -q "check \[imap\] master-user" <<<"$1"' _ "$err"
fi

# ActiveSync servers that do not answer in HTTP: a server failure (69), never "invalid URL" (78).
printf 'not-a-real-password' >"$work/eas.pw"
chmod 600 "$work/eas.pw"
eas() {
  /usr/bin/time -f '%M' -o "$work/rss" "$bin/mbx" audit "$1" --config "$work/mbxkit.conf" --journal "$journal" \
    --activesync-url "https://127.0.0.1:$(cat "$work/port")" --activesync-ca-file "$work/ca.pem" \
    --activesync-user probe --activesync-password-file "$work/eas.pw" "${@:2}"
}
for mode in http-status http-garbage; do
  start_server "$mode"
  if run "$mode: audit server" 69 eas server; then
    check "$mode: said to be no HTTP answer ($(rss_mb) MB peak RSS)" has "$out$err" "did not answer in HTTP"
    check "$mode: not called an invalid URL" bash -c '! grep -q "invalid URL" <<<"$1"' _ "$out$err"
  fi
  if run "$mode: audit probe" 69 eas probe --as-version 14.1; then
    check "$mode: probe says it too ($(rss_mb) MB peak RSS)" has "$out$err" "did not answer in HTTP"
  fi
done
finish
