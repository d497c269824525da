#!/usr/bin/env bash
# mbx quota cleanup against the real servers: plan, dry run (checked in Dovecot's rawlog),
# apply (archive, then UID STORE/UID EXPUNGE of exactly those), undo, and the faults.
#   quota_cleanup_test.sh BIN_DIR      (TESTENV_FILE=.../env)
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_testenv

user=qclean00001
folder='Old "stuff" \ Ünïcode'
journal="$work/journal.sqlite"
archive="$work/archive"
mbx() { "$bin/mbx" "$@" --config "$conf" --journal "$journal"; }

# Our own user, made once per testenv (the script may run again on the same servers).
if ! ldapsearch -x -LLL -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" \
     -b "$TESTENV_LDAP_PEOPLE" "(uid=$user)" uid | grep -q "^uid: $user"; then
  "$(dirname "$0")/../../scripts/testenv" populate "$TESTENV_DIR" --users 1 --messages 20 --prefix qclean >/dev/null 2>&1 ||
    { fail "populate --prefix qclean"; finish; }
fi

# IMAP helper (stdlib imaplib, master login): sets up the folder and reads state back.
cat >"$work/imap.py" <<'EOF'
import imaplib, json, os, ssl, sys, time, base64, hashlib, datetime

def mutf7(name):  # RFC 3501 5.1.3 modified UTF-7
    out, run = [], ""
    def flush():
        nonlocal run
        if run:
            b = base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append("&" + b + "-"); run = ""
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush(); out.append("&-" if ch == "&" else ch)
        else:
            run += ch
    flush()
    return "".join(out)

def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

def login(user):
    uri = os.environ["TESTENV_IMAPS_URI"]
    host, port = uri.split("//")[1].split(":")
    ctx = ssl.create_default_context(cafile=os.environ["TESTENV_CA_FILE"])
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    m.login(user + "*" + os.environ["TESTENV_IMAP_MASTER_USER"], open(os.environ["TESTENV_IMAP_MASTER_PASSWORD_FILE"]).read())
    return m

def ok(r):
    typ, data = r
    if typ != "OK": raise SystemExit("imap: %r" % (data,))
    return data

def message(n, size):
    head = ("From: Old Sender <old%d@example.net>\r\nTo: someone@example.org\r\nSubject: old message %d\r\n"
            "Message-ID: <cleanup-test-%d@example.net>\r\nDate: Mon, 4 Mar 2019 10:00:00 +0000\r\n\r\n" % (n, n, n))
    line = ("line of message %d " % n).ljust(74, "x") + "\r\n"
    body = line * ((size - len(head)) // len(line) + 1)
    return (head + body)[:size - 2] + "\r\n"

# (n, internaldate, flags, size, old, deleted)
MESSAGES = [
    (1, "04-Mar-2019 10:00:00 +0000", r"(\Seen \Flagged)", 20000, True, False),
    (2, "07-Jun-2020 11:22:33 +0200", r"($Forwarded ProjectX)", 30000, True, False),
    (3, "10-Sep-2021 23:59:59 -0700", "()", 40000, True, False),
    (4, "01-Jan-2018 00:00:00 +0000", r"(\Seen \Deleted)", 5000, True, True),
    (5, None, r"(\Seen)", 3000, False, False),
    (6, None, "()", 4000, False, False),
]

def setup(user, folder, outdir):
    m = login(user)
    box = quote(mutf7(folder))
    m.delete(box)  # from an earlier run; may not exist
    ok(m.create(box))
    now = time.time()
    for n, date, flags, size, old, deleted in MESSAGES:
        msg = message(n, size).encode()
        if date is None:
            date = imaplib.Time2Internaldate(now - (86400 if n == 5 else 7200)).strip('"')
        ok(m.append(box, flags, '"' + date + '"', msg))
        if old and not deleted:
            open(os.path.join(outdir, "orig-%d.eml" % n), "wb").write(msg)
    m.logout()

def state(user, folder):
    m = login(user)
    ok(m.select(quote(mutf7(folder)), readonly=True))
    typ, data = m.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    out = []
    for item in data:
        if not isinstance(item, tuple): continue
        meta = item[0].decode()
        flags = sorted(f.decode() for f in imaplib.ParseFlags(item[0]) if f.decode() != "\\Recent")
        idate = time.mktime(imaplib.Internaldate2tuple(item[0]))
        mid = item[1].decode().split(":", 1)[1].strip() if b":" in item[1] else ""
        size = int(meta.split("RFC822.SIZE ")[1].split()[0].rstrip(")"))
        out.append({"mid": mid, "flags": flags, "internaldate": idate, "size": size})
    m.logout()
    print(json.dumps(sorted(out, key=lambda x: x["mid"])))

def old(user, folder, cutoff):  # undeleted messages with INTERNALDATE < cutoff (ISO 8601 Z)
    m = login(user)
    ok(m.select(quote(mutf7(folder)), readonly=True))
    limit = datetime.datetime.strptime(cutoff, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    typ, data = m.uid("FETCH", "1:*", "(FLAGS INTERNALDATE RFC822.SIZE)")
    n = size = 0
    for item in data:
        if item is None: continue
        meta = item.decode() if isinstance(item, bytes) else item[0].decode()
        if "\\Deleted" in meta: continue
        if time.mktime(imaplib.Internaldate2tuple(meta.encode())) < limit:
            n += 1; size += int(meta.split("RFC822.SIZE ")[1].split()[0].rstrip(")"))
    m.logout()
    print(json.dumps({"messages": n, "bytes": size}))

def quota(user):
    m = login(user)
    typ, data = m.getquotaroot("INBOX")
    for line in data[1]:
        parts = line.decode().replace("(", " ").replace(")", " ").split()
        if "STORAGE" in parts:
            i = parts.index("STORAGE"); print(parts[i + 1], parts[i + 2])
    m.logout()

def bulk(user, folder, n):  # a fresh folder of n old messages
    m = login(user)
    box = quote(mutf7(folder))
    m.delete(box)
    ok(m.create(box))
    for i in range(n):
        ok(m.append(box, "()", '"04-Mar-2019 10:00:00 +0000"', message(1000 + i, 2000).encode()))
    m.logout()

def count(user, folder):
    m = login(user)
    print(int(ok(m.select(quote(mutf7(folder)), readonly=True))[0]))
    m.logout()

cmd = sys.argv[1]
if cmd == "setup": setup(sys.argv[2], sys.argv[3], sys.argv[4])
elif cmd == "bulk": bulk(sys.argv[2], sys.argv[3], int(sys.argv[4]))
elif cmd == "count": count(sys.argv[2], sys.argv[3])
elif cmd == "state": state(sys.argv[2], sys.argv[3])
elif cmd == "old": old(sys.argv[2], sys.argv[3], sys.argv[4])
elif cmd == "quota": quota(sys.argv[2])
EOF
py() { /usr/bin/python3 "$work/imap.py" "$@"; }

py setup "$user" "$folder" "$work" || { fail "imap setup of '$folder'"; finish; }
py state "$user" "$folder" >"$work/state.before"
check "setup: 6 messages in the folder" [ "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <"$work/state.before")" = 6 ]

# --- usage errors ----------------------------------------------------------------------------
run "no --older-than" 64 mbx quota cleanup "$user" --folder "$folder" --dry-run &&
  check "refuses to clean without an age" has "$err" "refusing to clean without an age"
run "no --folder" 64 mbx quota cleanup "$user" --older-than 30d --dry-run
run "bad age" 64 mbx quota cleanup "$user" --folder "$folder" --older-than 30 --dry-run
run "bad percent" 64 mbx quota cleanup "$user" --folder "$folder" --older-than 30d --until-below 120% --dry-run
run "two users" 64 mbx quota cleanup "$user" alice --folder Trash --older-than 30d --dry-run
run "no archive-dir" 78 mbx quota cleanup "$user" --folder "$folder" --older-than 30d &&
  check "missing archive-dir names the fix" has "$err" "--quota-archive-dir"
run "unknown user" 65 mbx quota cleanup nosuchuser --folder Trash --older-than 30d --dry-run &&
  check "unknown user named" has "$err" "no user 'nosuchuser' in the directory"
run "filter injection" 65 mbx quota cleanup '*)(uid=*' --folder Trash --older-than 30d --dry-run &&
  check "an injected filter matches nothing" has "$err" "no user '*)(uid=*' in the directory"
run "unknown folder" 65 mbx quota cleanup "$user" --folder "No such folder" --older-than 30d --dry-run &&
  check "unknown folder named" has "$err" "has no folder 'No such folder'"

# --- dry run: the plan, and nothing but reads on the wire -----------------------------------
ls "$TESTENV_RAWLOG_DIR/$user/" 2>/dev/null | sort >"$work/rawlog.before"
run "dry run" 0 mbx quota cleanup "$user" --folder "$folder,\\Junk" --older-than 30d --dry-run --format json &&
  check "dry run: the plan matches the folder (3 old, the deleted one and recent ones left out)" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin); folder=sys.argv[1]
rows={r["folder"]:r for r in d["rows"]}
f=rows[folder]
assert f["matched"]==3 and f["selected"]==3 and f["bytes"]==90000 and f["removed"]==0, f
assert f["result"]=="would-remove", f
s=d["summary"]
assert s["dry_run"] is True and s["usage_before_bytes"]>0 and s["limit_bytes"]>0, s
assert s["estimated_after_bytes"]==s["usage_before_bytes"]-s["bytes_to_free"], s
assert s["exit_code"]==0, s' "$folder" <<<"$out"
cutoff=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["cutoff"])' <<<"$out")
junk=$(py old "$user" Junk "$cutoff")
check "dry run: \\Junk resolved by special-use, numbers as read back over IMAP" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin); want=json.loads(sys.argv[1])
r={r["folder"]:r for r in d["rows"]}["Junk"]
assert r["matched"]==want["messages"] and r["bytes"]==want["bytes"], (r, want)' "$junk" <<<"$out"
sleep 0.2
ls "$TESTENV_RAWLOG_DIR/$user/" | sort >"$work/rawlog.after"
new_in=$(comm -13 "$work/rawlog.before" "$work/rawlog.after" | grep '\.in$' | sed "s|^|$TESTENV_RAWLOG_DIR/$user/|")
check "dry run: a rawlog transcript was written" [ -n "$new_in" ]
# shellcheck disable=SC2086
check "dry run: only EXAMINE, no SELECT/STORE/EXPUNGE in the transcript" bash -c '
  grep -qE "^[0-9.]+ [A-Za-z0-9]+ EXAMINE " "$@" &&
  ! grep -qiE "^[0-9.]+ [A-Za-z0-9]+ (UID )?(SELECT|STORE|EXPUNGE)( |$)" "$@"' _ $new_in
check "dry run: mailbox unchanged" bash -c 'cmp -s "$1" <(/usr/bin/python3 "$2" state "$3" "$4")' _ "$work/state.before" "$work/imap.py" "$user" "$folder"

# --- --until-below stops early -------------------------------------------------------------
read -r used_kib limit_kib < <(py quota "$user")
# A limit such that 80% of it lies between usage minus the oldest message (20000) and usage.
new_limit=$(( ((used_kib * 1024 - 10000) * 100 / 80 / 1024 + 1) * 1024 ))
ldapmod() {
  printf 'dn: uid=%s,%s\nchangetype: modify\nreplace: mailQuota\nmailQuota: %s\n' "$user" "$TESTENV_LDAP_PEOPLE" "$1" |
    ldapmodify -x -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" >/dev/null
}
old_limit=$(ldapsearch -x -LLL -H "$TESTENV_LDAP_URI" -D "$TESTENV_LDAP_ADMIN_DN" -y "$TESTENV_LDAP_ADMIN_PASSWORD_FILE" \
  -b "$TESTENV_LDAP_PEOPLE" "(uid=$user)" mailQuota | sed -n 's/^mailQuota: //p')
ldapmod "$new_limit"
run "until-below" 0 mbx quota cleanup "$user" --folder "$folder" --older-than 30d --until-below 80% --dry-run --format json &&
  check "until-below: only the oldest message is selected" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin); f=d["rows"][0]
assert f["matched"]==3 and f["selected"]==1 and f["bytes"]==20000, f
assert d["summary"]["estimated_percent_after"] < 80 <= d["summary"]["percent_before"], d["summary"]' <<<"$out"
run "until-below, largest first" 0 mbx quota cleanup "$user" --folder "$folder" --older-than 30d --until-below 80 --largest-first --dry-run --format json &&
  check "largest first: the 40000-byte message alone" /usr/bin/python3 -c '
import json,sys; f=json.load(sys.stdin)["rows"][0]
assert f["selected"]==1 and f["bytes"]==40000, f' <<<"$out"
ldapmod "$old_limit"

# --- archive directory unwritable: nothing is expunged -------------------------------------
printf 'not a directory\n' >"$work/afile"
run "archive under a regular file" 74 mbx quota cleanup "$user" --folder "$folder" --older-than 30d --quota-archive-dir "$work/afile/sub" &&
  check "unwritable archive named" has "$err" "$work/afile/sub"
check "unwritable archive: mailbox unchanged" bash -c 'cmp -s "$1" <(/usr/bin/python3 "$2" state "$3" "$4")' _ "$work/state.before" "$work/imap.py" "$user" "$folder"

# --- apply -------------------------------------------------------------------------------------
run "apply" 0 mbx quota cleanup "$user" --folder "$folder" --older-than 30d --quota-archive-dir "$archive" --format json &&
  check "apply: 3 removed, real usage after reported" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin); f=d["rows"][0]
assert f["removed"]==3 and f["result"]=="done", f
s=d["summary"]
assert s["usage_after_bytes"] is not None and s["usage_after_bytes"] < s["usage_before_bytes"], s' <<<"$out"
run_id=$("$bin/mbx" journal list --tool quota --journal "$journal" --format json |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["run_id"])')
py state "$user" "$folder" >"$work/state.after"
check "apply: exactly the old messages are gone, the deleted-by-someone-else one survives" /usr/bin/python3 -c '
import json,sys; s=json.load(open(sys.argv[1]))
mids=sorted(m["mid"] for m in s)
assert mids==["<cleanup-test-4@example.net>","<cleanup-test-5@example.net>","<cleanup-test-6@example.net>"], mids
assert "\\Deleted" in [m for m in s if m["mid"]=="<cleanup-test-4@example.net>"][0]["flags"]' "$work/state.after"
rundir=$(ls -d "$archive/$user"/*/ 2>/dev/null | head -n1)
check "archive: one Maildir for the run with 3 messages in cur/" [ "$(ls "$rundir/cur" 2>/dev/null | wc -l)" = 3 ]
check "archive: the exact bytes of each message" bash -c '
  for n in 1 2 3; do
    want=$(sha256sum <"$1/orig-$n.eml" | cut -d" " -f1)
    sha256sum "$2"/cur/* | grep -q "^$want " || exit 1
  done' _ "$work" "$rundir"
check "archive: flags in the Maildir name, mtime = internal date" bash -c '
  ls "$1/cur" | grep -q ":2,FS$" && ls "$1/cur" | grep -qE ":2,$" &&
  [ -n "$(find "$1/cur" -newermt "2019-03-04 09:59:59Z" ! -newermt "2019-03-04 10:00:00Z")" ]' _ "$rundir"
check "archive: manifest with 3 entries" [ "$(wc -l <"$rundir/manifest.jsonl")" = 3 ]
run "journal show" 0 "$bin/mbx" journal show "$run_id" --journal "$journal" --format json &&
  check "journal: 3 quota.cleanup.message actions done, with before-state and archive file" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin)
acts=[r for r in d["rows"] if r["kind"]=="quota.cleanup.message"]
assert len(acts)==3 and all(a["status"]=="done" for a in acts), acts
for a in acts:
    b=a["before"]; assert b["folder"]==sys.argv[1] and b["uidvalidity"]>0 and b["internaldate"] and b["message_id"], b
    assert a["after"]["file"].startswith(sys.argv[2]) and len(a["after"]["sha256"])==64, a
assert a["subject"].startswith("qclean00001/" + sys.argv[1] + ":"), a["subject"]' "$folder" "$archive" <<<"$out"

# --- undo ------------------------------------------------------------------------------------
run "undo dry run" 0 mbx journal undo "$run_id" --dry-run --format json &&
  check "undo dry run: would undo 3, changes nothing" bash -c '
    grep -c "\"result\":\"would-undo\"" <<<"$1" | grep -qx 3 && cmp -s "$2" <(/usr/bin/python3 "$3" state "$4" "$5")' \
    _ "$out" "$work/state.after" "$work/imap.py" "$user" "$folder"
run "undo" 0 mbx journal undo "$run_id" --format json &&
  check "undo: 3 undone" /usr/bin/python3 -c '
import json,sys; d=json.load(sys.stdin); assert d["summary"]["undone"]==3, d' <<<"$out"
py state "$user" "$folder" >"$work/state.undone"
check "undo: messages back with their flags, INTERNALDATE and size" /usr/bin/python3 -c '
import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert a==b, (a, b)' "$work/state.before" "$work/state.undone"
run "second undo" 0 mbx journal undo "$run_id" --format json &&
  check "second undo: already, nothing added" bash -c '
    grep -c "\"result\":\"already\"" <<<"$1" | grep -qx 3 && cmp -s "$2" <(/usr/bin/python3 "$3" state "$4" "$5")' \
    _ "$out" "$work/state.undone" "$work/imap.py" "$user" "$folder"
# As after a crash before the journal said "undone": the copy already in the folder is found.
/usr/bin/python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("update actions set status=\"done\" where run_id=? and kind=\"quota.cleanup.message\"", (int(sys.argv[2]),)); c.commit()' "$journal" "$run_id"
run "undo after a lost journal update" 0 mbx journal undo "$run_id" --format json &&
  check "undo never duplicates: found by Message-ID and size" bash -c '
    grep -c "\"detail\":\"already in " <<<"$1" | grep -qx 3 && cmp -s "$2" <(/usr/bin/python3 "$3" state "$4" "$5")' \
    _ "$out" "$work/state.undone" "$work/imap.py" "$user" "$folder"
check "undo never touches the archive" [ "$(ls "$rundir/cur" | wc -l)" = 3 ]

# --- one cleanup of a mailbox at a time (issue 20, item 15) ------------------------------------
# A claim held by a live run (a sleeping process stands in for it): refused with 75, untouched.
sleep 600 & holder=$!
/usr/bin/python3 - "$journal" "$holder" "$user" <<'EOF'
import socket, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
cur = c.execute("INSERT INTO runs (uuid, tool, operator, operator_uid, host, pid, mbx_version, started_at)"
                " VALUES ('0123456789abcdef0123456789abcdef', 'quota', 'someone', 1000, ?, ?, 'test',"
                " '2026-01-01T00:00:00Z')", (socket.gethostname(), int(sys.argv[2])))
c.execute("INSERT INTO actions (run_id, seq, kind, subject, status, started_at)"
          " VALUES (?, 1, 'mailbox.claim', ?, 'planned', '2026-01-01T00:00:00Z')", (cur.lastrowid, sys.argv[3]))
c.commit()
EOF
run "claim held by a live run" 75 mbx quota cleanup "$user" --folder "$folder" --older-than 1h --quota-archive-dir "$archive" &&
  check "claim: the holding run named" has "$err" "another mbxkit run is changing the mailbox of '$user': run" &&
  check "claim: the holder's pid named" has "$err" "pid $holder on"
check "claim: mailbox untouched" bash -c 'cmp -s "$1" <(/usr/bin/python3 "$2" state "$3" "$4")' \
  _ "$work/state.undone" "$work/imap.py" "$user" "$folder"
kill "$holder"; wait "$holder" 2>/dev/null
run "claim of a run whose process is gone is no claim" 0 mbx quota cleanup "$user" --folder "$folder" --older-than 30d --dry-run

# Two cleanups at once with one journal: every message removed once, and counted once.
bulkbox="Concurrent"
py bulk "$user" "$bulkbox" 400 || fail "bulk setup"
"$bin/mbx" quota cleanup "$user" --folder "$bulkbox" --older-than 30d --quota-archive-dir "$work/arch-a" \
  --config "$conf" --journal "$journal" --format json >"$work/a.out" 2>"$work/a.err" & pa=$!
"$bin/mbx" quota cleanup "$user" --folder "$bulkbox" --older-than 30d --quota-archive-dir "$work/arch-b" \
  --config "$conf" --journal "$journal" --format json >"$work/b.out" 2>"$work/b.err" & pb=$!
wait "$pa"; ra=$?; wait "$pb"; rb=$?
check "concurrent: each ends 0 or 75 (a: $ra, b: $rb; $(cat "$work/a.err" "$work/b.err" | head -c 300 | tr '\n' ' '))" \
  bash -c '[[ "$1" =~ ^(0|75)$ && "$2" =~ ^(0|75)$ ]]' _ "$ra" "$rb"
check "concurrent: the folder is empty" [ "$(py count "$user" "$bulkbox")" = 0 ]
check "concurrent: 400 expunges journaled done and reported removed, not one twice" /usr/bin/python3 -c '
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
done = c.execute("SELECT COUNT(*) FROM actions WHERE kind = ? AND status = ? AND subject LIKE ?",
                 ("quota.cleanup.message", "done", sys.argv[2] + "/Concurrent:%")).fetchone()[0]
assert done == 400, done
removed = 0
for f in sys.argv[3:]:
    text = open(f).read()
    if text.strip(): removed += sum(r["removed"] for r in json.loads(text)["rows"])
assert removed == 400, removed
held = c.execute("SELECT COUNT(*) FROM actions WHERE kind = ? AND status = ?", ("mailbox.claim", "planned")).fetchone()[0]
assert held == 1, held  # only the fake holder above, whose process is gone
' "$journal" "$user" "$work/a.out" "$work/b.out"

finish
