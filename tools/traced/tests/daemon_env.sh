# The start of the daemon's shell tests, sourced once PLAN (points) and
# TITLE are set, and NEEDS (a command besides root's rights) if any: the
# TAP header; every point skipped without root (or NEEDS); a work
# directory W holding the run directory R and the control socket S,
# removed at exit together with the daemons whose pids are in pids.
BUILD=${BUILD:-$(cd "$(dirname "$0")/../../.." && pwd)/build}
here=$(cd "$(dirname "$0")" && pwd)
TRACED=$BUILD/tools/vhost-traced
VT=$BUILD/tools/vhost-trace
MK=$BUILD/tracedat/tests/mkpages
. "$here/../../../selftests/lib/tap.sh"

echo "TAP version 13"
echo "1..$PLAN"
echo "# $TITLE"
if [ "$(id -u)" != 0 ] ||
   { [ -n "${NEEDS:-}" ] && ! command -v "$NEEDS" > /dev/null; }; then
	for i in $(seq "$PLAN"); do
		echo "ok $i # SKIP needs root${NEEDS:+ and $NEEDS}"
	done
	exit 0
fi

W=$(mktemp -d)
pids=()
trap 'kill ${pids[*]} 2>/dev/null; rm -rf "$W"' EXIT
R=$W/run
S=$W/traced.sock
mkdir -p "$R"
