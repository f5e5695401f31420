# Sourced by the DNS tests: a PKI, a resolv.conf naming a DNS server on
# 127.0.0.1 (what answers there is the test's business), and a sublinkd
# configuration whose server is a name only that server could resolve.
#   dns_test_setup SOURCE_DIR SERVER_NAME RESOLVER_TIMEOUT_S
# Sets $root (removed at exit); fail() reports and exits 1.
fail() { echo "FAIL: $*" >&2; exit 1; }

dns_test_setup() {
  local source_dir=$1 server_name=$2 timeout_s=$3
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  sh "$source_dir/tests/pki/make_pki.sh" "$root/pki" SYS-0001 >/dev/null 2>&1 || fail "make_pki.sh failed"
  printf 'nameserver 127.0.0.1\noptions timeout:%s attempts:1\n' "$timeout_s" > "$root/resolv.conf"
  cat > "$root/sublink.json" <<END
{
  "server": "$server_name",
  "ports": [8443],
  "customer_id": "CUST-1",
  "system_id": "SYS-0001",
  "ca_file": "$root/pki/ca.crt",
  "cert_file": "$root/pki/device.crt",
  "key_file": "$root/pki/device.key",
  "license_key_file": "$root/pki/license.pub",
  "state_dir": "$root/state",
  "retry_min_s": 1,
  "retry_max_s": 2,
  "features": [{"name": "trunks", "qty": 30}]
}
END
}
