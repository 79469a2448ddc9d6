#!/usr/bin/env bash
# Installs what the build and the tests need, from Debian's packages only, and enables
# the arm64 architecture so the build can fetch Debian's arm64 libfdt
# (tools/unpack-deb.sh). Idempotent: one line naming what it installs, nothing at
# all when everything is present.
set -eu

pkgs="make gcc libc6-dev gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-system-arm
device-tree-compiler libfdt-dev libcmocka-dev python3 python3-pytest python3-pexpect python3-numpy qemu-user
clang libclang-rt-14-dev gnuplot-nox wordnet-base zlib1g-dev"
# `tools/setup.sh bench`: also what make bench measures on (not needed to build or test).
[ "${1:-}" = bench ] && pkgs="$pkgs dataset-fashion-mnist"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
need_arm64=false
if ! dpkg --print-foreign-architectures | grep -qx arm64 ||
   ! apt-cache show libfdt-dev:arm64 >/dev/null 2>&1; then
    need_arm64=true
fi
[ -z "$missing" ] && ! $need_arm64 && exit 0

what="${missing# }"
$need_arm64 && what="${what:+$what, }the arm64 package lists (for libfdt-dev:arm64)"
echo "setup: installing $what"
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: needs root to install: $what" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
apt-get update -qq >/dev/null
if [ -n "$missing" ]; then
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
