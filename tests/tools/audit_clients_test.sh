#!/usr/bin/env bash
# mbx audit clients and mbx audit compat against the sandbox's SOGo: real ActiveSync requests
# through its nginx, then nginx's own access log audited and its devices judged against the live
# server's versions. (The log fixtures, which need no server, are audit_logs_test.sh.)
#   audit_clients_test.sh BIN_DIR      (TESTENV_FILE: a testenv started with --with-sogo)
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
journal="$work/journal.sqlite"
mbx() { "$bin/mbx" "$@" --journal "$journal"; }

# --- real requests to SOGo through nginx, then its access log --------------------------------------
need_testenv
if [ -z "${TESTENV_EAS_URL:-}" ] || [ ! -f "${TESTENV_EAS_ACCESS_LOG:-/nonexistent}" ]; then
  fail "the testenv was not started with --with-sogo (no TESTENV_EAS_URL / access log)"; finish
fi
pw="$(head -n 1 "$TESTENV_USER_PASSWORD_FILE")"
foldersync() { # DEVICEID DEVICETYPE USER-AGENT VERSION [BASE64-QUERY]
  local q="Cmd=FolderSync&User=alice&DeviceId=$1&DeviceType=$2"
  [ -n "${5:-}" ] && q="$5"
  printf '\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30\x00\x01\x01' |
    curl -sS -o /dev/null -w '%{http_code}' --cacert "$TESTENV_CA_FILE" -u "alice:$pw" -A "$3" \
      -H "MS-ASProtocolVersion: $4" -H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @- \
      "$TESTENV_EAS_URL/Microsoft-Server-ActiveSync?$q"
}
device="MBXAUD$$"
export AUD_DEVICE="$device" # the devices of this run (the sandbox log keeps earlier ones)
check "sogo: an iPhone's FolderSync with 14.1 is answered 200" \
  [ "$(foldersync "${device}IOS" iPhone 'Apple-iPhone9C3/1504.100' 14.1)" = 200 ]
check "sogo: an old Android's FolderSync with 12.1 is answered 200" \
  [ "$(foldersync "androidc${device}" Android 'Android/4.0.4-EAS-1.3' 12.1)" = 200 ]
if run "sogo clients" 0 mbx audit clients --log "$TESTENV_EAS_ACCESS_LOG" --format json; then
  json_check "sogo: nginx's log gives both devices with client, version and command" '
import os
dev = os.environ["AUD_DEVICE"]
i, a = rows[("alice", dev + "IOS")], rows[("alice", "androidc" + dev)]
assert (i["user"], i["family"], i["protocol_versions"], i["version_sources"]) == ("alice", "iOS", "14.1", "header"), i
assert "FolderSync" in i["commands"] and i["statuses"].startswith("200"), i
assert (a["family"], a["client_version"], a["protocol_versions"]) == ("Android (Exchange app)", "4.0.4", "12.1"), a'
fi
# Only this run's devices: other tests share the sandbox and its log.
grep -F "$device" "$TESTENV_EAS_ACCESS_LOG" >"$work/mine.log"
if run "sogo compat --server" 0 mbx audit compat --log "$work/mine.log" --server "$TESTENV_EAS_URL" \
    --config "$TESTENV_DIR/mbxkit.conf" --format json; then
  json_check "sogo compat: the versions come from the live server (2.5..14.1); both devices keep theirs" '
assert s["target_versions"] == "2.5,12.0,12.1,14.0,14.1", s
import os
mine = [r for k, r in rows.items() if os.environ["AUD_DEVICE"] in k[1]]
assert len(rows) == 2 and len(mine) == 2 and all(r["verdict"] == "ok" for r in mine), rows'
fi
# The upgrade question: a server that keeps only 16.x. The iPhone (iOS 11.2.6) was seen at 14.1
# only because SOGo offers no more, but iOS speaks 16.1 since iOS 10: ok by its capability row.
# The AOSP Exchange client speaks at most 14.1: it breaks.
if run "sogo compat 16.x" 2 mbx audit compat --log "$work/mine.log" --target-versions 16.0,16.1 --format json; then
  json_check "sogo compat 16.x: the iPhone negotiates 16.1, the old Android breaks, each with its reason" '
import os
dev = os.environ["AUD_DEVICE"]
mine = {k[1]: r for k, r in rows.items() if dev in k[1]}
assert len(mine) == 2, mine
i, a = mine[dev + "IOS"], mine["androidc" + dev]
assert (i["verdict"], i["basis"], i["best_common"]) == ("ok", "capability", "16.1"), i
assert (a["verdict"], a["basis"]) == ("breaks", "capability"), a
assert "speaks at most 14.1" in a["reason"] and "a client that speaks 16.0 or later" in a["remediation"], a'
fi
finish
