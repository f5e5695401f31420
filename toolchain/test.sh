#!/usr/bin/env bash
# Sets up a fresh machine and runs every sublink test: the host build and its
# Debian packages, the sanitizer build, and the Cortex-M3 compile of the core.
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
echo "== all test suites passed"
