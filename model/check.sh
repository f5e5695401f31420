#!/usr/bin/env bash
# Checks model/sublink.pml exhaustively with spin (Debian's package): every
# reachable state of the license, grace, alarm and restart machine, every
# invariant asserted after every step. Then each MUTANT_* variant (a rule
# the code no longer has put back) must be caught, so the model is known to
# be able to fail. Prints one line per run; exit 0 when all hold.
set -euo pipefail
cd "$(dirname "$0")"
command -v spin >/dev/null || { echo "spin is not installed (toolchain/deps.sh test)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp sublink.pml "$work/"
failed=0
run() {  # run NAME EXPECT(pass|caught) [SPIN_DEFINE]
  local name=$1 expect=$2 define=${3:-}
  (cd "$work" && rm -f pan pan.* sublink.pml.trail &&
    spin -a ${define:+-D$define} sublink.pml >/dev/null &&
    gcc -O2 -DSAFETY -o pan pan.c &&
    ./pan -m100000 >pan.out 2>&1) || { echo "$name: spin or pan failed"; cat "$work/pan.out" 2>/dev/null; failed=1; return; }
  local errors states depth
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$work/pan.out")
  states=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$work/pan.out")
  depth=$(sed -n 's/.*depth reached \([0-9]*\),.*/\1/p' "$work/pan.out")
  if grep -q "Search not completed" "$work/pan.out" && [ "$expect" = pass ]; then
    echo "$name: FAIL (search not completed)"; failed=1; return
  fi
  if [ "$expect" = pass ]; then
    if [ "$errors" = 0 ]; then
      echo "$name: PASS, every invariant holds in all $states states (depth $depth)"
    else
      echo "$name: FAIL, $errors invariant violated:"; grep "violated" "$work/pan.out"
      (cd "$work" && spin -t -p -g sublink.pml | tail -40); failed=1
    fi
  else
    if [ "${errors:-0}" -ge 1 ]; then
      echo "$name: caught as expected: $(grep -m1 -o 'assertion violated.*' "$work/pan.out")"
    else
      echo "$name: FAIL, the mutant was not caught ($states states)"; failed=1
    fi
  fi
}
run "model" pass
run "mutant: an unclean start charged nothing" caught MUTANT_NO_CHARGE
run "mutant: a revoked license not kept as the replay floor" caught MUTANT_NO_REVOKED_FLOOR
exit $failed
