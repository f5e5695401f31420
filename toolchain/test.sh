#!/usr/bin/env bash
# Sets up a fresh machine and runs every sublink test: the host build and its
# Debian packages, the sanitizer build, the Cortex-M3 compile of the core, and
# the mps2-an385 board under QEMU with its footprint report.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain/deps.sh all

jobs=$(nproc)
run_preset() {  # run_preset NAME [test]
  echo "== $1: configure and build"
  cmake --preset "$1" >"build/configure-$1.log" 2>&1 || { cat "build/configure-$1.log"; exit 1; }
  cmake --build --preset "$1" -j "$jobs"
  if [ "${2:-}" = test ]; then
    echo "== $1: tests"
    # The packaging test has its own step below.
    ctest --preset "$1" -j "$jobs" --timeout 300 -LE packaging
  fi
}

run_preset host test
echo "== host: Debian packages, installed into a temporary root; kept in build/packages"
ctest --preset host -L packaging
cpack --config build/host/CPackConfig.cmake -B build/packages >build/packages.log 2>&1 || { cat build/packages.log; exit 1; }
run_preset host-asan test
run_preset cortex-m3

# The mps2-an385 image on a real network path (tap in a namespace with DNS,
# NTP and the host build's sublink-server), then its footprint, printed on
# every run; a skip (77: not root) still prints the footprint.
run_preset mps2-an385
echo "== mps2-an385: the board's network test under qemu-system-arm"
console=build/mps2-an385/net-test-console.log
rm -f "$console"
net_status=0
tests/mps2/mps2_net_test.py --server build/host/bin/sublink-server \
  --image build/mps2-an385/bin/sublink-mps2.elf --console-log "$console" || net_status=$?
echo "== mps2-an385: footprint"
peaks=(); [ -s "$console" ] && peaks=(--console "$console")
tools/footprint/footprint.py build/mps2-an385/bin/sublink-mps2.map "${peaks[@]}"
[ "$net_status" = 0 ] || [ "$net_status" = 77 ] || exit 1
echo "== all test suites passed"
