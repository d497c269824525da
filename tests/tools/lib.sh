# Shared by the tool test scripts: source it after setting `bin`.
#   run NAME EXPECTED_RC CMD...   runs CMD (stdin /dev/null), keeps $out/$err/$rc, checks the code
#   check NAME CMD...             counts CMD's success as a pass
#   has TEXT NEEDLE, lines TEXT   helpers for checks
#   need_testenv                  loads TESTENV_FILE's variables, sets $conf; fails when missing
#   finish                        prints "N passed, M failed" and exits 1 on any failure
set -uo pipefail
passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset MBX_CONFIG MBX_LDAP_PASSWORD MBX_IMAP_MASTER_PASSWORD MBX_DOVEADM_API_KEY

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
