#!/usr/bin/env bash
# Puts the armhf libraries the linux-armhf build links against, but the cross
# toolchain does not ship, into a private sysroot: GoogleTest/GoogleMock (the
# tests) and SQLite (the reference server's records).
#
#   boards/linux-arm/fetch_sysroot.sh        -> build/_deps/armhf-sysroot
#
# The Debian armhf packages are downloaded through a private apt state (armhf
# as its only architecture) and unpacked with dpkg-deb, so the machine's apt
# and dpkg configuration are never changed and no armhf package is installed
# system-wide. Idempotent: a second run downloads nothing.
#
# Index downloads can fail (a mirror mid-sync); the run goes on as long as
# the packages themselves can be fetched. When they cannot, GoogleTest is
# built for armhf from Debian's googletest sources (/usr/src/googletest) and
# the sysroot has no SQLite: the armhf build then leaves the reference server
# and its tests out (the tests that need a server use the Python one).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
deps="$root/build/_deps"
sysroot="$deps/armhf-sysroot"
apt="$deps/armhf-apt"
packages=(libgtest-dev libgmock-dev libsqlite3-dev libsqlite3-0)

[ -f "$sysroot/.complete" ] && exit 0

fetch_debs() {  # downloads the packages into $apt/debs; fails if any is missing
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$apt/debs"
  # The machine's Debian sources (deb822 files and sources.list lines), as is:
  # the architecture is chosen by the options below, not by the sources.
  : >"$apt/sources.list"
  rm -f "$apt/sources.list.d/"*
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cp "$f" "$apt/sources.list.d/"
  done
  [ -f /etc/apt/sources.list ] && grep -E '^deb ' /etc/apt/sources.list >>"$apt/sources.list" || true
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
              -o "APT::Architecture=armhf" -o "APT::Architectures=armhf"
              -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
  for attempt in 1 2 3; do
    # A failed index (for example a security mirror mid-sync) is not fatal:
    # the packages usually come from the main suite.
    apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 || true
    if (cd "$apt/debs" && rm -f ./*.deb && \
        apt-get "${opts[@]}" download "${packages[@]}" >"$apt/download.log" 2>&1); then
      return 0
    fi
    sleep $((attempt * 5))
  done
  return 1
}

# GoogleTest for armhf from the architecture-independent Debian sources, with
# the project's toolchain file, installed into the sysroot's usual places.
build_googletest() {
  local src=/usr/src/googletest build="$deps/armhf-googletest"
  [ -f "$src/CMakeLists.txt" ] || { echo "fetch_sysroot.sh: $src missing (Debian package googletest)" >&2; return 1; }
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_TOOLCHAIN_FILE="$root/toolchain/arm-linux-gnueabihf.cmake" \
        -DCMAKE_INSTALL_PREFIX="$sysroot/usr" -DCMAKE_INSTALL_LIBDIR=lib/arm-linux-gnueabihf \
        >"$build.log" 2>&1 && \
  cmake --build "$build" -j "$(nproc)" >>"$build.log" 2>&1 && \
  cmake --install "$build" >>"$build.log" 2>&1
}

rm -rf "$sysroot"
mkdir -p "$sysroot"
if fetch_debs; then
  for deb in "$apt/debs/"*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
  echo "fetch_sysroot.sh: ${packages[*]} (armhf) in $sysroot"
else
  echo "fetch_sysroot.sh: armhf packages could not be downloaded (see $apt/*.log);" \
       "building GoogleTest from /usr/src/googletest, no SQLite for armhf" >&2
  build_googletest || { echo "fetch_sysroot.sh: GoogleTest build failed, see $deps/armhf-googletest.log" >&2; exit 1; }
fi
touch "$sysroot/.complete"
