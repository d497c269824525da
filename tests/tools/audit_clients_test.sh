#!/usr/bin/env bash
# mbx audit clients and mbx audit compat: the device inventory from access logs and the
# pre-upgrade verdicts. Part one reads log fixtures written from the documented formats (IIS W3C
# driven by #Fields, nginx combined with the version header, gzip, CRLF, hostile and broken
# lines); part two makes real ActiveSync requests to the sandbox's SOGo through its nginx and
# audits nginx's own access log, then judges the devices against the live server's versions.
#   audit_clients_test.sh BIN_DIR      (TESTENV_FILE: a testenv started with --with-sogo)
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/data/audit"
journal="$work/journal.sqlite"
mbx() { "$bin/mbx" "$@" --journal "$journal"; }
jq_py() { /usr/bin/python3 -c "$@"; }
json_check() { # NAME PYTHON-ASSERTIONS (reads $out as `doc`)
  local name="$1" code="$2"
  if printf '%s' "$out" | /usr/bin/python3 -c "import json,sys
doc=json.load(sys.stdin); rows={(r['user'],r['device_id']):r for r in doc['rows']}; s=doc['summary']
$code" 2>"$work/py.err"; then ok "$name"; else fail "$name: $(tail -n 3 "$work/py.err")"; fi
}

# --- IIS W3C (Exchange): fields by #Fields, Log= versions, probes, CRLF ----------------------
if run "iis" 0 mbx audit clients --log "$data/iis.log" --format json; then
  json_check "iis: four devices with family, client version and the version from Log=" '
assert len(rows) == 4, rows.keys()
a = rows[("EXAMPLE\\alice", "ApplF17XYZ")]
assert (a["family"], a["model"], a["protocol_versions"], a["requests"]) == ("iOS", "iPhone7,2", "16.1", 2), a
assert a["version_sources"] == "log-token" and a["commands"] == "Ping:1,Sync:1", a
b = rows[("bob@example.org", "androidc99")]
assert (b["family"], b["client_version"], b["protocol_versions"]) == ("Android (Exchange app)", "4.4.2", "14.1"), b
c = rows[("EXAMPLE\\carol", "WM123")]
assert (c["protocol_versions"], c["statuses"], c["client_version"]) == ("2.0", "449:1", "6.x"), c  # Exchange 2003 V2
d = rows[("EXAMPLE\\dave", "WinMail1")]
assert (d["protocol_versions"], d["last_version"]) == ("12.1,14.0", "12.1"), d
assert (s["requests"], s["probes"], s["skipped"], s["malformed"]) == (7, 1, 1, 1), s'
  check "iis: the malformed line is named on stderr, not fatal" has "$err" "iis.log: 1 malformed line"
fi

# --- nginx combined (SOGo, Z-Push): header version, base64 query, hostile values --------------
if run "nginx" 0 mbx audit clients --log "$data/nginx.log" --format json; then
  json_check "nginx: devices from the header and the base64 query; OPTIONS and other requests counted" '
assert len(rows) == 5, rows.keys()
a = rows[("alice", "ApplC39XYZ")]
assert (a["family"], a["client_version"], a["protocol_versions"], a["first_seen"]) == ("iOS", "11.2.6", "14.1", "2026-11-20T08:00:01Z"), a
b = rows[("bob", "v141Device")]
assert (b["protocol_versions"], b["version_sources"], b["device_type"]) == ("14.1", "base64", "SmartPhone"), b
assert (s["requests"], s["no_device"], s["skipped"], s["malformed"]) == (7, 1, 1, 2), s'
  json_check "nginx: escape sequences and invalid UTF-8 reach the output escaped" '
m = rows[("mallory", "EVIL1")]
assert "\x1b" not in m["user_agent"] and "\\x1b]0;owned" in m["user_agent"], m
assert m["device_type"] == "Bad\\xffType", m'
fi
if run "nginx csv" 0 mbx audit clients --log "$data/nginx.log" --format csv; then
  check "csv: a formula in a user agent is neutralised" has "$out" "'=HYPERLINK"
  check "csv: no raw escape byte in the output" bash -c '! grep -q $'"'"'\x1b'"'"' <<<"$1"' _ "$out"
fi
if run "nginx table" 0 mbx audit clients --log "$data/nginx.log"; then
  check "table: no raw escape byte on the terminal" bash -c '! grep -q $'"'"'\x1b'"'"' <<<"$1"' _ "$out"
fi

# --- gzip, several files, a huge line ----------------------------------------------------------
gzip -c "$data/nginx.log" >"$work/rotated.log.gz"
{ printf '10.1.2.9 - zed [20/Nov/2026:10:00:00 +0100] "POST /Microsoft-Server-ActiveSync?Cmd=Sync&User=zed&DeviceId=Z1&DeviceType=' 
  head -c 300000 /dev/zero | tr '\0' 'A'; printf ' HTTP/1.1" 200 1 "-" "x" "14.1"\n'
  printf '10.1.2.9 - zed [20/Nov/2026:10:00:01 +0100] "POST /Microsoft-Server-ActiveSync?Cmd=Sync&User=zed&DeviceId=Z1&DeviceType=Phone HTTP/1.1" 200 1 "-" "x" "14.1"\n'
} >"$work/huge.log"
if run "gzip and huge" 0 mbx audit clients --log "$work/rotated.log.gz" --log "$work/huge.log" --format json; then
  json_check "gzip: read by its magic; a 300 kB line is malformed, the next line counts" '
assert ("alice", "ApplC39XYZ") in rows and ("zed", "Z1") in rows, rows.keys()
assert rows[("zed", "Z1")]["requests"] == 1
assert s["files"] == 2 and s["malformed"] == 3, s'
fi

# --- bad input -----------------------------------------------------------------------------------
run "no --log" 64 mbx audit clients
run "missing file" 74 mbx audit clients --log "$work/nope.log" && check "missing file: named" has "$err" "nope.log"
printf 'not gzip at all' | gzip -c | head -c 12 >"$work/broken.gz"
run "truncated gzip" 65 mbx audit clients --log "$work/broken.gz"
run "bad --log-format" 64 mbx audit clients --log "$data/iis.log" --log-format w3c
run "bad --target-versions" 64 mbx audit compat --log "$data/iis.log" --target-versions 14.1,sixteen
run "compat without target" 64 mbx audit compat --log "$data/iis.log"

# --- extra rules file -------------------------------------------------------------------------------
printf '# site clients\nuser-agent prefix SAMSUNG- samsung Galaxy Mail (site rule)\n' >"$work/rules.txt"
if run "rules" 0 mbx audit clients --log "$data/nginx.log" --rules "$work/rules.txt" --format json; then
  json_check "rules: a site rule wins over the built-in table" '
assert rows[("carol", "androidc12345")]["family"] == "Galaxy Mail (site rule)", rows[("carol", "androidc12345")]'
fi

# --- compat against a version list ---------------------------------------------------------------
if run "compat" 2 mbx audit compat --log "$data/iis.log" --target-versions 14.1,16.0,16.1 --format json; then
  json_check "compat: ok, ok, breaks, breaks with reasons and remediations" '
v = {k: r["verdict"] for k, r in rows.items()}
assert v[("EXAMPLE\\alice", "ApplF17XYZ")] == "ok" and v[("bob@example.org", "androidc99")] == "ok", v
assert v[("EXAMPLE\\carol", "WM123")] == "breaks" and v[("EXAMPLE\\dave", "WinMail1")] == "breaks", v
d = rows[("EXAMPLE\\dave", "WinMail1")]
assert "no version in common" in d["reason"] and "keep 14.0 on the server" in d["remediation"], d
assert (s["ok"], s["at_risk"], s["breaks"], s["unknown"]) == (2, 0, 2, 0), s
assert "Windows Mail 17.5.9600: 1 breaks" in s["by_client"], s["by_client"]'
fi
if run "compat at-risk" 1 mbx audit compat --log "$data/iis.log" --target-versions 2.0,12.1,14.0,14.1,16.1 --format json; then
  json_check "compat: dave uses 12.1 now though it has used 14.0, which stays: at-risk; the rest ok" '
d = rows[("EXAMPLE\\dave", "WinMail1")]
assert (d["verdict"], d["best_common"], d["status"]) == ("at-risk", "14.0", "warning"), d
assert "re-create the device partnership" in d["remediation"], d
assert (s["ok"], s["at_risk"], s["breaks"]) == (3, 1, 0), s'
fi
if run "clients into the journal" 0 mbx audit clients --log "$data/iis.log" --format json; then
  if run "compat --from-journal" 2 mbx audit compat --from-journal --target-versions 14.1,16.1 --format json; then
    json_check "compat --from-journal: the same four devices from the latest clients run" '
assert len(rows) == 4 and s["from_run"] is not None and s["breaks"] == 2, s'
  fi
fi

# --- part two: real requests to SOGo through nginx, then its access log ---------------------------
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
# The upgrade question: a server that keeps only 16.x breaks both.
if run "sogo compat 16.x" 2 mbx audit compat --log "$work/mine.log" --target-versions 16.0,16.1 --format json; then
  json_check "sogo compat 16.x: both devices break, with the client named in the remediation" '
import os
mine = {k[1]: r for k, r in rows.items() if os.environ["AUD_DEVICE"] in k[1]}
assert len(mine) == 2, mine
assert all(r["verdict"] == "breaks" for r in mine.values()), mine
assert any("update iOS 11.2.6" in r["remediation"] for r in mine.values()), mine'
fi
finish
