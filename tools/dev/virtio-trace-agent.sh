#!/bin/bash
# The upstream virtio-trace guest agent (linux tools/virtio/virtio-trace,
# trace-agent) from a Debian linux-source tarball, with its one-line EAGAIN
# fix (DESIGN.md: its splice pipe is nonblocking, trace_pipe_raw then
# answers -EAGAIN while no full page is ready, and the agent took that for
# a fatal error), built static for the busybox guests:
#   BUILD/virtio-trace/trace-agent
#
# Usage: tools/dev/virtio-trace-agent.sh BUILD_DIR [SERIES]
#   SERIES: the linux-source series (default: the newest, tools/dev/kernels.sh)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
series=${2:-$("$top/tools/dev/kernels.sh" | awk 'END {print $2}')}
tarball=/usr/src/linux-source-$series.tar.xz
out=$build/virtio-trace
[ -x "$out/trace-agent" ] && [ "$out/trace-agent" -nt "$tarball" ] &&
	[ "$out/trace-agent" -nt "$0" ] && exit 0

src=$out/src
rm -rf "$src"
mkdir -p "$src"
tar -xJf "$tarball" -C "$src" --strip-components=4 --wildcards \
	'*/tools/virtio/virtio-trace/*'
rw=$src/trace-agent-rw.c
# The fix: EAGAIN from the read splice is "no data yet" (rlen 0: retry).
grep -q 'rlen = splice(ts->in_fd' "$rw" || {
	echo "virtio-trace-agent: $rw is not as expected" >&2
	exit 1
}
sed -i '/^\t\tif (rlen < 0) {$/i\
\t\tif (rlen < 0 \&\& errno == EAGAIN) rlen = 0;	/* vhost-trace: no page yet */' "$rw"
grep -q 'errno == EAGAIN) rlen = 0' "$rw" || {
	echo "virtio-trace-agent: the EAGAIN fix did not apply" >&2
	exit 1
}
grep -q '#include <errno.h>' "$rw" ||
	sed -i '0,/#include/s//#include <errno.h>\n#include/' "$rw"
gcc -O2 -Wall -pthread -static -o "$out/trace-agent.tmp" \
	"$src/trace-agent.c" "$src/trace-agent-ctl.c" "$rw"
mv "$out/trace-agent.tmp" "$out/trace-agent"
echo "virtio-trace-agent: $out/trace-agent (linux-source-$series, EAGAIN fix)"
