#!/usr/bin/env bash
# mbx reprovision against the shared testenv: the dry run (nothing written), the whole plan
# (new entry, addresses moved, old entry disabled, a 0600 password that logs in, the mailbox
# copied exactly, the old one untouched), the same command again, undo (the old entry back
# byte for byte as sorted LDIF) and a second undo, a taken NEWUID, a missing user, uids with
# , + " \ = and a leading #, --no-cutover then the cutover in the same run, --users-file with a
# failing line, --password-file (0600 and 0644), undo-new-entry = remove, and the new
# passwords nowhere in the journal or the output. Every outcome is read back from the servers.
#   reprovision_test.sh BIN_DIR      (TESTENV_FILE=.../env)
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_testenv

here="$(cd "$(dirname "$0")" && pwd)"
journal="$work/journal.sqlite"
pwdir="$work/passwords" # the default password-dir: next to the journal
mbx() { "$bin/mbx" "$@" --config "$conf" --journal "$journal"; }
py() { /usr/bin/python3 "$here/reprovision_fixture.py" "$@"; }
jq_py() { /usr/bin/python3 -c "$@"; } # jq_py SCRIPT ARGS... <JSON
# run, and keep what the tool printed for the password check at the end
rrun() { run "$@"; local r=$?; cat "$work/out" "$work/err" >>"$work/transcript"; return $r; }
# The entry at DN as LDIF lines, sorted (no wrapping; no operational attributes: none asked).
ldif() {
  ldapsearch -x -LLL -o ldif-wrap=no -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" \
    -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" -s base -b "$1" 2>/dev/null | sed '/^$/d' | LC_ALL=C sort
}
# at DN: the name of a file with ldif DN (read more than once, unlike <(ldif DN))
at() { local f; f="$work/at.$(md5sum <<<"$1" | cut -c1-12).ldif"; ldif "$1" >"$f"; echo "$f"; }
exists() { [ -n "$(ldif "$1")" ]; }
absent() { [ -z "$(ldif "$1")" ]; }
# the values of ATTR in the sorted LDIF of DN, one per line
vals() { ldif "$1" | sed -n "s/^$2: //p"; }
summary() { jq_py 'import json,sys; v=json.load(sys.stdin)["summary"].get(sys.argv[1]); print("" if v is None else v)' "$1" <<<"$out"; }
statuses() { jq_py 'import json,sys; print(" ".join(r["step"]+"="+r["status"] for r in json.load(sys.stdin)["rows"]))' <<<"$out"; }
same_state() { cmp -s "$1" <(py state "$2" --bodies); } # FILE USER: the mailbox as it was
no_maildir() { [ ! -e "$TESTENV_MAIL_ROOT/$1" ]; }
mode_of() { stat -c %a "$1"; }
# sorted LDIF of an entry after the cutover took its addresses and disabled it
disabled_without_mail() { { grep -vE "^(mail|mailAlternateAddress):" "$1"; echo "mbxAccountDisabled: TRUE"; } | LC_ALL=C sort; }
all_done='inspect=done account=done mailbox=done merge=done logon=done cutover=done final=done'

# Our own users; entries and mailboxes of an earlier run of this script go first.
py cleanup rpv '#rpv' || { fail "cleanup of earlier rpv users"; finish; }
old=rpv1 new=rpv1new
py adduser "$old" --alias rpv1-a@example.org --alias rpv1-b@example.org || { fail "adduser $old"; finish; }
for u in rpv2 rpv4 rpv5 rpv6 rpv7 rpv8 rpv9; do py adduser "$u" --alias "$u-alias@example.org" || fail "adduser $u"; done
py fill "$old" small || { fail "imap fill of $old"; finish; }
for u in rpv2 rpv4 rpv5 rpv6 rpv7 rpv9; do py fill "$u" tiny || fail "imap fill of $u"; done
old_dn=$(py dn "$old") new_dn=$(py dn "$new")
ldif "$old_dn" >"$work/old.ldif"
py state "$old" --bodies >"$work/old.json"
check "setup: $old has its entry and 26 messages (one \\Deleted)" bash -c '[ -s "$1" ] && grep -q "^mail: " "$1" &&
  [ "$(grep -o "\"key\"" "$2" | wc -l)" = 26 ]' _ "$work/old.ldif" "$work/old.json"

# --- dry run: the plan with the LDIF, and nothing written -------------------------------------
if rrun "dry run" 0 mbx reprovision "$old" --new-uid "$new" --dry-run --format json; then
  check "dry run: every row would-do (inspect, account, mailbox, merge per folder, logon, cutover)" jq_py '
import json,sys; rows=json.load(sys.stdin)["rows"]
assert rows and all(r["status"]=="would-do" for r in rows), [(r["step"],r["status"]) for r in rows]
steps=[r["step"] for r in rows]
for s in ("inspect","account","mailbox","merge","logon","cutover"): assert s in steps, (s, steps)
assert {r["subject"] for r in rows if r["step"]=="merge"} >= {"INBOX","Sent","Projects/Old","R&D","Ärger/Öl","Empty one"}, steps' <<<"$out"
  check "dry run: the LDIF of the add (dn, object classes, copied attributes, quota, no password)" jq_py '
import json,sys; rows=json.load(sys.stdin)["rows"]
l=[r["ldif"] for r in rows if r["step"]=="account"][0]
for want in ("dn: "+sys.argv[1]+"\n", "changetype: add\n", "objectClass: inetOrgPerson\n", "objectClass: mbxMailUser\n",
             "uid: rpv1new\n", "cn: Test rpv1\n", "sn: rpv1\n", "givenName: Test\n", "displayName: Test user rpv1\n",
             "mailQuota: 209715200\n"):
    assert want in l, (want, l)
assert "userPassword" not in l and "mail:" not in l, l
c=[r["ldif"] for r in rows if r["step"]=="cutover"][0]
assert "mailAlternateAddress: rpv1-a@example.org" in c and "mbxAccountDisabled: TRUE" in c, c' "$new_dn" <<<"$out"
  check "dry run: summary says dry run, no password file" \
    bash -c '[ "$1" = True ] && [ -z "$2" ]' _ "$(summary dry_run)" "$(summary password_file)"
fi
check "dry run: no new entry" absent "$new_dn"
check "dry run: no password file" bash -c '[ -z "$(ls -A "$1" 2>/dev/null)" ]' _ "$pwdir"
check "dry run: no mailbox made for $new" no_maildir "$new"
check "dry run: the old entry unchanged" cmp -s "$work/old.ldif" <(ldif "$old_dn")
check "dry run: the old mailbox unchanged" same_state "$work/old.json" "$old"

# --- the whole plan ------------------------------------------------------------------------
run_id=""
if rrun "reprovision" 0 mbx reprovision "$old" --new-uid "$new" --format json; then
  check "reprovision: every step done, in order ($(statuses))" [ "$(statuses)" = "$all_done" ]
  run_id=$(summary run) pwfile=$(summary password_file)
  check "reprovision: summary names the old DN and the new one ($(summary new_dn))" \
    bash -c '[ "$1" = "$2" ] && [ -n "$3" ] && [ "$3" = "$4" ]' _ \
    "$(summary old_dn)" "$old_dn" "$(ldif "$(summary new_dn)" | head -n 1)" "$(ldif "$new_dn" | head -n 1)"
  check "reprovision: the password file is in password-dir, mode 0600, 24 characters [A-Za-z0-9]" \
    bash -c '[ "$(dirname "$1")" = "$2" ] && [ "$(stat -c %a "$1")" = 600 ] && grep -qxE "[A-Za-z0-9]{24}" "$1"' _ \
    "$pwfile" "$pwdir"
  check "reprovision: stderr names the password file" has "$err" "$pwfile"
fi
ldif "$new_dn" >"$work/new.ldif"
ldif "$old_dn" >"$work/old.after.ldif"
check "new entry: at the DN next to the old one, with the copied attributes" bash -c '
  for l in "dn: $2" "objectClass: inetOrgPerson" "objectClass: mbxMailUser" "uid: rpv1new" "cn: Test rpv1" "sn: rpv1" \
           "givenName: Test" "displayName: Test user rpv1" "mailQuota: 209715200" "mail: rpv1@example.org" \
           "mailAlternateAddress: rpv1-a@example.org" "mailAlternateAddress: rpv1-b@example.org"; do
    grep -qxF "$l" "$1" || { echo "missing: $l"; exit 1; }
  done
  grep -q "^userPassword:" "$1" && ! grep -q "^mbxAccountDisabled:" "$1"' _ "$work/new.ldif" "$new_dn"
check "new entry: the new password is not the old one" bash -c '
  [ "$(grep "^userPassword" "$1")" != "$(grep "^userPassword" "$2")" ]' _ "$work/new.ldif" "$work/old.ldif"
check "old entry: addresses gone, mbxAccountDisabled: TRUE, everything else as before" \
  cmp -s <(disabled_without_mail "$work/old.ldif") "$work/old.after.ldif"
if [ -n "${pwfile:-}" ]; then
  check "logon: a real IMAP login as $new with the password file works, INBOX holds 10" \
    bash -c '[ "$(/usr/bin/python3 "$1" login "$2" "$3")" = 10 ]' _ "$here/reprovision_fixture.py" "$new" "$pwfile"
  check "password file: the bare secret, no newline; ldapwhoami -y takes it" bash -c '
    [ "$(tail -c 1 "$3" | od -An -c | tr -d " ")" != "\n" ] &&
      ldapwhoami -x -H "$1" -D "$2" -y "$3" >/dev/null' _ "$TESTENV_LDAP_URI" "$new_dn" "$pwfile"
fi
py state "$new" --bodies >"$work/new.json"
check "mailbox: every message once in its folder, same flags, keywords, INTERNALDATE, size, bytes" \
  py compare "$work/old.json" "$work/new.json" --exact
check "mailbox: the folder tree, its subscriptions, and the standard folders with their use" jq_py '
import json,sys; s=json.load(open(sys.argv[1]))["folders"]; d=json.load(open(sys.argv[2]))["folders"]
for name,f in s.items():
    assert name in d, ("missing", name, sorted(d))
    assert d[name]["subscribed"]==f["subscribed"], (name, f["subscribed"], d[name]["subscribed"])
uses={f["special"] for f in d.values()}
assert {"\\Drafts","\\Sent","\\Trash"} <= uses, uses
assert ("\\Junk" in uses) == any(f["special"]=="\\Junk" for f in s.values()), ("Junk only when the old one had it", uses)
assert d["Empty one"]["selectable"] and d["Empty one"]["messages"]==[]' "$work/old.json" "$work/new.json"
check "mailbox: the old mailbox unchanged (flags, \\Seen, bodies)" same_state "$work/old.json" "$old"
if rrun "journal show of the run" 0 "$bin/mbx" journal show "${run_id:-none}" --journal "$journal" --format json; then
  check "journal: the seven reprovision actions, done" jq_py '
import json,sys; rows=json.load(sys.stdin)["rows"]
k={r["kind"]:r["status"] for r in rows if r["kind"].startswith("reprovision.")}
want=["inspect","account","mailbox","merge","logon","cutover","final-merge"]
assert all(k.get("reprovision."+w)=="done" for w in want), k' <<<"$out"
fi

# --- the same command again ----------------------------------------------------------------
if rrun "again" 0 mbx reprovision "$old" --new-uid "$new" --format json; then
  check "again: one row, all already, the same run ($(statuses))" \
    bash -c '[ "$1" = "all=already" ] && [ "$2" = "$3" ]' _ "$(statuses)" "$(summary run)" "$run_id"
fi
check "again: the entries unchanged" bash -c 'cmp -s "$1" "$2" && cmp -s "$3" "$4"' _ \
  "$work/new.ldif" <(ldif "$new_dn") "$work/old.after.ldif" <(ldif "$old_dn")

# --- undo ------------------------------------------------------------------------------------
if rrun "undo" 0 "$bin/mbx" journal undo "${run_id:-none}" --config "$conf" --journal "$journal" --format json; then
  check "undo: cutover and account undone" jq_py '
import json,sys; d=json.load(sys.stdin)
r={x["kind"]:x["result"] for x in d["rows"]}
assert r.get("reprovision.cutover")=="undone" and r.get("reprovision.account")=="undone", r' <<<"$out"
fi
check "undo: the old entry is byte for byte as before the run (sorted LDIF)" cmp -s "$work/old.ldif" <(ldif "$old_dn")
ldif "$new_dn" >"$work/new.undone.ldif"
check "undo: the new entry is kept, disabled, without addresses; the rest as made" \
  cmp -s <(disabled_without_mail "$work/new.ldif") "$work/new.undone.ldif"
check "undo: both mailboxes untouched" bash -c 'cmp -s "$1" <(/usr/bin/python3 "$2" state "$3" --bodies) &&
  cmp -s "$4" <(/usr/bin/python3 "$2" state "$5" --bodies)' _ "$work/old.json" "$here/reprovision_fixture.py" "$old" \
  "$work/new.json" "$new"
if rrun "second undo" 0 "$bin/mbx" journal undo "${run_id:-none}" --config "$conf" --journal "$journal" --format json; then
  check "second undo: nothing undone" jq_py '
import json,sys; d=json.load(sys.stdin)
assert d["rows"] and all(x["result"]!="undone" for x in d["rows"]) and d["summary"]["undone"]==0, d' <<<"$out"
fi
check "second undo: both entries unchanged" bash -c 'cmp -s "$1" "$2" && cmp -s "$3" "$4"' _ \
  "$work/old.ldif" <(ldif "$old_dn") "$work/new.undone.ldif" <(ldif "$new_dn")

# --- NEWUID taken, old user missing ----------------------------------------------------------
rpv2_dn=$(py dn rpv2)
ldif "$rpv2_dn" >"$work/rpv2.ldif"
ls -A "$pwdir" >"$work/pw.before" 2>/dev/null
if rrun "NEWUID taken" 65 mbx reprovision rpv2 --new-uid "$old"; then
  check "NEWUID taken: one line on stderr, naming the uid (stderr: $err)" \
    bash -c '[ "$(wc -l <<<"$1")" = 1 ] && grep -qF -- "'"'"'$2'"'"'" <<<"$1"' _ "$err" "$old"
fi
check "NEWUID taken: nothing written (both entries, no password file, no mailbox)" bash -c '
  cmp -s "$1" "$2" && cmp -s "$3" "$4" && cmp -s "$5" <(ls -A "$6" 2>/dev/null)' _ \
  "$work/rpv2.ldif" <(ldif "$rpv2_dn") "$work/old.ldif" <(ldif "$old_dn") "$work/pw.before" "$pwdir"
if rrun "old user missing" 65 mbx reprovision rpvnosuchuser --new-uid rpvnosuchusernew; then
  check "old user missing: named on stderr" has "$err" "rpvnosuchuser"
fi
check "old user missing: no entry made" absent "$(py dn rpvnosuchusernew)"

# --- LDAP-special characters in both uids ----------------------------------------------------
sold='#rpv,+"\=x' snew='#rpv\new,"+=y'
py adduser "$sold" --alias rpvx-alias@example.org && py fill "$sold" small || fail "setup of $sold"
sold_dn=$(py dn "$sold") snew_dn=$(py dn "$snew")
py state "$sold" --bodies >"$work/sold.json"
if rrun "special characters" 0 mbx reprovision "$sold" --new-uid "$snew" --format json; then
  check "special characters: every step done ($(statuses))" [ "$(statuses)" = "$all_done" ]
  spwfile=$(summary password_file)
  check "special characters: the new DN is the escaped one (same entry as $snew_dn)" \
    bash -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$(ldif "$(summary new_dn)" | head -n 1)" "$(ldif "$snew_dn" | head -n 1)"
  check "special characters: a login as the new uid with its password works" \
    bash -c '[ "$(/usr/bin/python3 "$1" login "$2" "$3")" = 10 ]' _ "$here/reprovision_fixture.py" "$snew" "$spwfile"
fi
check "special characters: the entry at the escaped DN has the literal uid and the addresses" bash -c '
  grep -qxF "uid: $2" "$1" && grep -qxF "mail: rpvx@example.org" "$1" && grep -qxF "mailAlternateAddress: rpvx-alias@example.org" "$1"' _ \
  "$(at "$snew_dn")" "$snew"
check "special characters: a filter for the literal new uid finds exactly that entry" bash -c '
  [ "$(ldapsearch -x -LLL -o ldif-wrap=no -H "$1" -D "$2" -y "$3" -b ou=people,dc=example,dc=org "(uid=#rpv\\5cnew,\"+=y)" 1.1 |
       grep -c "^dn")" = 1 ]' _ "$TESTENV_LDAP_URI" "$TESTENV_LDAP_ADMIN_DN" "$TESTENV_LDAP_ADMIN_PASSWORD_FILE"
check "special characters: the old entry at its escaped DN is disabled, without mail" bash -c '
  grep -qxF "mbxAccountDisabled: TRUE" "$1" && ! grep -q "^mail:" "$1" && grep -qxF "uid: $2" "$1"' _ "$(at "$sold_dn")" "$sold"
py state "$snew" --bodies >"$work/snew.json"
check "special characters: the mailbox copied exactly" py compare "$work/sold.json" "$work/snew.json" --exact

# --- --no-cutover, then the cutover in the same run ------------------------------------------
nc_dn=$(py dn rpv4) ncnew_dn=$(py dn rpv4new)
if rrun "--no-cutover" 0 mbx reprovision rpv4 --new-uid rpv4new --no-cutover --format json; then
  check "--no-cutover: steps to logon done, cutover skipped, no final ($(statuses))" \
    [ "$(statuses)" = "inspect=done account=done mailbox=done merge=done logon=done cutover=skipped" ]
  nc_run=$(summary run)
fi
check "--no-cutover: the addresses stay on the old entry, which stays enabled" bash -c '
  grep -qxF "mail: rpv4@example.org" "$1" && grep -qxF "mailAlternateAddress: rpv4-alias@example.org" "$1" &&
  ! grep -q "^mbxAccountDisabled" "$1" && ! grep -q "^mail:" "$2" && grep -q "^uid: rpv4new" "$2"' _ "$(at "$nc_dn")" "$(at "$ncnew_dn")"
# Until the cutover the user still works in the old mailbox: flags changed there in between
# reach the copies in the final pass.
changed=$(/usr/bin/python3 "$here/merge_fixture.py" damage rpv4 INBOX 2 2>&1)
check "--no-cutover: the flags of 2 messages changed on the old mailbox ($changed)" [ "$changed" = 2 ]
if rrun "cutover after --no-cutover" 0 mbx reprovision rpv4 --new-uid rpv4new --format json; then
  check "cutover after --no-cutover: the same run, only cutover and final done ($(statuses))" bash -c '
    [ "$1" = "$2" ] && [ "$3" = "inspect=already account=already mailbox=already merge=already logon=already cutover=done final=done" ]' _ \
    "$(summary run)" "${nc_run:-}" "$(statuses)"
fi
check "cutover after --no-cutover: the addresses moved" bash -c '
  ! grep -q "^mail:" "$1" && grep -qxF "mbxAccountDisabled: TRUE" "$1" && grep -qxF "mail: rpv4@example.org" "$2" &&
  grep -qxF "mailAlternateAddress: rpv4-alias@example.org" "$2"' _ "$(at "$nc_dn")" "$(at "$ncnew_dn")"
py state rpv4 --bodies >"$work/rpv4.json"
py state rpv4new --bodies >"$work/rpv4new.json"
check "cutover after --no-cutover: the copies have the flags changed on the old mailbox" \
  py compare "$work/rpv4.json" "$work/rpv4new.json" --exact
check "cutover after --no-cutover: the final pass journaled merge.flags for the 2" [ "$(sqlite3 "$journal" \
  "select json_extract(after, '$.fixed') from actions where kind = 'merge.flags' and run_id = ${nc_run:-0}")" = 2 ]

# --- --users-file: the failing middle line does not stop the batch ----------------------------
printf '# user,new_uid\nrpv5,rpv5new\nrpvnosuchuser2,rpvnosuchuser2new\n\nrpv6,rpv6new\n' >"$work/batch.csv"
if rrun "--users-file" 65 mbx reprovision --users-file "$work/batch.csv" --format json; then
  check "--users-file: rpv5 and rpv6 done, the missing user failed, three runs" jq_py '
import json,sys; d=json.load(sys.stdin); rows=d["rows"]
by={}
for r in rows: by.setdefault(r["user"], []).append(r)
assert set(by)=={"rpv5","rpvnosuchuser2","rpv6"}, set(by)
for u in ("rpv5","rpv6"):
    assert [r["status"] for r in by[u]]==["done"]*7, (u, [(r["step"],r["status"]) for r in by[u]])
assert any(r["status"]=="failed" for r in by["rpvnosuchuser2"]), by["rpvnosuchuser2"]
runs={u:{r["run"] for r in rs} for u,rs in by.items()}
assert all(len(v)==1 and None not in v for v in runs.values()), runs
assert len({next(iter(v)) for v in runs.values()})==3, runs
assert d["summary"]["users"]==3 and d["summary"]["users_ok"]==2, d["summary"]' <<<"$out"
  check "--users-file: the failure is named on stderr" has "$err" "rpvnosuchuser2"
fi
check "--users-file: rpv5new and rpv6new have the addresses, rpv5 and rpv6 are disabled" bash -c '
  grep -qxF "mail: rpv5@example.org" "$1" && grep -qxF "mail: rpv6@example.org" "$2" &&
  grep -qxF "mbxAccountDisabled: TRUE" "$3" && grep -qxF "mbxAccountDisabled: TRUE" "$4"' _ \
  "$(at "$(py dn rpv5new)")" "$(at "$(py dn rpv6new)")" "$(at "$(py dn rpv5)")" "$(at "$(py dn rpv6)")"

# --- --password-file ---------------------------------------------------------------------------
given="$work/given.pw"
(umask 077; printf 'Rpv7-given-%s\n' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >"$given")
if rrun "--password-file 0600" 0 mbx reprovision rpv7 --new-uid rpv7new --password-file "$given" --format json; then
  check "--password-file: every step done ($(statuses)), the summary names the file" \
    bash -c '[ "$1" = "$2" ] && [ "$3" = "$4" ]' _ "$(statuses)" "$all_done" "$(summary password_file)" "$given"
fi
check "--password-file: a login as rpv7new with the given password works" \
  bash -c '[ "$(/usr/bin/python3 "$1" login rpv7new "$2")" = 3 ]' _ "$here/reprovision_fixture.py" "$given"
check "--password-file: no generated password file for rpv7new" bash -c '! ls "$1"/rpv7new-* >/dev/null 2>&1' _ "$pwdir"
loose="$work/loose.pw"
printf 'Rpv8-loose-password\n' >"$loose"
chmod 0644 "$loose"
rpv8_dn=$(py dn rpv8)
ldif "$rpv8_dn" >"$work/rpv8.ldif"
if rrun "--password-file 0644" 78 mbx reprovision rpv8 --new-uid rpv8new --password-file "$loose"; then
  check "--password-file 0644: the error names the file and its mode" bash -c 'grep -qF "$2" <<<"$1" && grep -q "0644" <<<"$1"' _ "$err" "$loose"
fi
check "--password-file 0644: nothing written (no entry, old entry unchanged, no mailbox)" bash -c '
  [ -z "$(cat "$1")" ] && cmp -s "$2" "$3" && [ ! -e "$4" ]' _ <(ldif "$(py dn rpv8new)") "$work/rpv8.ldif" <(ldif "$rpv8_dn") \
  "$TESTENV_MAIL_ROOT/rpv8new"

# --- undo-new-entry = remove -------------------------------------------------------------------
sed 's/^undo-new-entry *=.*/undo-new-entry = remove/' "$conf" >"$work/remove.conf"
check "remove config: the key is set" grep -qx 'undo-new-entry = remove' "$work/remove.conf"
rm_dn=$(py dn rpv9) rmnew_dn=$(py dn rpv9new)
ldif "$rm_dn" >"$work/rpv9.ldif"
rm_run=""
if rrun "reprovision (remove config)" 0 "$bin/mbx" reprovision rpv9 --new-uid rpv9new --config "$work/remove.conf" \
     --journal "$journal" --format json; then
  rm_run=$(summary run)
fi
ldif "$rmnew_dn" >"$work/rpv9new.ldif"
rrun "undo (remove config)" 0 "$bin/mbx" journal undo "${rm_run:-none}" --config "$work/remove.conf" --journal "$journal" --format json
check "undo (remove): the new entry is gone" absent "$rmnew_dn"
check "undo (remove): the old entry is as before" cmp -s "$work/rpv9.ldif" <(ldif "$rm_dn")
check "undo (remove): the new mailbox stays" bash -c '[ -d "$1" ]' _ "$TESTENV_MAIL_ROOT/rpv9new"
undo_run=$("$bin/mbx" journal list --tool journal --limit 1 --journal "$journal" --format json |
  jq_py 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])' 2>/dev/null)
if rrun "journal show of the undo run" 0 "$bin/mbx" journal show "${undo_run:-none}" --journal "$journal" --format json; then
  check "undo (remove): the undo's journal record keeps the removed entry's LDIF (without its password)" jq_py '
import json,sys
text=sys.stdin.read(); d=json.loads(text)
blob=json.dumps(d, ensure_ascii=False)
for want in ("dn: "+sys.argv[1], "uid: rpv9new", "cn: Test rpv9", "mailQuota: 209715200"):
    assert want in blob.replace("\\n", "\n"), want
assert "userPassword" not in blob, "userPassword kept"' "$rmnew_dn" <<<"$out"
fi

# --- the new passwords are nowhere but in their files ------------------------------------------
# (one secret a file, without a newline: a line each)
mapfile -t secrets < <(for f in "$pwdir"/* "$given"; do [ -f "$f" ] && { cat "$f"; echo; }; done | sed '/^$/d')
check "passwords: ${#secrets[@]} generated or given (rpv1new, special, rpv4new, rpv5new, rpv6new, rpv9new, given)" \
  [ "${#secrets[@]}" = 7 ]
: >"$work/shows"
while read -r r; do
  "$bin/mbx" journal show "$r" --journal "$journal" --format json >>"$work/shows" 2>&1
done < <("$bin/mbx" journal list --journal "$journal" --format json |
  jq_py 'import json,sys; [print(r["run_id"]) for r in json.load(sys.stdin)["rows"]]')
leaks=""
for s in "${secrets[@]}"; do
  for f in "$journal" "$journal-wal" "$work/transcript" "$work/shows"; do
    [ -f "$f" ] && grep -qaF -- "$s" "$f" && leaks="$leaks ${f##*/}"
  done
done
check "passwords: not in journal.sqlite, its WAL, any stdout or stderr, nor journal show (leaks:${leaks:- none})" \
  [ -z "$leaks" ]
check "passwords: the journal shows were read" bash -c '[ "$(grep -c "\"report\":\"journal_actions\"" "$1")" -ge 8 ]' _ "$work/shows"

finish
