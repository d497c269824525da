#!/usr/bin/env bash
# Smoke test of the sandbox's extra directory servers (scripts/testenv up --with-389ds), with
# ldapsearch/ldapmodify only (no mbx). It brings up its own sandbox in a temporary DIR and takes
# it down at exit. Under CI (CI=true) a server that cannot start fails the test; elsewhere a
# missing package skips it (exit 0).
# Not covered yet: --with-samba-ad (not implemented in scripts/testenv).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TESTENV="$ROOT/scripts/testenv"
fail() { echo "testenv_directories: FAIL: $*" >&2; exit 1; }
ok() { echo "testenv_directories: ok: $*"; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (scripts/testenv up)"
if ! command -v dscreate >/dev/null 2>&1; then
  [ "${CI:-}" = true ] && fail "389-ds-base is not installed (scripts/bootstrap)"
  echo "testenv_directories: skipped: 389-ds-base is not installed (run scripts/bootstrap)"
  exit 0
fi

DIR="$(mktemp -d /tmp/tdir.XXXXXX)"
rmdir "$DIR"
trap '"$TESTENV" down "$DIR" >/dev/null 2>&1 || true' EXIT
t0=$SECONDS
"$TESTENV" up "$DIR" --with-389ds || fail "testenv up --with-389ds failed"
ok "up --with-389ds in $((SECONDS - t0))s"

# DIR/env is KEY=VALUE lines (values unquoted, some with spaces)
while IFS='=' read -r k v; do export "$k=$v"; done <"$DIR/env"
export LDAPTLS_CACERT="$TESTENV_CA_FILE" LDAPTLS_REQCERT=demand
svc=(-x -ZZ -H "$TESTENV_389DS_URI" -D "$TESTENV_389DS_BIND_DN" -y "$TESTENV_389DS_PASSWORD_FILE")

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

"$TESTENV" down "$DIR" >/dev/null 2>&1 || fail "down"
trap - EXIT
left="$(ps -e -o pid=,args= | grep -F "slapd-mbxkit-" | grep -F ns-slapd | grep -v grep || true)"
[ -z "$left" ] || fail "ns-slapd left after down: $left"
ok "down: no ns-slapd left"
