# TAP (kselftest style) for the shell unit tests, the one helper: ok STATUS
# TEXT (STATUS 0 passes), the counts n and failed, tap_done for the
# summary line and the exit status (tap_done -p also prints the plan, for
# tests that count their points as they go).
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
	[ "${1:-}" != -p ] || echo "1..$n"
	echo "# $((n - failed)) passed, $failed failed"
	[ "$failed" = 0 ]
}
