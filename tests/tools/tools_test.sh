#!/usr/bin/env bash
# Tool tests: run the real mbx binaries and check exit code, stdout and stderr together.
#   tools_test.sh BIN_DIR      (TESTENV_FILE=.../env for the checks against real servers)
set -uo pipefail
bin="$1"
passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset MBX_CONFIG MBX_LDAP_PASSWORD MBX_IMAP_MASTER_PASSWORD

# run NAME EXPECTED_RC CMD... : runs CMD, keeps stdout/stderr in $out/$err, checks the code.
run() {
  local name="$1" want="$2"; shift 2
  "$@" >"$work/out" 2>"$work/err" </dev/null
  rc=$?
  out=$(cat "$work/out"); err=$(cat "$work/err")
  if [ "$rc" != "$want" ]; then fail "$name: exit $rc, expected $want (stderr: ${err:0:300})"; return 1; fi
  return 0
}
ok() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAILED: $1"; }
check() { # check NAME CONDITION-COMMAND...
  local name="$1"; shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}
has() { grep -qF -- "$2" <<<"$1"; }
lines() { [ -z "$1" ] && echo 0 || printf '%s\n' "$1" | wc -l; }

# --- the front ---------------------------------------------------------------------------
run "mbx without a command" 64 "$bin/mbx" && check "mbx lists commands on stderr" has "$err" "explain"
run "unknown command" 64 "$bin/mbx" frobnicate &&
  check "unknown command is named and never guessed" has "$err" "mbx: unknown command 'frobnicate'"
run "mbx --version" 0 "$bin/mbx" --version && check "version printed" has "$out" "mbx (mbxkit) "
run "mbx help explain" 0 "$bin/mbx" help explain && check "help shows usage" has "$out" "usage: mbx explain"

# --- explain -------------------------------------------------------------------------------
run "explain MIS_9" 0 "$bin/mbx" explain MIS_9 && check "explain names the quota command" has "$out" "mbx quota check USER"
run "explain json" 0 "$bin/mbx" explain disk_space --format json &&
  check "explain json is one object with the code" \
    /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["code"]=="MIS_9" and d["number"]==9' <<<"$out"
run "explain list csv" 0 "$bin/mbx" explain --list --format csv &&
  check "csv has a header and ten codes" [ "$(lines "$out")" = 11 ]
run "explain unknown code" 64 "$bin/mbx" explain disk &&
  check "unknown code: one line, names it, stdout empty" \
    bash -c '[ "$(printf "%s\n" "$1" | wc -l)" = 1 ] && grep -qF "unknown MIS code '"'"'disk'"'"'" <<<"$1" && [ -z "$2" ]' _ "$err" "$out"
run "explain unknown option" 64 "$bin/mbx" explain --frobnicate 9 && check "unknown option named" has "$err" "frobnicate"
run "explain bad format" 64 "$bin/mbx" explain 9 --format xml && check "bad format lists formats" has "$err" "use one of: table, csv, json"
"$bin/mbx" explain --list >/dev/full 2>"$work/err"; rc=$?
check "stdout on a full disk exits 74" [ "$rc" = 74 ]

# --- configuration and secrets -------------------------------------------------------------
printf '[ldap]\nuri = ldap://127.0.0.1:1\n\n[imap]\nmaster-pasword-file = /x\n' >"$work/typo.conf"
run "unknown config key" 78 "$bin/mbx" ping --config "$work/typo.conf" &&
  check "unknown key names file and line" has "$err" "$work/typo.conf:5: unknown key 'master-pasword-file' in section [imap]"
printf '[ldap]\nuri = ldap://127.0.0.1:1\n' >"$work/good.conf"
MBX_LDAP_URL=x run "unknown MBX_ variable" 78 "$bin/mbx" ping --config "$work/good.conf" &&
  check "unknown variable named" has "$err" "unknown environment variable 'MBX_LDAP_URL'"
run "missing config file" 78 "$bin/mbx" ping --config "$work/absent.conf"

if [ -z "${TESTENV_FILE:-}" ] || [ ! -f "$TESTENV_FILE" ]; then
  fail "TESTENV_FILE is not set or missing: run through ctest (testenv fixture) or scripts/testenv up DIR"
  echo "$passed passed, $failed failed"; exit 1
fi
# KEY=value lines; values may hold spaces (TESTENV_DEMO_USERS), so no sourcing.
while IFS='=' read -r key value; do [ -n "$key" ] && export "$key=$value"; done <"$TESTENV_FILE"
conf="$TESTENV_DIR/mbxkit.conf"
journal="$work/journal.sqlite"

# --- ping against the real servers ---------------------------------------------------------
run "ping the sandbox" 0 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --format json &&
  check "ping: ldap bind, search and imap login ok" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
steps={(r["service"],r["step"]):r["status"] for r in d["rows"]}
assert steps=={("ldap","bind"):"ok",("ldap","search"):"ok",("imap","login"):"ok"}, steps
assert d["summary"]["exit_code"]==0' <<<"$out"

cp "$TESTENV_IMAP_MASTER_PASSWORD_FILE" "$work/master.pw"; chmod 644 "$work/master.pw"
run "world-readable secret file refused" 78 "$bin/mbx" ping --config "$conf" --journal "$journal" --imap-master-password-file "$work/master.pw" &&
  check "refusal names the chmod fix" has "$out" "run: chmod 600 '$work/master.pw'"

printf 'wrong-password\n' >"$work/bad.pw"; chmod 600 "$work/bad.pw"
run "wrong master password" 77 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --imap-master-password-file "$work/bad.pw" &&
  check "auth failure reported in the table" has "$out" "authentication failed"
run "wrong master password, nagios" 3 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --imap-master-password-file "$work/bad.pw" --format nagios &&
  check "nagios: one status line CRITICAL" has "$(head -n1 <<<"$out")" "MBX PING CRITICAL - 1 of 3 checks failed |"

run "ldap unreachable" 69 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --ldap-uri ldap://127.0.0.1:1 &&
  check "imap still checked when ldap is down" has "$out" "imap     login"

MBX_IMAP_MASTER_PASSWORD="$(cat "$TESTENV_IMAP_MASTER_PASSWORD_FILE")" \
  run "master password from the environment" 0 "$bin/mbx" ping --config "$conf" --journal "$journal" --user bob --imap-master-password-file ""

# --- quota check against the real servers ---------------------------------------------------
run "quota check alice bob" 0 "$bin/mbx" quota check alice bob --config "$conf" --journal "$journal" --format json &&
  check "quota: alice's limit comes from IMAP QUOTA" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
rows={r["user"]:r for r in d["rows"]}
assert sorted(rows)==["alice","bob"], rows
a=rows["alice"]
assert a["limit_bytes"]==52428800 and a["source"]=="imap" and a["tier"]=="ok" and a["status"]=="ok", a
assert rows["bob"]["limit_bytes"]==10485760, rows["bob"]
assert d["summary"]["users"]==2 and d["summary"]["ok"]==2 and d["summary"]["exit_code"]==0, d["summary"]' <<<"$out"

"$bin/mbx" quota check dave --config "$conf" --journal "$journal" --format json >"$work/out" 2>"$work/err"; rc=$?
out=$(cat "$work/out")
check "quota: dave's tier matches the exit code, percent over 80" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin); rc=int(sys.argv[1])
r=d["rows"][0]
assert r["user"]=="dave" and r["percent"]>80, r
want={"warning":1,"prohibit-send":2,"prohibit-send-receive":2}[r["tier"]]
assert rc==want and d["summary"]["exit_code"]==rc, (rc, r["tier"])
assert r["status"]==("warning" if rc==1 else "critical"), r' "$rc" <<<"$out"
dave_rc=$rc

run "quota check unknown user" 65 "$bin/mbx" quota check nosuchuser --config "$conf" --journal "$journal" --format json &&
  check "quota: unknown user is a row with the error" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
r=d["rows"][0]
assert r["user"]=="nosuchuser" and r["tier"]=="unknown" and r["status"]=="unknown", r
assert "no user '"'"'nosuchuser'"'"' in the directory" in r["error"], r
assert r["used_bytes"] is None and r["limit_bytes"] is None, r' <<<"$out"

run "quota check filter injection" 65 "$bin/mbx" quota check '*)(uid=*' --config "$conf" --journal "$journal" --format json &&
  check "quota: an injected filter matches nothing, not everything" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
assert len(d["rows"])==1 and d["rows"][0]["tier"]=="unknown", d["rows"]
assert "no user" in d["rows"][0]["error"], d["rows"]' <<<"$out"

run "quota check mixed users" 65 "$bin/mbx" quota check alice nosuchuser bob --config "$conf" --journal "$journal" --format csv &&
  check "quota: an unknown user does not stop the others" [ "$(lines "$out")" = 4 ]

run "quota check dave, nagios" "$dave_rc" "$bin/mbx" quota check dave --config "$conf" --journal "$journal" --format nagios &&
  check "quota nagios: one status line WARNING or CRITICAL" \
    bash -c 'head -n1 <<<"$1" | grep -qE "^MBX QUOTA (WARNING|CRITICAL) - "' _ "$out"

printf '# users to check\nalice\n\n  bob\n' >"$work/users"
run "quota check --users-file" 0 "$bin/mbx" quota check --users-file "$work/users" --config "$conf" --journal "$journal" --format csv &&
  check "quota: users file read, comments skipped" [ "$(lines "$out")" = 3 ]

run "quota sweep not implemented" 64 "$bin/mbx" quota sweep --config "$conf" --journal "$journal" &&
  check "quota sweep: says it is not implemented" has "$err" "'mbx quota sweep' is not implemented yet"
run "quota without a user" 64 "$bin/mbx" quota check --config "$conf" --journal "$journal"

# --- the journal saw all of it, and no secret ---------------------------------------------
run "journal list" 0 "$bin/mbx" journal list --tool ping --journal "$journal" --format json &&
  check "journal: every ping run recorded with its exit code" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
codes=sorted(r["exit_code"] for r in d["rows"])
assert codes==[0,0,69,77,77,78], codes' <<<"$out"
run "journal show" 0 "$bin/mbx" journal show 1 --journal "$journal" --format csv &&
  check "journal show lists the three checks" [ "$(lines "$out")" = 4 ]
run "journal export" 0 "$bin/mbx" journal export --journal "$journal" --format json
run "journal show unknown run" 65 "$bin/mbx" journal show 999 --journal "$journal"
for secret_file in "$TESTENV_IMAP_MASTER_PASSWORD_FILE" "$TESTENV_LDAP_PASSWORD_FILE"; do
  s=$(cat "$secret_file")
  check "no secret in the journal ($(basename "$secret_file"))" bash -c '! grep -aqF -- "$1" "$2"* && ! grep -aqF -- "$1" <<<"$3"' _ "$s" "$journal" "$out"
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
