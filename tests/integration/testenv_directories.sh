#!/usr/bin/env bash
# Smoke test of the sandbox's extra directory servers (scripts/testenv up --with-389ds
# --with-samba-ad), with ldapsearch/ldapmodify and curl only (no mbx). It brings up its own
# sandbox in a temporary DIR and takes it down at exit. Under CI (CI=true) a server that cannot
# start fails the test; elsewhere a missing package skips that server's checks (exit 0 when
# neither is installed).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TESTENV="$ROOT/scripts/testenv"
fail() { echo "testenv_directories: FAIL: $*" >&2; exit 1; }
ok() { echo "testenv_directories: ok: $*"; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (scripts/testenv up)"
flags=()
if command -v dscreate >/dev/null 2>&1; then flags+=(--with-389ds)
else
  [ "${CI:-}" = true ] && fail "389-ds-base is not installed (scripts/bootstrap)"
  echo "testenv_directories: skipping 389-DS: 389-ds-base is not installed (run scripts/bootstrap)"
fi
if [ -x /usr/sbin/samba ] && [ -d /usr/share/samba/setup ]; then flags+=(--with-samba-ad)
else
  [ "${CI:-}" = true ] && fail "samba / samba-ad-provision are not installed (scripts/bootstrap)"
  echo "testenv_directories: skipping Samba AD: samba is not installed (run scripts/bootstrap)"
fi
if [ "${#flags[@]}" = 0 ]; then
  echo "testenv_directories: skipped: neither 389-ds-base nor samba is installed (run scripts/bootstrap)"
  exit 0
fi
has() { [[ " ${flags[*]} " == *" $1 "* ]]; }

DIR="$(mktemp -d /tmp/tdir.XXXXXX)"
rmdir "$DIR"
trap '"$TESTENV" down "$DIR" >/dev/null 2>&1 || true' EXIT
t0=$SECONDS
"$TESTENV" up "$DIR" "${flags[@]}" || fail "testenv up ${flags[*]} failed"
ok "up ${flags[*]} in $((SECONDS - t0))s"

# DIR/env is KEY=VALUE lines (values unquoted, some with spaces)
while IFS='=' read -r k v; do export "$k=$v"; done <"$DIR/env"
export LDAPTLS_CACERT="$TESTENV_CA_FILE" LDAPTLS_REQCERT=demand

check_389ds() {
local svc=(-x -ZZ -H "$TESTENV_389DS_URI" -D "$TESTENV_389DS_BIND_DN" -y "$TESTENV_389DS_PASSWORD_FILE")

ldapwhoami "${svc[@]}" >/dev/null || fail "389ds: StartTLS bind as the service account"
ok "389ds: StartTLS bind as $TESTENV_389DS_BIND_DN (CA verified)"
ldapwhoami -x -H "$TESTENV_389DS_LDAPS_URI" -D "$TESTENV_389DS_BIND_DN" \
  -y "$TESTENV_389DS_PASSWORD_FILE" >/dev/null || fail "389ds: LDAPS bind"
ok "389ds: LDAPS bind"

ldapsearch -x -LLL -H "$TESTENV_389DS_URI" -s base -b '' vendorName | grep -qx 'vendorName: 389 Project' ||
  fail "389ds: root DSE vendorName is not '389 Project'"
ok "389ds: root DSE vendorName: 389 Project"

ldapsearch "${svc[@]}" -LLL -b "$TESTENV_389DS_PEOPLE" '(uid=alice)' mail | grep -qx 'mail: alice@example.org' ||
  fail "389ds: alice not found"
ok "389ds: alice found"
ldapsearch "${svc[@]}" -LLL -b "$TESTENV_389DS_PEOPLE" '(uid=dave)' nsAccountLock | grep -qix 'nsAccountLock: TRUE' ||
  fail "389ds: dave is not locked"
if ldapwhoami -x -ZZ -H "$TESTENV_389DS_URI" -D "uid=dave,$TESTENV_389DS_PEOPLE" \
  -y "$TESTENV_USER_PASSWORD_FILE" >/dev/null 2>&1; then fail "389ds: locked dave can bind"; fi
ok "389ds: dave disabled (nsAccountLock: TRUE, bind refused)"

dn="uid=tdir-probe,$TESTENV_389DS_PEOPLE"
ldapadd "${svc[@]}" >/dev/null <<EOF || fail "389ds: the service account cannot add an entry"
dn: $dn
objectClass: inetOrgPerson
objectClass: mbxMailUser
uid: tdir-probe
cn: probe
sn: probe
mail: tdir-probe@example.org
mailQuota: 1048576
EOF
ldappasswd "${svc[@]}" -s 'Probe-pw-123' "$dn" >/dev/null || fail "389ds: Password Modify by the service account"
ldapmodify "${svc[@]}" >/dev/null <<EOF || fail "389ds: the service account cannot modify mail attributes"
dn: $dn
changetype: modify
replace: mailAlternateAddress
mailAlternateAddress: tdir-alias@example.org
-
replace: nsAccountLock
nsAccountLock: TRUE
EOF
ldapdelete "${svc[@]}" "$dn" || fail "389ds: the service account cannot delete its entry"
ok "389ds: service account adds, modifies, sets the password of and deletes an entry"

# dovecot-389ds: its users are 389-DS's (auth binds over StartTLS)
local imap="$TESTENV_DOVECOT_389DS_IMAP_URI" upw mpw
[ -n "$imap" ] || fail "dovecot-389ds: TESTENV_DOVECOT_389DS_IMAP_URI is not in DIR/env"
upw="$(cat "$TESTENV_USER_PASSWORD_FILE")"
mpw="$(cat "$TESTENV_IMAP_MASTER_PASSWORD_FILE")"
curl -sS --max-time 10 --url "$imap/" -u "alice:$upw" -X 'EXAMINE INBOX' | grep -q '^\* 3 EXISTS' ||
  fail "dovecot-389ds: IMAP login as alice / EXAMINE INBOX"
curl -sS --max-time 10 --cacert "$TESTENV_CA_FILE" --url "$TESTENV_DOVECOT_389DS_IMAPS_URI/" \
  -u "alice:$upw" -X 'EXAMINE INBOX' | grep -q '^\* 3 EXISTS' ||
  fail "dovecot-389ds: IMAPS login as alice / EXAMINE INBOX"
ok "dovecot-389ds: login as alice (389-DS auth bind, imap and imaps), INBOX has 3 messages"
if curl -s --max-time 10 --url "$imap/" -u "alice:wrong-password" -X 'EXAMINE INBOX' >/dev/null 2>&1; then
  fail "dovecot-389ds: alice can log in with a wrong password"
fi
if curl -s --max-time 10 --url "$imap/" -u "dave:$upw" -X 'EXAMINE INBOX' >/dev/null 2>&1; then
  fail "dovecot-389ds: dave (nsAccountLock: TRUE) can log in"
fi
ok "dovecot-389ds: a wrong password and dave (nsAccountLock: TRUE) cannot log in"
curl -sS --max-time 10 --url "$imap/" -u "alice*mbxadmin:$mpw" -X 'LIST "" "*"' | grep -q '"/" Projects' ||
  fail "dovecot-389ds: master login alice*mbxadmin / LIST shows no Projects"
curl -sS --max-time 10 --cacert "$TESTENV_CA_FILE" --url "$TESTENV_DOVECOT_389DS_IMAPS_URI/" \
  -u "mbxadmin:$mpw" --sasl-authzid alice --login-options AUTH=PLAIN \
  -X 'EXAMINE Projects' | grep -q '^\* 1 EXISTS' || fail "dovecot-389ds: SASL PLAIN authzid=alice as mbxadmin / Projects"
ok "dovecot-389ds: master user: LOGIN alice*mbxadmin sees Projects, AUTH PLAIN authzid alice (1 message in it)"
}

check_samba_ad() {
local svc=(-x -ZZ -H "$TESTENV_SAMBA_AD_URI" -D "$TESTENV_SAMBA_AD_BIND_DN" -y "$TESTENV_SAMBA_AD_PASSWORD_FILE")
local people="$TESTENV_SAMBA_AD_PEOPLE" upw imap
upw="$(cat "$TESTENV_USER_PASSWORD_FILE")"
imap="$TESTENV_DOVECOT_AD_IMAP_URI"
# Samba has no WhoAmI extended operation (ldapwhoami): binds are checked with a base search
ldapsearch "${svc[@]}" -LLL -s base -b "$TESTENV_SAMBA_AD_BASE" dn >/dev/null ||
  fail "samba-ad: StartTLS bind as the service account"
ok "samba-ad: StartTLS bind as $TESTENV_SAMBA_AD_BIND_DN (CA verified)"
ldapsearch -x -LLL -H "$TESTENV_SAMBA_AD_LDAPS_URI" -D "$TESTENV_SAMBA_AD_BIND_DN" \
  -y "$TESTENV_SAMBA_AD_PASSWORD_FILE" -s base -b "$TESTENV_SAMBA_AD_BASE" dn >/dev/null ||
  fail "samba-ad: LDAPS bind"
ok "samba-ad: LDAPS bind (CA verified)"
if ldapsearch -x -LLL -H "$TESTENV_SAMBA_AD_URI" -D "$TESTENV_SAMBA_AD_BIND_DN" \
  -y "$TESTENV_SAMBA_AD_PASSWORD_FILE" -s base -b "$TESTENV_SAMBA_AD_BASE" dn >/dev/null 2>&1; then
  fail "samba-ad: a simple bind without TLS is accepted (strong auth should be required)"
fi
ok "samba-ad: simple bind without TLS refused"

ldapsearch -x -LLL -H "$TESTENV_SAMBA_AD_URI" -s base -b '' supportedCapabilities |
  grep -qx 'supportedCapabilities: 1.2.840.113556.1.4.800' ||
  fail "samba-ad: root DSE lacks supportedCapabilities 1.2.840.113556.1.4.800 (LDAP_CAP_ACTIVE_DIRECTORY_OID)"
ok "samba-ad: root DSE supportedCapabilities: 1.2.840.113556.1.4.800"

local out
out="$(ldapsearch "${svc[@]}" -LLL -b "$people" '(sAMAccountName=alice)' proxyAddresses)"
if ! { grep -qx 'proxyAddresses: SMTP:alice@example.org' <<<"$out" &&
  grep -qx 'proxyAddresses: smtp:alice.smith@example.org' <<<"$out"; }; then
  fail "samba-ad: alice's proxyAddresses: $out"
fi
ok "samba-ad: alice's proxyAddresses"
ldapsearch "${svc[@]}" -LLL -b "$people" '(sAMAccountName=carol)' userAccountControl |
  grep -qx 'userAccountControl: 514' || fail "samba-ad: carol's userAccountControl is not 514"
ok "samba-ad: carol disabled (userAccountControl: 514)"
local lt
lt="$(ldapsearch "${svc[@]}" -LLL -b "$people" '(sAMAccountName=dave)' lockoutTime | sed -n 's/^lockoutTime: //p')"
[ "${lt:-0}" -gt 0 ] || fail "samba-ad: dave's lockoutTime is '${lt:-}'"
ok "samba-ad: dave locked out (lockoutTime $lt)"

# the service account creates a user with a password, changes it and deletes it
local dn="CN=tdir-probe,$people" pw
pw="$(printf '"%s"' 'Probe-pw-123' | iconv -t UTF-16LE | base64 -w0)"
ldapadd "${svc[@]}" >/dev/null <<EOF || fail "samba-ad: the service account cannot add a user"
dn: $dn
objectClass: user
sAMAccountName: tdir-probe
userPrincipalName: tdir-probe@ad.example.org
mail: tdir-probe@example.org
proxyAddresses: SMTP:tdir-probe@example.org
unicodePwd:: $pw
userAccountControl: 512
EOF
ldapsearch -x -H "$TESTENV_SAMBA_AD_LDAPS_URI" -D "tdir-probe@ad.example.org" -w 'Probe-pw-123' \
  -s base -b '' dn >/dev/null || fail "samba-ad: the new user cannot bind with its password"
ldapmodify "${svc[@]}" >/dev/null <<EOF || fail "samba-ad: the service account cannot modify the user"
dn: $dn
changetype: modify
replace: description
description: testenv_directories probe
-
replace: userAccountControl
userAccountControl: 514
EOF
ldapdelete "${svc[@]}" "$dn" || fail "samba-ad: the service account cannot delete the user"
ok "samba-ad: service account adds (unicodePwd), modifies, disables and deletes a user"

curl -sS --max-time 10 --url "$imap/" -u "alice:$upw" -X 'EXAMINE INBOX' | grep -q '^\* 3 EXISTS' ||
  fail "dovecot-ad: IMAP login as alice / EXAMINE INBOX"
ok "dovecot-ad: login as alice (AD auth bind), INBOX has 3 messages"
local u
for u in carol dave; do
  if curl -s --max-time 10 --url "$imap/" -u "$u:$upw" -X 'EXAMINE INBOX' >/dev/null 2>&1; then
    fail "dovecot-ad: $u can log in"
  fi
done
ok "dovecot-ad: carol (disabled) and dave (locked out) cannot log in"
curl -sS --max-time 10 --url "$imap/" -u "alice*mbxadmin:$(cat "$TESTENV_IMAP_MASTER_PASSWORD_FILE")" \
  -X 'LIST "" "*"' | grep -q ' Projects' || fail "dovecot-ad: master login alice*mbxadmin / LIST"
curl -sS --max-time 10 --cacert "$TESTENV_CA_FILE" --url "$TESTENV_DOVECOT_AD_IMAPS_URI/" \
  -u "mbxadmin:$(cat "$TESTENV_IMAP_MASTER_PASSWORD_FILE")" --sasl-authzid bob --login-options AUTH=PLAIN \
  -X 'EXAMINE INBOX' | grep -q '^\* 3 EXISTS' || fail "dovecot-ad: SASL PLAIN authzid=bob as mbxadmin"
ok "dovecot-ad: master user: LOGIN alice*mbxadmin and AUTH PLAIN authzid bob"
}

if has --with-389ds; then check_389ds; fi
if has --with-samba-ad; then check_samba_ad; fi

# samba renames its processes ("samba: task[ldap] ..."): down is checked by session id
samba_sid="$(cat "$DIR/run/samba-ad.pid" 2>/dev/null || true)"
"$TESTENV" down "$DIR" >/dev/null 2>&1 || fail "down"
trap - EXIT
# this sandbox's processes: command lines naming DIR, and Dovecot's renamed children
# (dovecot-INSTANCE[-KIND]/..., INSTANCE from the md5 of DIR)
h="$(printf '%s' "$DIR" | md5sum | cut -c1-8)"
left="$(pgrep -af "$DIR/|dovecot-mbxkit-testenv-$h(-[a-z0-9]+)?/" || true)"
[ -z "$left" ] || fail "processes of $DIR left after down: $left"
ok "down: no slapd or Dovecot (dovecot, dovecot-389ds, dovecot-ad) of $DIR left"
if has --with-389ds; then
  left="$(pgrep -af "ns-slapd.*slapd-$TESTENV_389DS_INSTANCE" || true)"
  [ -z "$left" ] || fail "ns-slapd left after down: $left"
  ok "down: no ns-slapd left"
fi
if has --with-samba-ad; then
  left="$(ps -e -o pid=,sid=,args= | awk -v s="${samba_sid:-none}" '$2 == s' || true)"
  [ -z "$left" ] || fail "samba left after down: $left"
  ! ip -4 -o addr show dev lo | grep -q " inet $TESTENV_SAMBA_AD_ADDR/" ||
    fail "down left $TESTENV_SAMBA_AD_ADDR on lo"
  ok "down: no samba left, $TESTENV_SAMBA_AD_ADDR removed from lo"
fi
