#!/bin/bash
# The bash completions of sublinkctl and sublink-server (packaging/completion)
# as bash runs them: each case sets the words typed so far and checks what
# the completion function offers.
#
#   bash_completion_test.sh SOURCE_DIR
set -uo pipefail
source_dir=$1
failures=0

source "$source_dir/packaging/completion/sublinkctl" || exit 1
source "$source_dir/packaging/completion/sublink-server" || exit 1

# offers FUNCTION "WORDS TYPED" EXPECTED...: the last word is the one being
# completed ("" for a new word); each EXPECTED must be offered.
offers() {
  local fn=$1 line=$2
  shift 2
  read -r -a COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  "$fn"
  local want got=" ${COMPREPLY[*]} "
  for want in "$@"; do
    if [[ $got != *" $want "* ]]; then
      echo "FAIL: '$line' offers [${COMPREPLY[*]}], not '$want'"
      failures=$((failures + 1))
    fi
  done
}
# offers_nothing FUNCTION "WORDS TYPED"
offers_nothing() {
  local fn=$1 line=$2
  read -r -a COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  "$fn"
  if ((${#COMPREPLY[@]} != 0)); then
    echo "FAIL: '$line' offers [${COMPREPLY[*]}], expected nothing"
    failures=$((failures + 1))
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/sublink.json" <<'END'
{"server": "x", "features": [{"name": "trunks", "qty": 30}, {"name": "recording", "qty": 1}]}
END
touch "$work/fleet.db"

offers _sublinkctl "sublinkctl " status feature usage watch doctor firewall-rules --config --version
offers _sublinkctl "sublinkctl st" status
offers _sublinkctl "sublinkctl status " --json
offers _sublinkctl "sublinkctl doctor " --json --resolv-conf
offers _sublinkctl "sublinkctl -c $work/sub" "$work/sublink.json"
offers _sublinkctl "sublinkctl -c $work/sublink.json feature " trunks recording
offers _sublinkctl "sublinkctl -c $work/sublink.json usage tr" trunks
offers_nothing _sublinkctl "sublinkctl -c $work/sublink.json usage trunks "

offers _sublink_server "sublink-server " init-db add-customer add-system entitle admin --db --port --version
offers _sublink_server "sublink-server --db $work/fl" "$work/fleet.db"
offers _sublink_server "sublink-server --duplicate-identity " flag refuse
offers _sublink_server "sublink-server add-system " --db --customer --until --suspended
offers _sublink_server "sublink-server admin " devices entitle revoke port blackhole clear-alarm --control --db
offers _sublink_server "sublink-server admin --db $work/fleet.db dev" devices
offers _sublink_server "sublink-server admin --db $work/fleet.db devices " --json
offers _sublink_server "sublink-server admin --control s.sock port 8443 " stop start stall normal
offers _sublink_server "sublink-server admin --control s.sock blackhole SYS-0001 " on off
offers_nothing _sublink_server "sublink-server --port "

if ((failures > 0)); then
  echo "$failures completion case(s) failed"
  exit 1
fi
echo "PASS: every completion case"
