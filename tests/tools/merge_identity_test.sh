#!/usr/bin/env bash
# mbx merge on mail no one here generated and onto a server that rewrites what it stores: the
# message identity (docs/commands/merge.md, "Message identity"). Two private testenvs: a plain
# Dovecot, and one started with --rewrite-on-append (IMAPSieve + editheader: every APPEND gets a
# header field added, the changed copy stored under a new UID, the original marked \Deleted).
# The source mailbox is written straight into the Maildir as a foreign export leaves it (bare
# LF and CR, no final newline, raw 8-bit headers, NUL, 100 kB lines, shared Message-IDs, a true
# duplicate, Message-ID-less look-alikes: tests/tools/merge_foreign_fixture.py). On each target:
# merge and verify (exit 0, nothing missing, the changed copies counted and explained), every
# source message exactly once, a re-run copies nothing; then kill -9 in the middle of a run
# onto the rewriting server and the same command again: still exactly once. Last, a target that
# refuses messages: the missing ones are named (folder, UID, Message-ID, date, subject).
#   merge_identity_test.sh BIN_DIR
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")/../.." && pwd)"
fixture="$here/tests/tools/merge_foreign_fixture.py"
plain=$(mktemp -u /tmp/te-mid-XXXXXX)
rewriting=$(mktemp -u /tmp/te-mid-XXXXXX)
own_testenv "$plain"
own_testenv "$rewriting" --rewrite-on-append
TESTENV_FILE="$rewriting/env" need_testenv
rw_uri="$TESTENV_IMAPS_URI" rw_ca="$TESTENV_CA_FILE" rw_pw="$TESTENV_IMAP_MASTER_PASSWORD_FILE" rw_mail="$TESTENV_MAIL_ROOT"
TESTENV_FILE="$plain/env" need_testenv
journal="$work/journal.sqlite"
jq_py() { /usr/bin/python3 -c "$@"; }
fx() { /usr/bin/python3 "$fixture" "$@"; }
fx_rw() { (while IFS='=' read -r k v; do [ -n "$k" ] && export "$k=$v"; done <"$rewriting/env"; /usr/bin/python3 "$fixture" "$@"); }
cp "$conf" "$work/merge.conf"
add_imap_section "$work/merge.conf" rw "$rw_uri" "$rw_ca" "$rw_pw"
mbx() { "$bin/mbx" "$@" --config "$work/merge.conf" --journal "$journal"; }
summary() { jq_py 'import json,sys; print(json.load(sys.stdin)["summary"]["text"])' <<<"$out"; }

# bob's "Foreign" folder: the tricky set; dave's "Bulk": the same and 1500 more with bare LF.
n=$(fx write bob Foreign) || { fail "fixture write bob"; finish; }
check "setup: the foreign folder holds the tricky set ($n messages)" [ "$n" -ge 25 ]
nb=$(fx write dave Bulk --bulk 1500) || { fail "fixture write dave"; finish; }
fx census bob Foreign >"$work/src.json"
fx census dave Bulk >"$work/bulk.json"
same_census() { # NAME SOURCE.json TARGET-CENSUS-JSON
  if jq_py 'import json,sys; a=json.load(open(sys.argv[1])); b=json.loads(sys.argv[2])
assert a["by_identity"] == b["by_identity"], {k: (a["by_identity"].get(k), b["by_identity"].get(k)) for k in set(a["by_identity"]) | set(b["by_identity"]) if a["by_identity"].get(k) != b["by_identity"].get(k)}' \
    "$2" "$3" 2>"$work/py.err"; then ok "$1"; else fail "$1: $(tail -n 2 "$work/py.err" | head -c 600)"; fi
}

# --- onto the plain Dovecot, then onto the rewriting one ---------------------------------------
for target in carol "carol@rw"; do
  if run "$target: merge" 0 mbx merge --from bob --to "$target" --include Foreign --format json; then
    check "$target: every message copied, verified, none missing ($(summary))" jq_py '
import json,sys; s=json.load(sys.stdin)["summary"]
assert s["copied"] == '"$n"' and s["missing"] == 0 and s["failed"] == 0 and s["exit_code"] == 0, s' <<<"$out"
    if [ "$target" = "carol@rw" ]; then
      check "$target: the changed copies are present, counted and explained" jq_py '
import json,sys; d=json.load(sys.stdin); s=d["summary"]
assert s["normalised"] == '"$n"' and "header added: x-rewritten-by ×'"$n"'" in s["normalised_how"], s
f=[r for r in d["rows"] if r["status"] == "ok"][0]
assert f["normalised"] == '"$n"' and f["missing"] == 0, f' <<<"$out"
      census=$(fx_rw census carol Foreign)
    else
      census=$(fx census carol Foreign)
    fi
    same_census "$target: every source message exactly once (duplicates and look-alikes counted)" "$work/src.json" "$census"
  fi
  if run "$target: the same command again" 0 mbx merge --from bob --to "$target" --include Foreign --format json; then
    check "$target: the re-run copies nothing ($(summary))" jq_py '
import json,sys; s=json.load(sys.stdin)["summary"]
assert s["copied"] == 0 and s["to_copy"] == 0 and s["missing"] == 0, s' <<<"$out"
  fi
done
check "journal: the copies' target UIDs (APPENDUID) are journaled with each batch" jq_py '
import json,sqlite3,sys
rows=sqlite3.connect(sys.argv[1]).execute("select after from actions where kind=\"merge.batch\"").fetchall()
assert rows and all("target_uids" in json.loads(a) or "uid_pairs" in json.loads(a) for (a,) in rows), rows[:2]' "$journal"
check "journal: verification says how many copies were changed, and how" jq_py '
import json,sqlite3,sys
rows=[json.loads(a) for (a,) in sqlite3.connect(sys.argv[1]).execute("select after from actions where kind=\"merge.verify\"")]
assert any(r["normalised"] > 0 and r["folders"][0]["normalised_how"] for r in rows), rows' "$journal"

# --- kill -9 in the middle of a run onto the rewriting server, then the same command again --------
(while IFS='=' read -r k v; do [ -n "$k" ] && export "$k=$v"; done <"$rewriting/env"
 printf 'dn: uid=dave,%s\nchangetype: modify\nreplace: mailQuota\nmailQuota: 209715200\n' "$TESTENV_LDAP_PEOPLE" |
   ldapmodify -x -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" >/dev/null) ||
  fail "mailQuota of dave on the rewriting server"
on_disk() { find "$1/$2/Maildir" \( -path '*/cur/*' -o -path '*/new/*' \) -type f 2>/dev/null | wc -l; }
kill_args=(--from dave --to "dave@rw" --include Bulk --max-messages-per-second 300 --format json)
"$bin/mbx" merge "${kill_args[@]}" --config "$work/merge.conf" --journal "$journal" >"$work/bg.out" 2>"$work/bg.err" </dev/null &
pid=$!
for _ in $(seq 1 600); do
  [ "$(on_disk "$rw_mail" dave)" -ge 600 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then
  kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=""
  check "kill -9: killed mid-run" bash -c '[ "$(find "$1/dave/Maildir" -path "*/.Bulk/cur/*" -type f | wc -l)" -lt $((2 * $2)) ]' _ "$rw_mail" "$nb"
else
  pid=""; fail "kill -9: the run ended before it could be killed ($(head -c 300 "$work/bg.err"))"
fi
check "kill -9: the journal is intact" [ "$(sqlite3 "$journal" 'pragma integrity_check')" = ok ]
if run "kill -9: the same command again" 0 mbx merge "${kill_args[@]}"; then
  check "kill -9: the re-run finished the copy, nothing missing ($(summary))" jq_py '
import json,sys; s=json.load(sys.stdin)["summary"]
assert s["missing"] == 0 and s["failed"] == 0 and s["extra"] == 0 and 0 < s["copied"] < '"$nb"', s' <<<"$out"
fi
same_census "kill -9: every source message exactly once after the resume" "$work/bulk.json" "$(fx_rw census dave Bulk)"
run "kill -9: a third run" 0 mbx merge "${kill_args[@]}" &&
  check "kill -9: the third run copies nothing" jq_py 'import json,sys; s=json.load(sys.stdin)["summary"]; assert s["copied"] == 0, s' <<<"$out"

# --- a target that refuses a message: the missing one by name -----------------------------------
# Dovecot's quota_max_mail_size refuses the 110 kB message of the set: NO [LIMIT].
printf '\nplugin {\n  quota_max_mail_size = 50k\n}\n' >>"$TESTENV_DOVECOT_CONF"
doveadm -c "$TESTENV_DOVECOT_CONF" reload >/dev/null 2>&1 || fail "dovecot reload with quota_max_mail_size"
sleep 1
if run "refused: one message over the server's size limit" 65 mbx merge --from bob --to alice --include Foreign \
    --map Foreign=Refused --format json; then
  check "refused: reported once, not retried; the missing message is named (folder, UID, Message-ID, date, subject)" jq_py '
import json,sys; d=json.load(sys.stdin); s=d["summary"]
miss=[r for r in d["rows"] if r["status"] == "missing"]
assert s["failed"] == 1 and s["missing"] == 1 and len(miss) == 1, (s, miss)
m=miss[0]
assert (m["folder"], m["message_id"], m["date"]) == ("Foreign", "<long@foreign.example>", "Mon, 30 Nov 2026 09:04:00 +0100"), m
assert m["uid"] > 0 and m["subject"].startswith("very long subject"), m' <<<"$out"
  check "refused: the journal names it too" jq_py '
import json,sqlite3,sys
a=json.loads(sqlite3.connect(sys.argv[1]).execute("select after from actions where kind=\"merge.verify\" order by id desc limit 1").fetchone()[0])
assert a["missing"] == 1 and a["missing_messages"][0]["message_id"] == "<long@foreign.example>", a' "$journal"
fi
finish
