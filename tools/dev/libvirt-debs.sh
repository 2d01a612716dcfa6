#!/bin/bash
# Download Debian 12's libvirt-daemon-system, with whatever of its
# dependencies this machine does not have, into BUILD/libvirt-debs for
# selftests/vm/traced_libvirt.sh, which dpkg-installs them inside the host
# VM's writable overlay (tools/dev/vmrun -w). Nothing is installed here:
# libvirtd must not run on the dev machine.
# Usage: tools/dev/libvirt-debs.sh [BUILD_DIR]
set -euo pipefail

BUILD=${1:-build}
dir=$BUILD/libvirt-debs
want="libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu"

# the packages apt would install (not installed here), exact versions
list=$(apt-get install -s -qq --no-install-recommends $want 2>/dev/null |
	awk '$1 == "Inst" {v = $3; gsub(/[()]/, "", v); print $2 "=" v}' |
	sort)
[ -n "$list" ] || { echo "libvirt-debs: apt finds nothing to get" >&2; exit 1; }
if [ -f "$dir/list" ] && [ "$(cat "$dir/list")" = "$list" ]; then
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
# apt's sandbox user must be able to write there
chmod 777 "$dir"
(cd "$dir" && apt-get download -qq $list)
chmod 755 "$dir"
echo "$list" > "$dir/list"
echo "libvirt-debs: $(echo "$list" | wc -l) packages in $dir"
