#!/bin/bash
# sublinkd keeps answering its control socket while the server's name is
# being resolved by a resolver that never answers. It runs in network and
# mount namespaces of its own: the only interface is loopback, and
# /etc/resolv.conf (bind-mounted there only) names a DNS server on
# 127.0.0.1 that takes every query and answers none, with a 20 s timeout.
# `sublinkctl status` must answer within 3 s while the daemon's query is
# known to be waiting there; a daemon that resolves on its event loop
# cannot answer until the resolver gives up.
#
#   dns_nonblocking_test.sh SOURCE_DIR BIN_DIR
set -euo pipefail
source_dir=$1 bin_dir=$2

source "$(dirname "$0")/dns_test_setup.sh"
dns_test_setup "$source_dir" sublink-server.dns-test.example 20

# Inside the namespaces: everything started there ends with them (--pid).
cat > "$root/inside.sh" <<'END'
set -euo pipefail
root=$1 source_dir=$2 bin_dir=$3
ip link set lo up
mount --bind "$root/resolv.conf" /etc/resolv.conf
/usr/bin/python3 "$source_dir/tests/daemon/silent_dns_server.py" 127.0.0.1 53 "$root/queries.log" > "$root/dns.out" &
for _ in $(seq 100); do grep -q ready "$root/dns.out" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$root/dns.out" || { echo "the silent DNS server did not start"; exit 1; }
"$bin_dir/sublinkd" --config "$root/sublink.json" 2> "$root/agent.log" &
# Wait until the daemon's query reached the silent server: from here on a
# blocking resolver would hold the daemon's loop for 20 s.
for _ in $(seq 200); do grep -q dns-test.example "$root/queries.log" 2>/dev/null && break; sleep 0.05; done
grep -q dns-test.example "$root/queries.log" || { echo "no query for the server's name reached the DNS server"; exit 1; }
sleep 0.5
start=$(date +%s%N)
if ! timeout 3 "$bin_dir/sublinkctl" -c "$root/sublink.json" status > "$root/status.txt" 2>&1; then
  echo "sublinkctl status did not answer within 3 s while the name was being resolved"
  cat "$root/status.txt"
  exit 1
fi
echo "status answered in $(( ($(date +%s%N) - start) / 1000000 )) ms"
cat "$root/status.txt"
END

set +e
unshare --net --mount --pid --fork --mount-proc bash "$root/inside.sh" "$root" "$source_dir" "$bin_dir" > "$root/out.txt" 2>&1
status=$?
set -e
cat "$root/out.txt"
[ "$status" -eq 0 ] || { cat "$root/agent.log" >&2 || true; fail "exit status $status"; }
grep -q "^state: " "$root/out.txt" || fail "status printed no state"
grep -q "link: .*down" "$root/out.txt" || fail "status does not say the link is down"
echo "PASS: the control socket answers while the name is being resolved"
