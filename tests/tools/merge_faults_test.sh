#!/usr/bin/env bash
# Fault injection for mbx merge on two private testenvs (it kills the tool and stops servers,
# so it cannot share the fixture): cross-server merge between the two Dovecots (the second one
# calls its \Sent folder "Sent Items"), kill -9 of the tool in the middle of a run, the target
# Dovecot killed (and left down: exit 69) or stopped and started again in the middle of a run.
# After each fault the same command is run again and the target must hold every source message
# exactly once, with its flags and dates.
#   merge_faults_test.sh BIN_DIR
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")/../.." && pwd)"
fixture="$here/tests/tools/merge_fixture.py"
dir1=$(mktemp -u /tmp/te-mfault-XXXXXX) # source, and target of the kill test
dir2=$(mktemp -u /tmp/te-mfault-XXXXXX) # [imap.other]: target of the cross-server tests
own_testenv "$dir1"
own_testenv "$dir2"
TESTENV_FILE="$dir2/env" need_testenv
other_uri="$TESTENV_IMAPS_URI" other_ca="$TESTENV_CA_FILE" other_pw="$TESTENV_IMAP_MASTER_PASSWORD_FILE"
other_mail="$TESTENV_MAIL_ROOT" other_conf="$TESTENV_DOVECOT_CONF"
TESTENV_FILE="$dir1/env" need_testenv
journal="$work/journal.sqlite"
py() { /usr/bin/python3 "$fixture" "$@"; }
py2() { /usr/bin/python3 "$fixture" --env "$dir2/env" "$@"; }
jq_py() { /usr/bin/python3 -c "$@"; }

# The main [imap] is the first Dovecot; [imap.other] the second.
cp "$conf" "$work/merge.conf"
add_imap_section "$work/merge.conf" other "$other_uri" "$other_ca" "$other_pw"
mbx() { "$bin/mbx" "$@" --config "$work/merge.conf" --journal "$journal"; }

# Second Dovecot: its \Sent folder is "Sent Items", so the mapping by attribute is visible.
restart_dovecot() { restart_server "$1" dovecot; }
sed -i 's/^  mailbox Sent {/  mailbox "Sent Items" {/' "$other_conf"
"$here/scripts/testenv" stop "$dir2" dovecot >/dev/null 2>&1
restart_dovecot "$dir2" || { fail "dovecot restart with \"Sent Items\": $(tail -n 3 "$work/start.log")"; finish; }

# src: 1500 messages in INBOX, Sent, Lists/Big (kill -9); xsrc: 400 in the same folders
# (cross-server and Dovecot stopped: Dovecot takes ~20 ms per APPEND here, keep them short).
src=mfa00001 kdst=mfa00002 xsrc=mfa00003 xdst=mfb00001 sdst=mfb00002 rdst=mfb00003
"$here/scripts/testenv" populate "$dir1" --users 3 --messages 0 --prefix mfa >/dev/null 2>&1 || fail "populate $dir1"
"$here/scripts/testenv" populate "$dir2" --users 3 --messages 0 --prefix mfb >/dev/null 2>&1 || fail "populate $dir2"
py fill "$src" bulk:1500 && py fill "$xsrc" bulk:400 || { fail "imap fill of $src, $xsrc"; finish; }
py state "$src" >"$work/src.json"
py state "$xsrc" >"$work/xsrc.json"
count() { jq_py 'import json,sys; print(sum(len(f["messages"]) for f in json.load(sys.stdin)["folders"].values()))' <"$1"; }
check "setup: 1500 and 400 source messages" [ "$(count "$work/src.json") $(count "$work/xsrc.json")" = "1500 400" ]
check "setup: the second Dovecot calls its \\Sent folder \"Sent Items\"" bash -c '
  /usr/bin/python3 "$1" --env "$2" state "$3" | grep -q "\"Sent Items\": {[^}]*\"special\": \"\\\\\\\\Sent\""' _ \
  "$fixture" "$dir2/env" "$xdst"

# Messages (files in cur/ and new/) in USER's Maildir under MAIL_ROOT: cheap to poll.
on_disk() { find "$1/$2/Maildir" \( -path '*/cur/*' -o -path '*/new/*' \) -type f 2>/dev/null | wc -l; }
# Starts `mbx merge ARGS` in the background; waits until USER under MAIL_ROOT has N messages.
start_merge() { # MAIL_ROOT USER N ARGS...
  local root="$1" user="$2" n="$3" _; shift 3
  # the binary itself, not the mbx() function: $! must be the tool's pid (the front execs
  # mbx-merge), not a subshell's, or kill -9 would leave the tool running
  "$bin/mbx" merge "$@" --config "$work/merge.conf" --journal "$journal" >"$work/bg.out" 2>"$work/bg.err" </dev/null &
  pid=$!
  for _ in $(seq 1 1200); do
    [ "$(on_disk "$root" "$user")" -ge "$n" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# Waits up to SECONDS for $pid; sets rc (empty when still running).
wait_merge() {
  local _
  rc=""
  for _ in $(seq 1 $(($1 * 10))); do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; pid=""; return 0; fi
    sleep 0.1
  done
  return 1
}
# what the background run said, for failure messages
bg_said() { printf 'stderr: %s; summary: %s' "$(head -c 300 "$work/bg.err")" \
  "$(jq_py 'import json,sys; print(json.load(sys.stdin)["summary"].get("text"))' <"$work/bg.out" 2>/dev/null)"; }
rate=(--max-messages-per-second 250) # 1500 messages: ~6 s
slow=(--max-messages-per-second 50)  # 400 messages: ~8 s
slower=(--max-messages-per-second 25) # 400 messages: ~16 s, longer than a graceful stop takes
# kill -9 every process of DIR's Dovecot (master, imap, auth...), as a crash or a pulled plug
# would; `testenv stop` then only forgets the pid file. (A graceful `testenv stop` lets an imap
# process that is busy with an APPEND run on until its SIGKILL 5 s later.)
crash_dovecot() {
  local master
  master=$(cat "$1/run/dovecot.pid") || return 1
  # shellcheck disable=SC2046
  kill -9 $(ps -e -o pid=,sid= | awk -v s="$master" '$2 == s { print $1 }') 2>/dev/null
  "$here/scripts/testenv" stop "$1" dovecot >/dev/null 2>&1
}

# --- cross-server: first Dovecot -> second Dovecot --------------------------------------------
run "cross-server merge" 0 mbx merge --from "$xsrc" --to "$xdst@other" --format json &&
  check "cross-server: 400 copied, verified" jq_py '
import json,sys; s=json.load(sys.stdin)["summary"]
assert s["copied"]==400 and s["missing"]==0 and s["failed"]==0, s' <<<"$out"
py2 state "$xdst" >"$work/xdst.json"
check "cross-server: every message once with the same flags, keywords, INTERNALDATE and size" \
  py compare "$work/xsrc.json" "$work/xdst.json" --exact
check "cross-server: Sent went to \"Sent Items\" (\\Sent); no folder \"Sent\" made" jq_py '
import json,sys; d=json.load(sys.stdin)["folders"]
assert "Sent" not in d, sorted(d)
assert d["Sent Items"]["special"]=="\\Sent" and len(d["Sent Items"]["messages"])==80, d["Sent Items"]
assert d["Lists/Big"]["subscribed"] and len(d["Lists/Big"]["messages"])==120, d["Lists/Big"]' <"$work/xdst.json"
run "cross-server: --map wins over special use" 0 mbx merge --from "$xsrc" --to "$xdst@other" \
  --include Sent --map "Sent=Archive/Sent 2019" --format json &&
  check "cross-server --map: the Sent messages in \"Archive/Sent 2019\" too" jq_py '
import json,sys; d=json.load(sys.stdin)["folders"]
assert len(d["Archive/Sent 2019"]["messages"])==80 and len(d["Sent Items"]["messages"])==80, sorted(d)
assert sum(len(f["messages"]) for f in d.values())==480' < <(py2 state "$xdst")

# --- kill -9 in the middle of a run, then the same command again -------------------------------
kill_args=(--from "$src" --to "$kdst" "${rate[@]}" --format json)
if start_merge "$TESTENV_MAIL_ROOT" "$kdst" 150 "${kill_args[@]}"; then
  kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=""
  n=$(on_disk "$TESTENV_MAIL_ROOT" "$kdst")
  check "kill -9: killed mid-run ($n of 1500 copied)" bash -c '[ "$1" -ge 150 ] && [ "$1" -lt 1500 ]' _ "$n"
else
  fail "kill -9: the run ended before 150 messages were copied ($(bg_said))"
  pid=""
fi
check "kill -9: the journal is intact" [ "$(sqlite3 "$journal" 'pragma integrity_check')" = ok ]
"$bin/mbx" journal list --tool merge --journal "$journal" --format json >"$work/runs.json" 2>"$work/err"
check "kill -9: the killed run is listed as interrupted" jq_py '
import json,sys; r=json.load(sys.stdin)["rows"][0]
assert r["run_status"]=="interrupted", r' <"$work/runs.json"
# As a crash of the target server can: copies made before the kill lose their flags' names.
damaged=$(py damage "$kdst" INBOX 20 2>&1)
check "kill -9: 20 copies in INBOX damaged (unknown-0 in place of their flags): $damaged" [ "$damaged" = 20 ]
run "kill -9: the same command again" 0 mbx merge "${kill_args[@]}" &&
  check "kill -9: the re-run verified everything (missing 0, failed 0) and set the flags of the 20 again" jq_py '
import json,sys; s=json.load(sys.stdin)["summary"]
assert s["missing"]==0 and s["failed"]==0 and s["flags_fixed"]==20, s' <<<"$out"
check "kill -9: the re-run journaled merge.flags: 20 fixed, what they had (unknown-0) kept" jq_py '
import json,sys
rows=[json.loads(l) for l in sys.stdin if l.strip()]
assert len(rows)==1, rows
b,a=json.loads(rows[0][0]),json.loads(rows[0][1])
assert a["fixed"]==20 and b["messages"]==[{"uids":b["messages"][0]["uids"],"flags":["unknown-0"]}], (b,a)' \
  < <(sqlite3 -json "$journal" "select before, after from actions where kind='merge.flags'" |
      /usr/bin/python3 -c 'import json,sys; [print(json.dumps([r["before"],r["after"]])) for r in json.load(sys.stdin)]')
py state "$kdst" >"$work/kdst.json"
check "kill -9: every source message exactly once (Message-ID + size), same flags and dates" \
  py compare "$work/src.json" "$work/kdst.json" --exact
check "kill -9: the last run ended ok with exit 0" jq_py '
import json,sys; r=json.load(sys.stdin)["rows"][0]
assert r["run_status"]=="ok" and r["exit_code"]==0, r' < <("$bin/mbx" journal list --tool merge --journal "$journal" --format json)

# --- the target Dovecot dies in the middle of a run and stays down: 69 after the retries -------
stop_args=(--from "$xsrc" --to "$sdst@other" "${slow[@]}" --format json)
if start_merge "$other_mail" "$sdst" 100 "${stop_args[@]}"; then
  crash_dovecot "$dir2" || fail "dovecot kill: no pid file"
  if wait_merge 60; then
    check "dovecot killed: the run gives up with 69 (got $rc; $(bg_said))" [ "$rc" = 69 ]
    check "dovecot killed: the error names the server" has "$(cat "$work/bg.err")" "${other_uri#imaps://}"
  else
    fail "dovecot killed: the run has not given up after 60 s"
  fi
  restart_dovecot "$dir2" || fail "dovecot restart: $(tail -n 3 "$work/start.log")"
  if [ -n "$pid" ] && ! wait_merge 120; then
    fail "dovecot killed: the run has not ended 120 s after the restart"; kill -9 "$pid"; pid=""
  fi
else
  fail "dovecot killed: the run ended before 100 messages were copied ($(bg_said))"
  pid=""
fi
run "dovecot killed: the same command again" 0 mbx merge "${stop_args[@]}"
py2 state "$sdst" >"$work/sdst.json"
# A SIGKILLed Dovecot may lose the names of keywords it was storing (shown as unknown-N); the
# re-run continues the failed run and gives its copies the source's flags again.
check "dovecot killed: every source message exactly once, same flags and dates" \
  py compare "$work/xsrc.json" "$work/sdst.json" --exact

# --- the target Dovecot stops (testenv stop) and is back within the back-off: 0 (or 69) ----------
back_args=(--from "$xsrc" --to "$rdst@other" "${slower[@]}" --format json)
if start_merge "$other_mail" "$rdst" 100 "${back_args[@]}"; then
  "$here/scripts/testenv" stop "$dir2" dovecot >/dev/null 2>&1
  sleep 2
  restart_dovecot "$dir2" || fail "dovecot restart: $(tail -n 3 "$work/start.log")"
  if wait_merge 120; then
    check "dovecot back within the back-off: exit 0 or 69 (got $rc; $(bg_said))" bash -c '[ "$1" = 0 ] || [ "$1" = 69 ]' _ "$rc"
  else
    fail "dovecot back within the back-off: the run has not ended after 120 s"; kill -9 "$pid"; pid=""
  fi
else
  fail "dovecot back: the run ended before 100 messages were copied ($(bg_said))"
  pid=""
fi
run "dovecot back: the same command again" 0 mbx merge "${back_args[@]}"
py2 state "$rdst" >"$work/rdst.json"
check "dovecot back: every source message exactly once, same flags and dates" \
  py compare "$work/xsrc.json" "$work/rdst.json" --exact

finish
