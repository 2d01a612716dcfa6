#!/bin/bash
# Build a busybox initramfs for the host VM or for a nested guest.
#
# Usage: tools/dev/vm/mkinitramfs.sh host|guest RELEASE OUT.cpio.gz
#   host:  modules to mount the dev machine's root over 9p (virtio_pci,
#          9pnet_virtio, 9p) and overlay (vmrun --writable-root) where the
#          kernel has it; init is tools/dev/vm/init-host.
#   guest: the stock virtio-console driver (virtio_pci, virtio_console);
#          init is tools/dev/vm/init-guest.
# Modules come from the kernel unpacked in $BUILD/kernels/RELEASE
# (tools/dev/kernel-images.sh), decompressed, with the load order that modprobe
# computes for them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../../../build}
kind=$1
rel=$2
out=$3

case "$kind" in
host)	mods="virtio_pci 9pnet_virtio 9p"
	# The debug kernel (tools/dev/debug-kernel.sh) may have no overlay.
	if modprobe -d "$build/kernels/$rel" -S "$rel" --show-depends overlay \
		>/dev/null 2>&1; then
		mods="$mods overlay"
	fi
	;;
guest)	mods="virtio_pci virtio_console" ;;
*)	echo "mkinitramfs: kind must be host or guest" >&2; exit 1 ;;
esac

kroot=$build/kernels/$rel
if [ ! -d "$kroot/lib/modules/$rel" ]; then
	echo "mkinitramfs: no modules for $rel in $kroot (make deps unpacks them)" >&2
	exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,root,lib/modules}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init-$kind" "$root/init"
chmod 755 "$root/init"
# The guest's init has helpers, its test scripts may use them too.
if [ "$kind" = guest ]; then
	cp "$here/vports.sh" "$root/bin/vports.sh"
	cp "$here/tracepin.sh" "$root/bin/tracepin.sh"
fi

: > "$root/modules.order"
for m in $mods; do
	modprobe -d "$kroot" -S "$rel" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	name=$(basename "$ko")
	name=${name%.xz}
	name=${name%.zst}
	case "$ko" in
	*.xz)	xz -dc "$ko" > "$root/lib/modules/$name" ;;
	*.zst)	zstd -qdc "$ko" > "$root/lib/modules/$name" ;;
	*)	cp "$ko" "$root/lib/modules/$name" ;;
	esac
	echo "$name" >> "$root/modules.order"
done

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
	gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
