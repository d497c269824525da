#!/usr/bin/env bash
# Fault injection for mbx quota sweep on a private testenv (it stops servers, so it cannot share
# the fixture): Dovecot stopped in the middle of a sweep, LDAP stopped before one.
#   quota_faults_test.sh BIN_DIR
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")/../.." && pwd)"
dir=$(mktemp -u /tmp/mbx-faults-XXXXXX)
own_testenv "$dir"
TESTENV_FILE="$dir/env" need_testenv
journal="$work/journal.sqlite"
# Starts the stopped Dovecot again; its killed children may hold the ports a moment: retry.
restart_dovecot() { restart_server "$dir" dovecot; }
users=400
"$here/scripts/testenv" populate "$dir" --users "$users" --messages 1 --prefix fault >/dev/null 2>&1 ||
  fail "populate"
total=$((users + 4)) # and the demo users

# --- Dovecot stops while the sweep runs ------------------------------------------------------
# One connection at a time; once some rows are out, stop Dovecot: the rest must be reported
# failed (unavailable), the sweep must finish, and the journal must hold a row per user.
"$bin/mbx" quota sweep --parallel 1 --config "$conf" --journal "$journal" --format csv >"$work/sweep.csv" 2>"$work/sweep.err" &
pid=$!
for _ in $(seq 1 600); do
  [ "$(sqlite3 "$journal" "select count(*) from actions where kind='quota.check'" 2>/dev/null || echo 0)" -ge 20 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
"$here/scripts/testenv" stop "$dir" dovecot >/dev/null 2>&1
wait "$pid"; rc=$?; pid=""
check "sweep with Dovecot stopped midway exits 69 (unavailable)" [ "$rc" = 69 ]
check "every user has a row" [ "$(($(wc -l <"$work/sweep.csv") - 1))" = "$total" ]
done_rows=$(grep -vc ',unknown,unknown,' "$work/sweep.csv"); done_rows=$((done_rows - 1)) # header
failed_rows=$(grep -c ',unknown,unknown,' "$work/sweep.csv")
check "some users were checked before the stop ($done_rows)" [ "$done_rows" -ge 20 ]
check "the rest are reported failed ($failed_rows), not dropped" [ "$((done_rows + failed_rows))" = "$total" ] 
check "failed rows say the server cannot be reached" bash -c 'grep ",unknown,unknown," "$1" | head -n1 | grep -qi "cannot"' _ "$work/sweep.csv"
check "journal: one quota.check action per user, run finished with 69" bash -c '
  [ "$(sqlite3 "$1" "select count(*) from actions where kind='"'"'quota.check'"'"'")" = "$2" ] &&
  [ "$(sqlite3 "$1" "select exit_code from runs order by id desc limit 1")" = 69 ] &&
  [ "$(sqlite3 "$1" "pragma integrity_check")" = ok ]' _ "$journal" "$total"
restart_dovecot || fail "dovecot restart: $(tail -n 3 "$work/start.log")"

# --- LDAP down: nothing to enumerate, a clear 69 ------------------------------------------------
"$here/scripts/testenv" stop "$dir" slapd >/dev/null 2>&1
run "sweep with LDAP stopped exits 69" 69 "$bin/mbx" quota sweep --config "$conf" --journal "$journal" &&
  check "the error names the directory" has "$err" "ldap://"
"$here/scripts/testenv" start "$dir" slapd >/dev/null 2>&1 || fail "slapd restart"
run "sweep after both servers are back" 2 "$bin/mbx" quota sweep --config "$conf" --journal "$journal" --format csv --parallel 4 &&
  check "all users checked again" [ "$(grep -c ",unknown,unknown," <<<"$out")" = 0 ] &&
  check "one row per user" [ "$(lines "$out")" = "$((total + 1))" ]

# --- a server without QUOTA: the limit comes from LDAP, the usage from STATUS SIZE ------------
run "quota check with QUOTA" 0 "$bin/mbx" quota check alice --config "$conf" --journal "$journal" --format json
with_quota="$out"
sed -i 's/ imap_quota//' "$TESTENV_DOVECOT_CONF"
"$here/scripts/testenv" stop "$dir" dovecot >/dev/null 2>&1
restart_dovecot || fail "dovecot restart without imap_quota: $(tail -n 3 "$work/start.log")"
run "quota check without QUOTA" 0 "$bin/mbx" quota check alice --config "$conf" --journal "$journal" --format json &&
  check "no QUOTA: limit from LDAP, usage from STATUS SIZE, same numbers" /usr/bin/python3 -c '
import json,sys
a=json.loads(sys.argv[1])["rows"][0]; b=json.loads(sys.argv[2])["rows"][0]
assert a["source"]=="imap" and b["source"]=="ldap", (a, b)
assert b["limit_bytes"]==a["limit_bytes"]==52428800, (a, b)
assert abs(b["used_bytes"]-a["used_bytes"]) <= 1024, (a, b)   # QUOTA counts KiB
assert b["tier"]==a["tier"] and b["messages"] is None, (a, b)' "$with_quota" "$out"
run "quota sweep without QUOTA" 2 "$bin/mbx" quota sweep --config "$conf" --journal "$journal" --format csv &&
  check "no QUOTA: every row from ldap or without a limit, none unknown" bash -c '
    [ "$(grep -c ",unknown,unknown," <<<"$1")" = 0 ] && [ "$(grep -c ",imap," <<<"$1")" = 0 ] && grep -q ",ldap," <<<"$1"' _ "$out"
finish
