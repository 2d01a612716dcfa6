#!/bin/bash
# Unit test (TAP): the daemon's control socket without /dev/vhost-trace:
# requests and errors, refusal of an unprivileged user, a member of the
# daemon's group let in, SIGTERM. Needs root (setpriv); skipped otherwise.
BUILD=${BUILD:-$(cd "$(dirname "$0")/../../.." && pwd)/build}
TRACED=$BUILD/tools/vhost-traced
VT=$BUILD/tools/vhost-trace
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

echo "TAP version 13"
echo "1..8"
echo "# vhost-traced control socket"
if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null; then
	for i in 1 2 3 4 5 6 7 8; do echo "ok $i # SKIP needs root and setpriv"; done
	exit 0
fi

W=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$W"' EXIT
chmod 755 "$W"
S=$W/traced.sock
"$TRACED" -s "$S" -g nogroup -d "$W/no-device" > "$W/log" 2>&1 &
pid=$!
for i in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done

out=$("$VT" -s "$S" list 2>&1); ok $? "root lists the sessions: $out"
[ "$(stat -c %a:%G "$S")" = 660:nogroup ]; ok $? "socket mode 0660, group nogroup"

out=$(setpriv --reuid=nobody --regid=12345 --clear-groups "$VT" -s "$S" list 2>&1)
[ $? = 3 ]; ok $? "an unprivileged user is refused (exit 3)"
echo "$out" | sed 's/^/# /'

# the socket file's mode lets them connect: the daemon's own check refuses
chmod 666 "$S"
out=$(setpriv --reuid=nobody --regid=12345 --clear-groups "$VT" -s "$S" list 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 3 ] && echo "$out" | grep -q "permission denied"
ok $? "with a world-writable socket the daemon refuses by SO_PEERCRED"
chmod 660 "$S"

out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$VT" -s "$S" list 2>&1)
ok $? "a member of the daemon's group is let in: $out"

out=$("$VT" -s "$S" record --launch -o "$W/out" -n 2 -- /bin/true 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 1 ] && echo "$out" | grep -q "cannot open $W/no-device"
ok $? "a launch without the device: exit 1 and why"

out=$("$VT" -s "$S" stop nosuch 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "no session 'nosuch'"
ok $? "stop of an unknown session: exit 1 and why"

kill -TERM $pid
wait $pid
rc=$?
sed 's/^/# /' "$W/log"
[ $rc = 0 ] && [ ! -e "$S" ]
ok $? "SIGTERM: exit 0, socket removed"

echo "# $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
