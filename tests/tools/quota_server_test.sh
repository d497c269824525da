#!/usr/bin/env bash
# Limits kept by the IMAP server (Cyrus): `mbx quota check/sweep` over admin logins
# ([quota] backend = admin) against the per-user backend, and `mbx quota raise` by SETQUOTA with
# `mbx journal undo`, against the testenv's Cyrus (up --with-cyrus). The limits are read back
# independently with python3 imaplib as the Cyrus admin.
#   quota_server_test.sh BIN_DIR      (TESTENV_FILE=.../env; TESTENV_SCRIPT: the testenv script)
bin="$1"; . "$(dirname "$0")/lib.sh"; need_testenv
testenv="${TESTENV_SCRIPT:-$lib_repo/scripts/testenv}"
[ -n "${TESTENV_CYRUS_IMAPS_URI:-}" ] || { fail "the testenv has no Cyrus (up --with-cyrus)"; finish; }
journal="$work/journal.sqlite"
u1=qsrv00001 u2=qsrv00002 u3=qsrv00003

# Our own config: [imap] is Cyrus, with its admin as the master user.
cconf="$work/cyrus.conf"
awk -v uri="$TESTENV_CYRUS_IMAPS_URI" -v pw="$TESTENV_CYRUS_ADMIN_PASSWORD_FILE" -v admin="$TESTENV_CYRUS_ADMIN_USER" '
  /^\[/ { section = $0 }
  section == "[imap]" && /^uri *=/ { print "uri = " uri; next }
  section == "[imap]" && /^master-user *=/ { print "master-user = " admin; next }
  section == "[imap]" && /^master-password-file *=/ { print "master-password-file = " pw; next }
  { print }' "$conf" >"$cconf"

# cyrus COMMAND...: IMAP commands as the Cyrus admin (python3 imaplib), each answer's data on a line.
cyrus() {
  /usr/bin/python3 - "$TESTENV_CYRUS_IMAPS_URI" "$TESTENV_CA_FILE" "$TESTENV_CYRUS_ADMIN_USER" \
    "$TESTENV_CYRUS_ADMIN_PASSWORD_FILE" "$@" <<'PY'
import imaplib, ssl, sys
uri, ca, user, pwfile, *cmds = sys.argv[1:]
host, port = uri.split("//")[1].rstrip("/").split(":")
c = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=ca))
c.login(user, open(pwfile).read().strip())
for cmd in cmds:
    name, *args = cmd.split(" ", 1)
    typ, data = c._simple_command(name, *args)
    quota = c.untagged_responses.pop("QUOTA", [])
    print(typ, " ".join(x.decode() if isinstance(x, bytes) else str(x) for x in quota + data))
c.logout()
PY
}
# limit_kib ROOT: the STORAGE limit in KiB, or "none"
limit_kib() {
  cyrus "GETQUOTA $1" | awk '/^OK/ { for (i = 1; i <= NF; i++) if ($i == "(STORAGE") { sub(/\)/, "", $(i+2)); print $(i+2); found=1 } }
    END { if (!found) print "none" }'
}
q() { "$bin/mbx" quota "$@" --config "$cconf" --journal "$journal"; }
undo() { "$bin/mbx" journal undo "$@" --config "$cconf" --journal "$journal"; }
last_run() {
  "$bin/mbx" journal list --tool quota --limit 1 --journal "$journal" --format json |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])'
}
json_is() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); r=(d.get("rows") or [None])[0]; assert eval(sys.argv[1]), (sys.argv[1], d)' "$2" <<<"$1"; }

# --- our own users, in a known state -----------------------------------------------------------
if [ "$(cyrus "GETQUOTAROOT user.$u3" | cut -d' ' -f1)" != OK ] && [ "$(cyrus "GETQUOTAROOT user.$u1" | cut -d' ' -f1)" != OK ]; then
  "$testenv" populate "$TESTENV_DIR" --users 3 --messages 0 --prefix qsrv >"$work/populate.log" 2>&1 ||
    { fail "populate --prefix qsrv: $(tail -n 3 "$work/populate.log")"; finish; }
fi
cyrus "SETQUOTA user.$u1 (STORAGE 10240)" "SETQUOTA user.$u2 ()" >/dev/null
# u3: in the directory, but without a mailbox on Cyrus
cyrus "SETACL user.$u3 $TESTENV_CYRUS_ADMIN_USER lrswipkxtecda" "DELETE user.$u3" >/dev/null 2>&1
check "setup: $u1 at 10240 KiB on Cyrus" [ "$(limit_kib "user.$u1")" = 10240 ]
check "setup: $u2 without a limit" [ "$(limit_kib "user.$u2")" = none ]
check "setup: $u3 has no mailbox" [ "$(cyrus "GETQUOTAROOT user.$u3" | cut -d' ' -f1)" = NO ]

# --- check: the Cyrus limit, per-user login and admin login ----------------------------------
alice_kib=$(limit_kib user.alice)
run "check alice (per-user login)" 0 q check alice --format json &&
  check "check alice: Cyrus's limit, source imap" json_is "$out" "r['limit_bytes']==$alice_kib*1024 and r['source']=='imap'"
run "check alice (backend admin)" 0 q check alice --quota-backend admin --format json &&
  check "check alice admin: Cyrus's limit, source imap-admin" json_is "$out" "r['limit_bytes']==$alice_kib*1024 and r['source']=='imap-admin'"

# --- sweep: admin backend == per-user backend --------------------------------------------------
printf '%s\n' $TESTENV_DEMO_USERS >"$work/demo"
numbers() { /usr/bin/python3 -c 'import json,sys; print(sorted((r["user"], r["used_bytes"], r["limit_bytes"], r["messages"], r["tier"]) for r in json.load(sys.stdin)["rows"]))'; }
run "sweep demo users, backend imap" 0 q sweep --users-file "$work/demo" --backend imap --format json || true
per_user=$(numbers <<<"$out")
run "sweep demo users, backend admin" 0 q sweep --users-file "$work/demo" --backend admin --format json || true
by_admin=$(numbers <<<"$out")
check "sweep: admin rows say imap-admin" json_is "$out" "all(x['source']=='imap-admin' for x in d['rows']) and d['summary']['backend']=='admin' and len(d['rows'])==4"
check "sweep: admin numbers == per-user numbers ($by_admin)" [ "$per_user" = "$by_admin" ]

# --- a user without a mailbox is its row's error -----------------------------------------------
printf 'alice\n%s\n' "$u3" >"$work/mixed"
run "sweep: $u3 has no Cyrus mailbox" 65 q sweep --users-file "$work/mixed" --backend admin --format json &&
  check "sweep: its row is unknown with the server's word, alice's is fine" json_is "$out" \
    "[x['tier'] for x in sorted(d['rows'], key=lambda x: x['user'])]==['ok','unknown'] and 'Mailbox does not exist' in [x for x in d['rows'] if x['user']=='$u3'][0]['error']"
run "check: $u3 has no Cyrus mailbox" 65 q check "$u3" --quota-backend admin --format json &&
  check "check: one clear row" json_is "$out" "r['tier']=='unknown' and 'user.$u3' in r['error'] and r['source']==''"

# --- raise: dry run changes nothing --------------------------------------------------------------
run "raise dry run" 0 q raise "$u1" --to 20M --dry-run --format json &&
  check "dry run: would-raise on the server" json_is "$out" \
    "r['where']=='server' and r['mailbox']=='user.$u1' and r['quota_root']=='user.$u1' and r['result']=='would-raise' and r['old_bytes']==10485760 and r['new_bytes']==20971520"
check "dry run: Cyrus unchanged" [ "$(limit_kib "user.$u1")" = 10240 ]

# --- raise --to, then undo ---------------------------------------------------------------------
run "raise --to 20M" 0 q raise "$u1" --to 20M --format json &&
  check "raise: raised and verified" json_is "$out" \
    "r['where']=='server' and r['result']=='raised' and r['verified']=='match' and r['server_limit_bytes']==20971520 and r['new_value']=='(STORAGE 20480)' and d['summary']['where']=='server'"
check "raise: Cyrus now 20480 KiB" [ "$(limit_kib "user.$u1")" = 20480 ]
run_to=$(last_run)
run "journal show the raise" 0 "$bin/mbx" journal show "$run_to" --journal "$journal" --format json &&
  check "journal: quota.raise-server with before/after" json_is "$out" \
    "r['kind']=='quota.raise-server' and r['subject']=='$u1' and r['status']=='done' and r['before']['mailbox']=='user.$u1' and r['before']['root']=='user.$u1' and r['before']['storage_kib']==10240 and r['after']=={'storage_kib':20480}"
run "undo dry run" 0 undo "$run_to" --dry-run && check "undo dry run: would restore" has "$out" "would restore the STORAGE limit of 'user.$u1' to 10240 KiB"
check "undo dry run: Cyrus unchanged" [ "$(limit_kib "user.$u1")" = 20480 ]
run "undo the raise" 0 undo "$run_to" && check "undo: says restored" has "$out" "restored the STORAGE limit of 'user.$u1' to 10240 KiB"
check "undo: Cyrus back at exactly 10240 KiB" [ "$(limit_kib "user.$u1")" = 10240 ]
run "undo again" 0 undo "$run_to" && check "undo again: already" has "$out" "already"

# --- a user without a limit: undo removes it again ---------------------------------------------
run "raise $u2 --to 5M (no limit before)" 0 q raise "$u2" --to 5M --format json &&
  check "raise $u2: from no limit" json_is "$out" "r['old_bytes'] is None and r['new_bytes']==5242880 and r['verified']=='match'"
run_none=$(last_run)
run "undo $u2" 0 undo "$run_none"
check "undo $u2: no limit again (SETQUOTA root ())" [ "$(limit_kib "user.$u2")" = none ]

# --- conflict: someone changed it since --------------------------------------------------------
run "raise $u1 --by 1M" 0 q raise "$u1" --by 1M
run_by=$(last_run)
cyrus "SETQUOTA user.$u1 (STORAGE 99999)" >/dev/null
run "undo after another change: conflict" 1 undo "$run_by" && check "conflict: says so" has "$out" "conflict"
check "conflict: left alone" [ "$(limit_kib "user.$u1")" = 99999 ]
run "undo --force" 0 undo "$run_by" --force
check "undo --force: back at 10240 KiB" [ "$(limit_kib "user.$u1")" = 10240 ]

# --- no mailbox: raise fails clearly, nothing journaled as done -------------------------------
run "raise $u3 (no mailbox)" 65 q raise "$u3" --to 1G && check "raise $u3: names the mailbox" has "$err" "user.$u3"
check "raise $u3: no mailbox created by the way" [ "$(cyrus "GETQUOTAROOT user.$u3" | cut -d' ' -f1)" = NO ]

finish
