#!/usr/bin/env bash
# Tool tests: run the real mbx binaries and check exit code, stdout and stderr together.
#   tools_test.sh BIN_DIR      (TESTENV_FILE=.../env for the checks against real servers)
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

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
run "a directory as the config file" 78 "$bin/mbx" ping --config /tmp && check "config directory: named" has "$err" "it is a directory"
run "/dev/zero as the config file" 78 "$bin/mbx" ping --config /dev/zero && check "config /dev/zero: the bound named" has "$err" "is larger than 1 MiB"
# An option of another subcommand is refused by the runner, naming where it belongs (issue 21).
run "quota sweep --to" 64 "$bin/mbx" quota sweep --to 2G &&
  check "misplaced option: named with its subcommand" has "$err" "--to does not apply to 'mbx quota sweep'; it is an option of 'mbx quota raise'"
run "audit probe --log" 64 "$bin/mbx" audit probe https://x --log a.log &&
  check "misplaced option: every subcommand that takes it" has "$err" "it is an option of 'mbx audit clients', 'mbx audit compat'"
run "journal show --since" 64 "$bin/mbx" journal show 1 --since 2026-01-01 && ok "journal show --since refused"
run "quota: no subcommand" 64 "$bin/mbx" quota && check "no subcommand: the choices" has "$err" "missing subcommand; use check, sweep, cleanup, raise"
run "audit: unknown subcommand" 64 "$bin/mbx" audit frob && check "unknown subcommand named" has "$err" "unknown subcommand 'frob'"
# Pairs files: one reader for merge and reprovision (issue 21), -F the short name everywhere.
printf '# from,to\nalice,alice2,a note\nbob\n' >"$work/pairs.csv"
run "a pairs file line of one name" 65 "$bin/mbx" merge -F "$work/pairs.csv" &&
  check "pairs file: FILE:LINE named" has "$err" "$work/pairs.csv:3: expected two comma-separated names"
run "reprovision: --users-file and --from-file" 64 "$bin/mbx" reprovision --users-file "$work/pairs.csv" --from-file "$work/pairs.csv" &&
  check "reprovision: --from-file is the old name" has "$err" "--from-file is its old name"
run "reprovision -F: the same reader" 65 "$bin/mbx" reprovision -F "$work/pairs.csv" &&
  check "reprovision -F: FILE:LINE named" has "$err" "$work/pairs.csv:3: expected two comma-separated names"
# A 100 KB user name (once SQLite's "LIKE or GLOB pattern too complex", exit 70): a usage error.
long_name=$(head -c 102400 /dev/zero | tr '\0' 'a')
run "a 100 KB user name" 64 "$bin/mbx" diagnose "$long_name" --config "$work/good.conf" &&
  check "long argument: named with its length and the bound" has "$err" "argument 1 ('aaaaaaaaaaaaaaaaaaaa...') is 102400 bytes long; mbxkit takes at most 8192 bytes"
run "a 100 KB option value" 64 "$bin/mbx" quota check alice "--journal=/tmp/$long_name" &&
  check "long option: named" has "$err" "option '--journal' is 102415 bytes long" &&
  check "long option: its value not shown" bash -c '! grep -q aaaaaaaaaaaaaaaaaaaa <<<"$1"' _ "$err"

need_testenv
journal="$work/journal.sqlite"

# --- ping against the real servers ---------------------------------------------------------
run "ping the sandbox" 0 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --format json &&
  check "ping: ldap bind, search and imap login ok" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
steps={(r["service"],r["step"]):r["status"] for r in d["rows"]}
assert steps=={("ldap","bind"):"ok",("ldap","search"):"ok",("imap","login"):"ok"}, steps
bind=[r for r in d["rows"] if r["step"]=="bind"][0]["detail"]
assert bind.endswith("; openldap (root DSE)"), bind
assert d["summary"]["exit_code"]==0' <<<"$out"

cp "$TESTENV_IMAP_MASTER_PASSWORD_FILE" "$work/master.pw"; chmod 644 "$work/master.pw"
run "world-readable secret file refused" 78 "$bin/mbx" ping --config "$conf" --journal "$journal" --imap-master-password-file "$work/master.pw" &&
  check "refusal names the chmod fix" has "$out" "run: chmod 600 '$work/master.pw'"

printf 'wrong-password\n' >"$work/bad.pw"; chmod 600 "$work/bad.pw"
# An abbreviated option is unknown: Boost would otherwise take --ldap-password for
# --ldap-password-file and print (and journal) the value as a file name.
for typo in "--imap-master-password Hunter6" "--ldap-password=Hunter7"; do
  # shellcheck disable=SC2086
  if run "abbreviation refused: ${typo%%[ =]*}" 64 "$bin/mbx" quota check alice --config "$conf" --journal "$journal" $typo; then
    check "abbreviation: the option is named, its value never shown (${typo%%[ =]*})" \
      bash -c '[[ "$1" == *"unknown option '"'"'${2%%[ =]*}'"'"'"* && "$1" != *Hunter* ]]' _ "$err" "$typo"
  fi
done
# A password in a server URL is refused and never echoed; credentials never go in clear text.
run "userinfo in [imap] uri refused" 78 "$bin/mbx" quota check alice --config "$conf" --journal "$journal" \
    --imap-uri "imaps://alice:Hunter8@127.0.0.1:1" &&
  check "userinfo: the setting is named, the password not shown" bash -c '[[ "$1" == *"[imap] uri holds a user name or password"* && "$1" != *Hunter* ]]' _ "$err"
run "userinfo in an audit URL refused" 64 "$bin/mbx" audit server "https://alice:Hunter9@127.0.0.1:1" --config "$conf" --journal "$journal" &&
  check "userinfo: the audit URL is not echoed" bash -c '[[ "$1" != *Hunter* ]]' _ "$err"
printf 'pw' >"$work/eas.pw"; chmod 600 "$work/eas.pw"
run "audit probe over plain http with a password refused" 64 "$bin/mbx" audit probe "http://127.0.0.1:1" --as-version 14.1 \
    --user alice --activesync-password-file "$work/eas.pw" --config "$conf" --journal "$journal" &&
  check "plain http: the refusal names the opt-in" has "$err" "allow-plain-http"
run "ldap password bind without StartTLS refused" 78 "$bin/mbx" quota check alice --config "$conf" --journal "$journal" \
    --ldap-starttls false &&
  check "ldap cleartext: the refusal names the fix and the opt-in" has "$err" "allow-cleartext-bind"
check "abbreviation: no value reached the journal" bash -c '! sqlite3 "$1" .dump | grep -q Hunter' _ "$journal"
run "wrong master password" 77 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --imap-master-password-file "$work/bad.pw" &&
  check "auth failure reported in the table" has "$out" "authentication failed"
run "wrong master password, nagios" 3 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --imap-master-password-file "$work/bad.pw" --format nagios &&
  check "nagios: one status line CRITICAL" has "$(head -n1 <<<"$out")" "MBX PING CRITICAL - 1 of 3 checks failed |"

run "ldap unreachable" 69 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --ldap-uri ldap://127.0.0.1:1 &&
  check "imap still checked when ldap is down" has "$out" "imap     login"

# SASL EXTERNAL instead of the bind DN and password: the ldapi:// peer, then the client
# certificate over ldaps:// (slapd maps both to cn=mbxkit).
external=(--ldap-bind-dn "" --ldap-password-file "" --ldap-sasl-mech EXTERNAL)
run "ldap SASL EXTERNAL over ldapi://" 0 "$bin/mbx" ping --config "$conf" --journal "$journal" --user alice --format json \
  --ldap-uri "$TESTENV_LDAPI_URI" "${external[@]}" &&
  check "ldapi EXTERNAL: bind and search ok" has "$out" '"service":"ldap","status":"ok","step":"search"' &&
  check "ldapi EXTERNAL: the server's identity shown" has "$out" "bound as $TESTENV_LDAP_BIND_DN"
run "ldap SASL EXTERNAL with a client certificate" 0 "$bin/mbx" quota check alice --config "$conf" --journal "$journal" \
  --format csv --ldap-uri "$TESTENV_LDAPS_URI" "${external[@]}" \
  --ldap-cert-file "$TESTENV_LDAP_CLIENT_CERT" --ldap-key-file "$TESTENV_LDAP_CLIENT_KEY" &&
  check "client certificate EXTERNAL: alice checked" has "$out" "alice,alice@example.org,"
run "ldap SASL EXTERNAL without a certificate" 78 "$bin/mbx" quota check alice --config "$conf" --journal "$journal" \
  --ldap-uri "$TESTENV_LDAPS_URI" "${external[@]}" &&
  check "names the missing certificate and the fix" has "$err" "needs a client certificate; set [ldap] cert-file and key-file"

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

# --- selecting users: one group in every command ---------------------------------------------
run "quota check USER -u USER" 0 "$bin/mbx" quota check bob -u alice --config "$conf" --journal "$journal" --format csv &&
  check "quota: USER operands, then -u, in order" [ "$(tail -n +2 <<<"$out" | cut -d, -f1 | tr '\n' ' ')" = "bob alice " ]
run "quota check --all with a user" 64 "$bin/mbx" quota check --all alice --config "$conf" --journal "$journal" &&
  check "quota: --all is given alone" has "$err" "--all cannot be combined with USER, -u or --users-file"
run "quota check -A" "$dave_rc" "$bin/mbx" quota check -A --config "$conf" --journal "$journal" --format json &&
  check "quota: -A checks every user of the directory, each once" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
users=[r["user"] for r in d["rows"]]
assert len(users)==len(set(users)), "a user twice"
for u in ("alice","bob","dave"): assert u in users, u
assert d["summary"]["users"]==len(users) and len(users)>=620, len(users)' <<<"$out"
run "quota sweep -u" 64 "$bin/mbx" quota sweep -u alice &&
  check "quota: -u is refused where it does not apply, naming who takes it" \
    has "$err" "--user does not apply to 'mbx quota sweep'; it is an option of 'mbx quota check', 'mbx quota cleanup', 'mbx quota raise'"
run "diagnose -u twice" 64 "$bin/mbx" diagnose -u alice -u bob --config "$conf" --journal "$journal" &&
  check "diagnose: one user" has "$err" "'mbx diagnose' takes one user"
run "reprovision USER -u USER" 64 "$bin/mbx" reprovision alice -u bob --new-uid x --config "$conf" --journal "$journal" &&
  check "reprovision: one user, more with --users-file" has "$err" "give more users with --users-file FILE"

# --- quota sweep: the whole directory, both backends ---------------------------------------
# Other tool tests add, rename and lock their own users in the same directory while this one
# runs, so the "whole directory" here is the population that stays put: the demo users and the
# 620 paging users of the testenv fixture (more than the server's 500 size limit, so the
# sweep still pages).
everyone=(--filter "(|(uid=pagetest*)$(printf '(uid=%s)' $TESTENV_DEMO_USERS))")
# compare KEY FILE... : the rows of several sweep JSON outputs, by user, must agree.
sweep_rows='import json,sys
def rows(path): return {r["user"]:r for r in json.load(open(path))["rows"]}'

"$bin/mbx" quota sweep "${everyone[@]}" --config "$conf" --journal "$journal" --format json --parallel 3 >"$work/sweep-imap.json" 2>"$work/err"; rc=$?
check "quota sweep (imap): exit code is the worst tier, dave's" [ "$rc" = "$dave_rc" ]
"$bin/mbx" quota sweep "${everyone[@]}" --config "$conf" --journal "$journal" --format json --backend doveadm >"$work/sweep-doveadm.json" 2>"$work/err"; rc=$?
check "quota sweep (doveadm): same exit code" [ "$rc" = "$dave_rc" ]
check "quota sweep: every demo user once, imap and doveadm agree on limits and usage" /usr/bin/python3 -c "$sweep_rows"'
a=rows(sys.argv[1]); d=rows(sys.argv[2]); demo=sys.argv[3].split()
assert set(demo) <= set(a) and len(a)==len(demo)+620 and set(a)==set(d), (sorted(a), sorted(d))
for u in demo:
    assert a[u]["source"]=="imap" and d[u]["source"]=="doveadm", (a[u], d[u])
    assert a[u]["limit_bytes"]==d[u]["limit_bytes"], (a[u], d[u])
    assert abs(a[u]["used_bytes"]-d[u]["used_bytes"]) < 1024, (a[u], d[u])  # doveadm counts KiB
    assert a[u]["tier"]==d[u]["tier"], (a[u], d[u])
' "$work/sweep-imap.json" "$work/sweep-doveadm.json" "$TESTENV_DEMO_USERS"

for k in 1 2 3; do
  "$bin/mbx" quota sweep "${everyone[@]}" --shard "$k/3" --config "$conf" --journal "$journal" --format json >"$work/shard$k.json" 2>/dev/null
done
check "quota sweep --shard: the three shards partition the users" /usr/bin/python3 -c "$sweep_rows"'
whole=set(rows(sys.argv[1])); parts=[set(rows(p)) for p in sys.argv[2:]]
assert sum(len(p) for p in parts)==len(whole) and set().union(*parts)==whole, (whole, parts)
' "$work/sweep-imap.json" "$work/shard1.json" "$work/shard2.json" "$work/shard3.json"

run "quota sweep --filter" 0 "$bin/mbx" quota sweep --filter '(|(uid=alice)(uid=carol))' --config "$conf" --journal "$journal" --format csv &&
  check "quota sweep --filter: only alice and carol" [ "$(cut -d, -f1 <<<"$out" | tail -n +2 | sort | tr '\n' ' ')" = "alice carol " ]
run "quota sweep, injected filter value" 0 "$bin/mbx" quota sweep --filter '(uid=nosuch)' --config "$conf" --journal "$journal" --format csv &&
  check "quota sweep: a filter matching nobody gives no rows" [ "$(lines "$out")" = 1 ]
printf 'bob\nghost\n' >"$work/sweep-users"
run "quota sweep --users-file with a missing user" 65 "$bin/mbx" quota sweep --users-file "$work/sweep-users" --config "$conf" --journal "$journal" --format json &&
  check "quota sweep: bob checked, ghost reported missing" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin); r={x["user"]:x for x in d["rows"]}
assert sorted(r)==["bob","ghost"], r
assert r["bob"]["tier"]=="ok" and r["ghost"]["tier"]=="unknown" and "no user" in r["ghost"]["error"], r
assert d["summary"]["unknown"]==1 and d["summary"]["exit_code"]==65' <<<"$out"
run "quota sweep, prometheus" "$dave_rc" "$bin/mbx" quota sweep "${everyone[@]}" --config "$conf" --journal "$journal" --format prometheus &&
  check "quota sweep prometheus: a usage gauge for alice" has "$out" 'mbx_quota_used_bytes{user="alice"} ' ||
  true
has "$out" 'mbx_quota_used_bytes{user="alice"} ' || grep -E 'alice|_state\{.*\} 3' <<<"$out" | head -5
run "quota sweep, nagios" "$dave_rc" "$bin/mbx" quota sweep "${everyone[@]}" --config "$conf" --journal "$journal" --format nagios &&
  check "quota sweep nagios: status line with perfdata" bash -c 'head -n1 <<<"$1" | grep -qE "^MBX QUOTA (WARNING|CRITICAL) - .*\|"' _ "$out"
run "quota sweep, bad filter" 64 "$bin/mbx" quota sweep --filter '(uid=a*' --config "$conf" --journal "$journal" &&
  check "quota sweep: bad filter named" has "$err" "invalid LDAP filter '(uid=a*'"
run "quota sweep, bad shard" 64 "$bin/mbx" quota sweep --shard 4/3 --config "$conf" --journal "$journal"
run "quota sweep, /dev/zero as users file" 65 "$bin/mbx" quota sweep --users-file /dev/zero --config "$conf" --journal "$journal" &&
  check "users file /dev/zero: a clear error" has "$err" "users file '/dev/zero'"
head -c 300000 /dev/zero | tr '\0' a >"$work/long-users"
run "quota sweep, a 300 kB user name" 65 "$bin/mbx" quota sweep --users-file "$work/long-users" --config "$conf" --journal "$journal" &&
  check "users file: the long line named" has "$err" "line 1 is longer than 4 KiB"
run "quota sweep, a user operand" 64 "$bin/mbx" quota sweep alice --config "$conf" --journal "$journal"
printf 'not-the-key\n' >"$work/bad.key"; chmod 600 "$work/bad.key"
run "quota sweep, wrong doveadm key" 77 "$bin/mbx" quota sweep --backend doveadm --doveadm-api-key-file "$work/bad.key" --config "$conf" --journal "$journal" --format csv &&
  check "quota sweep: a refused doveadm key is on every row" has "$out" "refused the API key"
run "quota sweep, wrong master password" 77 "$bin/mbx" quota sweep --imap-master-password-file "$work/bad.pw" --config "$conf" --journal "$journal" --format csv
run "quota sweep, ldap down" 69 "$bin/mbx" quota sweep --ldap-uri ldap://127.0.0.1:1 --config "$conf" --journal "$journal"
# The scheduled-sweep wrapper (scripts/systemd/mbx-textfile): atomic replace, old file kept on failure.
textfile="$(dirname "$0")/../../scripts/systemd/mbx-textfile"
run "mbx-textfile with a sweep" "$dave_rc" "$textfile" "$work/quota.prom" "$bin/mbx" quota sweep "${everyone[@]}" --config "$conf" --journal "$journal" --format prometheus &&
  check "mbx-textfile: the prometheus file is there, whole" bash -c 'grep -q "^mbx_quota_state{user=\"dave\"} " "$1" && [ -z "$(ls -A "$(dirname "$1")" | grep "^\.quota.prom")" ]' _ "$work/quota.prom"
cp "$work/quota.prom" "$work/quota.prom.before"
run "mbx-textfile with a failing sweep" 69 "$textfile" "$work/quota.prom" "$bin/mbx" quota sweep --ldap-uri ldap://127.0.0.1:1 --config "$conf" --journal "$journal" --format prometheus &&
  check "mbx-textfile: a failed sweep keeps the previous file" cmp -s "$work/quota.prom" "$work/quota.prom.before"
run "journal: the sweep runs" 0 "$bin/mbx" journal list --tool quota --journal "$journal" --format json --limit 0 &&
  check "journal: a quota.check action per row of the first sweep" /usr/bin/python3 -c "$sweep_rows"'
import subprocess
runs=json.load(sys.stdin)["rows"]
first=[r for r in runs if "sweep" in r["args"] and "--parallel" in r["args"]][0]
show=json.loads(subprocess.run([sys.argv[2]+"/mbx","journal","show",str(first["run_id"]),"--journal",sys.argv[3],"--format","json"],capture_output=True,text=True).stdout)
users=sorted(a["subject"] for a in show["rows"] if a["kind"]=="quota.check")
assert users==sorted(rows(sys.argv[1])), users
' "$work/sweep-imap.json" "$bin" "$journal" <<<"$out"

run "quota without a user" 64 "$bin/mbx" quota check --config "$conf" --journal "$journal"

# --- the journal saw all of it, and no secret ---------------------------------------------
run "journal list" 0 "$bin/mbx" journal list --tool ping --journal "$journal" --format json &&
  check "journal: every ping run recorded with its exit code" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
codes=sorted(r["exit_code"] for r in d["rows"])
assert codes==[0,0,0,69,77,77,78], codes' <<<"$out"
run "journal show" 0 "$bin/mbx" journal show 1 --journal "$journal" --format csv &&
  check "journal show lists the three checks" [ "$(lines "$out")" = 4 ]
run "journal export" 0 "$bin/mbx" journal export --journal "$journal" --format json
run "journal show unknown run" 65 "$bin/mbx" journal show 999 --journal "$journal"
for secret_file in "$TESTENV_IMAP_MASTER_PASSWORD_FILE" "$TESTENV_LDAP_PASSWORD_FILE"; do
  s=$(cat "$secret_file")
  check "no secret in the journal ($(basename "$secret_file"))" bash -c '! grep -aqF -- "$1" "$2"* && ! grep -aqF -- "$1" <<<"$3"' _ "$s" "$journal" "$out"
done

finish
