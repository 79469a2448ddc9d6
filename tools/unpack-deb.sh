#!/usr/bin/env bash
# Unpacks one Debian package into DIR with `apt-get download` and `dpkg-deb -x`, without
# installing it: Debian's libfdt-dev:arm64 for the bare-metal images (not multi-arch
# co-installable with the host's libfdt-dev), and dict-gcide for the CLINC150 bench (it
# depends on a dictionary server the bench has no use for). See docs/dependencies.md.
# Needs Debian's package lists, and for arm64 packages the arm64 architecture
# (tools/setup.sh sets both up). Does nothing when DIR already holds the package.
# usage: tools/unpack-deb.sh PACKAGE DIR
set -eu
pkg=$1
dir=$2
[ -f "$dir/.unpacked-$pkg" ] && exit 0
echo "deps: unpacking Debian's $pkg into $dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"    # apt's sandbox user writes the download here
(cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null) || {
    echo "deps: 'apt-get download $pkg' failed; tools/setup.sh (as root) fetches the" \
         "package lists and enables arm64" >&2
    exit 1
}
mkdir -p "$dir"
dpkg-deb -x "$tmp"/*.deb "$dir"
touch "$dir/.unpacked-$pkg"
