#!/bin/bash
# In the host VM: vhost-traced launches a nested guest traced (launch
# mode, through the vhost-trace CLI). The guest plays an upstream agent's
# part on agent-ctl-path (ignores the daemon's "hello 1", answers "1\n"
# and "0\n") and writes known pages into
# trace-path-cpu0 (write) and trace-path-cpu1 (splice). The sinks are
# FIFOs fed by reference (record --fifo --by-ref: the module lends the
# guest's pages to them), read by host readers. Checks what the readers
# got byte-exact, the statistics the daemon reports (every byte by
# reference), stop through the agent, that only root and the daemon's
# group may use the control socket, and a clean SIGTERM of the daemon
# that leaves the guest running. (File sinks in launch mode:
# traced_clock.sh, traced_restart.sh, qemu_full.sh.)
. "$(dirname "$0")/lib.sh"

PAGES=${PAGES:-4096}		# 16 MiB per port
BYTES=$((PAGES * 4096))
PATTERN=$BUILD/tools/vt-pattern
W=/tmp/vtd
SOCK=$W/traced.sock
OUT=$W/out
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W

check "$REL: module loads" load_module

# only root and the daemon's group (here nogroup) may use the socket
start_daemon_group() {
	start_daemon -g nogroup
}
check "$REL: vhost-traced starts" start_daemon_group

# Only root and the daemon's group (here nogroup) may use the socket.
permissions() {
	local out rc
	out=$(setpriv --reuid=nobody --regid=12345 --clear-groups \
		"$VT" list 2>&1)
	rc=$?
	echo "nobody, no group: exit $rc: $out"
	[ "$rc" = 3 ] || return 1
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$VT" list 2>&1)
	rc=$?
	echo "nobody, group nogroup: exit $rc: $out"
	[ "$rc" = 0 ]
}
check "$REL: control socket refuses an unprivileged user" permissions

cat > $W/guest.sh <<EOS
. /bin/vports.sh
C=/dev/virtio-ports/agent-ctl-path
for n in agent-ctl-path trace-path-cpu0 trace-path-cpu1; do
	[ -c /dev/virtio-ports/\$n ] || { echo "guest: no \$n"; exit 1; }
done
# the agent's part, as upstream's agent: lines other than the orders (the
# daemon's "hello 1" first) are ignored; wait for start, confirm it. One
# open file for the port (a virtio port has one opener at a time).
exec 3<> \$C
while read -r l <&3; do
	[ "\$l" = 1 ] && break
	echo "guest: ignored '\$l'"
done
[ "\$l" = 1 ] || { echo "guest: bad start order"; exit 1; }
printf '1\n' >&3
echo "guest: start order received"
/bin/vt-pattern write 0 $PAGES /dev/virtio-ports/trace-path-cpu0 &
/bin/vt-pattern write 1 $PAGES /dev/virtio-ports/trace-path-cpu1 splice &
wait
echo "guest: pages written"
dd of=/tmp/o bs=1 count=2 <&3 2>/dev/null
[ "\$(od -An -tx1 /tmp/o)" = " 30 0a" ] || { echo "guest: bad stop order"; exit 1; }
printf '0\n' >&3
echo "guest: stop order received"
# the host stops its daemon now: the guest must not notice. The port's
# host end closes when the daemon lets go of the session (its end or the
# daemon's exit; QEMU says PORT_OPEN 0, read gets EOF); from then on the
# guest runs on 8 s, the host's SIGTERM check well inside them
while read -r -t 60 l <&3; do :; done
echo "guest: the agent port's host end closed (or 60 s passed)"
sleep 8
echo "guest: done"
EOS

# a reader per FIFO (vt-pattern check: read() until the daemon lets go
# of the FIFO at the stop), pids in READERS
record() {
	local t bytes p
	"$VT" record --launch -o $OUT -n 2 -N g1 -q --fifo --by-ref -- \
		"$TOP/tools/dev/guestrun" -t 300 -f "$PATTERN:/bin/vt-pattern" \
		$W/guest.sh > $W/record.log 2>&1 &
	RECORD=$!
	for t in $(seq 100); do
		[ -p $OUT/cpu1.fifo ] && break
		sleep 0.2
	done
	READERS=
	for p in 0 1; do
		"$PATTERN" check $p $OUT/cpu$p.fifo > $W/check$p 2>&1 &
		READERS="$READERS $!"
	done
	for t in $(seq 600); do
		bytes=$("$VT" list 2>/dev/null | awk '$2 == "g1" {print $6}')
		[ "$bytes" = "$(awk -v b=$((2 * BYTES)) 'BEGIN {printf "%.1f", b / 1e6}')" ] &&
			break
		kill -0 $RECORD 2>/dev/null || break
		sleep 0.5
	done
	"$VT" list
	"$VT" status g1
}
check "$REL: vhost-trace record --launch: the guest's pages arrive" record

stop_session() {
	"$VT" stop g1 > $W/stop.out 2>&1
	local rc=$?
	cat $W/stop.out
	wait $RECORD
	local rrc=$?
	echo "record exited $rrc:"
	cat $W/record.log
	grep "hello" $W/traced.log
	[ "$rc" = 0 ] && [ "$rrc" = 0 ] && grep -q " stopped " $W/stop.out &&
		grep -q "no answer to hello" $W/traced.log
}
check "$REL: vhost-trace stop (upstream orders after an unanswered hello; the agent confirms, files complete)" stop_session

data_exact() {
	local p ok=0
	wait $READERS
	for p in 0 1; do
		echo "cpu$p: $(cat $W/check$p)"
		grep -qx "$PAGES pages $BYTES bytes" $W/check$p || ok=1
	done
	return $ok
}
check "$REL: the readers of DIR/cpuN.fifo got every byte exact ($((BYTES >> 20)) MiB per CPU)" data_exact

stats_agree() {
	cat $OUT/stats
	grep -q '^session .* state=stopped .* agent=stopped ' $OUT/stats &&
	grep -q '^session .* sink=fifo-ref ' $OUT/stats &&
	awk -v b=$BYTES -v n=$PAGES '
		/^cpu/ { c++; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			 if (v["bytes"] != b || v["buffers"] != n || v["dropped_buffers"] != 0 ||
			     v["ref_bytes"] != b || v["copied_bytes"] != 0 ||
			     v["bad_buffers"] != 0 || v["queue_errors"] != 0 ||
			     v["sink_errors"] != 0) bad = 1 }
		END { exit bad || c != 2 }' $OUT/stats
}
check "$REL: DIR/stats: per-CPU bytes and pages as sent, all by reference, no drops" stats_agree

# SIGTERM: the daemon stops every session and exits 0; QEMU keeps going.
sigterm() {
	local qpid rc
	qpid=$(pgrep -f "qemu-system-x86_64.*vtagent" | head -n 1)
	echo "qemu pid: $qpid"
	kill -TERM $DAEMON
	wait $DAEMON
	rc=$?
	cat $W/traced.log
	echo "daemon exit status $rc"
	[ "$rc" = 0 ] && [ ! -e $SOCK ] && [ -n "$qpid" ] && kill -0 "$qpid"
}
check "$REL: SIGTERM: daemon exits 0, the guest keeps running" sigterm

guest_done() {
	local t
	for t in $(seq 120); do
		grep -q "guestrun: exit status" $OUT/qemu.log && break
		sleep 0.5
	done
	tail -n 8 $OUT/qemu.log
	grep -q "^guest: done" $OUT/qemu.log &&
		grep -q "guestrun: exit status 0" $OUT/qemu.log
}
check "$REL: the guest ran to its end after the daemon left" guest_done

unload() {
	sleep 1
	rmmod vhost_trace && [ ! -e /dev/vhost-trace ]
}
check "$REL: module unloads" unload

exit $FAILED
