#!/usr/bin/env bash
# Unpacks Debian's arm64 libfdt (headers and static library) into DIR for the bare-metal
# images. It is not installed system-wide: Debian's libfdt-dev is not multi-arch
# co-installable, and the host tools need the host one. See docs/dependencies.md.
# usage: tools/fetch-arm64-deps.sh DIR
set -eu
dir=$1
[ -f "$dir/usr/lib/aarch64-linux-gnu/libfdt.a" ] && exit 0
echo "deps: unpacking Debian's libfdt-dev:arm64 into $dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"    # apt's sandbox user writes the download here
(cd "$tmp" && apt-get download -qq libfdt-dev:arm64 2>/dev/null) || {
    echo "deps: 'apt-get download libfdt-dev:arm64' failed; tools/setup.sh enables the arm64 architecture (run it as root)" >&2
    exit 1
}
mkdir -p "$dir"
dpkg-deb -x "$tmp"/libfdt-dev_*_arm64.deb "$dir"
