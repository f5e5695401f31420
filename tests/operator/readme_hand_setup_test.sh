#!/bin/bash
# Runs the README's "Set it up by hand" section as a newcomer would: every
# ```sh block between the hand-setup markers, in order, in one bash, from a
# folder laid out like the source tree (tests/ and build/host/bin, the
# latter this build's programs). It runs in network, PID and mount
# namespaces of its own: ports 8443 and 9443 are free there, and whatever
# the section starts in the background ends with it, also on a failure.
#
#   readme_hand_setup_test.sh SOURCE_DIR BIN_DIR
set -euo pipefail
source_dir=$1 bin_dir=$2

fail() { echo "FAIL: $*" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/build/host"
ln -s "$bin_dir" "$root/build/host/bin"
ln -s "$source_dir/tests" "$root/tests"

# The section's shell blocks, in order.
awk '/<!-- hand-setup:begin -->/ {on = 1; next}
     /<!-- hand-setup:end -->/ {on = 0}
     on && /^```sh$/ {code = 1; next}
     on && /^```$/ {code = 0; next}
     on && code {print}' "$source_dir/README.md" > "$root/section.sh"
[ -s "$root/section.sh" ] || fail "no hand-setup section in README.md"
grep -q 'sublinkd --config' "$root/section.sh" || fail "the section does not start the agent"

set +e
(cd "$root" && unshare --net --pid --fork --mount --mount-proc \
   bash -c 'ip link set lo up && exec bash -e section.sh') > "$root/out.txt" 2>&1
status=$?
set -e
cat "$root/out.txt"
[ "$status" -eq 0 ] || fail "the section exited with $status"

expect() {
  grep -qF -- "$1" "$root/out.txt" || fail "the output lacks: $1"
}
expect ": OK: system SYS-0001 of customer CUST-1, server localhost ports 8443,9443"
expect "state:    licensed"
expect "link:     up (port 8443)"
expect "features: trunks 30"
expect "trunks: on, quantity 30 (state licensed)"
grep -E "^SYS-0001 .*8443" "$root/out.txt" >/dev/null || fail "devices does not list SYS-0001 on port 8443"
echo "PASS: the README's hand set-up works as written"
