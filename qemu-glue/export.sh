#!/bin/bash
# Write one patch of the series from the working tree: edit QEMU in
# build/qemu/tree (a copy of the source with the series applied, built in
# build/qemu/full by make qemu), then
#   qemu-glue/export.sh NAME.patch "Subject" FILE...
# writes qemu-glue/patches/NAME.patch with the differences of FILE...
# (paths relative to the QEMU tree) against the pristine source, and adds
# it to the series if it is not there yet.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../build}
name=$1
subject=$2
shift 2

out=$here/patches/$name
{
	echo "Subject: [PATCH] $subject"
	echo
	for f in "$@"; do
		a=$build/qemu/src/$f
		[ -e "$a" ] || a=/dev/null
		diff -uN --label "a/$f" --label "b/$f" "$a" \
			"$build/qemu/tree/$f" || true
	done
} > "$out"
grep -qx "$name" "$here/patches/series" 2>/dev/null ||
	echo "$name" >> "$here/patches/series"
echo "wrote $out"
