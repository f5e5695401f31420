#!/usr/bin/env bash
# The sublink demo: sets up a fresh machine, builds, and opens the
# subscription link to a local test server, narrating every step.
#
# The test server is an independent WebSocket peer (python3-websockets) that
# requires the device's client certificate over TLS. The first configured
# port is closed, so the link also shows the failover to the second port.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

toolchain/deps.sh all
echo "== building (preset host)"
cmake --preset host >build/configure-host.log 2>&1 || { cat build/configure-host.log; exit 1; }
cmake --build --preset host --target sublink-connect >build/demo-build.log 2>&1 || { tail -50 build/demo-build.log; exit 1; }

demo="$root/build/demo"
mkdir -p "$demo"
echo "== test PKI in $demo/pki (CA, server certificate, device certificate CN=SYS-0001)"
sh tests/pki/make_pki.sh "$demo/pki" SYS-0001

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
closed_port=$(free_port)
server_port=$(free_port)

/usr/bin/python3 tests/peers/ws_tls_peer.py --port "$server_port" --cert "$demo/pki/server.crt" \
  --key "$demo/pki/server.key" --ca "$demo/pki/ca.crt" >"$demo/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q listening "$demo/server.log" 2>/dev/null && break
  sleep 0.1
done

echo "== test server on localhost:$server_port (port $closed_port is closed)"
echo "== sublink-connect --server localhost --ports $closed_port,$server_port"
build/host/bin/sublink-connect --server localhost --ports "$closed_port,$server_port" \
  --ca "$demo/pki/ca.crt" --cert "$demo/pki/device.crt" --key "$demo/pki/device.key" \
  --send '{"type":"hello","proto":1}' --give-up-s 20
rc=$?
echo "== the server saw:"
sed 's/^/   /' "$demo/server.log"
exit $rc
