#!/bin/bash
# TAP: the man pages render without a warning (groff -man -ww), and every
# long option that the programs' --help prints is in their page.
#   tools/man/check.sh [BUILD]
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-${BUILD:-$here/../../build}}
. "$here/../../selftests/lib/tap.sh"

echo "TAP version 13"
echo "1..8"
echo "# man pages"
for spec in vhost-trace.1:tools/vhost-trace vhost-traced.8:tools/vhost-traced \
	    vhost-trace-dat.1:tracedat/vhost-trace-dat trace-agent.8:guest/trace-agent; do
	page=${spec%%:*}
	bin=$BUILD/${spec#*:}
	if command -v groff > /dev/null; then
		out=$(groff -man -Tutf8 -ww -z "$here/$page" 2>&1)
		[ -z "$out" ] && [ -s "$here/$page" ]
		ok $? "$page renders without warnings${out:+: $out}"
	else
		n=$((n + 1))
		echo "ok $n # SKIP groff not installed"
	fi
	help=$("$bin" --help 2>&1 || "$bin" -h 2>&1)
	missing=
	for o in $(echo "$help" | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "\\-\\-${o#--}" "$here/$page" || missing="$missing $o"
	done
	[ -n "$help" ] && [ -z "$missing" ]
	ok $? "$page has every option of ${bin##*/} --help${missing:+ (missing:$missing)}"
done
tap_done
