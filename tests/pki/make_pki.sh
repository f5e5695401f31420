#!/bin/sh
# Generates the test PKI for sublink with the openssl CLI, at test time, so no
# private key is ever committed.
#
#   tests/pki/make_pki.sh OUTDIR [SYSTEM_ID]
#
# OUTDIR gets (keys are mode 0600):
#   ca.crt ca.key                     test CA (EC P-256), valid 2000..2099
#   server.crt server.key             EC server, SAN DNS:localhost IP:127.0.0.1 IP:::1
#   server-rsa.crt server-rsa.key     RSA 2048 server, same SANs
#   device.crt device.key             device, CN=SYSTEM_ID (default SYS-0001), clientAuth
#   server-expired.crt/.key           valid 2020-01-01..2021-01-01 only
#   server-future.crt/.key            valid from 2080-01-01 only
#   server-wrong-name.crt/.key        SAN DNS:wrong.example only
#   server-ip-cn.crt/.key             CN=127.0.0.1 but SAN DNS:localhost only
#   other-ca.crt other-ca.key         a second, unrelated CA
#   server-other-ca.crt/.key          server cert (right SANs) from the other CA
#   device-other-ca.crt/.key          device cert (right CN) from the other CA
#   license.key license.pub           EC P-256 license-signing key pair (ES256)
#
# Idempotent: a second run with the same SYSTEM_ID does nothing. A run with
# another SYSTEM_ID on an existing OUTDIR adds a device to that PKI and
# changes nothing else (the CA, the server and the first device stay):
#   device-SYSTEM_ID.crt device-SYSTEM_ID.key   CN=SYSTEM_ID, from the same CA
# so a second appliance can join the fleet of the first. Expired and
# future certificates need explicit start dates, which OpenSSL 3.0's
# `x509 -req` cannot set, so every certificate is issued with `openssl ca`
# and a minimal configuration written into OUTDIR.
set -eu

out=${1:?usage: make_pki.sh OUTDIR [SYSTEM_ID]}
system_id=${2:-SYS-0001}
stamp="$out/.complete"
case "$system_id" in
  ''|*[!A-Za-z0-9._-]*) echo "make_pki.sh: SYSTEM_ID '$system_id' must be letters, digits, '.', '_' or '-'" >&2; exit 2 ;;
esac

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$system_id" ]; then
  exit 0
fi
if [ -f "$stamp" ] && [ -f "$out/device-$system_id.crt" ]; then
  exit 0
fi
adding_device=no
[ -f "$stamp" ] && adding_device=yes

mkdir -p "$out"
cd "$out"
out=$(pwd)  # the CA configurations name their directories absolutely
umask 077

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# A CA directory: database, serial and the config `openssl ca` wants.
ca_dir() {
  dir=$1
  rm -rf "$dir"
  mkdir -p "$dir/new"
  : > "$dir/index.txt"
  echo 1000 > "$dir/serial"
  cat > "$dir/ca.cnf" <<EOF
[ca]
default_ca = this_ca
[this_ca]
dir = $out/$dir
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/new
default_md = sha256
policy = any_name
copy_extensions = copy
unique_subject = no
[any_name]
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused
EOF
}

# make_ca NAME CN: a self-signed CA valid 2000..2099 (so the expired and
# future leaves below are the only thing out of date at any test time).
make_ca() {
  ca_dir "$1.db"
  ec_key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -config "$1.db/ca.cnf" -out "$1.db/ca.csr"
  openssl ca -batch -notext -selfsign -config "$1.db/ca.cnf" -keyfile "$1.key" \
    -in "$1.db/ca.csr" -out "$1.crt" -extensions ca_ext \
    -startdate 20000101000000Z -enddate 20991231235959Z 2>/dev/null
}

# issue CA NAME KEYTYPE CN EXT SAN START END
issue() {
  ca=$1 name=$2 keytype=$3 cn=$4 ext=$5 san=$6 start=$7 end=$8
  if [ "$keytype" = rsa ]; then rsa_key "$name.key"; else ec_key "$name.key"; fi
  if [ -n "$san" ]; then
    openssl req -new -key "$name.key" -subj "/CN=$cn" -config "$ca.db/ca.cnf" \
      -addext "subjectAltName=$san" -out "$name.csr"
  else
    openssl req -new -key "$name.key" -subj "/CN=$cn" -config "$ca.db/ca.cnf" -out "$name.csr"
  fi
  openssl ca -batch -notext -config "$ca.db/ca.cnf" -cert "$ca.crt" -keyfile "$ca.key" \
    -in "$name.csr" -out "$name.crt" -extensions "$ext" \
    -startdate "$start" -enddate "$end" 2>/dev/null
  rm -f "$name.csr"
}

now=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
later=$(date -u -d '+3650 days' +%Y%m%d%H%M%SZ)
sans="DNS:localhost,IP:127.0.0.1,IP:::1"

if [ "$adding_device" = yes ]; then
  # Another device of the same fleet: issued by the existing CA, nothing else touched.
  issue ca "device-$system_id" ec "$system_id" client_ext "" "$now" "$later"
  chmod 0600 "device-$system_id.key"
  chmod 0644 "device-$system_id.crt"
  exit 0
fi

make_ca ca "sublink test CA"
make_ca other-ca "sublink other CA"
issue ca server ec localhost server_ext "$sans" "$now" "$later"
issue ca server-rsa rsa localhost server_ext "$sans" "$now" "$later"
issue ca device ec "$system_id" client_ext "" "$now" "$later"
issue ca server-expired ec localhost server_ext "$sans" 20200101000000Z 20210101000000Z
issue ca server-future ec localhost server_ext "$sans" 20800101000000Z 20810101000000Z
issue ca server-wrong-name ec wrong.example server_ext "DNS:wrong.example" "$now" "$later"
issue ca server-ip-cn ec 127.0.0.1 server_ext "DNS:localhost" "$now" "$later"
issue other-ca server-other-ca ec localhost server_ext "$sans" "$now" "$later"
issue other-ca device-other-ca ec "$system_id" client_ext "" "$now" "$later"

ec_key license.key
openssl pkey -in license.key -pubout -out license.pub

chmod 0600 ./*.key
chmod 0644 ./*.crt license.pub
echo "$system_id" > .complete
