#!/bin/bash
# List the kernels vhost-trace builds for: every installed
# linux-headers-<release> (amd64 flavour) whose package version equals that
# of an installed linux-source-<series>. One line each:
#   <release> <series>
# e.g. "6.1.0-56-amd64 6.1". Nothing is hard-coded: new ABIs are found.
set -euo pipefail

dpkg-query -W -f='${Package} ${Version} ${Status}\n' 'linux-source-*' \
	'linux-headers-*-amd64' 2>/dev/null |
awk '$NF == "installed" && $(NF-1) == "ok" {
	if ($1 ~ /^linux-source-/) {
		src[$2] = substr($1, length("linux-source-") + 1)
	} else if ($1 ~ /^linux-headers-[0-9]/) {
		hdr[$1] = $2
	}
}
END {
	for (h in hdr)
		if (hdr[h] in src)
			print substr(h, length("linux-headers-") + 1), src[hdr[h]]
}' | sort -V | while read -r rel series; do
	# Skip meta-packages (linux-headers-6.12-amd64 has no tree of its own).
	[ -d "/usr/src/linux-headers-$rel" ] && echo "$rel $series"
done
