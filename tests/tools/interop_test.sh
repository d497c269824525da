#!/usr/bin/env bash
# mbxkit on IMAP servers of other kinds and layouts, against the shared testenv's three
# servers: Dovecot (personal namespace "", delimiter /), a Dovecot with the INBOX. prefix and
# delimiter . (the Courier-migrated layout), and Debian's Cyrus IMAP (INBOX., .). Every direction
# with folder names that use both delimiters, quotes, a backslash, '&' and non-ASCII; other
# users' and shared folders left out (and --include-shared); a folder the target refuses fails
# alone; a proxy login for a user who does not exist; reprovision, cleanup and undo, and
# diagnose's advice on Cyrus. Every outcome
# is read back from the servers (tests/tools/namespace_fixture.py), each in its own namespace.
#   interop_test.sh BIN_DIR      (TESTENV_FILE=.../env of `testenv up --with-cyrus --with-dovecot-inbox`)
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_testenv

here="$(cd "$(dirname "$0")" && pwd)"
for v in TESTENV_CYRUS_IMAPS_URI TESTENV_DOVECOT_INBOX_IMAPS_URI TESTENV_CYRUS_SHARED_FOLDER \
         TESTENV_CYRUS_OTHER_USER_FOLDER; do
  [ -n "${!v:-}" ] || { fail "$v is not in $TESTENV_FILE: the testenv needs --with-cyrus --with-dovecot-inbox"; finish; }
done
journal="$work/journal.sqlite"
mbx() { "$bin/mbx" "$@" --config "$conf" --journal "$journal"; }
fx() { /usr/bin/python3 "$here/namespace_fixture.py" "$@"; }
jq_py() { /usr/bin/python3 -c "$@"; } # jq_py SCRIPT ARGS... <JSON
uri_of() { case "$1" in dovecot) echo "$TESTENV_IMAPS_URI" ;; inbox) echo "$TESTENV_DOVECOT_INBOX_IMAPS_URI" ;;
                        cyrus) echo "$TESTENV_CYRUS_IMAPS_URI" ;; esac; }
at() { [ "$2" = dovecot ] && echo "$1" || echo "$1@$2"; } # USER SERVER -> the --from/--to operand

# Our own users (LDAP entries, Dovecot Maildirs, Cyrus mailboxes), made once per testenv.
u() { printf 'nsx%05d' "$1"; }
if ! ldapsearch -x -LLL -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" \
     -b "$TESTENV_LDAP_PEOPLE" "(uid=$(u 16))" uid | grep -q "^uid: $(u 16)"; then
  "$here/../../scripts/testenv" populate "$TESTENV_DIR" --users 16 --messages 0 --prefix nsx >"$work/populate.log" 2>&1 ||
    { fail "populate --prefix nsx: $(tail -n 3 "$work/populate.log")"; finish; }
fi

# --- the sources: the same tricky tree on each server, in its own layout ------------------
servers="dovecot inbox cyrus"
n=1
declare -A source
for s in $servers; do
  source[$s]=$(u $n); n=$((n + 1))
  fx "$(uri_of "$s")" "${source[$s]}" fill 2>"$work/fill.err" || { fail "fill ${source[$s]} on $s: $(cat "$work/fill.err")"; continue; }
  sed 's/^/  /' "$work/fill.err"
  fx "$(uri_of "$s")" "${source[$s]}" state >"$work/src.$s.json" || fail "state of the source on $s"
done
check "setup: Cyrus and the INBOX. Dovecot show their prefix" jq_py '
import json,sys
for path in sys.argv[1:]:
    s=json.load(open(path)); assert s["prefix"]=="INBOX." and s["delimiter"]==".", (path, s["prefix"], s["delimiter"])
    assert len([f for f in s["folders"].values() if f["ids"]])>=6, sorted(s["folders"])' "$work/src.cyrus.json" "$work/src.inbox.json"

# --- every direction ----------------------------------------------------------------------
for s in $servers; do
  for t in $servers; do
    [ "$s" = "$t" ] && continue
    dst=$(u $n); n=$((n + 1))
    name="$s -> $t"
    if run "$name: merge" 0 mbx merge --from "$(at "${source[$s]}" "$s")" --to "$(at "$dst" "$t")" --format json; then
      echo "$out" >"$work/merge.$s.$t.json"
      check "$name: no folder outside the target's personal namespace" jq_py '
import json,sys
prefix={"dovecot":"","inbox":"INBOX.","cyrus":"INBOX."}[sys.argv[1]]
for r in json.load(sys.stdin)["rows"]:
    if r["status"]=="skipped": continue  # another namespace: named, not merged
    t=r["target_folder"]
    assert t=="INBOX" or t.startswith(prefix), t
    assert r["status"]=="ok", r' "$t" <<<"$out"
    fi
    fx "$(uri_of "$t")" "$dst" state >"$work/dst.$s.$t.json" &&
      check "$name: every message once in the folder with the same levels, same flags" \
        fx expect "$work/src.$s.json" "$work/dst.$s.$t.json"
    if run "$name: again" 0 mbx merge --from "$(at "${source[$s]}" "$s")" --to "$(at "$dst" "$t")" --format json; then
      check "$name: the second run copies nothing" jq_py '
import json,sys; d=json.load(sys.stdin); assert d["summary"]["copied"]==0 and d["summary"]["missing"]==0, d["summary"]' <<<"$out"
    fi
  done
done
# (A level that holds the other layout's delimiter, "Projects.2026" on Dovecot, is refused by
# these servers when made; the unit tests cover its mapping.)
check "Dovecot -> Cyrus: levels under INBOX., in Cyrus's delimiter" jq_py '
import json,sys
rows={r["folder"]:r["target_folder"] for r in json.load(open(sys.argv[1]))["rows"]}
assert rows["Projects/2026"]=="INBOX.Projects.2026", rows
assert rows["R&D/Entwürfe"]=="INBOX.R&D.Entwürfe", rows' "$work/merge.dovecot.cyrus.json"

# --- other users' and shared folders ------------------------------------------------------
# alice on Cyrus sees bob's Projects (an ACL) and a shared folder: named, not merged.
target=$(u $n); n=$((n + 1))
if run "foreign folders: dry run" 0 mbx merge --from alice@cyrus --to "$target" --dry-run --format json; then
  check "foreign folders: other user's and shared folders are skipped rows, not planned" jq_py '
import json,sys
rows=json.load(sys.stdin)["rows"]; other,shared=sys.argv[1],sys.argv[2]
st={r["folder"]:(r["status"],r["error"]) for r in rows}
assert st[other][0]=="skipped" and "other-users" in st[other][1], st.get(other)
assert st[shared][0]=="skipped" and "shared" in st[shared][1], st.get(shared)
assert all(r["status"] in ("planned","skipped") for r in rows), rows' \
    "$TESTENV_CYRUS_OTHER_USER_FOLDER" "$TESTENV_CYRUS_SHARED_FOLDER" <<<"$out"
fi
if run "--include-shared: dry run" 0 mbx merge --from alice@cyrus --to "$target" --dry-run --include-shared --format json; then
  check "--include-shared: they are planned, into Dovecot's hierarchy by their full name" jq_py '
import json,sys
rows={r["folder"]:r for r in json.load(sys.stdin)["rows"]}; other=sys.argv[1]
assert rows[other]["status"]=="planned", rows[other]
assert rows[other]["target_folder"]==other.replace(".","/"), rows[other]["target_folder"]
assert not any(r["status"]=="skipped" for r in rows.values())' "$TESTENV_CYRUS_OTHER_USER_FOLDER" <<<"$out"
fi

# --- one refused folder never aborts the others -------------------------------------------
# Dovecot takes quotes and a backslash in a folder name; Cyrus refuses both ("Invalid mailbox
# name"): those two fail alone, with the server's words, and every other folder is copied.
bsrc=$(u $n); n=$((n + 1))
fx "$TESTENV_IMAPS_URI" "$bsrc" fill --extras 2>"$work/fill.err" || fail "fill --extras: $(cat "$work/fill.err")"
fx "$TESTENV_IMAPS_URI" "$bsrc" state >"$work/src.extras.json"
target=$(u $n); n=$((n + 1))
run "quotes and a backslash: Dovecot -> INBOX. Dovecot" 0 mbx merge --from "$bsrc" --to "$target@inbox" --format json &&
  fx "$TESTENV_DOVECOT_INBOX_IMAPS_URI" "$target" state >"$work/dst.extras.json" &&
  check "quotes and a backslash: every message in its folder" fx expect "$work/src.extras.json" "$work/dst.extras.json"
target=$(u $n); n=$((n + 1))
if run "refused folders: exit 65" 65 mbx merge --from "$bsrc" --to "$target@cyrus" --format json; then
  check "refused folders: their rows fail with their own error; every other folder is copied" jq_py '
import json,sys
rows=json.load(sys.stdin)["rows"]
refused=("Back\\slash", "Quote \"me\"")
bad=[r for r in rows if r["folder"] in refused]
good=[r for r in rows if r["folder"] not in refused]
assert len(bad)==2 and all(r["status"]=="failed" and "Invalid mailbox name" in (r["error"] or "") for r in bad), bad
assert len(good)>=6 and all(r["status"]=="ok" and r["error"] is None for r in good), good
assert sum(r["copied"] for r in good)==18, [(r["folder"],r["copied"]) for r in good]' <<<"$out"
  check "refused folders: the journal has them failed with the server's words" jq_py '
import sqlite3,sys
rows=sqlite3.connect(sys.argv[1]).execute(
    "select status, error from actions where kind = ? and subject like ?", ("merge.folder", "%@cyrus/%Back%")).fetchall()
assert rows and all(st=="failed" and "Invalid mailbox name" in (err or "") for st,err in rows), rows' "$journal"
fi

# --- Cyrus: a proxy login for a user who does not exist; diagnose's advice ------------------
# The STORAGE limit (KiB) of USER's mailbox on Cyrus, as its admin reads it; empty when none.
cyrus_limit() {
  /usr/bin/python3 -c '
import imaplib, os, re, ssl, sys
host, port = os.environ["TESTENV_CYRUS_IMAPS_URI"].split("//")[1].split(":")
m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=os.environ["TESTENV_CA_FILE"]))
m.login(os.environ["TESTENV_CYRUS_ADMIN_USER"], open(os.environ["TESTENV_CYRUS_ADMIN_PASSWORD_FILE"]).read().strip())
typ, data = m.getquotaroot("user." + sys.argv[1])
got = re.search(r"STORAGE \d+ (\d+)", repr(data))
print(got.group(1) if got else "")' "$1"
}
export -f cyrus_limit
cyrus_conf="$work/cyrus.conf"
/usr/bin/python3 - "$conf" "$cyrus_conf" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
sections = re.split(r"(?m)^(?=\[)", text)
cyrus = next(s for s in sections if s.startswith("[imap.cyrus]"))
out = [("[imap]" + cyrus[len("[imap.cyrus]"):]) if s.startswith("[imap]") else s for s in sections]
open(sys.argv[2], "w").write("".join(out))
PYEOF
run "ping on Cyrus: a user the directory lacks is not logged in, 65" 65 "$bin/mbx" ping --user nosuchuser-nsx \
  --config "$cyrus_conf" --journal "$journal" &&
  check "ping on Cyrus: the error names the user and says why" has "$out$err" "nosuchuser-nsx"
check "ping on Cyrus: no mailbox was made for the unknown name" bash -c '
  /usr/bin/python3 - "$@" <<"EOF"
import imaplib, os, ssl, sys
host, port = os.environ["TESTENV_CYRUS_IMAPS_URI"].split("//")[1].split(":")
m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=os.environ["TESTENV_CA_FILE"]))
m.login(os.environ["TESTENV_CYRUS_ADMIN_USER"], open(os.environ["TESTENV_CYRUS_ADMIN_PASSWORD_FILE"]).read().strip())
typ, data = m.list("\"\"", "user.nosuchuser-nsx*")
assert typ == "OK" and data in ([None], []), data
EOF'
run "ping on Cyrus: a real user passes" 0 "$bin/mbx" ping --user alice --config "$cyrus_conf" --journal "$journal"
# Reprovision on Cyrus: the new mailbox's folders under INBOX., the old tree merged, the logon
# with the new password through Cyrus's saslauthd (LDAP).
rsrc=$(u $n); n=$((n + 1))
fx "$TESTENV_CYRUS_IMAPS_URI" "$rsrc" fill 2>/dev/null && fx "$TESTENV_CYRUS_IMAPS_URI" "$rsrc" state >"$work/src.rp.json"
if run "reprovision on Cyrus" 0 "$bin/mbx" reprovision "$rsrc" --new-uid "${rsrc}r" --config "$cyrus_conf"      --journal "$journal" --format json; then
  check "reprovision on Cyrus: every step done, the new folders under INBOX." jq_py '
import json,sys
rows=json.load(sys.stdin)["rows"]
assert all(r["status"]=="done" for r in rows), [(r["step"],r["status"],r["detail"]) for r in rows]
mailbox=next(r for r in rows if r["step"]=="mailbox")
assert "INBOX.Projects.2026" in mailbox["detail"] and "INBOX.Drafts" in mailbox["detail"], mailbox["detail"]' <<<"$out"
  fx "$TESTENV_CYRUS_IMAPS_URI" "${rsrc}r" state >"$work/dst.rp.json" &&
    check "reprovision on Cyrus: the old mailbox merged into the new one" fx expect "$work/src.rp.json" "$work/dst.rp.json"
  check "reprovision on Cyrus: the new mailbox has the old one's limit (Cyrus keeps limits itself)" \
    bash -c '[ -n "$(cyrus_limit "$1")" ] && [ "$(cyrus_limit "$1")" = "$(cyrus_limit "$2")" ]' _ "$rsrc" "${rsrc}r"
  run_id=$("$bin/mbx" journal list --tool reprovision --journal "$journal" --format json |
    jq_py 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])')
  if run "reprovision on Cyrus: undo" 0 "$bin/mbx" journal undo "$run_id" --config "$cyrus_conf" --journal "$journal" --format json; then
    check "reprovision on Cyrus: undo takes back the limit, the cutover and the account" jq_py '
import json,sys; r={x["kind"]:x["result"] for x in json.load(sys.stdin)["rows"]}
assert r.get("quota.raise-server")=="undone" and r.get("reprovision.cutover")=="undone" and r.get("reprovision.account")=="undone", r' <<<"$out"
  fi
fi

# Cleanup on Cyrus: the folder named as Cyrus shows it, archived, expunged, undone.
csrc=$(u $n); n=$((n + 1))
fx "$TESTENV_CYRUS_IMAPS_URI" "$csrc" fill 2>/dev/null && fx "$TESTENV_CYRUS_IMAPS_URI" "$csrc" state >"$work/cl.before.json"
if run "cleanup on Cyrus" 0 "$bin/mbx" quota cleanup "$csrc" --folder "INBOX.Über & Co" --older-than 365d \
     --quota-archive-dir "$work/archive" --config "$cyrus_conf" --journal "$journal" --format json; then
  fx "$TESTENV_CYRUS_IMAPS_URI" "$csrc" state >"$work/cl.after.json"
  check "cleanup on Cyrus: the three old messages gone, nothing else touched" jq_py '
import json,sys
b,a=(json.load(open(p))["folders"] for p in sys.argv[1:3]); key="Über & Co"
assert len(b[key]["ids"])==3 and a[key]["ids"]==[], (b[key], a[key])
assert all(a[k]["ids"]==v["ids"] for k,v in b.items() if k!=key)' "$work/cl.before.json" "$work/cl.after.json"
  run_id=$("$bin/mbx" journal list --tool quota --journal "$journal" --format json |
    jq_py 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])')
  if run "cleanup on Cyrus: undo" 0 "$bin/mbx" journal undo "$run_id" --config "$cyrus_conf" --journal "$journal"; then
    fx "$TESTENV_CYRUS_IMAPS_URI" "$csrc" state >"$work/cl.undone.json"
    check "cleanup on Cyrus: undo puts them back" jq_py '
import json,sys
b,u=(json.load(open(p))["folders"] for p in sys.argv[1:3])
assert u["Über & Co"]["ids"]==b["Über & Co"]["ids"], (b["Über & Co"], u["Über & Co"])' "$work/cl.before.json" "$work/cl.undone.json"
  fi
fi

# A user of ours has no special-use folders on Cyrus: diagnose names them under INBOX., no doveadm.
"$bin/mbx" diagnose "$(u 10)" --config "$cyrus_conf" --journal "$journal" --format json >"$work/diag.json" 2>"$work/diag.err"
check "diagnose on Cyrus: missing folders named under INBOX., advice without doveadm" jq_py '
import json,sys
rows=[r for r in json.load(open(sys.argv[1]))["rows"] if r.get("area")=="folders"]
assert rows, "no folder findings"
missing=[r for r in rows if r["status"]=="failed"]
for r in missing:
    assert "INBOX." in r["detail"], r
    assert "doveadm" not in (r["remedy"] or ""), r
assert len(missing)==3, rows  # our user has no Drafts, Sent or Trash on Cyrus
assert all("IMAP CREATE \"INBOX." in (r["remedy"] or "") for r in missing), missing' "$work/diag.json"

finish
