#!/usr/bin/env bash
# mbx merge against the shared testenv: flags, keywords and dates copied, folder names and
# subscriptions, special-use folders and --map, a 30 MB message byte-exact, dedup on a second
# run, --include-deleted, --dry-run (checked in Dovecot's rawlog), the pre-flight quota check
# and [OVERQUOTA] with --force, bad input. Every outcome is read back from the server.
#   merge_test.sh BIN_DIR      (TESTENV_FILE=.../env)
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_testenv

here="$(cd "$(dirname "$0")" && pwd)"
src=mrg00001 dst=mrg00002 qsrc=mrg00003 qdst=mrg00004
map='Projects/Old=Archive/Old'
journal="$work/journal.sqlite"
mbx() { "$bin/mbx" "$@" --config "$conf" --journal "$journal"; }
py() { /usr/bin/python3 "$here/merge_fixture.py" "$@"; }
jq_py() { /usr/bin/python3 -c "$@"; } # jq_py SCRIPT ARGS... <JSON
ldapmod() { # USER BYTES: mailQuota
  printf 'dn: uid=%s,%s\nchangetype: modify\nreplace: mailQuota\nmailQuota: %s\n' "$1" "$TESTENV_LDAP_PEOPLE" "$2" |
    ldapmodify -x -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" >/dev/null
}
# Transcripts: snap USER before a run, then new_in USER lists the client-side files it wrote.
snap() { ls "$TESTENV_RAWLOG_DIR/$1/" 2>/dev/null | sort >"$work/rawlog.$1"; }
new_in() {
  sleep 0.3
  ls "$TESTENV_RAWLOG_DIR/$1/" 2>/dev/null | sort | comm -13 "$work/rawlog.$1" - | grep '\.in$' |
    sed "s|^|$TESTENV_RAWLOG_DIR/$1/|"
}
# Tagged commands that change a mailbox (rawlog lines: "<time> <tag> <command> ...").
writes='^[0-9.]+ [^ ]+ (UID )?(APPEND|CREATE|DELETE|RENAME|STORE|EXPUNGE|SUBSCRIBE|UNSUBSCRIBE|COPY|MOVE|SETMETADATA|SETACL|SETQUOTA)( |$)'
# Fetches that set \Seen on the source (RFC 3501 6.4.5: BODY[] and RFC822 do, BODY.PEEK does not).
seen_fetch='^[0-9.]+ [^ ]+ (UID )?FETCH .*([ (]BODY\[|[ (]BINARY\[|[ (]RFC822([ )]|$)|RFC822\.TEXT)'
# has_cmd RE FILE... / lacks_cmd RE FILE...: at least one transcript, and RE in one / in none.
has_cmd() { local re="$1"; shift; [ $# -gt 0 ] && grep -qaiE "$re" "$@"; }
lacks_cmd() { local re="$1"; shift; [ $# -gt 0 ] && ! grep -qaiE "$re" "$@"; }
total() { jq_py 'import json,sys; print(sum(len(f["messages"]) for f in json.load(sys.stdin)["folders"].values()))' <"$1"; }

# Our own users, made once per testenv; each run starts from empty mailboxes.
if ! ldapsearch -x -LLL -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" \
     -b "$TESTENV_LDAP_PEOPLE" "(uid=$qdst)" uid | grep -q "^uid: $qdst"; then
  "$here/../../scripts/testenv" populate "$TESTENV_DIR" --users 4 --messages 0 --prefix mrg >/dev/null 2>&1 ||
    { fail "populate --prefix mrg"; finish; }
fi
for u in $src $dst $qsrc $qdst; do
  ldapmod "$u" 209715200 || { fail "mailQuota of $u"; finish; }
  py reset "$u" || { fail "imap reset of $u"; finish; }
done
py fill "$src" rich || { fail "imap fill of $src"; finish; }
py state "$src" --bodies >"$work/src.json" || { fail "imap state of $src"; finish; }
py state "$dst" >"$work/dst.empty.json"
check "setup: 27 source messages" [ "$(total "$work/src.json")" = 27 ]

# --- bad input ---------------------------------------------------------------------------
run "--from missing" 64 mbx merge --to "$dst" &&
  check "--from missing: the option is named" has "$err" "--from"
run "--to missing" 64 mbx merge --from "$src"
run "bad --mode" 64 mbx merge --from "$src" --to "$dst" --mode sometimes --dry-run
run "--map without =" 64 mbx merge --from "$src" --to "$dst" --map Projects --dry-run
run "bad --since" 64 mbx merge --from "$src" --to "$dst" --since 2019-13-45 --dry-run
mbx merge --from "$src" --to "$dst@nosuchserver" --dry-run >"$work/out" 2>"$work/err" </dev/null; rc=$?
check "unknown @NAME: exit 78 or 64 (got $rc)" bash -c '[ "$1" = 78 ] || [ "$1" = 64 ]' _ "$rc"
check "unknown @NAME: one line on stderr naming the section" \
  bash -c '[ "$(wc -l <"$1")" = 1 ] && grep -q "nosuchserver" "$1"' _ "$work/err"
mbx merge --from nosuchuser4711 --to "$dst" >"$work/out" 2>"$work/err" </dev/null; rc=$?
check "source user that does not exist: non-zero exit (got $rc)" [ "$rc" != 0 ]
check "source user that does not exist: named on stderr" grep -q "nosuchuser4711" "$work/err"
mbx merge --from "$src" --to nosuchuser4712 >"$work/out" 2>"$work/err" </dev/null; rc=$?
check "target user that does not exist: non-zero exit (got $rc)" [ "$rc" != 0 ]
check "target user that does not exist: named on stderr" grep -q "nosuchuser4712" "$work/err"
check "bad input: target unchanged" bash -c 'cmp -s "$1" <(/usr/bin/python3 "$2" state "$3")' _ \
  "$work/dst.empty.json" "$here/merge_fixture.py" "$dst"

# --- dry run: the plan, and not a single write on either server -----------------------------
snap "$src"; snap "$dst"
run "dry run" 0 mbx merge --from "$src" --to "$dst" --map "$map" --dry-run --format json &&
  check "dry run: one planned row per source folder, to_copy and bytes as in the source" jq_py '
import json,sys
d=json.load(sys.stdin); src=json.load(open(sys.argv[1]))
rows={r["folder"]:r for r in d["rows"]}
want={n for n,f in src["folders"].items() if f["selectable"]}
assert set(rows)==want, (sorted(rows), sorted(want))
n=b=0
for name,f in src["folders"].items():
    r=rows[name]; live=[m for m in f["messages"] if "\\Deleted" not in m["flags"]]
    assert r["status"]=="planned" and r["from"]==sys.argv[2] and r["to"]==sys.argv[3], r
    assert r["to_copy"]==len(live) and r["bytes_to_copy"]==sum(m["size"] for m in live), (r, len(live))
    assert r["present"]==0 and r["copied"]==0 and r["missing"] is None, r
    assert r["messages"]-r["excluded"]-r["present"]==r["to_copy"], r
    n+=len(live); b+=sum(m["size"] for m in live)
assert rows["Projects/Old"]["target_folder"]=="Archive/Old", rows["Projects/Old"]
assert rows["INBOX"]["target_folder"]=="INBOX" and rows["Sent"]["target_folder"]=="Sent", rows
assert rows["Ärger/Öl"]["target_folder"]=="Ärger/Öl", rows["Ärger/Öl"]
s=d["summary"]
assert s["to_copy"]==n==26 and s["copied"]==0, s' "$work/src.json" "$src" "$dst" <<<"$out"
dst_in=$(new_in "$dst"); src_in=$(new_in "$src")
# shellcheck disable=SC2086
check "dry run: the target was read (transcript written)" [ -n "$dst_in" ]
# shellcheck disable=SC2086
check "dry run: no APPEND/CREATE/STORE/EXPUNGE/SUBSCRIBE on the target" lacks_cmd "$writes" $dst_in
# shellcheck disable=SC2086
check "dry run: no write on the source" lacks_cmd "$writes" $src_in
check "dry run: target unchanged" bash -c 'cmp -s "$1" <(/usr/bin/python3 "$2" state "$3")' _ \
  "$work/dst.empty.json" "$here/merge_fixture.py" "$dst"

# --- the copy ----------------------------------------------------------------------------
snap "$src"; snap "$dst"
run "merge" 0 mbx merge --from "$src" --to "$dst" --map "$map" --format json &&
  check "merge: every row ok, copied as planned, verified (missing 0)" jq_py '
import json,sys
d=json.load(sys.stdin); src=json.load(open(sys.argv[1]))
rows={r["folder"]:r for r in d["rows"]}
for name,f in src["folders"].items():
    r=rows[name]; live=[m for m in f["messages"] if "\\Deleted" not in m["flags"]]
    assert r["status"]=="ok" and r["failed"]==0 and r["missing"]==0, r
    assert r["copied"]==len(live) and r["bytes_copied"]==sum(m["size"] for m in live), (r, len(live))
created={n for n,r in rows.items() if r["created"]}
assert created=={"Empty one","Old \"stuff\" \\ Ünïcode","Projects","Projects/Old","R&D","Ärger","Ärger/Öl"}, created
s=d["summary"]
assert s["copied"]==26 and s["failed"]==0 and s["missing"]==0, s' "$work/src.json" <<<"$out"
merge_run=$("$bin/mbx" journal list --tool merge --limit 1 --journal "$journal" --format json |
  jq_py 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])' 2>/dev/null)
dst_in=$(new_in "$dst"); src_in=$(new_in "$src")
py state "$dst" --bodies >"$work/dst.json"
check "merge: every message once in its folder with the same flags, keywords, INTERNALDATE, size and bytes" \
  py compare "$work/src.json" "$work/dst.json" --map "$map" --exact
check "merge: the \\Deleted message left out" jq_py '
import json,sys; d=json.load(sys.stdin)
assert not [m for m in d["folders"]["INBOX"]["messages"] if "\\Deleted" in m["flags"]]
assert "<merge-mrg00001-9@example.net>" not in [m["mid"] for m in d["folders"]["INBOX"]["messages"]]' <"$work/dst.json"
check "merge: keywords \$Forwarded, \$Junk and Client-Acme on the target" jq_py '
import json,sys; d=json.load(sys.stdin)
flags={f for m in d["folders"]["INBOX"]["messages"] for f in m["flags"]}
assert {"$Forwarded","$Junk","Client-Acme","\\Seen","\\Answered","\\Flagged","\\Draft"} <= flags, flags' <"$work/dst.json"
check "merge: the 30 MB message byte-exact (sha256 of BODY[])" jq_py '
import json,sys; s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))
key="<merge-mrg00001-100@example.net>/31457280"
a=[m for m in s["folders"]["INBOX"]["messages"] if m["key"]==key]
b=[m for m in d["folders"]["INBOX"]["messages"] if m["key"]==key]
assert len(a)==1 and len(b)==1 and a[0]["sha256"]==b[0]["sha256"], (a, b)' "$work/src.json" "$work/dst.json"
check "merge: the target has exactly the source folders (Projects/Old as Archive/Old), same names" jq_py '
import json,sys; s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))
want=set(s["folders"])-{"Projects/Old"}|{"Archive/Old"}
assert set(d["folders"])==want, sorted(set(d["folders"])^want)
assert d["folders"]["Empty one"]["selectable"] and d["folders"]["Empty one"]["messages"]==[]' "$work/src.json" "$work/dst.json"
check "merge: special-use folders kept their attribute (Sent is \\Sent, Archive/Old is not special)" jq_py '
import json,sys; d=json.load(sys.stdin)["folders"]
assert d["Sent"]["special"]=="\\Sent" and len(d["Sent"]["messages"])==3, d["Sent"]
assert d["Drafts"]["special"]=="\\Drafts" and d["Junk"]["special"]=="\\Junk", d
assert d["Archive/Old"]["special"] is None and len(d["Archive/Old"]["messages"])==2, d["Archive/Old"]' <"$work/dst.json"
check "merge: subscriptions follow the source" jq_py '
import json,sys; s=json.load(open(sys.argv[1]))["folders"]; d=json.load(open(sys.argv[2]))["folders"]
for name,f in s.items():
    t="Archive/Old" if name=="Projects/Old" else name
    assert d[t]["subscribed"]==f["subscribed"], (name, f["subscribed"], d[t]["subscribed"])' "$work/src.json" "$work/dst.json"
# shellcheck disable=SC2086
check "merge: APPEND on the target" has_cmd '^[0-9.]+ [^ ]+ APPEND ' $dst_in
# shellcheck disable=SC2086
check "merge: \\Recent never sent to the target" lacks_cmd '\\Recent' $dst_in
# shellcheck disable=SC2086
check "merge: the source EXAMINEd" has_cmd '^[0-9.]+ [^ ]+ EXAMINE ' $src_in
# shellcheck disable=SC2086
check "merge: the source never SELECTed nor written" lacks_cmd "$writes|^[0-9.]+ [^ ]+ SELECT " $src_in
# shellcheck disable=SC2086
check "merge: the source read with BODY.PEEK only" lacks_cmd "$seen_fetch" $src_in
check "merge: source unchanged (flags, \\Seen included)" bash -c 'cmp -s "$1" <(/usr/bin/python3 "$2" state "$3" --bodies)' _ \
  "$work/src.json" "$here/merge_fixture.py" "$src"
run "journal show of the merge run" 0 "$bin/mbx" journal show "${merge_run:-none}" --journal "$journal" --format json &&
  check "journal: merge.plan, merge.folder, merge.batch and merge.verify actions" jq_py '
import json,sys; d=json.load(sys.stdin)
kinds={r["kind"] for r in d["rows"]}
assert {"merge.plan","merge.folder","merge.batch","merge.verify"} <= kinds, kinds
assert d["summary"]["tool"]=="merge", d["summary"]' <<<"$out"

# --- dedup: the same command again copies nothing ---------------------------------------
snap "$dst"
run "second run" 0 mbx merge --from "$src" --to "$dst" --map "$map" --format json &&
  check "second run: copied 0, present = every live source message" jq_py '
import json,sys
d=json.load(sys.stdin); src=json.load(open(sys.argv[1]))
rows={r["folder"]:r for r in d["rows"]}
for name,f in src["folders"].items():
    r=rows[name]; live=[m for m in f["messages"] if "\\Deleted" not in m["flags"]]
    assert r["copied"]==0 and r["to_copy"]==0 and r["present"]==len(live), (r, len(live))
    assert r["status"]=="ok" and r["missing"]==0 and r["created"] is False, r
assert d["summary"]["copied"]==0, d["summary"]' "$work/src.json" <<<"$out"
dst_in=$(new_in "$dst")
# shellcheck disable=SC2086
check "second run: no APPEND on the target" lacks_cmd '^[0-9.]+ [^ ]+ APPEND ' $dst_in
check "second run: target unchanged" bash -c 'cmp -s "$1" <(/usr/bin/python3 "$2" state "$3" --bodies)' _ \
  "$work/dst.json" "$here/merge_fixture.py" "$dst"
printf '# from,to\n%s,%s\n' "$src" "$dst" >"$work/pairs.csv"
run "--users-file with the same pair" 0 mbx merge --users-file "$work/pairs.csv" --map "$map" --format json &&
  check "--users-file: one pair, copied 0" jq_py '
import json,sys; d=json.load(sys.stdin)
assert {(r["from"],r["to"]) for r in d["rows"]}=={(sys.argv[1],sys.argv[2])} and d["summary"]["copied"]==0, d["summary"]' \
    "$src" "$dst" <<<"$out"

# --- --include-deleted -------------------------------------------------------------------
run "--include-deleted" 0 mbx merge --from "$src" --to "$dst" --map "$map" --include-deleted --format json &&
  check "--include-deleted: only the \\Deleted message copied" jq_py '
import json,sys; d=json.load(sys.stdin)
rows={r["folder"]:r for r in d["rows"]}
assert rows["INBOX"]["copied"]==1 and d["summary"]["copied"]==1, (rows["INBOX"], d["summary"])' <<<"$out"
py state "$dst" >"$work/dst.deleted.json"
check "--include-deleted: every source message once, the deleted one with \\Deleted \\Seen" \
  py compare "$work/src.json" "$work/dst.deleted.json" --map "$map" --include-deleted --exact

# --- pre-flight quota, [OVERQUOTA] with --force, raise and finish ---------------------------
py fill "$qsrc" quota || fail "imap fill of $qsrc"
py state "$qsrc" >"$work/qsrc.json"
ldapmod "$qdst" 300000 # 1,000,000 bytes to copy
snap "$qdst"
run "quota: pre-flight refusal" 75 mbx merge --from "$qsrc" --to "$qdst" --format json &&
  check "quota: the refusal says mbx quota raise" has "$err" "mbx quota raise"
qdst_in=$(new_in "$qdst")
# shellcheck disable=SC2086
check "quota: nothing appended" lacks_cmd '^[0-9.]+ [^ ]+ APPEND ' $qdst_in /dev/null
py state "$qdst" >"$work/qdst.json"
check "quota: target still empty" [ "$(total "$work/qdst.json")" = 0 ]
run "quota: --force stops at [OVERQUOTA]" 75 mbx merge --from "$qsrc" --to "$qdst" --force --format json &&
  check "quota: --force message says mbx quota raise" has "$err" "mbx quota raise"
forced_out="$out"
py state "$qdst" >"$work/qdst.json"
check "quota: --force copied some, not all, none twice; the report agrees with the server" jq_py '
import json,sys,collections
d=json.load(open(sys.argv[1])); s=json.load(open(sys.argv[2])); rep=json.loads(sys.argv[3])
keys=[m["key"] for f in d["folders"].values() for m in f["messages"]]
src={m["key"] for f in s["folders"].values() for m in f["messages"]}
assert 0 < len(keys) < 20, ("messages on the target after --force", len(keys), rep["summary"].get("text"))
assert len(set(keys))==len(keys) and set(keys) <= src, keys
assert rep["summary"]["copied"]==len(keys), (rep["summary"], len(keys))
assert any(r["status"]!="ok" for r in rep["rows"]), rep["rows"]' "$work/qdst.json" "$work/qsrc.json" "$forced_out"
ldapmod "$qdst" 52428800
run "quota: re-run after raising the quota" 0 mbx merge --from "$qsrc" --to "$qdst" --format json
py state "$qdst" >"$work/qdst.json"
check "quota: every source message exactly once after the re-run" \
  py compare "$work/qsrc.json" "$work/qdst.json" --exact

finish
