# Shared by the tool test scripts: source it after setting `bin`.
#   run NAME EXPECTED_RC CMD...   runs CMD (stdin /dev/null), keeps $out/$err/$rc, checks the code
#   check NAME CMD...             counts CMD's success as a pass
#   has TEXT NEEDLE, lines TEXT   helpers for checks
#   need_testenv                  loads TESTENV_FILE's variables, sets $conf; fails when missing
#   finish                        prints "N passed, M failed" and exits 1 on any failure
#   own_testenv DIR [ARGS]...     a testenv of the test's own (scripts/testenv up DIR ARGS), down
#                                 at exit with the background $pid killed
#   restart_server DIR SERVER     starts a stopped testenv server again (log: $work/start.log)
#   add_imap_section CONF NAME    appends [imap.NAME] for another testenv's Dovecot (TESTENV_* of
#                    URI CA PWFILE  that one) with its master login
set -uo pipefail
passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset MBX_CONFIG MBX_LDAP_PASSWORD MBX_IMAP_MASTER_PASSWORD MBX_DOVEADM_API_KEY
lib_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)" # the repository these tests are in

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

need_testenv() {
  if [ -z "${TESTENV_FILE:-}" ] || [ ! -f "$TESTENV_FILE" ]; then
    fail "TESTENV_FILE is not set or missing: run through ctest (testenv fixture) or scripts/testenv up DIR"
    finish
  fi
  # KEY=value lines; values may hold spaces (TESTENV_DEMO_USERS), so no sourcing.
  while IFS='=' read -r key value; do [ -n "$key" ] && export "$key=$value"; done <"$TESTENV_FILE"
  conf="$TESTENV_DIR/mbxkit.conf"
}

# The test's own testenvs, torn down at exit, and the background mbx it may have left ($pid).
own_testenvs=()
pid=""
own_cleanup() {
  local d
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  for d in "${own_testenvs[@]}"; do "$lib_repo/scripts/testenv" down "$d" >/dev/null 2>&1; done
  rm -rf "$work"
}
own_testenv() { # DIR [ARGS]...
  own_testenvs+=("$1")
  trap own_cleanup EXIT
  "$lib_repo/scripts/testenv" up "$@" >"$work/up.log" 2>&1 || { fail "testenv up $*: $(tail -n 5 "$work/up.log")"; finish; }
}

# A killed server's children may hold its ports a moment: retry for five seconds.
restart_server() { # DIR slapd|dovecot
  local _
  for _ in 1 2 3 4 5; do
    "$lib_repo/scripts/testenv" start "$1" "$2" >"$work/start.log" 2>&1 && return 0
    sleep 1
  done
  return 1
}

add_imap_section() { # CONF NAME URI CA-FILE MASTER-PASSWORD-FILE
  cat >>"$1" <<EOF

[imap.$2]
uri = $3
ca-file = $4
master-user = mbxadmin
master-password-file = $5
master-method = authzid
EOF
}

# json_check NAME PYTHON-ASSERTIONS: runs the assertions on $out, a JSON report of the audit
# commands, with `doc`, `rows` (by (user, device_id)) and `s` (the summary) defined.
json_check() {
  local name="$1" code="$2"
  if printf '%s' "$out" | /usr/bin/python3 -c "import json,sys
doc=json.load(sys.stdin); rows={(r['user'],r['device_id']):r for r in doc['rows']}; s=doc['summary']
$code" 2>"$work/py.err"; then ok "$name"; else fail "$name: $(tail -n 3 "$work/py.err")"; fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ] || exit 1
  exit 0
}
