#!/usr/bin/env bash
# Runs the libFuzzer targets of the host-fuzz build (it builds nothing:
# cmake --preset host-fuzz && cmake --build --preset host-fuzz first), one
# process at a time, each from a copy of its seed corpus (fuzz/corpus/NAME,
# never modified here), and prints one line per target: executions,
# executions per second, seconds and findings. Exit status 1 when any target
# found something (the inputs are kept in the findings folder) or could not
# run.
#
#   fuzz/run.sh [--time S]               bounded: S seconds per target (default 15; CI)
#   fuzz/run.sh --long [--max-time S]    10^7 executions per target (-runs=10000000),
#                                        each stopped after S seconds when given
#   options: --build DIR (default build/host-fuzz), --tsv FILE (append
#   "target<TAB>executions<TAB>exec/s<TAB>seconds<TAB>findings" rows),
#   --findings DIR (default build/fuzz-findings), then target names
#   (default: every bin/fuzz_* but fuzz_make_corpus)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/host-fuzz"
findings="$root/build/fuzz-findings"
seconds=15
long=0
max_time=0
tsv=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) seconds="$2"; shift 2 ;;
    --long) long=1; shift ;;
    --max-time) max_time="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --tsv) tsv="$2"; shift 2 ;;
    --findings) findings="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for bin in "$build"/bin/fuzz_*; do
    name="${bin##*/fuzz_}"
    [ "$name" = make_corpus ] || targets+=("$name")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets in $build/bin (build the host-fuzz preset first)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$findings"
failed=0
printf '%-16s %12s %9s %8s %9s\n' target executions exec/s seconds findings
for name in "${targets[@]}"; do
  bin="$build/bin/fuzz_$name"
  seeds="$root/fuzz/corpus/$name"
  if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
    printf '%-16s missing: %s or %s\n' "$name" "$bin" "$seeds"
    [ -n "$tsv" ] && printf '%s\t0\t0\t0\tmissing\n' "$name" >>"$tsv"
    failed=1
    continue
  fi
  mkdir -p "$work/$name" "$findings/$name"
  cp "$seeds"/* "$work/$name/"
  if [ "$long" = 1 ]; then
    limit=(-runs=10000000)
    [ "$max_time" != 0 ] && limit+=(-max_total_time="$max_time")
  else
    limit=(-max_total_time="$seconds")
  fi
  log="$findings/$name/last-run.log"
  start=$(date +%s.%N)
  "$bin" "${limit[@]}" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/$name/" "$work/$name" >"$log" 2>&1
  status=$?
  end=$(date +%s.%N)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  runs=${runs:-0}
  elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  rate=$(awk -v r="$runs" -v s="$elapsed" 'BEGIN { printf "%.0f", (s > 0 ? r / s : r) }')
  found=$(find "$findings/$name" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -newer "$work/$name" | wc -l)
  if [ "$status" != 0 ] && [ "$found" = 0 ]; then found=1; fi
  printf '%-16s %12s %9s %8s %9s\n' "$name" "$runs" "$rate" "$elapsed" "$found"
  [ -n "$tsv" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$runs" "$rate" "$elapsed" "$found" >>"$tsv"
  if [ "$found" != 0 ]; then
    failed=1
    echo "  finding: see $log and $findings/$name/"
    grep -m3 -E 'ERROR: |runtime error|invariant broken' "$log" | sed 's/^/    /'
  fi
done
exit "$failed"
