#!/usr/bin/env bash
# Made the certificate fixtures in this directory, once; the unit tests only read them (they
# never run this). Rerunning it makes new keys, so the bytes change, but every field the tests
# assert (subject, issuer, SAN, validity) stays the same. OpenSSL 3.0 has no -not_before/
# -not_after on `req -x509` or `x509`: `openssl ca` sets the exact dates instead.
#   tests/unit/data/tls/make-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/ca.cnf" <<END
[ca]
default_ca = fixture
[fixture]
dir = $work
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
email_in_dn = no
preserve = yes
[anything]
countryName = optional
organizationName = optional
commonName = supplied
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[plain]
basicConstraints = critical,CA:FALSE
END

# $1 name, $2 subject, $3 start, $4 end, $5 extension section, $6 SAN (empty: none),
# $7 the issuer's name (its key and certificate in $work; empty: self-signed)
make_cert() {
  : >"$work/index.txt"
  echo 1001 >"$work/serial"
  local san=()
  [ -z "$6" ] || san=(-addext "subjectAltName=$6")
  openssl req -new -utf8 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/$1.key" -subj "$2" "${san[@]}" -out "$work/$1.csr" 2>/dev/null
  local signer=(-selfsign -keyfile "$work/$1.key")
  [ -z "${7:-}" ] || signer=(-cert "$work/$7.pem" -keyfile "$work/$7.key")
  openssl ca -batch -notext -utf8 "${signer[@]}" -config "$work/ca.cnf" -extensions "$5" \
    -in "$work/$1.csr" -startdate "$3" -enddate "$4" -out "$work/$1.pem" 2>/dev/null
}

# A server certificate from a CA: three SAN entries (two DNS, one IP), UTCTime validity.
make_cert ca "/O=mbxkit tests/CN=mbxkit fixture CA" 20230101000000Z 20440101000000Z ca_ext ""
make_cert leaf "/C=DE/O=mbxkit tests/CN=mail.example.org" 20240101000000Z 20340301120000Z leaf \
  "DNS:mail.example.org,DNS:*.example.org,IP:192.0.2.1" ca
# Self-signed, no SAN, a UTF-8 subject, and the "no well-defined expiration" date of RFC 5280
# 4.1.2.5 (GeneralizedTime 99991231235959Z), beyond what system_clock::time_point holds.
make_cert forever "/O=Jörg Müller GmbH/CN=Jörg's server" 19991231000000Z 99991231235959Z plain ""

for name in leaf forever; do
  cp "$work/$name.pem" "$name.pem"
  openssl x509 -in "$name.pem" -outform DER -out "$name.der"
done
# A PEM file with no certificate in it: the leaf's certificate request.
cp "$work/leaf.csr" leaf-request.pem
