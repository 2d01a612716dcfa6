#!/bin/bash
# The headers of the kernels vhost-trace builds for, without a kernel image
# on the machine. Debian's linux-headers-<release> of the 6.12 line
# depends on its linux-image (or -unsigned): installed, that image would
# change how the machine boots (the boot loader takes the newest kernel).
# Such a headers package is unpacked instead, into
# /var/cache/vhost-trace/headers/<release> (its own dependencies, the
# common headers and kbuild, are installed: they bring no image); a headers
# package without that dependency (6.1's) is installed as usual.
#
# Usage:
#   tools/dev/kernel-headers.sh install META...  (root) the headers META
#                                   (e.g. linux-headers-6.12-amd64) names
#   tools/dev/kernel-headers.sh list             "<release> <version>" of
#                                   every amd64 headers tree, either kind
#   tools/dev/kernel-headers.sh dir RELEASE      "<directory> <version>"
set -euo pipefail

CACHE=/var/cache/vhost-trace/headers

# depends PKG: PKG's candidate Depends, one alternative group a line
depends() {
	apt-cache show --no-all-versions "$1" |
		sed -n 's/^Depends: //p' | tr ',' '\n' | sed 's/^ *//'
}

# unpack PKG VERSION RELEASE: PKG's files, CACHE/RELEASE/usr/src/..., with
# its links into kbuild made absolute (they are relative to /usr/src)
unpack() {
	local pkg=$1 ver=$2 rel=$3 dl dest l
	dest=$CACHE/$rel
	dl=$(mktemp -d)
	chmod 755 "$dl"
	chown _apt "$dl" 2>/dev/null || true
	(cd "$dl" && apt-get download -qq "$pkg=$ver" > /dev/null 2>&1) || {
		echo "kernel-headers: cannot download $pkg=$ver" >&2
		rm -rf "$dl"
		return 1
	}
	rm -rf "$dest"
	mkdir -p "$dest"
	dpkg-deb -x "$dl"/*.deb "$dest/root"
	rm -rf "$dl"
	for l in "$dest/root/usr/src/linux-headers-$rel"/*; do
		[ -L "$l" ] || continue
		case $(readlink "$l") in
		../../*) ln -sfn "/usr/$(readlink "$l" | cut -c7-)" "$l" ;;
		esac
	done
	[ -f "$dest/root/usr/src/linux-headers-$rel/Module.symvers" ] || {
		echo "kernel-headers: $pkg has no headers tree" >&2
		return 1
	}
	echo "$ver" > "$dest/version"
	echo "kernel-headers: $pkg $ver unpacked in $dest (not installed:" \
	     "it depends on its kernel image)"
}

install_meta() {
	local meta=$1 pkg ver rel deps want="" group v
	pkg=$(depends "$meta" | sed -n 's/^\(linux-headers-[0-9][^ ]*\).*/\1/p' |
		head -n 1)
	[ -n "$pkg" ] || { echo "kernel-headers: $meta names no headers" >&2; return 1; }
	ver=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^Version: //p')
	rel=${pkg#linux-headers-}
	deps=$(depends "$pkg")
	if ! grep -q '^linux-image-' <<< "$deps"; then
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q '^install ok installed$' ||
			apt-get install -y -qq --no-install-recommends "$pkg=$ver" \
				> /dev/null
		return
	fi
	[ "$(cat "$CACHE/$rel/version" 2>/dev/null)" = "$ver" ] && return 0
	# the other dependencies, the first of each group, versions as asked
	while read -r group; do
		case $group in linux-image-*) continue ;; esac
		group=${group%%|*}
		v=${group#*(= }
		case $group in
		*"(= "*) want="$want ${group%% *}=${v%%)*}" ;;
		*) want="$want ${group%% *}" ;;
		esac
	done <<< "$deps"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $want > /dev/null
	unpack "$pkg" "$ver" "$rel"
}

case "${1:-}" in
install)
	shift
	for m in "$@"; do
		install_meta "$m"
	done
	;;
list)
	dpkg-query -W -f='${Package} ${Version} ${Status}\n' \
		'linux-headers-*-amd64' 2>/dev/null |
		awk '$NF == "installed" && $(NF-1) == "ok" &&
		     $1 ~ /^linux-headers-[0-9]/ {
			print substr($1, length("linux-headers-") + 1), $2 }' |
		while read -r rel ver; do
			# meta-packages have no tree of their own
			if [ -d "/usr/src/linux-headers-$rel" ]; then
				echo "$rel $ver"
			fi
		done
	for v in "$CACHE"/*/version; do
		rel=$(basename "$(dirname "$v")")
		if [ -f "$v" ] && [ ! -d "/usr/src/linux-headers-$rel" ]; then
			echo "$rel $(cat "$v")"
		fi
	done
	;;
dir)
	rel=$2
	if [ -d "/usr/src/linux-headers-$rel" ]; then
		echo "/usr/src/linux-headers-$rel $(dpkg-query -W \
			-f='${Version}' "linux-headers-$rel" 2>/dev/null)"
	elif [ -f "$CACHE/$rel/version" ]; then
		echo "$CACHE/$rel/root/usr/src/linux-headers-$rel $(cat "$CACHE/$rel/version")"
	else
		exit 1
	fi
	;;
*)
	sed -n '/^# Usage/,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
