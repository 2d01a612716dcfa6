#!/bin/bash
# Build (once) a debug kernel of Debian's 6.12 series from linux-source-6.12,
# exactly the packaged version, with a small configuration that runs the
# host-VM tests and catches memory and locking errors: KASAN (generic,
# inline), lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP, kmemleak, DEBUG_LIST,
# UBSAN. Configuration: `make ARCH=x86_64 tinyconfig` plus the fragment
# tools/dev/debug-kernel/debug.config; every option the fragment sets is checked
# in the final .config.
#
# Usage: tools/dev/debug-kernel.sh BUILD_DIR [SERIES]     (SERIES: 6.12)
#
# The result is cached outside the clone, keyed by the fragment, the
# recipe (below), the source package's version and the compiler:
#   $DEBUG_KERNEL_CACHE/<key>/        (default /var/cache/vhost-trace/debug-kernel)
#     src/                    the extracted linux-source tree
#     obj/                    the build tree (make -C obj M=... builds modules)
#     root/boot/vmlinuz-REL, root/lib/modules/REL   (installed modules, depmod'ed)
#     PACKAGEVERSION, RELEASE, build-seconds, .done
# A second run finds .done and builds nothing. Then root/ is copied to
# BUILD_DIR/kernels/REL, so `tools/dev/vmrun -k REL` boots it, and
# BUILD_DIR/debug-kernel.release says "REL SERIES CACHE_DIR".
# The machine is shared: the build runs under nice -n 19 with -j2
# (DEBUG_KERNEL_JOBS overrides). Nothing touches /boot or /lib/modules.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(mkdir -p "$1" && cd "$1" && pwd)
series=${2:-6.12}
frag=$top/tools/dev/debug-kernel/debug.config
tarball=/usr/src/linux-source-$series.tar.xz
cache=${DEBUG_KERNEL_CACHE:-/var/cache/vhost-trace/debug-kernel}
jobs=${DEBUG_KERNEL_JOBS:-2}

if [ ! -r "$tarball" ]; then
	echo "debug-kernel: $tarball missing (apt-get install linux-source-$series)" >&2
	exit 1
fi
pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$series")
# Bump recipe when a change below makes another kernel (not for changes
# to how the result is copied or reported).
recipe="tinyconfig+fragment bzImage modules, recipe 1"
key=$( { cat "$frag"; echo "$recipe $pkgver"; gcc --version | head -1; } |
	sha256sum | cut -c1-16)
dir=$cache/$series-$key

if [ ! -f "$dir/.done" ]; then
	start=$(date +%s)
	echo "debug-kernel: building linux-source-$series $pkgver in $dir" \
	     "(key $key; load: $(cut -d' ' -f1-3 /proc/loadavg))"
	rm -rf "$dir"
	mkdir -p "$dir/src" "$dir/obj" "$dir/root"
	tar -xJf "$tarball" -C "$dir/src" --strip-components=1
	k() { nice -n 19 make -s -C "$dir/src" O="$dir/obj" ARCH=x86_64 "$@"; }
	k tinyconfig
	"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/obj" \
		"$dir/obj/.config" "$frag" > "$dir/merge.log"
	k olddefconfig
	bad=0
	while read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$dir/obj/.config" && continue ;;
		"# CONFIG_"*" is not set")
			o=${line#\# }; o=${o%% *}
			grep -q "^$o=" "$dir/obj/.config" || continue ;;
		*)	continue ;;
		esac
		echo "debug-kernel: '$line' not in the final .config" >&2
		bad=1
	done < "$frag"
	[ "$bad" = 0 ] || exit 1
	echo "debug-kernel: configured; make -j$jobs (nice 19)"
	k -j"$jobs" bzImage modules 2>&1 | grep -v '^  ' || true
	[ -f "$dir/obj/arch/x86/boot/bzImage" ] || {
		echo "debug-kernel: build failed" >&2; exit 1; }
	rel=$(cat "$dir/obj/include/config/kernel.release")
	k INSTALL_MOD_PATH="$dir/root" modules_install > /dev/null
	mkdir -p "$dir/root/boot"
	cp "$dir/obj/arch/x86/boot/bzImage" "$dir/root/boot/vmlinuz-$rel"
	cp "$dir/obj/System.map" "$dir/root/boot/System.map-$rel"
	cp "$dir/obj/.config" "$dir/root/boot/config-$rel"
	# The module build (make -C obj M=...) needs no link to the source's
	# place in the root: drop the ones modules_install made.
	rm -f "$dir/root/lib/modules/$rel/build" "$dir/root/lib/modules/$rel/source"
	depmod -b "$dir/root" "$rel"
	echo "$pkgver" > "$dir/PACKAGEVERSION"
	echo "$rel" > "$dir/RELEASE"
	secs=$(( $(date +%s) - start ))
	echo "$secs" > "$dir/build-seconds"
	touch "$dir/.done"
	echo "debug-kernel: $rel built in ${secs}s (load now: $(cut -d' ' -f1-3 /proc/loadavg))"
fi

rel=$(cat "$dir/RELEASE")
# A copy, not a link: the host VM's init binds the modules from a path
# that must resolve inside the dev machine's root (tools/dev/vm/init-host).
dest=$build/kernels/$rel
if [ "$(cat "$dest/.debug-key" 2>/dev/null)" != "$key" ]; then
	rm -rf "$dest" "$dest.tmp"
	mkdir -p "$build/kernels"
	cp -a "$dir/root" "$dest.tmp"
	echo "$key" > "$dest.tmp/.debug-key"
	touch "$dest.tmp/.unpacked"
	mv -T "$dest.tmp" "$dest"
fi
# For tools/dev/build-module.sh: where the build tree and the source are.
echo "$rel $series $dir" > "$build/debug-kernel.release"
echo "debug-kernel: $rel ready in $build/kernels/$rel" \
     "(built once in $(cat "$dir/build-seconds")s; cache $dir)"
