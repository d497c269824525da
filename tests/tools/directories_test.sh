#!/usr/bin/env bash
# mbx against a directory server the team did not configure: 389 Directory Server, on a private
# testenv (`up --with-389ds`, too slow to start for the shared fixture) whose mbxkit-389ds.conf
# points [ldap] at it. ping names the kind from the root DSE; diagnose judges a locked account by
# nsAccountLock's value (dave is locked there, alice is not) and names 389-DS's tools; quota check
# finds its users there.
#   directories_test.sh BIN_DIR
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -u /tmp/mbx-dirs-XXXXXX)
if [ "${CI:-}" != true ] && ! [ -x /usr/sbin/ns-slapd ]; then
  echo "skipped: 389-ds-base is not installed (scripts/bootstrap installs it; under CI=true this fails)"
  exit 0
fi
own_testenv "$dir" --with-389ds
TESTENV_FILE="$dir/env" need_testenv
conf389="$TESTENV_DIR/mbxkit-389ds.conf"
journal="$work/journal.sqlite"
jq_py() { /usr/bin/python3 -c "$@"; }
mbx() { "$bin/mbx" "$@" --config "$conf389" --journal "$journal"; }

if run "ping 389-DS" 0 mbx ping --user alice --format json; then
  check "ping: the bind names 389-DS from its root DSE" jq_py '
import json,sys; d=json.load(sys.stdin)
bind=[r for r in d["rows"] if r["step"]=="bind"][0]["detail"]
assert bind.endswith("; 389ds (root DSE)"), bind' <<<"$out"
fi
run "ping: [ldap] kind overrides" 0 mbx ping --user alice --ldap-kind openldap --format json &&
  check "ping: the configured kind is said to be configured" has "$out" "openldap ([ldap] kind)"

"$bin/mbx" diagnose dave --config "$conf389" --journal "$journal" --format json >"$work/dave.json" 2>"$work/err"
check "diagnose dave: locked by nsAccountLock: MIS_5, with 389-DS's tool" jq_py '
import json,sys
rows={(r["area"],r["check"]):r for r in json.load(open(sys.argv[1]))["rows"]}
e=rows[("directory","enabled")]
assert e["status"]=="failed" and e["mis"]=="MIS_5" and "nsAccountLock: true" in e["detail"], e
assert "dsidm" in e["remedy"], e["remedy"]' "$work/dave.json"
"$bin/mbx" diagnose alice --config "$conf389" --journal "$journal" --format json >"$work/alice.json" 2>"$work/err"
check "diagnose alice: enabled (no nsAccountLock), entry and mail found in 389-DS" jq_py '
import json,sys
rows={(r["area"],r["check"]):r for r in json.load(open(sys.argv[1]))["rows"]}
assert rows[("directory","enabled")]["status"]=="ok", rows[("directory","enabled")]
assert rows[("directory","entry")]["status"]=="ok", rows[("directory","entry")]
assert rows[("directory","mail")]["detail"]=="alice@example.org", rows[("directory","mail")]' "$work/alice.json"
run "quota check alice with 389-DS as the directory" 0 mbx quota check alice --format json &&
  check "quota check: alice found, her usage read" jq_py '
import json,sys; r=json.load(sys.stdin)["rows"][0]
assert r["user"]=="alice" and r["used_bytes"] is not None, r' <<<"$out"

finish
