#!/usr/bin/env bash
# Sets up a fresh machine and runs every sublink test: the host build and its
# Debian packages, the sanitizer build, the Cortex-M3 compile of the core, the
# ARM Linux build under qemu-user, and the mps2-an385 board under QEMU with its
# footprint report.
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

# ARM Linux, cross-built (GoogleTest and SQLite for armhf in a private
# sysroot); the unit and integration tests run under qemu-arm, the Python
# peers natively. Left out there by label: the whole-scenario sweeps (minutes
# each under emulation; the host runs them) and the benchmarks (an emulator's
# timings say nothing).
boards/linux-arm/fetch_sysroot.sh
run_preset linux-armhf
echo "== linux-armhf: tests under qemu-arm"
ctest --preset linux-armhf -j "$jobs" --timeout 600 -LE "sweep|bench|packaging"

# The mps2-an385 image on a real network path with the host build's
# sublink-server: as root on a tap in a namespace with DNS and NTP (static
# address, then DHCP), and on QEMU's restricted user network; then its
# footprint, printed on every run.
run_preset mps2-an385
console=build/mps2-an385/net-test-console.log
rm -f "$console"
net_failed=0
net_test() {  # net_test ARGS...: one run; a skip (77) fails too: deps.sh installed all it needs
  echo "== mps2-an385: network test $*"
  local s=0
  tests/mps2/mps2_net_test.py --server build/host/bin/sublink-server \
    --image build/mps2-an385/bin/sublink-mps2.elf "$@" || s=$?
  [ "$s" = 0 ] || { echo "== mps2-an385: network test $* failed (exit $s)"; net_failed=1; }
}
if [ "$(id -u)" = 0 ]; then
  net_test --console-log "$console"
  net_test --dhcp
  net_test --net user
else
  net_test --net user --console-log "$console"
fi
echo "== mps2-an385: footprint"
peaks=(); [ -s "$console" ] && peaks=(--console "$console")
tools/footprint/footprint.py build/mps2-an385/bin/sublink-mps2.map "${peaks[@]}"
[ "$net_failed" = 0 ] || exit 1
echo "== all test suites passed"
