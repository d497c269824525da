#!/usr/bin/env bash
# mbx against directory servers the team did not configure, on a private testenv
# (`up --with-389ds --with-samba-ad`, too slow to start for the shared fixture):
# - 389 Directory Server (mbxkit-389ds.conf): ping names the kind from the root DSE; diagnose
#   judges a locked account by nsAccountLock's value (dave is locked there, alice is not) and
#   names 389-DS's tools; quota check and sweep find its users there; reprovision + undo through
#   dovecot-389ds lock and unlock by nsAccountLock (operational: read by name).
# - A Samba AD domain controller with its own Dovecot (mbxkit-samba-ad.conf, which sets no
#   user-filter, uid-attribute or disable settings: mbx takes Active Directory's): ping and
#   quota sweep see exactly the mail users a plain reference computes from the directory (no
#   Administrator, Guest, krbtgt, computer, service or disabled account); diagnose tells
#   disabled, locked out and must-change-password apart; reprovision makes CN=NEWUID with
#   sAMAccountName, userPrincipalName and unicodePwd over StartTLS, moves mail and
#   proxyAddresses, sets only ACCOUNTDISABLE, and undo restores the exact flags; a password the
#   domain refuses leaves a disabled entry and the rerun with another password finishes.
#   directories_test.sh BIN_DIR
bin="$1"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -u /tmp/mbx-dirs-XXXXXX)
if [ "${CI:-}" != true ] && { ! [ -x /usr/sbin/ns-slapd ] || ! [ -x /usr/sbin/samba ]; }; then
  echo "skipped: 389-ds-base or samba is not installed (scripts/bootstrap installs them; under CI=true this fails)"
  exit 0
fi
own_testenv "$dir" --with-389ds --with-samba-ad
TESTENV_FILE="$dir/env" need_testenv
conf389="$TESTENV_DIR/mbxkit-389ds.conf"
journal="$work/journal.sqlite"
jq_py() { /usr/bin/python3 -c "$@"; }
mbx() { "$bin/mbx" "$@" --config "$conf389" --journal "$journal"; }

if run "ping 389-DS" 0 mbx ping --user alice --format json; then
  check "ping: the bind names 389-DS from its root DSE" jq_py '
import json,sys; d=json.load(sys.stdin)
bind=[r for r in d["rows"] if r["step"]=="bind"][0]["detail"]
assert bind.endswith("; 389ds (root DSE)"), bind' <<<"$out"
fi
run "ping: [ldap] kind overrides" 0 mbx ping --user alice --ldap-kind openldap --format json &&
  check "ping: the configured kind is said to be configured" has "$out" "openldap ([ldap] kind)"

"$bin/mbx" diagnose dave --config "$conf389" --journal "$journal" --format json >"$work/dave.json" 2>"$work/err"
check "diagnose dave: locked by nsAccountLock: MIS_5, with 389-DS's tool" jq_py '
import json,sys
rows={(r["area"],r["check"]):r for r in json.load(open(sys.argv[1]))["rows"]}
e=rows[("directory","enabled")]
assert e["status"]=="failed" and e["mis"]=="MIS_5" and "nsAccountLock: true" in e["detail"], e
assert "dsidm" in e["remedy"], e["remedy"]' "$work/dave.json"
"$bin/mbx" diagnose alice --config "$conf389" --journal "$journal" --format json >"$work/alice.json" 2>"$work/err"
check "diagnose alice: enabled (no nsAccountLock), entry and mail found in 389-DS" jq_py '
import json,sys
rows={(r["area"],r["check"]):r for r in json.load(open(sys.argv[1]))["rows"]}
assert rows[("directory","enabled")]["status"]=="ok", rows[("directory","enabled")]
assert rows[("directory","entry")]["status"]=="ok", rows[("directory","entry")]
assert rows[("directory","mail")]["detail"]=="alice@example.org", rows[("directory","mail")]' "$work/alice.json"
run "quota check alice with 389-DS as the directory" 0 mbx quota check alice --format json &&
  check "quota check: alice found, her usage read" jq_py '
import json,sys; r=json.load(sys.stdin)["rows"][0]
assert r["user"]=="alice" and r["used_bytes"] is not None, r' <<<"$out"
run "quota sweep with 389-DS as the directory" 0 mbx quota sweep --format json &&
  check "quota sweep: the four demo users of 389-DS, alice's usage read from dovecot-389ds" jq_py '
import json,sys; rows={r["user"]:r for r in json.load(sys.stdin)["rows"]}
assert sorted(rows)==["alice","bob","carol","dave"], sorted(rows)
assert rows["alice"]["used_bytes"]>0, rows["alice"]' <<<"$out"

# --- 389-DS: reprovision and undo, the lock by nsAccountLock (an operational attribute: read
# by name, or undo would not see it and leave the old account locked)
ds() { # DN ATTR: the values, sorted, as 389-DS's mbxkit account reads them
  ldapsearch -x -ZZ -LLL -o ldif-wrap=no -H "$TESTENV_389DS_URI" -D "$TESTENV_389DS_BIND_DN" \
    -y "$TESTENV_389DS_PASSWORD_FILE" -s base -b "$1" '(objectClass=*)' "$2" 2>/dev/null |
    sed -n "s/^$2: //Ip" | sort | paste -sd' '
}
export -f ds
export LDAPTLS_CACERT="$TESTENV_CA_FILE" LDAPTLS_REQCERT=demand
ds_people="$TESTENV_389DS_PEOPLE"
ds_run=""
if run "389-DS reprovision bob -> bob2" 0 mbx reprovision bob --new-uid bob2 --format json; then
  ds_run=$(jq_py 'import json,sys; print(json.load(sys.stdin)["summary"]["run"])' <<<"$out")
  ds_pw=$(jq_py 'import json,sys; print(json.load(sys.stdin)["summary"]["password_file"])' <<<"$out")
  check "389-DS reprovision: every step done" jq_py '
import json,sys; st=[r["status"] for r in json.load(sys.stdin)["rows"]]
assert st==["done"]*7, st' <<<"$out"
  check "389-DS reprovision: bob2 has the address; bob has none and is locked (nsAccountLock)" bash -c '
    [ "$(ds "uid=bob2,$1" mail)" = bob@example.org ] && [ -z "$(ds "uid=bob,$1" mail)" ] &&
    [ "$(ds "uid=bob,$1" nsAccountLock)" = TRUE ] && [ -z "$(ds "uid=bob2,$1" nsAccountLock)" ]' _ "$ds_people"
  check "389-DS reprovision: bob2 binds with the new password over StartTLS" \
    ldapsearch -x -ZZ -LLL -H "$TESTENV_389DS_URI" -D "uid=bob2,$ds_people" -y "$ds_pw" -s base -b "" vendorName -o nettimeout=10 >/dev/null
fi
if run "389-DS undo of the reprovision" 0 mbx journal undo "${ds_run:-none}"; then
  check "389-DS undo: bob unlocked with his address again; bob2 locked without it" bash -c '
    [ "$(ds "uid=bob,$1" mail)" = bob@example.org ] && [ -z "$(ds "uid=bob,$1" nsAccountLock)" ] &&
    [ "$(ds "uid=bob2,$1" nsAccountLock)" = TRUE ] && [ -z "$(ds "uid=bob2,$1" mail)" ]' _ "$ds_people"
  check "389-DS undo: bob logs in to IMAP again" curl -s --fail --cacert "$TESTENV_CA_FILE" \
    --url "$TESTENV_DOVECOT_389DS_IMAPS_URI/" -u "bob:$(cat "$TESTENV_USER_PASSWORD_FILE")" -X 'EXAMINE INBOX' -o /dev/null
fi

# ---------------------------------------------------------------------------- Samba AD
confad="$TESTENV_DIR/mbxkit-samba-ad.conf"
jad="$work/journal-ad.sqlite"
mad() { "$bin/mbx" "$@" --config "$confad" --journal "$jad"; }
export LDAPTLS_CACERT="$TESTENV_CA_FILE" LDAPTLS_REQCERT=demand
people="$TESTENV_SAMBA_AD_PEOPLE"
adsearch() { # BASE SCOPE FILTER ATTRS...: as mbxkit's service account, over StartTLS
  local base="$1" scope="$2"; shift 2
  ldapsearch -x -ZZ -LLL -o ldif-wrap=no -H "$TESTENV_SAMBA_AD_URI" -D "$TESTENV_SAMBA_AD_BIND_DN" \
    -y "$TESTENV_SAMBA_AD_PASSWORD_FILE" -b "$base" -s "$scope" "$@"
}
values() { adsearch "$1" base "(objectClass=*)" "$2" 2>/dev/null | sed -n "s/^$2: //p" | sort | paste -sd' '; } # DN ATTR
export -f adsearch values
admodify() { ldapmodify -x -ZZ -H "$TESTENV_SAMBA_AD_URI" -D "$TESTENV_SAMBA_AD_BIND_DN" \
  -y "$TESTENV_SAMBA_AD_PASSWORD_FILE" >/dev/null; }

# The plain reference: every user object of the domain, judged in Python by what the filter
# means (a person, a mail address, no critical system object, ACCOUNTDISABLE clear).
adsearch "$TESTENV_SAMBA_AD_BASE" sub '(objectClass=user)' sAMAccountName objectCategory mail \
  userAccountControl isCriticalSystemObject >"$work/ad-users.ldif"
/usr/bin/python3 - "$work/ad-users.ldif" >"$work/ad-mail-users" <<'EOF'
import sys
users = []
for block in open(sys.argv[1]).read().split("\n\n"):
    a = {}
    for line in block.splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            a.setdefault(k, v)
    if "sAMAccountName" not in a: continue
    person = a.get("objectCategory", "").lower().startswith("cn=person,")
    enabled = not (int(a.get("userAccountControl", "0")) & 2)
    if person and "mail" in a and enabled and a.get("isCriticalSystemObject") != "TRUE":
        users.append(a["sAMAccountName"])
print(" ".join(sorted(users)))
EOF
want_users=$(cat "$work/ad-mail-users")
check "AD reference: alice is a mail user, carol (disabled) and svc-backup (no mail) are not ($want_users)" \
  bash -c '[[ " $1 " == *" alice "* && " $1 " != *" carol "* && " $1 " != *" svc-backup "* ]]' _ "$want_users"

if run "AD: ping" 0 mad ping --user alice --format json; then
  check "AD ping: the bind names Active Directory from its root DSE; the search counts the mail users" jq_py '
import json,sys; rows={r["step"]:r for r in json.load(sys.stdin)["rows"]}
assert rows["bind"]["detail"].endswith("; active-directory (root DSE)"), rows["bind"]
n=len(sys.argv[1].split())
assert rows["search"]["detail"].startswith("%d users under " % n), (rows["search"], n)' "$want_users" <<<"$out"
fi
if run "AD: quota sweep with AD's default filter" 0 mad quota sweep --format json; then
  check "AD sweep: exactly the reference's users; no Administrator, Guest, krbtgt, computer, service or disabled account" jq_py '
import json,sys; got=sorted(r["user"] for r in json.load(sys.stdin)["rows"])
assert got==sorted(sys.argv[1].split()), (got, sys.argv[1])
for u in ("Administrator","Guest","krbtgt","ws01$","carol","svc-backup"): assert u not in got, u' "$want_users" <<<"$out"
fi
run "AD: quota check of a disabled user" 0 mad quota check carol --format json &&
  check "AD quota check: one user by name is found disabled or not" jq_py '
import json,sys; r=json.load(sys.stdin)["rows"][0]; assert r["user"]=="carol" and not r.get("error"), r' <<<"$out"

diag() { "$bin/mbx" diagnose "$1" --config "$confad" --journal "$jad" --format json >"$work/d-$1.json" 2>"$work/err"; }
for u in alice carol dave erin; do diag "$u"; done
check "AD diagnose: alice enabled, her proxyAddresses read as addresses" jq_py '
import json,sys
rows={(r["area"],r["check"]):r for r in json.load(open(sys.argv[1]))["rows"]}
assert rows[("directory","enabled")]["status"]=="ok", rows[("directory","enabled")]
assert rows[("directory","mail-unique")]["detail"]=="2 addresses on this entry only", rows[("directory","mail-unique")]' \
  "$work/d-alice.json"
check "AD diagnose: carol disabled by ACCOUNTDISABLE: MIS_5, samba-tool user enable" jq_py '
import json,sys
e={(r["area"],r["check"]):r for r in json.load(open(sys.argv[1]))["rows"]}[("directory","enabled")]
assert e["status"]=="failed" and e["mis"]=="MIS_5" and "ACCOUNTDISABLE" in e["detail"], e
assert "samba-tool user enable carol" in e["remedy"], e' "$work/d-carol.json"
check "AD diagnose: dave locked out, told to unlock (not enable)" jq_py '
import json,sys
e={(r["area"],r["check"]):r for r in json.load(open(sys.argv[1]))["rows"]}[("directory","enabled")]
assert e["status"]=="failed" and "locked out" in e["detail"], e
assert "samba-tool user unlock dave" in e["remedy"] and "enable" not in e["remedy"], e' "$work/d-dave.json"
check "AD diagnose: erin must change her password, told to set one" jq_py '
import json,sys
e={(r["area"],r["check"]):r for r in json.load(open(sys.argv[1]))["rows"]}[("directory","enabled")]
assert e["status"]=="failed" and "must be changed" in e["detail"], e
assert "setpassword erin" in e["remedy"], e' "$work/d-erin.json"

# --- reprovision: the dry run checks what the real run needs
rows_of() { jq_py 'import json,sys; [print(r["step"]+"|"+r["status"]+"|"+r["detail"]+"|"+r["ldif"].replace("\n","~")) for r in json.load(sys.stdin)["rows"]]' <<<"$out"; }
if run "AD reprovision: dry run" 0 mad reprovision alice --new-uid alice2 --dry-run --format json; then
  check "AD dry run: the kind, unicodePwd over TLS, the right to create users in OU=People" \
    has "$(rows_of)" "inspect|would-do|active-directory directory; password by unicodePwd over TLS; the bind DN may create users in $people"
  check "AD dry run: CN=alice2 with sAMAccountName, userPrincipalName, added disabled" bash -c '
    for l in "dn: CN=alice2,$2" "sAMAccountName: alice2" "userPrincipalName: alice2@ad.example.org" \
             "userAccountControl: 514" "cn: alice2" "sn: "; do [[ "$1" == *"$l"* ]] || { echo "missing $l"; exit 1; }; done
    [[ "$1" != *"mail:"* && "$1" != *"unicodePwd"* ]]' _ "$(rows_of | grep '^account|')" "$people"
  check "AD dry run: the cutover sets ACCOUNTDISABLE alone" has "$(rows_of)" "userAccountControl 512 -> 514 (ACCOUNTDISABLE set"
fi
# The same over LDAPS (implicit TLS, port 636): the password may be set there too.
run "AD reprovision: dry run over ldaps://" 0 mad reprovision alice --new-uid alice2 --dry-run --format json \
  --ldap-uri "$TESTENV_SAMBA_AD_LDAPS_URI" &&
  check "AD dry run over LDAPS: the connection counts as encrypted" \
    has "$(rows_of)" "inspect|would-do|active-directory directory; password by unicodePwd over TLS"
check "AD dry run: no entry made" bash -c '[ -z "$(values "CN=alice2,$1" cn)" ]' _ "$people"
run "AD reprovision: a NEWUID longer than a sAMAccountName may be" 64 mad reprovision alice --new-uid alice-with-a-long-new-name --dry-run &&
  check "AD: the sAMAccountName rule is named" has "$err" "cannot be a sAMAccountName"
sed -e 's|^\[reprovision\]$|[reprovision]\nbase = OU=Domain Controllers,DC=ad,DC=example,DC=org|' "$confad" >"$work/dc-base.conf"
run "AD reprovision: a container where the bind may not create users" 77 "$bin/mbx" reprovision alice --new-uid alice2 \
  --dry-run --config "$work/dc-base.conf" --journal "$jad" &&
  check "AD: the missing right is named before anything is made" has "$err" "may not create users in 'OU=Domain Controllers"

# --- the whole cycle, with a flag beside ACCOUNTDISABLE that must survive it
printf 'dn: CN=alice,%s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 66048\n' "$people" | admodify
check "AD: alice's flags are 66048 (DONT_EXPIRE_PASSWORD) before" [ "$(values "CN=alice,$people" userAccountControl)" = 66048 ]
ad_run=""
if run "AD reprovision alice -> alice2" 0 mad reprovision alice --new-uid alice2 --format json; then
  ad_run=$(jq_py 'import json,sys; print(json.load(sys.stdin)["summary"]["run"])' <<<"$out")
  pw=$(jq_py 'import json,sys; print(json.load(sys.stdin)["summary"]["password_file"])' <<<"$out")
  check "AD reprovision: every step done" bash -c '[ "$(printf "%s\n" "$1" | cut -d"|" -f1,2 | paste -sd" ")" = \
    "inspect|done account|done mailbox|done merge|done logon|done cutover|done final|done" ]' _ "$(rows_of)"
  check "AD reprovision: alice2 enabled (512) with her addresses, sAMAccountName and userPrincipalName" bash -c '
    [ "$(values "CN=alice2,$1" userAccountControl)" = 512 ] &&
    [ "$(values "CN=alice2,$1" mail)" = alice@example.org ] &&
    [ "$(values "CN=alice2,$1" proxyAddresses)" = "SMTP:alice@example.org smtp:alice.smith@example.org" ] &&
    [ "$(values "CN=alice2,$1" sAMAccountName)" = alice2 ] &&
    [ "$(values "CN=alice2,$1" userPrincipalName)" = alice2@ad.example.org ]' _ "$people"
  check "AD reprovision: alice has no address left and only ACCOUNTDISABLE added (66048 -> 66050)" bash -c '
    [ "$(values "CN=alice,$1" userAccountControl)" = 66050 ] && [ -z "$(values "CN=alice,$1" mail)" ] &&
    [ -z "$(values "CN=alice,$1" proxyAddresses)" ]' _ "$people"
  check "AD reprovision: the password file is the bare secret, and binds as alice2 over StartTLS" bash -c '
    [ "$(tail -c 1 "$1" | od -An -c | tr -d " ")" != "\n" ] &&
    ldapsearch -x -ZZ -LLL -H "$2" -D "CN=alice2,$3" -y "$1" -s base -b "" dnsHostName >/dev/null' _ \
    "$pw" "$TESTENV_SAMBA_AD_URI" "$people"
fi
if run "AD undo of the reprovision" 0 mad journal undo "${ad_run:-none}" --format json; then
  check "AD undo: alice back to exactly 66048 with her addresses; alice2 disabled (514), without them" bash -c '
    [ "$(values "CN=alice,$1" userAccountControl)" = 66048 ] && [ "$(values "CN=alice,$1" mail)" = alice@example.org ] &&
    [ "$(values "CN=alice,$1" proxyAddresses)" = "SMTP:alice@example.org smtp:alice.smith@example.org" ] &&
    [ "$(values "CN=alice2,$1" userAccountControl)" = 514 ] && [ -z "$(values "CN=alice2,$1" mail)" ]' _ "$people"
fi

# --- a password the domain refuses (minimum length 7): the entry stays disabled, the rerun
# with another password finishes, and undo takes it all back
printf 'short' >"$work/short.pw"; printf 'Long-enough-1' >"$work/good.pw"; chmod 600 "$work/short.pw" "$work/good.pw"
if run "AD reprovision bob with a password the domain refuses" 65 mad reprovision bob --new-uid bob2 --password-file "$work/short.pw"; then
  check "AD: the refusal advises another --password-file or undo" bash -c '[[ "$1" == *"--password-file"* && "$1" == *"mbx journal undo"* ]]' _ "$err"
  check "AD: bob2 was added but stays disabled (514) without its password" [ "$(values "CN=bob2,$people" userAccountControl)" = 514 ]
fi
if run "AD rerun with a password the domain takes" 0 mad reprovision bob --new-uid bob2 --password-file "$work/good.pw" --format json; then
  bob_run=$(jq_py 'import json,sys; print(json.load(sys.stdin)["summary"]["run"])' <<<"$out")
  check "AD rerun: bob2 enabled, bob's addresses on it" bash -c '[ "$(values "CN=bob2,$1" userAccountControl)" = 512 ] &&
    [ "$(values "CN=bob2,$1" mail)" = bob@example.org ]' _ "$people"
  run "AD undo of bob's run" 0 mad journal undo "$bob_run" &&
    check "AD undo: bob enabled with his address, bob2 disabled" bash -c '[ "$(values "CN=bob,$1" userAccountControl)" = 512 ] &&
      [ "$(values "CN=bob,$1" mail)" = bob@example.org ] && [ "$(values "CN=bob2,$1" userAccountControl)" = 514 ]' _ "$people"
fi

finish
