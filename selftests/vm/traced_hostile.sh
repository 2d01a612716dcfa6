#!/bin/bash
# In the host VM: a hostile guest agent against the real vhost-traced in a
# real session (launch mode, nested guest). The guest answers "hello 1"
# as a version 1 agent, then claims cpus=100000 in its info (more than a
# trace.dat takes; state.c once read back only 0..65536, so a restarted
# daemon ignored such a session). The daemon must end that agent with an
# error naming cpus=, keep the session (its pages keep arriving), answer
# list and status, and at the stop write the error to DIR/stats; it must
# still be running afterwards. The other bad fields (headers, lengths,
# slow replies, archives, pages) are host-side unit tests:
# tools/traced/tests/hostile_test.c and hostile_test.sh.
. "$(dirname "$0")/lib.sh"

PAGES=${PAGES:-256}
PATTERN=$BUILD/tools/vt-pattern
W=/tmp/vth
SOCK=$W/traced.sock
OUT=$W/out
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W

check "$REL: module loads" load_module
check "$REL: vhost-traced starts" start_daemon

cat > $W/guest.sh <<EOS
. /bin/vports.sh
C=/dev/virtio-ports/agent-ctl-path
exec 3<> \$C
read -r l <&3
echo "guest: got '\$l'"
printf 'ok 8\nproto=1\n' >&3
read -r l <&3
echo "guest: got '\$l'"
printf 'ok 20\nproto=1\ncpus=100000\n' >&3
echo "guest: said cpus=100000"
/bin/vt-pattern write 0 $PAGES /dev/virtio-ports/trace-path-cpu0 &
/bin/vt-pattern write 1 $PAGES /dev/virtio-ports/trace-path-cpu1 &
wait
echo "guest: pages written"
# runs on until the host has checked the session and the stop, and ends
# QEMU (unload below); the limit only ends a guest the host forgot
sleep 120
echo "guest: done"
EOS

record() {
	"$VT" record --launch -o $OUT -n 2 -N h1 -q -- \
		"$TOP/tools/dev/guestrun" -t 300 -f "$PATTERN:/bin/vt-pattern" \
		$W/guest.sh > $W/record.log 2>&1 &
	RECORD=$!
	local t
	for t in $(seq 600); do
		last_log | grep -q "cpus=100000" && break
		kill -0 $RECORD 2>/dev/null || break
		sleep 0.5
	done
	last_log | grep "agent" | tail -n 5
	"$VT" status h1
	last_log | grep -q "vhost-traced: agent .*: info: cpus=100000 is not a number in 1..4096; the agent is no longer used"
}
check "$REL: a guest that claims cpus=100000: its agent ends, the log says why" record

alive() {
	local t
	# the session goes on: the guest's pages still arrive
	for t in $(seq 240); do
		[ "$("$VT" list 2>/dev/null | awk '$2 == "h1" {print $6}')" = \
		  "$(awk -v b=$((2 * PAGES * 4096)) 'BEGIN {printf "%.1f", b / 1e6}')" ] &&
			break
		sleep 0.5
	done
	"$VT" list
	kill -0 $DAEMON && "$VT" list | grep -q " h1 .* running .* error "
}
check "$REL: the daemon and the session go on (agent error, the pages arrive)" alive

# DIR/stats's first line, one decoded word a line
stats_words() {
	head -n 1 $OUT/stats | tr ' ' '\n' | python3 -c \
		'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read()))'
}

stop_it() {
	"$VT" stop h1 > $W/stop.out 2>&1
	local rc=$?
	cat $W/stop.out
	stats_words | grep -E '^(state|agent|agent_error)='
	[ "$rc" = 0 ] && kill -0 $DAEMON &&
		stats_words | grep -qx 'agent_error=info: cpus=100000 is not a number in 1..4096'
}
check "$REL: stop: DIR/stats names the bad field (agent_error=), the daemon runs" stop_it

term() {
	kill -TERM $DAEMON
	wait $DAEMON
	local rc=$?
	wait $RECORD
	last_log | tail -n 5
	[ "$rc" = 0 ]
}
check "$REL: SIGTERM: the daemon exits 0" term

# QEMU holds the device until it exits: the guest has done its part,
# so QEMU is ended (SIGTERM) instead of waited for
unload() {
	local t p qpid=
	for p in $(pgrep -f "qemu-system-x86_64.*vtagent"); do
		case "$(readlink /proc/$p/exe)" in
		*/qemu-system-x86_64) qpid=$p ;;
		esac
	done
	echo "QEMU pid ${qpid:-gone}"
	[ -z "$qpid" ] || kill -TERM $qpid
	for t in $(seq 120); do
		# (a zombie has no exe: it holds no file any more)
		[ -n "$qpid" ] && readlink /proc/$qpid/exe > /dev/null || break
		sleep 0.5
	done
	tail -n 4 $OUT/qemu.log
	for t in $(seq 20); do
		rmmod vhost_trace 2>/dev/null && break
		sleep 0.5
	done
	[ ! -e /dev/vhost-trace ]
}
check "$REL: module unloads" unload

exit $FAILED
