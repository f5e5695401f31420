#!/bin/bash
# A server name that does not resolve is named in `sublinkctl status`:
# last_failure is dns_failed, its detail names the host, and the next round
# is scheduled. The daemon runs in network and mount namespaces of the
# test's own (loopback only), with an /etc/resolv.conf there naming a DNS
# server on 127.0.0.1 where nothing listens, so every lookup fails at once.
#
#   dns_failure_test.sh SOURCE_DIR BIN_DIR
set -euo pipefail
source_dir=$1 bin_dir=$2

source "$(dirname "$0")/dns_test_setup.sh"
dns_test_setup "$source_dir" sublink-server.dns-failure.example 1

cat > "$root/inside.sh" <<'END'
set -euo pipefail
root=$1 bin_dir=$2
ip link set lo up
mount --bind "$root/resolv.conf" /etc/resolv.conf
"$bin_dir/sublinkd" --config "$root/sublink.json" 2> "$root/agent.log" &
for _ in $(seq 200); do
  "$bin_dir/sublinkctl" -c "$root/sublink.json" status --json > "$root/status.json" 2>/dev/null || true
  grep -q '"dns_failed"' "$root/status.json" && break
  sleep 0.05
done
"$bin_dir/sublinkctl" -c "$root/sublink.json" status > "$root/status.txt" 2>&1 || true
END

unshare --net --mount --pid --fork --mount-proc bash "$root/inside.sh" "$root" "$bin_dir" || fail "the namespace run failed"
cat "$root/status.txt"
/usr/bin/python3 - "$root/status.json" <<'END' || { cat "$root/agent.log" >&2; fail "status does not name the DNS failure"; }
import json, sys
s = json.load(open(sys.argv[1]))
f = s["last_failure"]
assert f["reason"] == "dns_failed", f
assert "sublink-server.dns-failure.example" in f["detail"], f
# The resolver's own words (glibc's gai_strerror for the EAI code).
assert "Temporary failure in name resolution" in f["detail"], f
assert s["link"] == "down" and s["state"] == "unlicensed", s
END
grep -q "failure:  dns_failed: .*sublink-server.dns-failure.example" "$root/status.txt" || fail "sublinkctl status does not say it in words"
echo "PASS: a name that does not resolve is named in status"
