#!/bin/bash
# Unit test (TAP): the daemon's control socket without /dev/vhost-trace:
# requests and errors, refusal of an unprivileged user, a member of the
# daemon's group let in, attach's checks against a fake QMP monitor
# (fake_qmp.py), SIGTERM. Needs root (setpriv); skipped otherwise.
BUILD=${BUILD:-$(cd "$(dirname "$0")/../../.." && pwd)/build}
TRACED=$BUILD/tools/vhost-traced
VT=$BUILD/tools/vhost-trace
. "$(dirname "$0")/../../../selftests/lib/tap.sh"

echo "TAP version 13"
echo "1..13"
echo "# vhost-traced control socket"
if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null; then
	for i in $(seq 13); do echo "ok $i # SKIP needs root and setpriv"; done
	exit 0
fi

W=$(mktemp -d)
trap 'kill $pid $qpid 2>/dev/null; rm -rf "$W"' EXIT
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

# attach: the checks before anything reaches QEMU
Q=$W/qmp.sock
python3 "$(dirname "$0")/fake_qmp.py" "$Q" "$W/qmp.log" &
qpid=$!
for i in $(seq 50); do [ -S "$Q" ] && break; sleep 0.1; done

out=$("$VT" -s "$S" record --attach "$W/log" -o "$W/out" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 1 ] && echo "$out" | grep -q "cannot connect to QMP socket $W/log: Connection refused"
ok $? "attach to a file that is no QMP socket: exit 1 and why"

out=$("$VT" -s "$S" record --attach "$Q" -o "$W/out" -n 0 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 1 ] && echo "$out" | grep -q "attach: ports= must be 1\.\."
ok $? "attach with ports=0: exit 1 and why"

# the daemon connects with the requester's fs ids: the socket's mode counts
mkdir -m 1777 "$W/pub"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$VT" -s "$S" \
	record --attach "$Q" -o "$W/pub/out" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 1 ] && echo "$out" | grep -q "cannot connect to QMP socket $Q: Permission denied"
ok $? "attach by a user who cannot open the QMP socket: refused"

chmod 666 "$Q"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$VT" -s "$S" \
	record --attach "$Q" -o "$W/pub/out" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 1 ] && echo "$out" | grep -q "runs as uid 0: only that user or root"
ok $? "attach by a user to another user's QEMU: refused"

out=$("$VT" -s "$S" record --attach "$Q" -o "$W/out" -N att 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
sed 's/^/# qmp: /' "$W/qmp.log"
[ $rc = 1 ] && echo "$out" | grep -q "cannot open $W/no-device" &&
	[ "$(grep -vc ready "$W/qmp.log")" = 4 ] &&
	[ "$(grep -c qmp_capabilities "$W/qmp.log")" = 2 ] &&
	grep -q qom-list-types "$W/qmp.log" &&
	grep -q query-cpus-fast "$W/qmp.log" &&
	[ -z "$("$VT" -s "$S" list | grep att)" ]
ok $? "attach without the device: front end asked (qom-list-types), vCPUs counted, nothing sent to QEMU, no session"
kill $qpid

kill -TERM $pid
wait $pid
rc=$?
sed 's/^/# /' "$W/log"
[ $rc = 0 ] && [ ! -e "$S" ]
ok $? "SIGTERM: exit 0, socket removed"

tap_done
