#!/usr/bin/env bash
# Fault injection for mbx reprovision on a private testenv (it stops slapd and Dovecot and
# kills the tool, so it cannot share the fixture). The tool stops itself at a chosen step
# (MBXKIT_TEST_STOP_BEFORE=STEP: SIGSTOP as the step begins); then: slapd stopped before the
# account step (exit 69, then the same command finishes the same run), Dovecot killed in the
# middle of the merge (69 or 75, then the same command: every message exactly once), kill -9
# before mailbox, logon, cutover and final (each time the same command continues the same
# run; at the end --resume RUN alone), and kill -9 before the cutover followed by
# `mbx journal undo`; a password the directory's policy refuses (undo takes the half-made entry
# back; the same command with a --password-file it accepts finishes).
#   reprovision_faults_test.sh BIN_DIR
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")/../.." && pwd)"
fixture="$here/tests/tools/reprovision_fixture.py"
dir=$(mktemp -u /tmp/te-rpfault-XXXXXX)
own_testenv "$dir"
TESTENV_FILE="$dir/env" need_testenv
journal="$work/journal.sqlite"
pwdir="$work/passwords"
py() { /usr/bin/python3 "$fixture" "$@"; }
jq_py() { /usr/bin/python3 -c "$@"; }
mbx() { "$bin/mbx" "$@" --config "$conf" --journal "$journal"; }
ldif() { # DN: the entry as sorted LDIF lines
  ldapsearch -x -LLL -o ldif-wrap=no -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" \
    -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" -s base -b "$1" 2>/dev/null | sed '/^$/d' | LC_ALL=C sort
}
at() { local f; f="$work/at.$(md5sum <<<"$1" | cut -c1-12).ldif"; ldif "$1" >"$f"; echo "$f"; }
summary() { jq_py 'import json,sys; v=json.load(sys.stdin)["summary"].get(sys.argv[1]); print("" if v is None else v)' "$1" <<<"$out"; }
statuses() { jq_py 'import json,sys; print(" ".join(r["step"]+"="+r["status"] for r in json.load(sys.stdin)["rows"]))' <<<"$out"; }
last_run() { "$bin/mbx" journal list --tool reprovision --limit 1 --journal "$journal" --format json 2>/dev/null |
  jq_py 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])' 2>/dev/null; }
kinds() { # RUN: the kinds of its actions, one per line
  "$bin/mbx" journal show "$1" --journal "$journal" --format json 2>/dev/null |
    jq_py 'import json,sys; [print(r["kind"]) for r in json.load(sys.stdin)["rows"]]' 2>/dev/null
}
on_disk() { find "$TESTENV_MAIL_ROOT/$1/Maildir" \( -path '*/cur/*' -o -path '*/new/*' \) -type f 2>/dev/null | wc -l; }

# Starts `mbx reprovision ARGS` in the background, stopping itself as STEP begins.
start_bg() { # STEP ARGS...
  local step="$1"; shift
  # the binary itself, not the mbx() function: $! must be the tool's pid (the front execs)
  MBXKIT_TEST_STOP_BEFORE="$step" "$bin/mbx" reprovision "$@" --config "$conf" --journal "$journal" --format json \
    >"$work/bg.out" 2>"$work/bg.err" </dev/null &
  pid=$!
}
# Waits until $pid is stopped (state T in /proc/PID/stat); 1 when it ended or took > 20 s.
wait_stopped() {
  local _ st
  for _ in $(seq 1 400); do
    st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
    [ "$st" = T ] && return 0
    [ -z "$st" ] || [ "$st" = Z ] && return 1
    sleep 0.05
  done
  return 1
}
# Waits up to SECONDS for $pid; sets rc (empty when still running).
wait_bg() {
  local _
  rc=""
  for _ in $(seq 1 $(($1 * 10))); do
    if ! kill -0 "$pid" 2>/dev/null || [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]; then
      wait "$pid"; rc=$?; pid=""; return 0
    fi
    sleep 0.1
  done
  return 1
}
kill9() { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; }
bg_said() { printf 'stderr: %s' "$(head -c 400 "$work/bg.err")"; }
restart() { restart_server "$dir" "$1"; } # slapd|dovecot
# kill -9 every process of the Dovecot (master, imap, auth...), as a crash would.
crash_dovecot() {
  local master
  master=$(cat "$dir/run/dovecot.pid") || return 1
  # shellcheck disable=SC2046
  kill -9 $(ps -e -o pid=,sid= | awk -v s="$master" '$2 == s { print $1 }') 2>/dev/null
  "$here/scripts/testenv" stop "$dir" dovecot >/dev/null 2>&1
}
# The end state of a reprovisioning of OLD as NEW: the new entry has the addresses, the old
# one is disabled without them, the new password logs in, the mailbox holds every message once.
verify() { # NAME OLD NEW SOURCE_STATE.json [COMPARE-OPTION]
  local name="$1" o="$2" n="$3" src="$4" pw
  check "$name: the new entry has the old addresses, the old one none and mbxAccountDisabled: TRUE" bash -c '
    grep -qxF "mail: $3@example.org" "$2" && grep -qxF "mailAlternateAddress: $3-alias@example.org" "$2" &&
    ! grep -qE "^(mail|mailAlternateAddress):" "$1" && grep -qxF "mbxAccountDisabled: TRUE" "$1" &&
    ! grep -q "^mbxAccountDisabled" "$2"' _ "$(at "$(py dn "$o")")" "$(at "$(py dn "$n")")" "$o"
  pw=$(ls "$pwdir/$n"-run*.password 2>/dev/null)
  check "$name: one password file for $n, mode 0600" bash -c '[ "$(wc -l <<<"$1")" = 1 ] && [ "$(stat -c %a "$1")" = 600 ]' _ "$pw"
  check "$name: a real login as $n with it works" bash -c '/usr/bin/python3 "$1" login "$2" "$3" >/dev/null' _ "$fixture" "$n" "$pw"
  py state "$n" >"$work/$n.json"
  check "$name: every source message exactly once, same flags, keywords and dates" py compare "$src" "$work/$n.json" --exact ${5:-}
}

for u in rpf1 rpf2 rpf3 rpf4; do py adduser "$u" --alias "$u-alias@example.org" || fail "adduser $u"; done
py fill rpf1 small && py fill rpf3 small && py fill rpf4 tiny || fail "imap fill of rpf1, rpf3, rpf4"
py fill rpf2 bulk:2000 || fail "imap fill of rpf2"
for u in rpf1 rpf2 rpf3 rpf4; do py state "$u" >"$work/$u.src.json"; done
check "setup: 2000 messages for rpf2" bash -c '[ "$(grep -o "\"key\"" "$1" | wc -l)" = 2000 ]' _ "$work/rpf2.src.json"

# --- slapd stops before the account step: 69; then the same command finishes the same run ------
start_bg account rpf1 --new-uid rpf1new
if wait_stopped; then
  "$here/scripts/testenv" stop "$dir" slapd >/dev/null 2>&1
  kill -CONT "$pid"
  if wait_bg 60; then
    check "slapd stopped: exit 69 (got $rc; $(bg_said))" [ "$rc" = 69 ]
    check "slapd stopped: the error names the directory server" has "$(cat "$work/bg.err")" "${TESTENV_LDAP_URI}"
  else
    fail "slapd stopped: the run has not ended after 60 s"; kill9
  fi
else
  fail "slapd stopped: the tool did not stop itself before the account step ($(bg_said))"; kill9
fi
restart slapd || fail "slapd restart: $(tail -n 3 "$work/start.log")"
ldap_run=$(last_run)
check "slapd stopped: no entry made for rpf1new" bash -c '[ ! -s "$1" ]' _ "$(at "$(py dn rpf1new)")"
if run "slapd back: the same command" 0 mbx reprovision rpf1 --new-uid rpf1new --format json; then
  check "slapd back: the same run ($(summary run), was ${ldap_run:-none}), from the account step on ($(statuses))" bash -c '
    [ -n "$1" ] && [ "$1" = "$2" ] &&
    [ "$3" = "inspect=already account=done mailbox=done merge=done logon=done cutover=done final=done" ]' _ \
    "$(summary run)" "$ldap_run" "$(statuses)"
fi
check "slapd back: the journal has a reprovision.resume action in run ${ldap_run:-none}" \
  bash -c 'grep -qx reprovision.resume <<<"$1"' _ "$(kinds "${ldap_run:-none}")"
verify "slapd back" rpf1 rpf1new "$work/rpf1.src.json"

# --- Dovecot dies in the middle of the merge: 69 (or 75); then the same command ------------------
start_bg merge rpf2 --new-uid rpf2new
n=""
if wait_stopped; then
  kill -CONT "$pid"
  for _ in $(seq 1 600); do
    n=$(on_disk rpf2new)
    [ "$n" -ge 100 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  crash_dovecot || fail "dovecot kill: no pid file"
  n=$(on_disk rpf2new)
  check "dovecot killed: killed in the middle of the merge ($n of 2000 copied)" \
    bash -c '[ "$1" -ge 100 ] && [ "$1" -lt 2000 ]' _ "$n"
  if wait_bg 90; then
    check "dovecot killed: exit 69 or 75 (got $rc; $(bg_said))" bash -c '[ "$1" = 69 ] || [ "$1" = 75 ]' _ "$rc"
    check "dovecot killed: the merge step is reported failed" jq_py '
import json,sys; rows=json.load(sys.stdin)["rows"]
assert [(r["step"],r["status"]) for r in rows if r["status"]=="failed"]==[("merge","failed")], rows' <"$work/bg.out"
  else
    fail "dovecot killed: the run has not given up 90 s after the crash"; kill9
  fi
else
  fail "dovecot killed: the tool did not stop itself before the merge ($(bg_said))"; kill9
fi
restart dovecot || fail "dovecot restart: $(tail -n 3 "$work/start.log")"
dove_run=$(last_run)
check "dovecot killed: the addresses are still on rpf2" grep -qxF "mail: rpf2@example.org" "$(at "$(py dn rpf2)")"
if run "dovecot back: the same command" 0 mbx reprovision rpf2 --new-uid rpf2new --format json; then
  check "dovecot back: the same run ($(summary run), was ${dove_run:-none}), merge on ($(statuses))" bash -c '
    [ -n "$1" ] && [ "$1" = "$2" ] &&
    [ "$3" = "inspect=already account=already mailbox=already merge=done logon=done cutover=done final=done" ]' _ \
    "$(summary run)" "$dove_run" "$(statuses)"
fi
check "dovecot back: the journal has a reprovision.resume action" \
  bash -c 'grep -qx reprovision.resume <<<"$1"' _ "$(kinds "${dove_run:-none}")"
# Dovecot was SIGKILLed mid-append: it may lose the names of keywords it was storing (their
# letters stay in the file names, shown as unknown-N). The resumed run's merge gives the copies
# it made the source's flags again, so the mailbox compares exactly.
verify "dovecot back" rpf2 rpf2new "$work/rpf2.src.json"

# --- kill -9 before mailbox, logon, cutover and final: the same command continues the run -------
kill_run=""
for step in mailbox logon cutover final; do
  start_bg "$step" rpf3 --new-uid rpf3new
  if wait_stopped; then
    kill9
    r=$(last_run)
    [ -z "$kill_run" ] && kill_run="$r"
    check "kill -9 before $step: the run is the same (${r:-none}, first ${kill_run:-none})" \
      bash -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$r" "$kill_run"
  else
    fail "kill -9 before $step: the tool did not stop itself ($(bg_said))"; kill9
  fi
done
check "kill -9: the journal is intact" [ "$(sqlite3 "$journal" 'pragma integrity_check')" = ok ]
check "kill -9 before final: the cutover was done" bash -c '
  grep -qxF "mbxAccountDisabled: TRUE" "$1" && grep -qxF "mail: rpf3@example.org" "$2"' _ \
  "$(at "$(py dn rpf3)")" "$(at "$(py dn rpf3new)")"
if run "kill -9: --resume RUN alone" 0 mbx reprovision --resume "${kill_run:-none}" --format json; then
  check "kill -9: the same run ($(summary run)), only final left ($(statuses))" bash -c '
    [ -n "$1" ] && [ "$1" = "$2" ] &&
    [ "$3" = "inspect=already account=already mailbox=already merge=already logon=already cutover=already final=done" ]' _ \
    "$(summary run)" "$kill_run" "$(statuses)"
fi
# (a run continued after its merge was done starts at the logon: one merge, every message once)
check "kill -9: four reprovision.resume actions, each step done once, the merge not repeated" jq_py '
import json,sys,collections; rows=json.load(sys.stdin)["rows"]
c=collections.Counter(r["kind"] for r in rows)
assert c["reprovision.resume"]==4, c
for k in ("inspect","account","mailbox","logon","cutover","final-merge"):
    assert c["reprovision."+k]==1, (k, c)
merges=[r for r in rows if r["kind"]=="reprovision.merge"]
assert len(merges) == 1 and merges[0]["status"] == "done", merges
assert merges[0]["after"]["copied"] == 25, merges' \
  < <("$bin/mbx" journal show "${kill_run:-none}" --journal "$journal" --format json)
verify "kill -9" rpf3 rpf3new "$work/rpf3.src.json"

# --- kill -9 before the cutover, then undo --------------------------------------------------------
old_dn=$(py dn rpf4) new_dn=$(py dn rpf4new)
ldif "$old_dn" >"$work/rpf4.ldif"
start_bg cutover rpf4 --new-uid rpf4new
if wait_stopped; then kill9; else fail "undo after kill: the tool did not stop itself ($(bg_said))"; kill9; fi
undo_run=$(last_run)
check "undo after kill: the new entry was made" grep -q "^uid: rpf4new" "$(at "$new_dn")"
if run "undo after kill" 0 "$bin/mbx" journal undo "${undo_run:-none}" --config "$conf" --journal "$journal" --format json; then
  check "undo after kill: the account undone" jq_py '
import json,sys; r={x["kind"]:x["result"] for x in json.load(sys.stdin)["rows"]}
assert r.get("reprovision.account")=="undone" and "reprovision.cutover" not in r, r' <<<"$out"
fi
check "undo after kill: the new entry is disabled and has no address" bash -c '
  grep -qxF "mbxAccountDisabled: TRUE" "$1" && ! grep -qE "^(mail|mailAlternateAddress):" "$1"' _ "$(at "$new_dn")"
check "undo after kill: the old entry is as before (sorted LDIF)" cmp -s "$work/rpf4.ldif" "$(at "$old_dn")"
check "undo after kill: the old mailbox untouched, the new one kept" bash -c '
  cmp -s "$1" <(/usr/bin/python3 "$2" state rpf4) && /usr/bin/python3 "$2" compare "$1" <(/usr/bin/python3 "$2" state rpf4new) --exact' _ \
  "$work/rpf4.src.json" "$fixture"

# --- a password the directory refuses: the entry is added without one -----------------------------
# A default ppolicy that wants 40 characters (a generated password has 24). rpf5: undo right after
# takes the half-made entry back; rpf6: the same command with a --password-file it accepts
# finishes the same run.
sed -i 's|^overlay ppolicy$|overlay ppolicy\nppolicy_default "cn=strict,ou=policies,dc=example,dc=org"|' "$dir/slapd/slapd.conf"
"$here/scripts/testenv" stop "$dir" slapd >/dev/null 2>&1
restart slapd
printf '%s\n' "dn: ou=policies,dc=example,dc=org" "objectClass: organizationalUnit" "ou: policies" "" \
  "dn: cn=strict,ou=policies,dc=example,dc=org" "objectClass: device" "objectClass: pwdPolicy" "cn: strict" \
  "pwdAttribute: userPassword" "pwdMinLength: 40" "pwdCheckQuality: 2" |
  ldapadd -x -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" >/dev/null ||
  fail "refused password: the strict password policy"
for u in rpf5 rpf6; do py adduser "$u" --alias "$u-alias@example.org" && py fill "$u" tiny || fail "adduser/fill $u"; done
if run "refused password: exit 65" 65 mbx reprovision rpf5 --new-uid rpf5new --format json; then
  check "refused password: the advice says what changes the outcome (--password-file, or undo)" \
    bash -c 'grep -q -- "--password-file" <<<"$1" && grep -q "mbx journal undo" <<<"$1"' _ "$err"
  check "refused password: the entry was added (without a password)" grep -q "^uid: rpf5new" "$(at "$(py dn rpf5new)")"
fi
refused_run=$(last_run)
if run "refused password: undo" 0 "$bin/mbx" journal undo "${refused_run:-none}" --config "$conf" --journal "$journal" --format json; then
  check "refused password: undo takes the half-made account back" jq_py '
import json,sys; r={x["kind"]:x["result"] for x in json.load(sys.stdin)["rows"]}
assert r.get("reprovision.account")=="undone", r' <<<"$out"
fi
check "refused password: the half-made entry is disabled" grep -qxF "mbxAccountDisabled: TRUE" "$(at "$(py dn rpf5new)")"
run "refused password, rpf6: exit 65" 65 mbx reprovision rpf6 --new-uid rpf6new --format json
head -c 90 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 44 >"$work/long.pw"; chmod 600 "$work/long.pw"
if run "refused password: the same command with --password-file finishes" 0 \
     mbx reprovision rpf6 --new-uid rpf6new --password-file "$work/long.pw" --format json; then
  check "refused password: the same run, every step done" jq_py '
import json,sys; d=json.load(sys.stdin)
assert all(r["status"] in ("done","already") for r in d["rows"]), [(r["step"],r["status"]) for r in d["rows"]]' <<<"$out"
  check "refused password: a real login as rpf6new with the given password" \
    bash -c '/usr/bin/python3 "$1" login rpf6new "$2" >/dev/null' _ "$fixture" "$work/long.pw"
fi

finish
