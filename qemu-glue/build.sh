#!/bin/bash
# Build qemu-system-x86_64 from Debian's QEMU source with the vhost-trace
# patch series (qemu-glue/patches/series) applied.
#
# Usage: qemu-glue/build.sh BUILD_DIR [full|test]
#   BUILD_DIR/qemu/src    pristine source (unpacked by tools/dev/deps.sh)
#   BUILD_DIR/qemu/tree   source with the series applied
#   BUILD_DIR/qemu/full   meson build tree of the full build (the default,
#                         `make qemu`): a system emulator that runs normal
#                         VMs (every default device: q35, virtio-blk,
#                         virtio-net with -netdev user, VGA/VNC; KVM and
#                         TCG) plus vhost-trace-pci, configured for /usr
#                         and Debian's firmware paths. `make deb` packages
#                         it as /usr/bin/qemu-system-x86_64-vhost-trace, and
#                         it is the tests' QEMU too (tools/dev/guestrun's
#                         default, selftests/vm/*.sh): one build of QEMU.
#   BUILD_DIR/qemu/build  meson build tree of the test build (test, an
#                         option nothing uses by default): KVM only, the pc
#                         machine and the devices the tests use; the binary
#                         is BUILD_DIR/qemu/build/qemu-system-x86_64 (for
#                         tools/dev/guestrun -q). Measured fresh on 2 cores:
#                         99 s (176 CPU s) against the full build's 168 s
#                         (280 CPU s).
# The tree is re-made only when the series changes, and ninja rebuilds
# only what changed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# The uapi the device uses, installed where QEMU keeps kernel headers.
uapi=$top/vhost-trace/uapi/linux/vhost_trace.h
build=$(cd "$1" && pwd)
variant=${2:-full}
src=$build/qemu/src
tree=$build/qemu/tree
case "$variant" in
test)	obj=$build/qemu/build ;;
full)	obj=$build/qemu/full ;;
*)	echo "qemu-glue: unknown variant '$variant' (full or test)" >&2; exit 2 ;;
esac
series=$here/patches/series

if [ ! -f "$src/.unpacked" ]; then
	echo "qemu-glue: no QEMU source in $src (run tools/dev/deps.sh)" >&2
	exit 1
fi

patches=()
if [ -f "$series" ]; then
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		patches+=("$here/patches/$p")
	done < "$series"
fi

hash=$( (cat "$src/debian/changelog" "$series" "${patches[@]}" "$uapi" \
	2>/dev/null || true) | sha256sum | cut -d' ' -f1)

if [ "$(cat "$tree/.series-hash" 2>/dev/null)" != "$hash" ]; then
	echo "qemu-glue: preparing source tree (${#patches[@]} patches)"
	rm -rf "$tree.new"
	mkdir "$tree.new"
	cp -a "$src/." "$tree.new/"	# $src may be a link
	for p in "${patches[@]}"; do
		if ! patch -d "$tree.new" -p1 -s -N < "$p"; then
			echo "qemu-glue: $(basename "$p") does not apply" >&2
			exit 1
		fi
	done
	cp "$uapi" "$tree.new/linux-headers/linux/vhost_trace.h"
	echo "$hash" > "$tree.new/.series-hash"
	# cp -a kept the old times: mark what differs from the previous tree
	# as new, so that ninja rebuilds exactly that (also a file the new
	# series no longer patches).
	if [ -d "$tree" ]; then
		{ diff -rq "$tree" "$tree.new" 2>/dev/null || true; } |
			sed -n 's/^Files .* and \(.*\) differ$/\1/p; s/^Only in \(.*\): \(.*\)$/\1\/\2/p' |
			{ grep "^$tree.new/" || true; } | while read -r f; do
				if [ -e "$f" ]; then touch "$f"; fi
			done
	fi
	rm -rf "$tree"
	mv "$tree.new" "$tree"
fi

# The test build: KVM only (the nested guests run with -enable-kvm), the
# pc machine and the devices the tests use
# (configs/devices/x86_64-softmmu/vhost-trace.mak, from the series); no
# debug information (the build takes ~140 s instead of ~200 s).
config=(--meson=/usr/bin/meson
	--target-list=x86_64-softmmu
	--without-default-features --without-default-devices
	--with-devices-x86_64=vhost-trace
	--enable-kvm --disable-tcg --enable-vhost-kernel
	--disable-docs --disable-install-blobs --disable-werror
	--disable-debug-info)
# The shipped build: every default device of x86_64 (the series adds
# vhost-trace-pci to them, CONFIG_VHOST_TRACE default y), KVM and TCG,
# user networking (libslirp), VNC, vhost-net; Debian's firmware (seabios,
# ipxe-qemu, qemu-system-data) found where Debian's own QEMU finds it;
# no debug information. (--disable-tcg would save only 24 of its 280 CPU
# s, measured: TCG stays, so that it also runs guests where there is no
# KVM.)
if [ "$variant" = full ]; then
	config=(--meson=/usr/bin/meson
		--target-list=x86_64-softmmu
		--prefix=/usr --sysconfdir=/etc --localstatedir=/var
		--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
		--without-default-features
		--enable-kvm --enable-tcg --enable-vhost-kernel --enable-vhost-net
		--enable-slirp --enable-vnc
		--disable-docs --disable-install-blobs --disable-werror
		--disable-debug-info)
fi

# A build tree configured otherwise is made anew.
if [ "$(cat "$obj/.configure-args" 2>/dev/null)" != "${config[*]}" ]; then
	rm -rf "$obj"
fi
if [ ! -f "$obj/build.ninja" ]; then
	mkdir -p "$obj"
	(cd "$obj" && "$tree/configure" "${config[@]}" \
		> "$obj/configure.log" 2>&1) || {
		tail -n 30 "$obj/configure.log" >&2
		echo "qemu-glue: configure failed, see $obj/configure.log" >&2
		exit 1
	}
	echo "${config[*]}" > "$obj/.configure-args"
fi

ninja -C "$obj" qemu-system-x86_64 > "$obj/ninja.log" 2>&1 || {
	grep -B2 -A20 'error' "$obj/ninja.log" | head -n 60 >&2
	echo "qemu-glue: build failed, see $obj/ninja.log" >&2
	exit 1
}
