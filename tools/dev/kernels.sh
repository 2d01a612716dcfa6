#!/bin/bash
# List the kernels vhost-trace builds for: every linux-headers-<release>
# (amd64 flavour; installed, or unpacked by tools/dev/kernel-headers.sh)
# whose package version equals that of an installed linux-source-<series>.
# One line each:
#   <release> <series>
# e.g. "6.1.0-56-amd64 6.1". Nothing is hard-coded: new ABIs are found.
#
# tools/dev/kernels.sh --why: when it lists nothing, say what is missing
# (another distribution, no headers, no linux-source of their version).
set -euo pipefail

if [ "${1:-}" = --why ]; then
	exec >&2
	echo "kernels: no kernel to build vhost_trace.ko for."
	if ! command -v dpkg-query > /dev/null; then
		echo "kernels: this is not a Debian system: kernels are found from" \
		     "Debian's packages (linux-headers-<release> and" \
		     "linux-source-<series> of the same version)."
		echo "kernels: on another distribution build against the running" \
		     "kernel's full source tree (vhost.h and vhost_src_version.h):"
		echo "  sh packaging/dkms/dkms-build.sh build \$(uname -r) /lib/modules/\$(uname -r)/build"
		echo "kernels: README, \"Other distributions and kernels\"."
		exit 1
	fi
	dpkg-query -W -f='${Package} ${Version} ${Status}\n' 'linux-source-*' \
		'linux-headers-*-amd64' 2>/dev/null |
		awk '$NF == "installed" {print "kernels: installed: " $1 " " $2}'
	"$(dirname "$0")/kernel-headers.sh" list |
		sed 's/^/kernels: headers of /'
	echo "kernels: needed: linux-headers-<release> (amd64) and linux-source-<series>" \
	     "of exactly the same version (vhost.h comes from linux-source;" \
	     "tools/dev/deps.sh installs both series of Debian 12)."
	exit 1
fi

# linux-source-<series> packages and the headers trees of
# tools/dev/kernel-headers.sh (installed, or unpacked where the headers
# package would bring its kernel image), matched by version
{
	dpkg-query -W -f='${Package} ${Version} ${Status}\n' 'linux-source-*' \
		2>/dev/null | awk '$NF == "installed" && $(NF-1) == "ok" {
			print "src", substr($1, length("linux-source-") + 1), $2 }'
	"$(dirname "$0")/kernel-headers.sh" list | sed 's/^/hdr /'
} | awk '$1 == "src" { src[$3] = $2 }
	$1 == "hdr" { hdr[$2] = $3 }
END {
	for (h in hdr)
		if (hdr[h] in src)
			print h, src[hdr[h]]
}' | sort -V
