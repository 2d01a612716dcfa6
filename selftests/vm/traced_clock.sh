#!/bin/bash
# In the host VM: host and guest traces on one time line. The host records
# its kvm_entry/kvm_exit with `trace-cmd record -C x86-tsc` while
# vhost-traced launches a nested guest whose agent traces sched events on
# the x86-tsc clock (set by the daemon) and samples KVM's TSC offsets.
# At stop the daemon writes DIR/trace.dat with TIME_SHIFT and
# DIR/guest.map; `vhost-trace merge host.dat DIR` adds the GUEST option
# to host.dat. Then `trace-cmd report -i host.dat -i DIR/trace.dat`: each
# guest event on vCPU n must fall inside a kvm_entry..kvm_exit window of
# vCPU n's host thread (>= 99%, kvm_windows.awk), and without the shift
# (--raw-ts) they must not.
#
# tools/dev/vmrun boots the host VM with its TSC declared reliable
# (tsc=reliable): see tools/traced/README, "Host and guest on one time
# line". Without it the check measures what an unstable host TSC does
# (and fails).
. "$(dirname "$0")/lib.sh"

W=${VTCLK_DIR:-/tmp/vtclk}
SOCK=$W/traced.sock
OUT=$W/out
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W
T0=$SECONDS

for f in "$TRACED" "$VT" "$AGENT"; do
	[ -x "$f" ] || { echo "no $f"; exit 1; }
done
echo "host VM: $(cat /proc/cmdline | grep -o 'tsc=[a-z]*' || echo 'TSC as the kernel judges it'), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"

check "$REL: module loads" load_module

# one guest, launched: nested paging (shadow paging would make the
# host's kvm_exit trace many times larger and the run twice as long)
check "$REL: kvm_amd with nested paging (npt=1) for this one guest" kvm_paging Y
check "$REL: vhost-traced starts" start_daemon

check "$REL: trace-cmd record -C x86-tsc -e kvm:kvm_entry -e kvm:kvm_exit runs" host_record

# The guest: the agent and a workload on both CPUs (guest_traced.sh);
# it ends 8 s after the stop (the host fetches the metadata meanwhile).
GUEST_SH=$TOP/selftests/vm/guest_traced.sh

session_field() {	# session_field KEY: from `vhost-trace status tc`
	"$VT" status tc 2>/dev/null | sed -n "s/^guest trace clock \([^,]*\), KVM TSC terms: \([a-z]*\) (\([0-9]*\) changes)$/clock=\1 tsc=\2 changes=\3/p" |
		tr ' ' '\n' | sed -n "s/^$1=//p"
}

record() {
	"$VT" record --launch -o $OUT -n 2 -N tc -q -e sched:sched_switch \
		-e sched:sched_wakeup -- \
		"$TOP/tools/dev/guestrun" -t 300 -f "$AGENT:/bin/trace-agent" \
		-e SETTLE=8 -e PAUSE_US=5000 $GUEST_SH > $W/record.log 2>&1 &
	RECORD=$!
	local t a
	for t in $(seq 400); do
		a=$("$VT" list 2>/dev/null | awk '$2 == "tc" {print $9}')
		[ "$a" = running ] && break
		case $a in error|gone|silent) break ;; esac
		kill -0 $RECORD 2>/dev/null || break
		sleep 0.5
	done
	[ "$a" = running ] || { cat $W/traced.log $W/record.log $OUT/qemu.log; return 1; }
	echo "guest up and tracing after $((SECONDS - T0)) s"
	sleep 3
	"$VT" status tc
	# QEMU's threads now, for guest.map (QEMU is gone soon after the stop)
	for p in $(pgrep -f qemu-system-x86_64); do
		ls /proc/$p/task | sed "s/^/$p /"
	done > $W/qemu-threads
	[ "$(session_field clock)" = x86-tsc ] && [ "$(session_field tsc)" = sampling ] ||
		{ cat $W/traced.log $W/record.log; tail -n 20 $OUT/qemu.log; return 1; }
}
check "$REL: the guest traces on x86-tsc, the daemon samples KVM's TSC offsets" record

stop_session() {
	"$VT" stop tc > $W/stop.out 2>&1
	local rc=$?
	cat $W/stop.out
	kill -INT $HREC
	wait $HREC
	tail -n 4 $W/hrec.log
	grep -v "^#" $OUT/tsc | awk '{n[$1]++} END {for (v in n) printf "vcpu %s: %d TSC offset value(s)\n", v, n[v]}'
	cat $OUT/guest.map
	[ "$rc" = 0 ] && grep -q "agent=stopped" $OUT/stats && [ -s $OUT/trace.dat ] &&
		[ -s $W/host.dat ]
}
check "$REL: stop: DIR/trace.dat, guest.map, tsc; host.dat complete" stop_session

# guest.map names threads of QEMU (that they run the right vCPU, the
# checker sees in the host's kvm_entry events)
vcpu_threads() {
	local pid v tid ok=0
	pid=$(sed -n 's/^pid=//p' $OUT/guest.map)
	echo "QEMU $pid, threads while tracing: $(awk -v p="$pid" '$1 == p {print $2}' $W/qemu-threads | paste -sd' ')"
	for v in 0 1; do
		tid=$(sed -n "s/^vcpu$v=//p" $OUT/guest.map)
		echo "vcpu$v: thread $tid"
		[ -n "$tid" ] && grep -qx "$pid $tid" $W/qemu-threads || ok=1
	done
	grep -q "^vcpus=2$" $OUT/guest.map && grep -q "^clock=x86-tsc$" $OUT/guest.map &&
		[ $ok = 0 ]
}
check "$REL: guest.map: 2 vCPUs, each a thread of QEMU" vcpu_threads

time_shift() {
	trace-cmd dump --options -i $OUT/trace.dat > $W/gopts 2>&1
	grep -A4 TimeShift $W/gopts
	grep -q '\[x86-tsc\]' $W/gopts && grep -q TimeShift $W/gopts
}
check "$REL: DIR/trace.dat: x86-tsc clock, TIME_SHIFT" time_shift

attach() {
	"$VT" merge $W/host.dat $OUT &&
		trace-cmd dump --options -i $W/host.dat 2>&1 | grep -A6 'Option GUEST'
}
check "$REL: vhost-trace merge host.dat DIR" attach


merged() {
	merged_ok $W/host.dat $OUT
}
check "$REL: vhost-trace report -H host.dat DIR: >= 99% of guest events on vCPU n inside a kvm_entry..kvm_exit of its thread" merged

# control: the same check without the time shift must fail
unshifted() {
	local tids
	tids=$(sed -n 's/^vcpu[0-9]*=//p' $OUT/guest.map | paste -sd,)
	trace-cmd report --raw-ts -i $W/host.dat -i $OUT/trace.dat > $W/raw 2>&1 ||
		{ head -n 3 $W/raw; return 1; }
	awk -f "$TOP/selftests/vm/kvm_windows.awk" -v host=host.dat -v guest=trace.dat \
		-v tids="$tids" $W/raw > $W/raw.out
	local rc=$?
	sed 's/^/unshifted: /' $W/raw.out
	[ $rc != 0 ]
}
check "$REL: control: without TIME_SHIFT (report --raw-ts) the check fails" unshifted

finish() {
	local t
	for t in $(seq 120); do
		"$VT" list 2>/dev/null | awk '$2 == "tc" {print $3}' | grep -q ended && break
		sleep 0.5
	done
	wait $RECORD
	kill -TERM $DAEMON
	wait $DAEMON
	local rc=$?
	echo "daemon exit status $rc"
	grep -i "tsc\|clock" $W/traced.log
	sleep 1
	rmmod vhost_trace && [ ! -e /dev/vhost-trace ] && [ "$rc" = 0 ]
}
check "$REL: QEMU ends, daemon exits, module unloads" finish
trace_unpin
kvm_paging N > /dev/null	# as vmrun boots it, for the next scripts
echo "traced_clock.sh: $((SECONDS - T0)) s"

exit $FAILED
