#!/bin/bash
# A vhost.h from another kernel version must stop the module build, with a
# message that says so. Both guards are tried, for each pair of supported
# kernels: tools/dev/build-module.sh (package versions) and the compile-time
# check in vhost-trace/compat.h (a kbuild run given the wrong vhost.h
# directly).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
mapfile -t kernels < <("$top/tools/dev/kernels.sh")
if [ "${#kernels[@]}" -lt 2 ]; then
	echo "need two supported kernels, have ${#kernels[@]}"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

expect_refused() {
	local what=$1 log=$2
	shift 2
	if "$@" > "$log" 2>&1; then
		echo "FAIL: $what: the build succeeded"
		failed=1
	elif ! grep -q 'vhost.h mismatch' "$log"; then
		echo "FAIL: $what: failed without the mismatch message:"
		tail -n 5 "$log"
		failed=1
	else
		echo "ok: $what: refused: $(grep -m1 -o 'vhost.h mismatch.*' "$log")"
	fi
}

for k in "${kernels[@]}"; do
	read -r rel series <<<"$k"
	read -r kdir _ < <("$top/tools/dev/kernel-headers.sh" dir "$rel")
	for o in "${kernels[@]}"; do
		read -r _ oseries <<<"$o"
		[ "$oseries" = "$series" ] && continue
		osrc=$build/linux-src/$oseries
		expect_refused "$rel with vhost.h of $oseries (build-module)" \
			"$tmp/a.log" "$top/tools/dev/build-module.sh" "$tmp/b" \
			"$rel" "$series" "$osrc"

		m=$tmp/m-$rel-$oseries
		mkdir -p "$m/vhost-trace"
		ln -s "$top/Kbuild" "$m/Kbuild"
		ln -s "$top/vhost-trace/uapi" "$m/vhost-trace/uapi"
		for f in "$top"/vhost-trace/Kbuild "$top"/vhost-trace/*.[ch]; do
			ln -s "$f" "$m/vhost-trace/"
		done
		expect_refused "$rel with vhost.h of $oseries (compile guard)" \
			"$tmp/c.log" make -C "$kdir" \
			M="$m" VHOST_H_DIR="$osrc/drivers/vhost" modules
	done
done
exit $failed
