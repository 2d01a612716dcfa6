#!/bin/bash
# In the host VM: attach mode. Our QEMU runs a nested guest (tools/dev/guestrun,
# with a QMP socket) whose trace agent waits for its ports while a workload
# runs on both CPUs. vhost-traced then attaches over QMP with no guest
# reboot (getfd, chardev-add, device_add of vhost-trace-pci), the agent
# finds the hot-plugged ports, sched_switch is traced for some seconds,
# and `vhost-trace stop` completes the files and unplugs the device
# again. QEMU must be as before (no device, no chardev, no device fd),
# the guest must run on, and stock trace-cmd must read DIR/trace.dat with
# sched_switch on both CPUs. Failed attaches (a bad bus, ports=0) must
# say why and leave QEMU as it was. A second attach after the detach must
# trace again (the agent lets go of unplugged ports and takes new ones).
# Host and guest on one time line (the host's kvm_entry/kvm_exit recorded
# meanwhile, merged): in attach mode traced_vdpa.sh's (6.12, the stock
# QEMU: the same QMP attach, guest.map and TSC sampling), in launch mode
# traced_clock.sh's (6.1, our QEMU).
. "$(dirname "$0")/lib.sh"

QMPCMD="python3 $TOP/selftests/vm/qmp_cmd.py"
W=/tmp/vtatt
SOCK=$W/traced.sock
QMP=$W/qmp.sock
OUT=$W/out
export PYTHONDONTWRITEBYTECODE=1
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W

for f in "$TRACED" "$VT" "$AGENT" "$CTL_BIN"; do
	[ -x "$f" ] || { echo "no $f"; exit 1; }
done

check "$REL: module loads" load_module
check "$REL: kvm_amd with shadow paging (npt=0) for the hot-plug" kvm_shadow_paging

# the daemon's open files: a session that is gone leaves none behind
daemon_fds() { ls /proc/$DAEMON/fd | wc -l; }

# with the daemon's open files at the start
start_daemon_fds() {
	start_daemon && DFDS=$(daemon_fds)
}
check "$REL: vhost-traced starts" start_daemon_fds

# The guest (guest_attach.sh) lives through the whole script (~2 min
# here) and ends 4 s after the second detach: its time limit only
# catches a hang.
start_guest() { start_attach_guest -t 600 -e SETTLE=4; }
check "$REL: a nested guest runs, its agent waits for ports" start_guest

# What attach adds to QEMU: devices with an id, chardevs, device fds.
qemu_state() {
	kill -0 "$QPID" ||
		{ echo "QEMU $QPID is gone"; tail -n 40 $W/guest.log; return 1; }
	echo "devices: $($QMPCMD $QMP qom-list '{"path": "/machine/peripheral"}' |
		python3 -c 'import json, sys
print(" ".join(sorted(d["name"] for d in json.load(sys.stdin))))')"
	echo "chardevs: $($QMPCMD $QMP query-chardev | python3 -c 'import json, sys
print(" ".join(sorted(c["label"] for c in json.load(sys.stdin))))')"
	echo "vhost-trace fds: $(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)"
}

failed_attach() {
	local before after rc1 rc2
	before=$(qemu_state) || { echo "$before"; return 1; }
	echo "$before"
	"$VT" record --attach $QMP -o $W/bad -n 2 --bus nosuch.0 -q > $W/bad1 2>&1
	rc1=$?
	"$VT" record --attach $QMP -o $W/bad -n 0 -q > $W/bad2 2>&1
	rc2=$?
	cat $W/bad1 $W/bad2
	after=$(qemu_state)
	echo "$after"
	"$VT" list
	echo "daemon fds: $DFDS before, $(daemon_fds) after"
	[ "$rc1" = 1 ] && [ "$rc2" = 1 ] && [ "$(daemon_fds)" = "$DFDS" ] &&
		grep -q "attach: device_add: Bus 'nosuch.0' not found" $W/bad1 &&
		grep -q "attach: ports= must be 1\.\." $W/bad2 &&
		[ "$before" = "$after" ] &&
		echo "$after" | grep -qx "vhost-trace fds: 0" &&
		"$VT" list | grep -q "no sessions"
}
check "$REL: a failed attach (bad bus, ports=0) says why, QEMU as before" failed_attach

agent_state() { "$VT" list 2>/dev/null | awk '$2 == "ta" {print $9}'; }

attach() {
	local t a
	T0=$(date +%s)
	"$VT" record --attach $QMP -o $OUT -N ta -q -e sched:sched_switch \
		> $W/record.log 2>&1 &
	RECORD=$!
	for t in $(seq 240); do
		a=$(agent_state)
		[ "$a" = running ] && break
		case $a in error|gone|silent) break ;; esac
		kill -0 $RECORD 2>/dev/null || break
		sleep 0.5
	done
	echo "agent $a $(($(date +%s) - T0)) s after the attach request"
	cat $W/record.log
	"$VT" list
	[ "$a" = running ] || { cat $W/traced.log $W/guest.log; return 1; }
	sleep 4
	"$VT" status ta
	"$VT" list | awk '$2 == "ta" {print $4}' > $W/pid
	[ "$(cat $W/pid)" = "$QPID" ] &&
		grep -q "attached, QEMU pid $QPID, 2 port(s)" $W/record.log
}
check "$REL: record --attach: hot-plugged, the agent found its ports and runs" attach

during() {
	local s
	s=$(qemu_state)
	echo "$s"
	echo "$s" | grep -q "^devices: .*vtrace[0-9]" &&
		echo "$s" | grep -q "chardevs: .*vtagent" &&
		echo "$s" | grep -qx "vhost-trace fds: 1"
}
check "$REL: while attached QEMU holds the device, its chardev and the device fd" during

stop_session() {
	local t0 rc rrc
	t0=$(date +%s)
	"$VT" stop ta > $W/stop.out 2>&1
	rc=$?
	echo "stop took $(($(date +%s) - t0)) s, exit $rc"
	cat $W/stop.out
	wait $RECORD
	rrc=$?
	echo "record exited $rrc"
	cat $W/traced.log
	ls -l $OUT
	[ "$rc" = 0 ] && [ "$rrc" = 0 ] && grep -q " stopped " $W/stop.out &&
		grep -q "device vtrace[0-9]* detached" $W/stop.out &&
		grep -q "agent=stopped" $OUT/stats &&
		grep -q "device_state=detached" $OUT/stats ||
		{ tail -n 30 $W/guest.log; return 1; }
}
check "$REL: vhost-trace stop: files complete, device unplugged" stop_session

after() {
	local s t
	for t in $(seq 20); do	# the record's own stop made it leave the list
		"$VT" list | grep -q "no sessions" &&
			[ "$(daemon_fds)" = "$DFDS" ] && break
		sleep 0.2
	done
	s=$(qemu_state)
	echo "$s"
	"$VT" list
	echo "daemon fds: $DFDS before, $(daemon_fds) after"
	[ "$(daemon_fds)" = "$DFDS" ] &&
		echo "$s" | grep -q "^devices: " && ! echo "$s" | grep -q vtrace &&
		echo "$s" | grep -q "^chardevs: " && ! echo "$s" | grep -q vtagent &&
		echo "$s" | grep -qx "vhost-trace fds: 0" &&
		kill -0 "$QPID" && "$VT" list | grep -q "no sessions"
}
check "$REL: after the stop QEMU is as before and runs on; the session and its fds are gone" after

guest_runs_on() {
	local t
	for t in $(seq 20); do
		grep -q "^guest: the device is gone (1)" $W/guest.log && break
		sleep 0.5
	done
	grep -v '^\[' $W/guest.log | grep "^guest:"
	grep -q "^guest: the device is gone (1), the guest runs on" $W/guest.log &&
		kill -0 "$QPID"
}
check "$REL: the guest saw the device go and runs on" guest_runs_on

check "$REL: stock trace-cmd reads DIR/trace.dat: sched_switch on both CPUs, every event" \
	tracedat_ok $OUT "0 1"

# The agent let go of the unplugged ports; a second attach finds the new
# device's ports (the counts it reports start again from 0).
reattach() {
	local t a t0 rc s
	t0=$(date +%s)
	"$VT" record --attach $QMP -o $W/out2 -N tb -q -e sched:sched_switch \
		-d > $W/record2.log 2>&1 || { cat $W/record2.log; return 1; }
	for t in $(seq 240); do
		a=$("$VT" list 2>/dev/null | awk '$2 == "tb" {print $9}')
		[ "$a" = running ] && break
		case $a in error|gone|silent|"") break ;; esac
		sleep 0.5
	done
	echo "agent $a $(($(date +%s) - t0)) s after the attach request"
	[ "$a" = running ] || { cat $W/record2.log $W/traced.log; return 1; }
	sleep 2
	# the daemon dies and a new one takes the attached session over: it
	# finds the device fd in QEMU's /proc/PID/fd and unplugs it at stop
	kill -KILL $DAEMON
	wait $DAEMON 2> /dev/null
	start_daemon_fds || return 1
	"$VT" list
	"$VT" status tb | grep -q "taken over after a daemon restart" ||
		{ cat $W/traced.log; return 1; }
	sleep 1
	t0=$(date +%s)
	"$VT" stop tb > $W/stop2.out 2>&1
	rc=$?
	echo "stop took $(($(date +%s) - t0)) s, exit $rc"
	s=$(qemu_state) || { echo "$s"; return 1; }
	echo "$s"
	cat $W/stop2.out
	[ "$rc" = 0 ] && grep -q "device vtrace[0-9]* detached" $W/stop2.out &&
		! echo "$s" | grep -qE "vtrace|vtagent" &&
		echo "$s" | grep -qx "vhost-trace fds: 0" &&
		grep -q "agent=stopped" $W/out2/stats && tracedat_ok $W/out2 "0 1" ||
		{ tail -n 30 $W/traced.log; return 1; }
}
check "$REL: attach again after the detach; the daemon SIGKILLed and restarted; stop: trace.dat, detached" reattach

finish() {
	wait $GUEST
	local grc=$? rc
	echo "guestrun exited $grc"
	if [ "$grc" = 0 ]; then
		grep -v '^\[' $W/guest.log | tail -n 16
	else
		tail -n 60 $W/guest.log		# with the kernel's lines
	fi
	kill -TERM $DAEMON
	wait $DAEMON
	rc=$?
	echo "daemon exit status $rc"
	sleep 1
	[ "$grc" = 0 ] && grep -q "^guest: done" $W/guest.log &&
		grep -q "^guest: still running" $W/guest.log &&
		grep -q "cpu1: port .* unplugged" $W/guest.log &&
		rmmod vhost_trace && [ ! -e /dev/vhost-trace ] && [ "$rc" = 0 ]
}
check "$REL: the guest ran on, ends itself; daemon exits, module unloads" finish

echo "traced_attach.sh: ${SECONDS} s"
exit $FAILED
