#!/bin/sh
# In the host VM: the module's kselftests one by one, each in a session of
# its own that is killed when it ends, so that a test that leaves a child
# behind (an owner process orphaned when the harness times a test out, as
# under a slow debug kernel) cannot hold the runner's pipe and hang the
# run. One check per test program; its TAP output is shown. The module
# is unloaded and loaded again after each one.
. "$(dirname "$0")/lib.sh"

DIR=$BUILD/selftests/$SERIES/vhost_trace
# KSFT_PROGS="a b" (or a,b, as a suite.sh word): those programs only
PROGS=$(echo "${KSFT_PROGS:-$(sed -n 's/^TEST_GEN_PROGS *+\{0,1\}:\{0,1\}= *//p' \
	"$TOP/selftests/vhost_trace/Makefile")}" | tr , ' ')

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

# After each program the module must unload (nothing it left holds it)
# and load again: module exit runs after every test's leftovers.
# (A child killed with its session may take a moment to let go.)
reload() {
	n=0
	until rmmod vhost_trace 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 50 ] || { rmmod vhost_trace; return 1; }
		sleep 0.1
	done
	[ ! -e /dev/vhost-trace ] && load_module
}

for t in $PROGS; do
	check "$REL: kselftest $t" one "$t"
	check "$REL: after $t the module unloads and loads again" reload
done

unload_refused_while_open() {
	exec 3<>/dev/vhost-trace || return 1
	if rmmod vhost_trace 2>/dev/null; then
		exec 3>&-
		return 1
	fi
	exec 3>&-
}
check "$REL: unload refused while a device file is open" \
	unload_refused_while_open
exit $FAILED
