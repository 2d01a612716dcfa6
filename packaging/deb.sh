#!/bin/bash
# make deb: Debian packages of vhost-trace with debhelper (packaging/debian).
#
# Usage: packaging/deb.sh BUILD_DIR
# The tracked and new (not ignored) files of the source tree are copied to
# BUILD_DIR/deb/vhost-trace-VERSION with packaging/debian as its debian/,
# and dpkg-buildpackage -b builds there. vhost-trace-qemu is built when
# BUILD_DIR/qemu/full has the full QEMU (make qemu), else left out
# (build profile pkg.vhost-trace.noqemu). Output: BUILD_DIR/deb/*.deb.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "$1" && cd "$1" && pwd)
ver=$(sed -n '1s/^vhost-trace (\([^)-]*\).*/\1/p' "$top/packaging/debian/changelog")
out=$build/deb
src=$out/vhost-trace-$ver

missing=""
for c in dpkg-buildpackage dh dh_dkms; do
	command -v "$c" > /dev/null || missing="$missing $c"
done
if [ -n "$missing" ]; then
	echo "deb: missing$missing (Debian: apt install dpkg-dev debhelper" \
	     "dh-dkms; tools/dev/deps.sh installs them)" >&2
	exit 1
fi

rm -rf "$out"
mkdir -p "$src"
(cd "$top" && git ls-files -co --exclude-standard -z |
	grep -zv '^packaging/debian/' | cpio -0pdm --quiet "$src")
cp -a "$top/packaging/debian" "$src/debian"
cp "$top/packaging/sysusers.conf" "$src/debian/vhost-trace.sysusers"

profiles=()
qemu=$build/qemu/full
if [ -x "$qemu/qemu-system-x86_64" ]; then
	export VT_QEMU_FULL=$qemu
else
	echo "deb: no full QEMU in $qemu (make qemu): vhost-trace-qemu left out"
	profiles=(-Ppkg.vhost-trace.noqemu)
fi

cd "$src"
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} noautodbgsym"
log=$out/build.log
if ! dpkg-buildpackage -b -uc -us "${profiles[@]}" > "$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "deb: dpkg-buildpackage failed, see $log" >&2
	exit 1
fi
ls -1 "$out"/*.deb
