#!/usr/bin/env bash
# mbx quota raise and `mbx journal undo` of it, against the real servers: the LDAP mailQuota
# read back with ldapsearch, the limit Dovecot applies read with `mbx quota check`.
#   quota_raise_test.sh BIN_DIR      (TESTENV_FILE=.../env)
bin="$1"; . "$(dirname "$0")/lib.sh"; need_testenv
journal="$work/journal.sqlite"
u1=raise00001 u2=raise00002
people="$TESTENV_LDAP_PEOPLE"

ldap_admin() { "$@" -H "$TESTENV_LDAP_URI" -x -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE"; }
# quota_of UID: the raw mailQuota value(s), one per line; empty when the entry has none.
quota_of() { ldap_admin ldapsearch -LLL -o ldif-wrap=no -b "$people" "(uid=$1)" mailQuota | sed -n 's/^mailQuota: //p'; }
# set_quota UID VALUE: as another admin would (VALUE empty: remove the attribute).
set_quota() {
  local change="replace: mailQuota"$'\n'"mailQuota: $2"
  [ -z "$2" ] && change="delete: mailQuota"
  printf 'dn: uid=%s,%s\nchangetype: modify\n%s\n' "$1" "$people" "$change" | ldap_admin ldapmodify >/dev/null 2>&1
}
# Dovecot's limit for UID as `mbx quota check` reads it (GETQUOTAROOT after a fresh login).
server_limit() {
  "$bin/mbx" quota check "$1" --config "$conf" --journal "$work/check.sqlite" --format json 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["limit_bytes"])'
}
last_run() {
  "$bin/mbx" journal list --tool quota --limit 1 --journal "$journal" --format json |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])'
}
sessions() { find "$TESTENV_RAWLOG_DIR/$1" -name '*.in' 2>/dev/null | wc -l; }
raise() { "$bin/mbx" quota raise "$@" --config "$conf" --journal "$journal"; }
undo() { "$bin/mbx" journal undo "$@" --config "$conf" --journal "$journal"; }
# json_is JSON PYTHON-EXPR: the expression holds for d (the document) and r (its first row).
json_is() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); r=(d.get("rows") or [None])[0]; assert eval(sys.argv[1]), (sys.argv[1], d)' "$2" <<<"$1"; }

# --- our own users, in a known state (the script may run twice on one testenv) -------------
if [ -z "$(ldap_admin ldapsearch -LLL -b "$people" "(uid=$u1)" dn 2>/dev/null)" ]; then
  "$(dirname "$0")/../../scripts/testenv" populate "$TESTENV_DIR" --users 2 --messages 3 --prefix raise >/dev/null 2>&1 ||
    { fail "populate --prefix raise"; finish; }
fi
set_quota "$u1" 10485760
set_quota "$u2" 20971520
check "setup: $u1 at 10 MiB in LDAP" [ "$(quota_of "$u1")" = 10485760 ]

# --- usage errors: nothing read, nothing changed ----------------------------------------------
run "--to and --by together" 64 raise "$u1" --to 1G --by 1G && check "--to/--by: says so" has "$err" "--to and --by cannot be used together"
run "neither --to nor --by" 64 raise "$u1"
run "--to 0 refused" 64 raise "$u1" --to 0 && check "--to 0: says positive" has "$err" "positive"
run "negative --by refused" 64 raise "$u1" --by -1G
run "bad size" 64 raise "$u1" --to lots
run "two users" 64 raise "$u1" "$u2" --by 1M
run "an option of another subcommand" 64 raise "$u1" --by 1M --folder Trash
check "usage errors changed nothing" [ "$(quota_of "$u1")" = 10485760 ]

# --- dry run: reads only ---------------------------------------------------------------------
before_sessions=$(sessions "$u1")
run "dry run --by 10M" 0 raise "$u1" --by 10M --dry-run --format json &&
  check "dry run: says what would change" json_is "$out" \
    'r["result"]=="would-raise" and r["old_bytes"]==10485760 and r["new_bytes"]==20971520 and r["new_value"]=="20971520" and r["server_limit_bytes"] is None and "would set mailQuota from 10485760 to 20971520" in r["detail"] and d["summary"]["changed"] is False'
check "dry run: LDAP unchanged" [ "$(quota_of "$u1")" = 10485760 ]
check "dry run: no IMAP session" [ "$(sessions "$u1")" = "$before_sessions" ]
dry_run_id=$(last_run)
run "dry run: journal show" 0 "$bin/mbx" journal show "$dry_run_id" --journal "$journal" --format json &&
  check "dry run: the action stays planned" json_is "$out" 'r["kind"]=="quota.raise" and r["status"]=="planned" and d["summary"]["dry_run"] in (True, "yes", 1)'
run "dry run cannot be undone" 64 undo "$dry_run_id"

# --- raise --by: LDAP, journal, Dovecot ------------------------------------------------------
run "raise --by 10M" 0 raise "$u1" --by 10M --format json &&
  check "--by: row says raised and matched" json_is "$out" \
    'r["user"]=="raise00001" and r["dn"].startswith("uid=raise00001,") and r["attribute"]=="mailQuota" and r["old_value"]=="10485760" and r["new_value"]=="20971520" and r["result"]=="raised" and r["server_limit_bytes"]==20971520 and r["verified"]=="match" and r["status"]=="ok" and d["summary"]["exit_code"]==0'
check "--by: LDAP now 20971520" [ "$(quota_of "$u1")" = 20971520 ]
check "--by: Dovecot reports 20 MiB" [ "$(server_limit "$u1")" = 20971520 ]
check "--by: verified with GETQUOTAROOT INBOX (rawlog)" bash -c 'grep -l "GETQUOTAROOT" "$1"/*.in >/dev/null' _ "$TESTENV_RAWLOG_DIR/$u1"
run_by=$(last_run)
run "journal show the raise" 0 "$bin/mbx" journal show "$run_by" --journal "$journal" --format json &&
  check "journal: before/after values and done" json_is "$out" \
    'r["kind"]=="quota.raise" and r["subject"]=="raise00001" and r["status"]=="done" and r["before"]["values"]==["10485760"] and r["before"]["bytes"]==10485760 and r["before"]["attribute"]=="mailQuota" and r["before"]["dn"].startswith("uid=raise00001,") and r["after"]=={"values":["20971520"],"bytes":20971520}'

# --- raise --to, table output ----------------------------------------------------------------
run "raise --to 50M" 0 raise "$u1" --to 50M && check "--to: table says raised" has "$out" "raised the limit of 'raise00001' from 20.0 MiB to 50.0 MiB"
check "--to: LDAP now 52428800" [ "$(quota_of "$u1")" = 52428800 ]
check "--to: Dovecot reports 50 MiB" [ "$(server_limit "$u1")" = 52428800 ]
run_to=$(last_run)
run "--to the same value" 0 raise "$u1" --to 50M --format csv &&
  check "same value: unchanged, csv header" bash -c '[ "$(head -n1 <<<"$1" | tr -d "\r")" = "user,dn,attribute,old_value,old_bytes,new_value,new_bytes,server_limit_bytes,used_bytes,verified,result,status,detail,where,mailbox,quota_root" ] && grep -q ",unchanged," <<<"$1"' _ "$out"

# --- undo: exact old values, then already -----------------------------------------------------
run "undo the --to run" 0 undo "$run_to" --format json &&
  check "undo: undone" json_is "$out" 'r["kind"]=="quota.raise" and r["result"]=="undone" and "20971520" in r["detail"]'
check "undo: LDAP back to 20971520" [ "$(quota_of "$u1")" = 20971520 ]
check "undo: Dovecot reports 20 MiB again" [ "$(server_limit "$u1")" = 20971520 ]
run "undo again" 0 undo "$run_to" --format json && check "second undo: already" json_is "$out" 'r["result"]=="already"'
run "undo the --by run" 0 undo "$run_by" && check "undo --by: LDAP back to 10485760" [ "$(quota_of "$u1")" = 10485760 ]

# --- undo after someone else changed the value: conflict, then --force ----------------------
run "raise --to 30M" 0 raise "$u1" --to 30M
run_conflict=$(last_run)
set_quota "$u1" 99999744
run "undo after an outside change" 1 undo "$run_conflict" --format json &&
  check "conflict reported" json_is "$out" 'r["result"]=="conflict" and "99999744" in r["detail"] and d["summary"]["conflicts"]==1'
check "conflict: value left alone" [ "$(quota_of "$u1")" = 99999744 ]
run "undo --dry-run --force" 0 undo "$run_conflict" --dry-run --force --format json &&
  check "dry undo: would-undo" json_is "$out" 'r["result"]=="would-undo"'
check "dry undo: value left alone" [ "$(quota_of "$u1")" = 99999744 ]
run "undo --force" 0 undo "$run_conflict" --force --format json && check "forced undo: undone" json_is "$out" 'r["result"]=="undone" and "forced" in r["detail"]'
check "forced undo: LDAP back to 10485760" [ "$(quota_of "$u1")" = 10485760 ]

# --- a user without a limit: --by refused, --to sets one, undo removes it -------------------
set_quota "$u2" ""
run "--by without a limit" 65 raise "$u2" --by 1G && check "--by without a limit: says use --to" has "$err" "use --to"
run "--to on a user without a limit" 0 raise "$u2" --to 1G --format json &&
  check "no limit -> 1G: old_value null, matched" json_is "$out" 'r["old_value"] is None and r["old_bytes"] is None and r["new_bytes"]==1073741824 and r["verified"]=="match"'
check "no limit -> 1G: LDAP 1073741824" [ "$(quota_of "$u2")" = 1073741824 ]
run "undo the first limit" 0 undo "$(last_run)" && check "undo: attribute removed again" [ -z "$(quota_of "$u2")" ]

# --- lowering is allowed with --to, with a warning --------------------------------------------
set_quota "$u2" 20971520
run "--to lower" 0 raise "$u2" --to 15M --format json &&
  check "lower: result lowered, warned" json_is "$out" 'r["result"]=="lowered" and "lower than the current one" in r["detail"] and r["server_limit_bytes"]==15728640'

# --- the change is done even when the IMAP server cannot confirm it: warning -----------------
# With [quota] limits = auto the server is asked first whether it is Cyrus (limits on the
# server): unreachable, nothing is changed. With limits = ldap the change is made and unconfirmed.
run "limits auto, IMAP unreachable: nothing changed" 69 raise "$u2" --to 25M --imap-uri imaps://127.0.0.1:1 --format json
check "limits auto, IMAP unreachable: LDAP unchanged" [ "$(quota_of "$u2")" != 26214400 ]
run "IMAP unreachable after the change" 1 raise "$u2" --to 25M --imap-uri imaps://127.0.0.1:1 --quota-limits ldap --format json &&
  check "unconfirmed: verified failed, status warning" json_is "$out" 'r["verified"]=="failed" and r["status"]=="warning" and r["result"]=="raised"'
check "unconfirmed: LDAP changed anyway" [ "$(quota_of "$u2")" = 26214400 ]

# --- bad input and faults --------------------------------------------------------------------
snapshot() { ldap_admin ldapsearch -LLL -o ldif-wrap=no -b "$people" '(|(uid=raise*)(uid=alice)(uid=bob)(uid=carol)(uid=dave))' mailQuota | sort; }
snap=$(snapshot)
run "unknown user" 65 raise nosuchraiseuser --by 1M && check "unknown user: says so" has "$err" "no user 'nosuchraiseuser' in the directory"
run "filter injection *)(uid=*" 65 raise '*)(uid=*' --by 1M && check "injection: matches nothing" has "$err" "no user '*)(uid=*'"
run "filter injection bob)(|(mail=*" 65 raise 'bob)(|(mail=*' --to 1G
check "injection: no entry changed" [ "$(snapshot)" = "$snap" ]
# Two entries with one uid (a half-migrated account, MIS_5), in an OU of their own so that other
# scripts' sweeps over ou=people never meet them; ldapadd -c: they may exist already.
dups="ou=raise-dups,$TESTENV_LDAP_BASE"
printf 'dn: %s\nobjectClass: organizationalUnit\nou: raise-dups\n\ndn: uid=raisedup,%s\nobjectClass: inetOrgPerson\nuid: raisedup\ncn: raisedup\nsn: dup\n\ndn: cn=raisedup copy,%s\nobjectClass: inetOrgPerson\nuid: raisedup\ncn: raisedup copy\nsn: dup\n' \
  "$dups" "$dups" "$dups" | ldap_admin ldapadd -c >/dev/null 2>&1
run "uid not unique" 65 raise raisedup --to 1G --ldap-base "$dups" && check "not unique: says so, with the count" has "$err" "uid 'raisedup' is not unique (2 entries)"
check "not unique: nothing written" [ -z "$(ldap_admin ldapsearch -LLL -b "$dups" "(mailQuota=*)" dn)" ]
run "LDAP unreachable" 69 raise "$u1" --by 1M --ldap-uri ldap://127.0.0.1:1
check "LDAP unreachable: nothing changed" [ "$(quota_of "$u1")" = 10485760 ]

# --- no secret in the journal or the output ---------------------------------------------------
for secret_file in "$TESTENV_IMAP_MASTER_PASSWORD_FILE" "$TESTENV_LDAP_PASSWORD_FILE"; do
  s=$(cat "$secret_file")
  check "no secret in the journal ($(basename "$secret_file"))" bash -c '! grep -aqF -- "$1" "$2"* && ! grep -aqF -- "$1" <<<"$3"' _ "$s" "$journal" "$out"
done

finish
