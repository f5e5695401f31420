#!/usr/bin/env bash
# The sublink demo, the README's first command: installs what is missing,
# builds the agent (sublinkd), its control tool (sublinkctl), the reference
# server (sublink-server) and the demo driver, then runs the driver. The
# driver makes the demo PKI and database, starts the server and the agent
# on loopback, tells the whole story step by step and checks every step;
# its exit status is the demo's. Arguments go to the driver
# (build/host/bin/sublink-demo --help).
#
# SUBLINK_BUILD_DIR picks another build directory for the host preset
# (default build/host).
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain/deps.sh all
build=${SUBLINK_BUILD_DIR:-build/host}
mkdir -p "$build"
echo "== building sublinkd, sublinkctl, sublink-server and sublink-demo in $build (preset host)"
cmake --preset host -B "$build" >"$build/demo-configure.log" 2>&1 || { cat "$build/demo-configure.log"; exit 1; }
cmake --build "$build" --target sublinkd sublinkctl sublink-server sublink-demo >"$build/demo-build.log" 2>&1 \
  || { tail -50 "$build/demo-build.log"; exit 1; }
exec "$build/bin/sublink-demo" --work build/demo "$@"
