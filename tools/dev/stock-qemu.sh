#!/bin/bash
# A stock distribution QEMU for the vDPA front end (issue 17): Debian's
# qemu-system-x86 from bookworm-backports (10.0 today; it has the generic
# vhost-vdpa-device-pci that presents a host vDPA device to a guest), its
# data and firmware packages, and any library it needs that the machine
# lacks, fetched with `apt-get download` and unpacked with dpkg-deb -x into
# BUILD/stock-qemu/root. Nothing is installed: the machine's QEMU (7.2,
# which runs the host VM) stays as it is.
#
#   BUILD/stock-qemu/qemu-system-x86_64   the wrapper to run it with: its
#       firmware (-L), its modules (QEMU_MODULE_DIR: the system's 7.2 modules
#       are not of its build) and the extra libraries (LD_LIBRARY_PATH)
#   BUILD/stock-qemu/VERSION              the exact package versions
#
# The sources entry for bookworm-backports is added once (as deps.sh adds
# its deb-src entry), under /work/coord/apt.lock when that exists. Backports
# have apt priority 100: nothing installed is upgraded from them.
#
# Usage: tools/dev/stock-qemu.sh BUILD_DIR      (idempotent, quiet when done)
set -euo pipefail

mkdir -p "$1"
build=$(cd "$1" && pwd)
dest=$build/stock-qemu
root=$dest/root
SUITE=bookworm-backports
LIST=/etc/apt/sources.list.d/vhost-trace-backports.sources

[ -f "$dest/.unpacked" ] && [ -x "$dest/qemu-system-x86_64" ] && exit 0

export DEBIAN_FRONTEND=noninteractive

# apt-get update under the machine's apt lock when there is one (shared
# development machines: /work/coord/apt.lock)
apt_update() {
	if [ -e /work/coord/apt.lock ]; then
		flock /work/coord/apt.lock apt-get update -qq
	else
		apt-get update -qq
	fi
}

if [ ! -f "$LIST" ]; then
	[ "$(id -u)" = 0 ] || {
		echo "stock-qemu: adding $LIST needs root" >&2
		exit 1
	}
	cat > "$LIST" <<EOS
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	apt_update
fi

# The newest qemu-system-x86 of the suite (discovered, not hard-coded).
ver=$(apt-cache madison qemu-system-x86 | awk -v s="$SUITE/" \
	'index($0, s) {print $3; exit}')
if [ -z "$ver" ]; then
	apt_update
	ver=$(apt-cache madison qemu-system-x86 | awk -v s="$SUITE/" \
		'index($0, s) {print $3; exit}')
fi
[ -n "$ver" ] || { echo "stock-qemu: no qemu-system-x86 in $SUITE" >&2; exit 1; }

dl=$(mktemp -d)
trap 'rm -rf "$dl" "$dest.tmp"' EXIT
chmod 755 "$dl"
chown _apt "$dl" 2>/dev/null || true	# apt's sandbox user may write there

download() {
	(cd "$dl" && apt-get download -qq "$@" > /dev/null 2>&1) || {
		echo "stock-qemu: apt-get download $* failed" >&2
		exit 1
	}
}

# The binary, its common files and data, and the modules of its build
# whose names the machine's QEMU also ships (the binary would load those
# otherwise and abort: "Only modules from the same build can be loaded").
download "qemu-system-x86=$ver" "qemu-system-common=$ver" \
	"qemu-system-data=$ver" "qemu-system-modules-opengl=$ver" \
	"qemu-system-modules-spice=$ver"

# Its firmware packages: the suite's version where the binary asks for a
# newer one than bookworm has (seabios), else bookworm's.
fw=""
for p in seabios ipxe-qemu; do
	need=$(dpkg-deb -f "$dl"/qemu-system-x86_*.deb Depends |
		tr ',' '\n' | sed -n "s/^ *$p (\(.*\))/\1/p")
	cand=$(apt-cache madison "$p" | awk -v s="$SUITE/" \
		'index($0, s) {print $3; exit}')
	if [ -n "$need" ] && [ -n "$cand" ]; then
		fw="$fw $p=$cand"
	else
		fw="$fw $p"
	fi
done
# shellcheck disable=SC2086
download $fw

# Libraries the binary needs that are not installed: bookworm's, unpacked.
libs=""
for d in $(dpkg-deb -f "$dl"/qemu-system-x86_*.deb Depends |
		tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g'); do
	case $d in qemu-*|seabios|ipxe-qemu|"") continue ;; esac
	dpkg-query -W -f='${Status}' "$d" 2>/dev/null |
		grep -q 'install ok installed' && continue
	libs="$libs $d"
done
# shellcheck disable=SC2086
[ -z "$libs" ] || download $libs

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp/root"
for f in "$dl"/*.deb; do
	dpkg-deb -x "$f" "$dest.tmp/root"
done

libdir=$dest/root/usr/lib/x86_64-linux-gnu
# Paths from the wrapper's own place: a build directory copied elsewhere
# (cp -a) still works.
cat > "$dest.tmp/qemu-system-x86_64" <<EOW
#!/bin/sh
# Debian's qemu-system-x86 $ver, unpacked by tools/dev/stock-qemu.sh,
# with its own firmware, modules and libraries. Generated; do not edit.
r=\$(dirname "\$(readlink -f "\$0")")/root
QEMU_MODULE_DIR=\$r/usr/lib/x86_64-linux-gnu/qemu
export QEMU_MODULE_DIR
${libs:+LD_LIBRARY_PATH=\$r/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH\}
export LD_LIBRARY_PATH}
exec "\$r/usr/bin/qemu-system-x86_64" -L "\$r/usr/share/qemu" \\
	-L "\$r/usr/share/seabios" -L "\$r/usr/lib/ipxe/qemu" "\$@"
EOW
chmod 755 "$dest.tmp/qemu-system-x86_64"
{
	echo "qemu-system-x86 $ver ($SUITE)"
	for f in "$dl"/*.deb; do
		dpkg-deb -f "$f" Package Version | sed 's/^[A-Za-z]*: //' |
			paste -sd' '
	done
	echo "extra libraries:${libs:- none}"
} > "$dest.tmp/VERSION"

rm -rf "$dest"
mv "$dest.tmp" "$dest"

# Every library found, and the generic vDPA device there.
if LD_LIBRARY_PATH=$libdir ldd "$root/usr/bin/qemu-system-x86_64" |
		grep 'not found'; then
	echo "stock-qemu: libraries missing (above)" >&2
	exit 1
fi
if ! "$dest/qemu-system-x86_64" -device help 2>/dev/null |
		grep -q '^name "vhost-vdpa-device-pci"'; then
	echo "stock-qemu: $ver has no vhost-vdpa-device-pci" >&2
	exit 1
fi
touch "$dest/.unpacked"
echo "stock-qemu: qemu-system-x86 $ver unpacked in $dest" \
	"(vhost-vdpa-device-pci: yes)"
