# TAP (kselftest style) for the shell unit tests: ok STATUS TEXT, the
# counts n and failed, and tap_done for the summary line and the status.
# shellcheck shell=bash
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

tap_done() {
	echo "# $((n - failed)) passed, $failed failed"
	[ "$failed" = 0 ]
}
