#!/bin/sh
# In the host VM: vhost_trace.ko loads, its kselftests pass, it cannot be
# unloaded while a device file is open, and it unloads afterwards.
. "$(dirname "$0")/lib.sh"

echo "kernel $REL, vhost.h from linux-source $SERIES"
check "$REL: module loads, /dev/vhost-trace exists" load_module

# Streamed as it runs (the VM watchdog wants output), kept for the verdict.
# Each program's own output goes to /tmp/NAME (summary=1, the runner's
# per-test logging); a failed program's is shown.
run_kselftests() {
	( make -s -C "$TOP/selftests" run_tests summary=1 \
		OUTPUT="$BUILD/selftests/$SERIES" KSFT_DIR="$KSFT_DIR" 2>&1
	  echo "make-rc: $?" ) | tee /tmp/ksft.log | grep -v '^make-rc: '
	sed -n 's/^not ok [0-9]* selftests: .*: \([a-z_]*\).*/\1/p' \
		/tmp/ksft.log | while read -r t; do
		echo "== output of $t:"
		grep -E 'RUN|  OK|FAIL|SKIP|[a-z_]+\.c:[0-9]+:|(not )?ok ' \
			"/tmp/$t" 2>/dev/null | tail -n 100
	done
	grep -qx 'make-rc: 0' /tmp/ksft.log && ! grep -q '^not ok' /tmp/ksft.log &&
		grep -q '^ok ' /tmp/ksft.log
}
check "$REL: kselftests vhost_trace" run_kselftests

unload_refused_while_open() {
	exec 3<>/dev/vhost-trace || return 1
	if rmmod vhost_trace 2>/dev/null; then
		exec 3>&-
		return 1
	fi
	exec 3>&-
}
check "$REL: unload refused while the device is open" unload_refused_while_open

unload() {
	rmmod vhost_trace && [ ! -e /dev/vhost-trace ]
}
check "$REL: module unloads" unload

exit $FAILED
