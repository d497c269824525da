#!/usr/bin/env bash
# mbx audit clients and mbx audit compat on log fixtures, no server needed: IIS W3C driven by
# #Fields, nginx combined with the version header, gzip, CRLF, hostile and broken lines, a 300 kB
# line, bad input, a rules file, compat against a version list and from the journal. ctest runs
# it with the other tool tests (no fixture); scripts/test also runs it against the binaries of
# its AddressSanitizer + UndefinedBehaviorSanitizer build. audit_clients_test.sh audits SOGo's.
#   audit_logs_test.sh BIN_DIR
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/data/audit"
journal="$work/journal.sqlite"
mbx() { "$bin/mbx" "$@" --journal "$journal"; }

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
# Seen versions and the client capability table (docs/commands/audit.md): a client without a row
# is never "breaks" (or "ok") by guess; Windows Mobile's row bounds it at 14.1 without saying it
# speaks 14.1.
if run "compat" 1 mbx audit compat --log "$data/iis.log" --target-versions 14.1,16.0,16.1 --format json; then
  json_check "compat: ok, ok, at-risk (capability), at-risk (unknown), each with its reason" '
v = {k: (r["verdict"], r["basis"]) for k, r in rows.items()}
assert v[("EXAMPLE\\alice", "ApplF17XYZ")][0] == "ok" and v[("bob@example.org", "androidc99")] == ("ok", "observed"), v
assert v[("EXAMPLE\\carol", "WM123")] == ("at-risk", "capability"), v
assert v[("EXAMPLE\\dave", "WinMail1")] == ("at-risk", "unknown"), v
d = rows[("EXAMPLE\\dave", "WinMail1")]
assert "whether Windows Mail 17.5.9600 speaks 14.1 is not known" in d["reason"], d
assert "mbx audit probe URL --as-version 14.1" in d["remediation"] and "keep 14.0 on the server" in d["remediation"], d
c = rows[("EXAMPLE\\carol", "WM123")]
assert "speaks at most 14.1" in c["reason"] and "Windows Mobile ended with 6.5" in c["capability"], c
assert (s["ok"], s["at_risk"], s["breaks"], s["unknown"]) == (2, 2, 0, 0), s
assert "Windows Mail 17.5.9600: 1 at-risk" in s["by_client"], s["by_client"]'
fi
if run "compat at-risk" 1 mbx audit compat --log "$data/iis.log" --target-versions 2.0,12.1,14.0,14.1,16.1 --format json; then
  json_check "compat: dave uses 12.1 now though it has used 14.0, which stays: at-risk; the rest ok" '
d = rows[("EXAMPLE\\dave", "WinMail1")]
assert (d["verdict"], d["best_common"], d["status"]) == ("at-risk", "14.0", "warning"), d
assert "re-create the device partnership" in d["remediation"], d
assert (s["ok"], s["at_risk"], s["breaks"]) == (3, 1, 0), s'
fi
if run "clients into the journal" 0 mbx audit clients --log "$data/iis.log" --format json; then
  if run "compat --from-journal" 1 mbx audit compat --from-journal --target-versions 14.1,16.1 --format json; then
    json_check "compat --from-journal: the same four devices from the latest clients run" '
assert len(rows) == 4 and s["from_run"] is not None and (s["ok"], s["at_risk"], s["breaks"]) == (2, 2, 0), s'
  fi
fi

# --- the Exchange Online cutover (16.1 only from 2026-03-01) on an Exchange 2016 IIS log -------------
# iOS 9 and iOS 17 (seen at 14.1), the AOSP Exchange client at 14.1, Windows 10 Mail, Windows Phone 8.1.
if run "exchange-online" 2 mbx audit compat --log "$data/exchange2016-iis.log" --target exchange-online --format json; then
  json_check "exchange-online: the verdicts the capability table predicts, each with its reason" '
v = {k[0]: (r["verdict"], r["basis"]) for k, r in rows.items()}
assert v["CONTOSO\\ann"] == ("breaks", "capability"), v          # iOS 9: at most 16.0
assert v["ben@contoso.com"] == ("ok", "capability"), v             # iOS 17 seen at 14.1: speaks 16.1
assert v["CONTOSO\\cho"] == ("breaks", "capability"), v          # AOSP Exchange: at most 14.1
assert v["CONTOSO\\dev"] == ("at-risk", "unknown"), v            # Windows Mail: no row
assert v["CONTOSO\\eli"] == ("breaks", "capability"), v          # Windows Phone 8.1: at most 14.1
r = {k[0]: r for k, r in rows.items()}
assert r["CONTOSO\\ann"]["remediation"] == "update to iOS 10 or later, which speaks 16.1", r["CONTOSO\\ann"]
assert "it will negotiate 16.1" in r["ben@contoso.com"]["reason"] and r["ben@contoso.com"]["best_common"] == "16.1"
assert all("on the server" not in x["remediation"] for x in rows.values()), "Exchange Online cannot keep old versions"
assert "2026-03-01" in s["target"] and s["target_versions"] == "16.1", s
assert (s["ok"], s["at_risk"], s["breaks"], s["unknown"]) == (1, 1, 3, 0), s'
fi
run "unknown --target" 64 mbx audit compat --log "$data/iis.log" --target exchange-2003 &&
  check "unknown --target: the known names listed" has "$err" "known targets: exchange-online"
printf 'capability 10 - 16.1 16.1 Windows Mail\n' >"$work/caps.txt"
if run "a site capability row" 2 mbx audit compat --log "$data/exchange2016-iis.log" --target exchange-online --rules "$work/caps.txt" --format json; then
  json_check "rules: a capability row from --rules decides for Windows Mail 10" '
d = [r for k, r in rows.items() if k[0] == "CONTOSO\\dev"][0]
assert (d["verdict"], d["basis"]) == ("ok", "capability") and "caps.txt:1" in d["capability"], d'
fi

finish
