#!/usr/bin/env bash
# Sets up a fresh machine and runs every sublink test: the host build and its
# Debian packages, the sanitizer build, the clang build, the fuzz targets for
# a bounded time, the Cortex-M3 compile of the core, the ARM Linux build
# under qemu-user, and the mps2-an385 board under QEMU with its footprint
# report. Ends with a table of the suites and
# their counts (ran, passed, failed, skipped); a skip fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain/deps.sh all

jobs=$(nproc)
# Every compiler call goes through ccache (one cache for every clone on this
# machine: paths are hashed relative to the clone), so a run after a small
# change rebuilds what changed; a first run on a machine compiles everything.
# The coverage build opts out (its counters name absolute source paths).
export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
# Every suite's counts land in $results; the table is printed at the end,
# also when a step fails.
results="$PWD/build/ci-results"
rm -rf "$results"; mkdir -p "$results"
trap 'echo "== test suites"; toolchain/ci_summary.py "$results" || true' EXIT
run_preset() {  # run_preset NAME [test [LABELS_LEFT_OUT]]
  echo "== $1: configure and build"
  cmake --preset "$1" >"build/configure-$1.log" 2>&1 || { cat "build/configure-$1.log"; exit 1; }
  cmake --build --preset "$1" -j "$jobs"
  if [ "${2:-}" = test ]; then
    echo "== $1: tests"
    # The packaging test has its own step below.
    ctest --preset "$1" -j "$jobs" --timeout 300 --output-on-failure -LE "${3:-packaging}" --output-junit "$results/$1.xml"
  fi
}

run_preset host test
# The fault matrix (docs/fault-matrix.md): every required fault has a row
# whose test passed in the run above (tools/fault_matrix/table.py).
echo "== host: the fault matrix"
if tools/fault_matrix/table.py "$results/host.xml"; then
  printf 'fault matrix: every required fault has a passing row\t1\t1\t0\t0\n' >>"$results/suites.tsv"
else
  printf 'fault matrix: every required fault has a passing row\t1\t0\t1\t0\n' >>"$results/suites.tsv"; exit 1
fi
echo "== model: spin, every state of model/sublink.pml"
if model/check.sh; then
  printf 'model (spin)\t3\t3\t0\t0\n' >>"$results/suites.tsv"
else
  printf 'model (spin)\t3\t0\t3\t0\n' >>"$results/suites.tsv"; exit 1
fi
echo "== host: Debian packages, installed into a temporary root; kept in build/packages"
ctest --preset host -L packaging --output-junit "$results/host-packaging.xml"
cpack --config build/host/CPackConfig.cmake -B build/packages >build/packages.log 2>&1 || { cat build/packages.log; exit 1; }
# Under the sanitizers every test but the benchmarks and the whole-scenario sweeps (a power cut,
# a wipe or a crash loop at every point of a scenario, each run thousands of
# times: far past the timeout there) and the 10,000-reconnect soak (minutes
# there); the host build above runs them.
# The same build carries gcov's counters: after its tests, the branch
# coverage of firmware/, net/ and hal/ per file (tools/coverage, docs/coverage.md);
# below the floor in tools/coverage/floor.txt fails the run.
find build/host-asan -name '*.gcda' -delete 2>/dev/null || true
# Benchmarks measure the host build; under the sanitizers they only cost time.
run_preset host-asan test "packaging|sweep|bench|soak"
echo "== host-asan: branch coverage"
if tools/coverage/coverage.py build/host-asan; then
  printf 'branch coverage at or above the floor\t1\t1\t0\t0\n' >>"$results/suites.tsv"
else
  printf 'branch coverage at or above the floor\t1\t0\t1\t0\n' >>"$results/suites.tsv"; exit 1
fi
# clang's warnings differ from g++'s; both compilers build with -Werror.
run_preset host-clang
# The libFuzzer targets (fuzz/, docs/fuzzing.md), built with clang and the
# sanitizers, each run for 10 s from its seed corpus: one row in the table,
# a finding or a target that cannot run fails it (the inputs are kept in
# build/fuzz-findings). About 3 minutes for the runs, 2-3 for the build.
run_preset host-fuzz
echo "== host-fuzz: every target for 10 s"
rm -f build/fuzz-ci.tsv; touch build/fuzz-ci.tsv
fuzz_status=0
fuzz/run.sh --time 10 --tsv build/fuzz-ci.tsv || fuzz_status=$?
fuzz_ran=$(wc -l <build/fuzz-ci.tsv)
fuzz_found=$(awk -F'\t' '$5 != 0' build/fuzz-ci.tsv | wc -l)
printf 'libFuzzer targets, 10 s each\t%s\t%s\t%s\t0\n' "$fuzz_ran" "$((fuzz_ran - fuzz_found))" "$fuzz_found" \
  >>"$results/suites.tsv"
[ "$fuzz_status" = 0 ] || { echo "== host-fuzz: a target found something or could not run (exit $fuzz_status)"; exit 1; }
run_preset cortex-m3

# ARM Linux, cross-built (GoogleTest and SQLite for armhf in a private
# sysroot); the unit and integration tests run under qemu-arm, the Python
# peers natively. Left out there by label: the whole-scenario sweeps (minutes
# each under emulation; the host runs them) and the benchmarks (an emulator's
# timings say nothing).
boards/linux-arm/fetch_sysroot.sh
run_preset linux-armhf
echo "== linux-armhf: tests under qemu-arm"
ctest --preset linux-armhf -j "$jobs" --timeout 600 --output-on-failure -LE "sweep|bench|packaging|soak" \
  --output-junit "$results/linux-armhf.xml"

# The mps2-an385 image on a real network path with the host build's
# sublink-server: as root on a tap in a namespace with DNS and NTP (static
# address, then DHCP), and on QEMU's restricted user network; then its
# footprint, printed on every run.
run_preset mps2-an385
console=build/mps2-an385/net-test-console.log
rm -f "$console"
net_failed=0
net_test() {  # net_test LABEL ARGS...: one run; a skip (77) fails too: deps.sh installed all it needs
  local row="mps2-an385 network, $1"; shift
  echo "== $row: network test $*"
  local s=0
  tests/mps2/mps2_net_test.py --server build/host/bin/sublink-server \
    --image build/mps2-an385/bin/sublink-mps2.elf "$@" || s=$?
  case "$s" in
    0) printf '%s\t1\t1\t0\t0\n' "$row" >>"$results/suites.tsv" ;;
    77) printf '%s\t1\t0\t0\t1\n' "$row" >>"$results/suites.tsv" ;;
    *) printf '%s\t1\t0\t1\t0\n' "$row" >>"$results/suites.tsv" ;;
  esac
  [ "$s" = 0 ] || { echo "== $row failed (exit $s)"; net_failed=1; }
}
if [ "$(id -u)" = 0 ]; then
  net_test "static address" --console-log "$console"
  net_test "DHCP" --dhcp
  net_test "user network" --net user
else
  net_test "user network" --net user --console-log "$console"
fi
# No clock at all: no RTC and no NTP answer, the board waits ntp_wait_s and
# links on its build time.
net_test "no clock" --net user --no-clock
echo "== mps2-an385: footprint"
peaks=(); [ -s "$console" ] && peaks=(--console "$console")
tools/footprint/footprint.py build/mps2-an385/bin/sublink-mps2.map "${peaks[@]}"
trap - EXIT
echo "== test suites"
toolchain/ci_summary.py "$results" || exit 1
[ "$net_failed" = 0 ] || exit 1
echo "== all test suites passed"
