#!/bin/bash
# Install everything vhost-trace needs on a Debian 12 machine.
# Idempotent and quiet when there is nothing to do.
# Usage: tools/dev/deps.sh [BUILD_DIR]   (QEMU source goes under BUILD_DIR/qemu)
set -euo pipefail

BUILD=${1:-build}
export DEBIAN_FRONTEND=noninteractive

# Kernels: the 6.1 and 6.12 LTS series of Debian 12, each as headers and
# the linux-source tarball of the same version (vhost.h comes from it).
# Their images are not installed (that would change how the machine
# boots): tools/dev/kernel-images.sh unpacks them into the build directory,
# and tools/dev/kernel-headers.sh unpacks a headers package that depends on
# its image (6.12's) instead of installing it.
KERNEL_PKGS="linux-source-6.1 linux-source-6.12"
KERNEL_HEADERS="linux-headers-amd64 linux-headers-6.12-amd64"
BUILD_PKGS="build-essential bc kmod cpio xz-utils zstd busybox-static
	dpkg-dev pkg-config file flex bison libelf-dev"
QEMU_BUILD_PKGS="meson ninja-build python3 libglib2.0-dev libpixman-1-dev
	zlib1g-dev libfdt-dev"
# The outer QEMU that runs the host VM, with its firmware (also used by the
# QEMU we build, which installs no blobs).
RUN_PKGS="qemu-system-x86 seabios ipxe-qemu"
TRACE_PKGS="trace-cmd libtracefs-dev libtraceevent-dev liburcu-dev
	libzstd-dev strace groff-base"
# vhost-traced parses QMP with jansson; the fuzz targets (selftests/fuzz)
# are libFuzzer programs built by clang with ASan and UBSan.
HOSTILE_PKGS="libjansson-dev clang libclang-rt-14-dev"
# vhost-trace record --domain talks to libvirt (libvirt, libvirt-qemu).
# Only the library: libvirt-daemon-system must not run on this machine;
# the test's copy is downloaded below and installed inside the host VM.
LIBVIRT_PKGS="libvirt-dev"
# make deb (packaging/debian): debhelper and dh_dkms (no dkms: DKMS runs
# only inside the host VM of the package test, from a downloaded .deb);
# QEMU (make qemu: the full one, shipped and tested) needs libslirp for
# -netdev user.
PKG_PKGS="debhelper dh-dkms libslirp-dev"
PKGS="$KERNEL_PKGS $BUILD_PKGS $QEMU_BUILD_PKGS $RUN_PKGS $TRACE_PKGS
	$HOSTILE_PKGS $LIBVIRT_PKGS $PKG_PKGS"

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "deps: installing packages needs root (try: sudo $0)" >&2
		exit 1
	fi
}

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

# deb-src entry for `apt-get source qemu`
SRCLIST=/etc/apt/sources.list.d/vhost-trace-src.sources
need_src=0
[ -f "$SRCLIST" ] || need_src=1

if [ -n "$missing" ] || [ "$need_src" = 1 ]; then
	need_root
	if [ "$need_src" = 1 ]; then
		cat > "$SRCLIST" <<'EOS'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	fi
	echo "deps: installing:$missing"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing \
		>/dev/null
fi

# QEMU source, unpacked once (Debian's patches applied by dpkg-source).
QSRC="$BUILD/qemu/src"
if [ ! -f "$QSRC/.unpacked" ]; then
	mkdir -p "$BUILD/qemu/dl"
	(cd "$BUILD/qemu/dl" && apt-get source -qq qemu >/dev/null 2>&1) || {
		echo "deps: apt-get source qemu failed" >&2
		exit 1
	}
	dir=$(find "$BUILD/qemu/dl" -maxdepth 1 -mindepth 1 -type d \
		-name 'qemu-*' | head -n1)
	rm -rf "$QSRC"
	mv "$dir" "$QSRC"
	rm -rf "$BUILD/qemu/dl"
	touch "$QSRC/.unpacked"
	echo "deps: QEMU source in $QSRC"
fi

# The kernels' headers (where a package would bring an image: unpacked).
if ! "$(dirname "$0")/kernel-headers.sh" install $KERNEL_HEADERS; then
	echo "deps: the kernel headers ($KERNEL_HEADERS) failed" >&2
	exit 1
fi

# The test kernels, unpacked (not installed) into the build directory.
"$(dirname "$0")/kernel-images.sh" "$BUILD"

# libvirt-daemon-system's .debs for the host VM (selftests/vm/traced_libvirt.sh).
"$(dirname "$0")/libvirt-debs.sh" "$BUILD"
# Debian's QEMU 10.0 from bookworm-backports for the vDPA front end,
# unpacked (not installed) into the build directory.
"$(dirname "$0")/stock-qemu.sh" "$BUILD"
