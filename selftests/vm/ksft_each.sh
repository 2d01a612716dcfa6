#!/bin/sh
# In the host VM: the module's kselftests one by one, each in a session of
# its own that is killed when it ends, so that a test that leaves a child
# behind (an owner process orphaned when the harness times a test out, as
# under a slow debug kernel) cannot hold the runner's pipe and hang the
# run. One check per test program; its TAP output is shown.
. "$(dirname "$0")/lib.sh"

DIR=$BUILD/selftests/$SERIES/vhost_trace
PROGS=$(sed -n 's/^TEST_GEN_PROGS *+\{0,1\}:\{0,1\}= *//p' \
	"$TOP/selftests/vhost_trace/Makefile")

grep -q '^vhost_trace ' /proc/modules ||
	check "$REL: module loads, /dev/vhost-trace exists" load_module

one() {
	cd "$DIR" || return 1
	start=$(date +%s)
	setsid "./$1" > "/tmp/ksft-$1.log" 2>&1 &
	pid=$!
	wait $pid
	rc=$?
	# whatever it left behind (its session is its pid)
	kill -9 "-$pid" 2>/dev/null
	sed 's/^/    /' "/tmp/ksft-$1.log"
	echo "    $1: exit $rc in $(( $(date +%s) - start ))s"
	[ "$rc" = 0 ] || [ "$rc" = 4 ]
}

for t in $PROGS; do
	check "$REL: kselftest $t" one "$t"
done
exit $FAILED
