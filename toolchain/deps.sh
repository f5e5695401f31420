#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for sublink and fetches the
# Debian source packages the targets build with their own configuration
# headers. Idempotent: a second run installs and fetches nothing.
#
#   toolchain/deps.sh [host|test|arm|all]   (default: all)
#
# Source packages are fetched through a private deb-src list kept under
# build/_deps/apt, derived from the machine's own binary sources, so the
# machine's apt configuration is never changed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/build/_deps"
what=${1:-all}
mkdir -p "$deps"

host_pkgs=(cmake ninja-build g++ pkg-config dpkg-dev libcjson-dev libgtest-dev
           libgmock-dev libsqlite3-dev openssl)
test_pkgs=(clang python3-websockets python3-jsonschema tinyproxy haproxy iproute2 dnsmasq-base qemu-system-arm systemd strace libfaketime spin
           libcap2 libedit2 libgnutls30 libnettle8 libseccomp2)  # the last five: the unpacked chronyd's libraries
test_pkgs+=(libclang-rt-14-dev)  # libFuzzer and clang's sanitizer runtimes (the host-fuzz preset)
test_pkgs+=(gcovr)  # branch coverage of the host-asan build (tools/coverage)
test_pkgs+=(libwebsockets-dev)  # a peer client in bench/link_memory
test_pkgs+=(valgrind)  # callgrind in bench/link_cpu
test_pkgs+=(ccache)  # toolchain/test.sh compiles through it: a second run rebuilds only what changed
test_pkgs+=(curl)  # the operator's HTTP client through a tunnel forward (tests/server, the demo)
# sshd and ssh: a real login through a tunnel forward. The tests run their
# own sshd (-D -f CONFIG -p PORT, killed by PID); the system's ssh service is
# not started by the install (below) nor by any test.
test_pkgs+=(openssh-server openssh-client)
arm_pkgs=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib g++-arm-linux-gnueabihf qemu-user)

want=()
case "$what" in
  host) want=("${host_pkgs[@]}") ;;
  test) want=("${host_pkgs[@]}" "${test_pkgs[@]}") ;;
  arm)  want=("${host_pkgs[@]}" "${arm_pkgs[@]}") ;;
  all)  want=("${host_pkgs[@]}" "${test_pkgs[@]}" "${arm_pkgs[@]}") ;;
  *) echo "deps.sh: unknown target '$what' (host, test, arm, all)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps.sh: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  # Installing a daemon's package (openssh-server) must not start it: the
  # invoke-rc.d policy refuses every start while the install runs, unless
  # the machine has a policy of its own (then it decides).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\n# deps.sh: no service starts while it installs\nexit 101\n' | $SUDO tee $policy >/dev/null
    $SUDO chmod 755 $policy
    trap "$SUDO rm -f $policy" EXIT
  fi
  for attempt in 1 2 3; do
    if $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >"$deps/install.log" 2>&1 \
       || { $SUDO apt-get update >/dev/null 2>&1 && \
            $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >"$deps/install.log" 2>&1; }; then
      break
    fi
    [ $attempt = 3 ] && { echo "deps.sh: apt-get install failed, see $deps.install.log" >&2; exit 1; }
    sleep $((attempt * 5))
  done
fi

# --- chrony, the NTP server of the mps2 network test ----------------------
# The test runs its own chronyd (-x, never setting the clock) in a network
# namespace. Installing the chrony package would replace the machine's time
# service (systemd-timesyncd) and start a daemon, so the binary package is
# unpacked under build/_deps/chrony instead and run from there; its shared
# libraries are ordinary packages, installed above.
if [[ $what == test || $what == all ]] && [ ! -x "$deps/chrony/usr/sbin/chronyd" ]; then
  mkdir -p "$deps/debs"
  for attempt in 1 2 3; do
    rm -f "$deps/debs"/chrony_*.deb
    (cd "$deps/debs" && apt-get download chrony >"$deps/debs/download.log" 2>&1) && break
    [ $attempt = 3 ] && { echo "deps.sh: could not download chrony (see $deps/debs/download.log)" >&2; exit 1; }
    sleep $((attempt * 5))
  done
  rm -rf "$deps/chrony"
  dpkg-deb -x "$deps/debs"/chrony_*.deb "$deps/chrony"
  [ -x "$deps/chrony/usr/sbin/chronyd" ] || { echo "deps.sh: no chronyd in the chrony package" >&2; exit 1; }
  echo "deps.sh: chronyd unpacked in $deps/chrony/usr/sbin"
fi

# --- Debian source packages, through a private deb-src list ---------------
fetch_source() {  # fetch_source PACKAGE VERSION_PREFIX -> $deps/src/PACKAGE
  local pkg=$1 dest="$deps/src/$1"
  [ -f "$dest/.fetched" ] && return 0
  local apt="$deps/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$deps/src"
  # Same mirrors and keys as the machine's binary sources, as deb-src.
  : >"$apt/sources.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN{RS=""; ORS="\n\n"} /Types:[^\n]*deb/ {print}' "$f" | sed 's/^Types:.*/Types: deb-src/' \
      >>"$apt/debian.sources.tmp" && printf '\n' >>"$apt/debian.sources.tmp"
  done
  if [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >>"$apt/sources.list" || true
  fi
  mkdir -p "$apt/sources.list.d"
  [ -f "$apt/debian.sources.tmp" ] && mv "$apt/debian.sources.tmp" "$apt/sources.list.d/debian.sources"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
              -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
  for attempt in 1 2 3; do
    if apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 && \
       (cd "$deps/src" && rm -rf "$pkg-"* && apt-get "${opts[@]}" source --download-only "$pkg" >"$apt/source-$pkg.log" 2>&1); then
      break
    fi
    [ $attempt = 3 ] && { echo "deps.sh: could not fetch source of $pkg (see $apt/*.log)" >&2; exit 1; }
    sleep $((attempt * 5))
  done
  (cd "$deps/src" && rm -rf "$dest" && dpkg-source --no-check -x "$pkg"_*.dsc "$dest" >/dev/null)
  touch "$dest/.fetched"
  echo "deps.sh: $pkg source in $dest"
}

fetch_source mbedtls
fetch_source cjson
case "$what" in arm|all) fetch_source lwip ;; esac
