#!/bin/bash
# Build vhost_trace.ko out of tree for one kernel.
#
# Usage: tools/dev/build-module.sh BUILD_DIR RELEASE SERIES [VHOST_SRC_DIR]
#   RELEASE        kernel release, e.g. 6.1.0-56-amd64 (its headers are used)
#   SERIES         linux-source series, e.g. 6.1 (its vhost.h is used)
#   VHOST_SRC_DIR  override: a tree extracted by tools/dev/linux-src.sh
# Output: BUILD_DIR/kmod/RELEASE/vhost-trace/vhost_trace.ko
#
# Refuses to build when the vhost.h source is not the same version as the
# headers: that mismatch compiles and is silently wrong.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(mkdir -p "$1" && cd "$1" && pwd)
rel=$2
series=$3
vsrc=${4:-$build/linux-src/$series}

# the headers' tree and package version (tools/dev/kernel-headers.sh)
read -r kdir hver < <("$top/tools/dev/kernel-headers.sh" dir "$rel" ||
	echo "/usr/src/linux-headers-$rel")
# The debug kernel (tools/dev/debug-kernel.sh) is no package: its build tree
# and the linux-source version it was built from are in its cache.
if read -r drel _ ddir 2>/dev/null < "$build/debug-kernel.release" &&
   [ "$drel" = "$rel" ]; then
	kdir=$ddir/obj
	hver=$(cat "$ddir/PACKAGEVERSION")
fi
if [ ! -d "$kdir" ]; then
	echo "build-module: no headers for $rel in $kdir" >&2
	exit 1
fi
if [ -z "${4:-}" ]; then
	"$top/tools/dev/linux-src.sh" "/usr/src/linux-source-$series.tar.xz" "$vsrc"
fi

sver=$(cat "$vsrc/PACKAGEVERSION" 2>/dev/null || true)
if [ -z "$hver" ] || [ "$hver" != "$sver" ]; then
	echo "build-module: vhost.h mismatch: headers linux-headers-$rel are" \
	     "version '${hver:-unknown}', vhost.h comes from linux-source" \
	     "version '${sver:-unknown}' ($vsrc). Install the linux-source" \
	     "package of the same version as the headers." >&2
	exit 1
fi

# Kbuild writes its objects next to the sources, so each kernel gets a tree
# of links to the sources in the build directory.
obj=$build/kmod/$rel
mkdir -p "$obj/vhost-trace"
ln -sfn "$top/Kbuild" "$obj/Kbuild"
ln -sfn "$top/vhost-trace/uapi" "$obj/vhost-trace/uapi"
for f in "$top"/vhost-trace/Kbuild "$top"/vhost-trace/*.[ch]; do
	ln -sfn "$f" "$obj/vhost-trace/$(basename "$f")"
done
# Links to sources that no longer exist would break the build.
find "$obj/vhost-trace" -maxdepth 1 -xtype l -delete

make -s -C "$kdir" M="$obj" VHOST_H_DIR="$vsrc/drivers/vhost" modules
