#!/usr/bin/env bash
# mbx audit server / probe against the real SOGo (ActiveSync) and Dovecot of the testenv_sogo
# fixture: announced versions and findings, the IMAP CAPABILITY/ID, probes per version and
# query form, and the failure exit codes (bad password 77, wrong CA 69, unreachable 69).
#   tests/tools/audit_server_test.sh BINDIR     (TESTENV_FILE = a `testenv up --with-sogo` DIR/env)
bin="$1"
. "$(dirname "$0")/lib.sh"
need_testenv
unset MBX_ACTIVESYNC_PASSWORD
audit="$bin/mbx-audit"
[ -n "${TESTENV_EAS_URL:-}" ] || { fail "TESTENV_FILE has no TESTENV_EAS_URL (not --with-sogo)"; finish; }
pw="$(cat "$TESTENV_USER_PASSWORD_FILE")"

# server: SOGo's announced versions and the findings they give (warning: exit 1)
if run "server json" 1 "$audit" server --config "$conf" --format json; then
  check "server: versions 2.5,12.0,12.1,14.0,14.1" has "$out" '"versions":"2.5,12.0,12.1,14.0,14.1"'
  check "server: MS-Server-ActiveSync 14.1" has "$out" '"server_version":"14.1"'
  check "server: FolderSync among the commands" grep -q '"commands":"[^"]*FolderSync' <<<"$out"
  check "server: legacy finding" has "$out" 'legacy versions below 12.1 announced: 2.5, 12.0'
  check "server: 16.1 missing finding" has "$out" '16.1 not announced'
  check "server: status warning" has "$out" '"status":"warning"'
  check "server: no password in the output" bash -c '! grep -qF -- "$1" <<<"$2$3"' _ "$pw" "$out" "$err"
fi
if run "server csv, URL given with the path" 1 "$audit" server --config "$conf" --format csv \
     "$TESTENV_EAS_URL/Microsoft-Server-ActiveSync/"; then
  check "server csv: header keys" has "$(head -n1 <<<"$out")" 'url,kind,http_status,server_version'
  check "server csv: one endpoint row" [ "$(grep -c 'Microsoft-Server-ActiveSync,activesync,200' <<<"$out")" = 1 ]
fi

# failures
printf 'wrong-%s\n' "$pw" >"$work/bad.pw"; chmod 600 "$work/bad.pw"
run "server: bad password -> 77" 77 "$audit" server --config "$conf" --activesync-password-file "$work/bad.pw" &&
  check "server: bad password named" has "$out$err" 'authentication failed (401)'
run "server: wrong CA -> 69" 69 "$audit" server --config "$conf" --activesync-ca-file /etc/ssl/certs/ca-certificates.crt &&
  ok "server: wrong CA"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run "server: unreachable -> 69" 69 "$audit" server --config "$conf" "https://127.0.0.1:$port" && ok "server: unreachable"
run "server: not a URL -> 64" 64 "$audit" server --config "$conf" "ftp://x" && ok "server: bad scheme"

# IMAP: the sandbox Dovecot, logged in as the master user for alice
if run "server imaps" 0 "$audit" server --config "$conf" --format json --user "$TESTENV_EAS_USER" "$TESTENV_IMAPS_URI"; then
  check "imaps: IMAP4rev1" has "$out" '"versions":"IMAP4rev1'
  check "imaps: Dovecot from ID" has "$out" '"server_version":"Dovecot'
  check "imaps: capabilities" has "$out" 'IDLE'
fi

# probe: 14.1 works in both forms with folders
if run "probe 14.1" 0 "$audit" probe --config "$conf" --format json --as-version 14.1; then
  for form in plain base64; do
    check "probe 14.1 $form works, Status 1, folders > 0" python3 -c '
import json, sys
rows = json.loads(sys.argv[1])["rows"]
sys.exit(0 if any(r["version"] == "14.1" and r["step"] == "foldersync" and r["form"] == sys.argv[2]
                  and r["http_status"] == 200 and r["eas_status"] == 1 and r["folders"] > 0
                  and r["verdict"] == "works" for r in rows) else 1)' "$out" "$form"
  done
  check "probe: cleanup hint" has "$out$err" 'sogo-tool manage-eas resetdevice'
fi
if run "probe 12.1" 0 "$audit" probe --config "$conf" --format csv --as-version 12.1 --device-id MBXTESTPROBE121; then
  check "probe 12.1 base64 row" grep -q '^12.1,foldersync,base64,200,1,[1-9][0-9]*,.*,works' <<<"$out"
fi
if run "probe 16.1 (not announced)" 1 "$audit" probe --config "$conf" --format json --as-version 16.1; then
  check "probe 16.1 works anyway" has "$out" '"verdict":"works"'
  check "probe 16.1 finding: not announced" has "$out" '16.1 works although OPTIONS does not announce it'
fi
run "probe 2.5 has no base64 form" 0 "$audit" probe --config "$conf" --format csv --as-version 2.5 &&
  check "probe 2.5: plain only" [ "$(grep -c '^2.5,foldersync' <<<"$out")" = 1 ]
run "probe: bad password -> 77" 77 "$audit" probe --config "$conf" --activesync-password-file "$work/bad.pw" --as-version 14.1 &&
  check "probe: bad password named" has "$err" 'cannot authenticate'
run "probe: no version -> 64" 64 "$audit" probe --config "$conf" && ok "probe: no version"
run "probe: bad version -> 64" 64 "$audit" probe --config "$conf" --as-version 14 && ok "probe: bad version"

# the journal: one action per server and per probe step, never the password
if [ -f "$TESTENV_DIR/journal.sqlite" ]; then
  check "journal: audit.server and audit.probe actions" bash -c \
    'python3 - "$1" <<PY
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
kinds = {k for (k,) in c.execute("select kind from actions")}
sys.exit(0 if {"audit.server", "audit.probe"} <= kinds else 1)
PY' _ "$TESTENV_DIR/journal.sqlite"
  check "journal: no password" bash -c '! python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(list(c.iterdump()))" "$1" | grep -qF -- "$2"' _ "$TESTENV_DIR/journal.sqlite" "$pw"
fi
finish
