#!/bin/bash
# Unpack the test kernels into the build directory: for every supported
# kernel (tools/dev/kernels.sh), the linux-image package of exactly its headers'
# version is downloaded and extracted to BUILD/kernels/RELEASE, and depmod
# indexes its modules there. Nothing is installed: the machine's /boot,
# /lib/modules and boot loader stay as they were. The host VM boots
# BUILD/kernels/RELEASE/boot/vmlinuz-RELEASE and finds its modules at
# BUILD/kernels/RELEASE/lib/modules/RELEASE (tools/dev/vm/init-host binds them
# to /lib/modules/RELEASE inside the VM).
#
# Usage: tools/dev/kernel-images.sh BUILD_DIR
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1

"$top/tools/dev/kernels.sh" | while read -r rel series; do
	dest=$build/kernels/$rel
	[ -f "$dest/.unpacked" ] && continue
	read -r _ ver < <("$top/tools/dev/kernel-headers.sh" dir "$rel")
	dl=$(mktemp -d)
	chmod 755 "$dl"
	# Run as _apt where it can, so apt does not warn about the sandbox.
	chown _apt "$dl" 2>/dev/null || true
	if ! (cd "$dl" && apt-get download -qq "linux-image-$rel=$ver" \
			> /dev/null 2>&1); then
		echo "kernel-images: cannot download linux-image-$rel=$ver" >&2
		rm -rf "$dl"
		exit 1
	fi
	rm -rf "$dest"
	mkdir -p "$dest"
	dpkg-deb -x "$dl"/linux-image-*.deb "$dest"
	rm -rf "$dl"
	# Newer packages ship /usr/lib/modules; the runners expect lib/.
	if [ ! -d "$dest/lib/modules/$rel" ] &&
	   [ -d "$dest/usr/lib/modules/$rel" ]; then
		mkdir -p "$dest/lib/modules"
		mv "$dest/usr/lib/modules/$rel" "$dest/lib/modules/$rel"
	fi
	if [ ! -r "$dest/boot/vmlinuz-$rel" ] ||
	   [ ! -d "$dest/lib/modules/$rel/kernel" ]; then
		echo "kernel-images: linux-image-$rel has no kernel or modules" >&2
		exit 1
	fi
	depmod -b "$dest" "$rel"
	touch "$dest/.unpacked"
	echo "kernel-images: $rel ($ver) unpacked in $dest"
done
