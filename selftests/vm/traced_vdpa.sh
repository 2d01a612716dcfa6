#!/bin/bash
# In the host VM: the vDPA front end with a stock QEMU (Debian's 10.0 from
# bookworm-backports, tools/dev/stock-qemu.sh) through vhost-traced.
#
# A kernel without CONFIG_VDPA (Debian's 6.1): the tools say why, for
# --front-end vdpa and for auto with a QEMU that only has
# vhost-vdpa-device-pci; nothing is left behind.
#
# A kernel with it (6.12):
#  - the front-end probe: auto picks vdpa for the stock QEMU (its -device
#    help), and the vDPA device goes when QEMU exits;
#  - launch mode, upstream agent: a nested guest under the stock QEMU with
#    vhost-vdpa-device-pci runs linux's tools/virtio/virtio-trace
#    trace-agent (its one-line EAGAIN fix), into FIFOs fed by reference
#    (--fifo --by-ref: the module lends the guest's pages, which QEMU maps
#    through vhost_vdpa, to the FIFOs; a reader per FIFO); after "1" each
#    CPU's pages arrive, by reference (ref_bytes in DIR/stats), after "0"
#    the agent reads no more (the guest's ring buffers' "read events"
#    stand still) and the stop, which gets no answer from it, ends once
#    the ports went quiet (agent stop-quiet), well before its 10 s
#    timeout; the readers' pages are ring-buffer pages; QEMU's
#    /proc/PID/io shows it moved none of the trace bytes;
#  - attach mode, our agent: hot-plug into the running guest (auto: QMP
#    qom-list-types; add-fd, device_add), trace.dat read by stock
#    trace-cmd, and on one time line with the host's kvm_entry/kvm_exit
#    recorded meanwhile (trace-cmd record -C x86-tsc; `vhost-trace report
#    -H host.dat DIR`, i.e. trace-cmd report -i host.dat -i DIR/trace.dat,
#    as make demo shows it: each guest event on vCPU n inside a
#    kvm_entry..kvm_exit window of vCPU n's thread, traced_lib.sh's
#    merged_ok), detach (device_del, the vDPA device deleted), attach again
#    with a daemon restart meanwhile (VHOST_TRACE_VDPA_CTL), detach again;
#    QEMU as before each time, the guest runs on.
. "$(dirname "$0")/lib.sh"

STOCK=$BUILD/stock-qemu/qemu-system-x86_64
UPAGENT=$BUILD/virtio-trace/trace-agent
QMPCMD="python3 $TOP/selftests/vm/qmp_cmd.py"
W=/tmp/vtvdpa
SOCK=$W/traced.sock
QMP=$W/qmp.sock
export PYTHONDONTWRITEBYTECODE=1
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W

for f in "$TRACED" "$VT" "$AGENT" "$CTL_BIN" "$STOCK" "$UPAGENT"; do
	[ -x "$f" ] || { echo "no $f"; exit 1; }
done
echo "stock QEMU: $(head -n 1 $BUILD/stock-qemu/VERSION)"

check "$REL: module loads" load_module_vdpa
check "$REL: vhost-traced starts" start_daemon

finish_daemon() {
	kill -TERM $DAEMON
	wait $DAEMON
	local rc=$?
	echo "daemon exit status $rc"
	sleep 1
	[ "$rc" = 0 ] && rmmod vhost_trace && [ ! -e /dev/vhost-trace ]
}

if ! vdpa_kernel; then
	# the stock QEMU offers only vhost-vdpa-device-pci: auto picks vdpa
	no_vdpa() {
		local out1 out2 rc1 rc2
		out1=$("$VT" record --launch --front-end vdpa -o $W/n1 -n 1 -A \
			-q -- "$STOCK" -machine none 2>&1)
		rc1=$?
		out2=$("$VT" record --launch -o $W/n2 -n 1 -A -q -- \
			"$STOCK" -machine none 2>&1)
		rc2=$?
		echo "--front-end vdpa: exit $rc1: $out1"
		echo "auto, stock QEMU: exit $rc2: $out2"
		grep "front end" $W/traced.log
		[ "$rc1" = 1 ] && [ "$rc2" = 1 ] &&
			echo "$out1" | grep -q "has no vDPA (CONFIG_VDPA" &&
			echo "$out2" | grep -q "has no vDPA (CONFIG_VDPA" &&
			grep -q "front end vdpa (QEMU has vhost-vdpa-device-pci" \
				$W/traced.log &&
			"$VT" list | grep -q "no sessions"
	}
	check "$REL: no CONFIG_VDPA: --front-end vdpa and auto with the stock QEMU are refused, saying why" no_vdpa
	check "$REL: daemon exits, module unloads" finish_daemon
	echo "traced_vdpa.sh: ${SECONDS} s"
	exit $FAILED
fi

check "$REL: kvm_amd with shadow paging (npt=0) for the hot-plug" kvm_shadow_paging

# vhost-vdpa maps guest RAM by virtual address only where it is a shared
# file mapping: every guest here has a shared memfd backend
MEMFD="-object memory-backend-memfd,id=vtmem,size=512M,share=on -machine memory-backend=vtmem"

# vDPA devices of the module
vdpa_devs() { ls /sys/bus/vdpa/devices 2>/dev/null | paste -sd' '; }

# auto: the stock QEMU's -device help (run as the requester) has only
# vhost-vdpa-device-pci. -machine none has no PCI bus: QEMU exits at once,
# the session ends and its vDPA device is deleted.
probe() {
	local t st
	# without shared RAM: refused with why, the device deleted again
	"$VT" record --launch -o $W/p -n 1 -N p0 -A -d -- "$STOCK" \
		-machine none -display none -nodefaults > $W/p.log 2>&1
	cat $W/p.log
	grep -q "the guest's RAM must be a shared memory backend" $W/p.log &&
		[ -z "$(vdpa_devs)" ] && "$VT" list | grep -q "no sessions" ||
		return 1
	"$VT" record --launch -o $W/p -n 1 -N p0 -A -d -- "$STOCK" \
		-machine none -display none -nodefaults \
		-object memory-backend-memfd,id=m,size=64M,share=on \
		> $W/p.log 2>&1
	cat $W/p.log
	for t in $(seq 80); do
		"$VT" status p0 2>/dev/null | grep -q " ended " && break
		sleep 0.25
	done
	st=$("$VT" status p0)
	echo "$st"
	cat $W/p/qemu.log
	echo "vDPA devices after: '$(vdpa_devs)'"
	grep -q "front end vdpa (vDPA device vt-p0 on /dev/vhost-vdpa-" \
		$W/p.log && echo "$st" | grep -q " ended " &&
		echo "$st" | grep -q "front end vdpa" &&
		[ -z "$(vdpa_devs)" ] && "$VT" stop p0 > /dev/null
}
check "$REL: auto picks vdpa for the stock QEMU (-device help); refused without shared RAM; the device goes with QEMU" probe
if [ "$FAILED" != 0 ]; then
	echo "the module's vDPA front end does not work here: no nested guests"
	check "$REL: daemon exits, module unloads" finish_daemon
	exit 1
fi

# QEMU's I/O counters: "rchar wchar read_bytes write_bytes"
qemu_io() {
	awk '/^(rchar|wchar|read_bytes|write_bytes):/ {printf "%s ", $2}' \
		/proc/$1/io
}

# io_none BEFORE AFTER BYTES: QEMU moved none of the BYTES traced meanwhile
# (each counter grew by less than a tenth of them: the console, timers)
io_none() {
	echo "QEMU /proc/PID/io rchar wchar read_bytes write_bytes:" \
	     "before: $1; after: $2; trace bytes meanwhile: $3"
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= 4; i++) {
			d = y[i] - x[i]; printf "delta %d: %d\n", i, d
			if (d * 10 >= t) bad = 1
		}
		exit bad || t < 65536 }'
}

# session bytes of cpuN in `status`
cpu_bytes() { "$VT" status $1 2>/dev/null | awk -v c="cpu$2" '$1 == c {print $2}'; }
total_bytes() { "$VT" status $1 2>/dev/null | awk '$1 ~ /^cpu[0-9]/ {s += $2} END {print s + 0}'; }

# --- launch mode, the upstream virtio-trace agent ---------------------------
cat > $W/launch.sh <<'EOS'
mount -t debugfs none /sys/kernel/debug 2>/dev/null
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs none $T
for n in agent-ctl-path trace-path-cpu0 trace-path-cpu1; do
	[ -c /dev/virtio-ports/$n ] ||
		{ echo "guest: no $n"; cat /sys/class/virtio-ports/*/name; exit 1; }
done
echo 1 > $T/events/sched/enable
echo 1 > $T/events/raw_syscalls/enable
/bin/virtio-trace-agent > /tmp/agent.log 2>&1 &
for c in 0 1; do
	taskset -c $c sh -c 'while :; do ls -R /sys/class > /dev/null; usleep 20000; done' &
done
echo "guest: ready"
# what the agent consumed of each CPU's ring buffer, every second
while :; do
	echo "guest: read $(awk '/^read events/ {printf "%s ", $3}' \
		$T/per_cpu/cpu0/stats $T/per_cpu/cpu1/stats)"
	sleep 1
done
EOS

# a reader per FIFO ($W/lN.raw; EOF when the daemon lets go at the stop)
launch() {
	local t b0 b1
	"$VT" record --launch --front-end vdpa -o $W/l -n 2 -N v1 -q \
		--fifo --by-ref -- \
		"$TOP/tools/dev/guestrun" -q "$STOCK" -t 400 \
		-f "$UPAGENT:/bin/virtio-trace-agent" $W/launch.sh $MEMFD \
		> $W/l.log 2>&1 &
	RECORD=$!
	for t in $(seq 100); do
		[ -p $W/l/cpu1.fifo ] && break
		sleep 0.2
	done
	LREADERS=
	for t in 0 1; do
		cat $W/l/cpu$t.fifo > $W/l$t.raw &
		LREADERS="$LREADERS $!"
	done
	for t in $(seq 360); do
		b0=$(cpu_bytes v1 0); b1=$(cpu_bytes v1 1)
		[ "${b0:-0}" -gt 0 ] && [ "${b1:-0}" -gt 0 ] && break
		kill -0 $RECORD 2>/dev/null || break
		sleep 0.5
	done
	# QEMU itself, not guestrun's shell or timeout around it (both have
	# the same arguments): killing the shell would leave QEMU running
	# with the device, and /proc/PID/io must be QEMU's
	QPID=$(for p in $(pgrep -f "vhostdev=/dev/fdset/"); do
		case "$(readlink /proc/$p/exe)" in
		*/qemu-system-x86_64) echo "$p" ;;
		esac
	done | head -n 1)
	cat $W/l.log
	"$VT" status v1
	echo "QEMU pid $QPID; its vhost-vdpa fds: $(ls -l /proc/$QPID/fd 2>/dev/null | grep -c vhost-vdpa)"
	grep -E "front end|vDPA|hello" $W/traced.log
	grep -q "front end vdpa (vDPA device vt-v1 on /dev/vhost-vdpa-" $W/l.log &&
		[ "${b0:-0}" -gt 0 ] && [ "${b1:-0}" -gt 0 ] && [ -n "$QPID" ] &&
		[ "$(ls -l /proc/$QPID/fd | grep -c vhost-vdpa)" -ge 1 ] ||
		{ tail -n 40 $W/l/qemu.log; return 1; }
}
check "$REL: launch, stock QEMU + vhost-vdpa-device-pci: after \"1\" the upstream agent's pages arrive on each CPU" launch

# (until 1 MiB more is traced, 60 s at most: ~2 s here, the agent
# copies whole ring-buffer pages)
launch_io() {
	local io1 io2 by1 by2 t
	io1=$(qemu_io $QPID); by1=$(total_bytes v1)
	for t in $(seq 120); do
		sleep 0.5
		[ "$(total_bytes v1)" -ge $((by1 + 1048576)) ] && break
	done
	io2=$(qemu_io $QPID); by2=$(total_bytes v1)
	"$VT" status v1
	io_none "$io1" "$io2" "$(awk -v a=$by1 -v b=$by2 'BEGIN {print b - a}')"
}
check "$REL: launch: QEMU's /proc/PID/io shows it moved none of the trace bytes" launch_io

launch_stop() {
	local t t0 t1 rc reads n0 alive
	t0=$(date +%s%N)
	# the upstream agent answers no order: the stop ends once the ports'
	# byte counters stood still for 1 s after its "0", not after its 10 s
	# timeout
	"$VT" stop v1 > $W/l.stop 2>&1
	rc=$?
	t1=$(date +%s%N)
	echo "stop took $(((t1 - t0) / 1000000)) ms, exit $rc"
	cat $W/l.stop
	# then 3 samples of what the agent read (a line the guest printed
	# before the stop ended may still be on its way: 1 s first)
	sleep 1
	n0=$(grep -c "^guest: read" $W/l/qemu.log)
	sleep 3
	reads=$(grep "^guest: read" $W/l/qemu.log | tail -n +$((n0 + 1)) | sort -u)
	echo "guest's read events before the stop:"
	grep "^guest: read" $W/l/qemu.log | head -n "$n0" | tail -n 4
	echo "after it (distinct): $reads"
	# the readers end when the daemon lets go of the FIFOs
	for t in $(seq 40); do
		kill -0 $LREADERS 2>/dev/null || break
		sleep 0.25
	done
	alive=0
	kill -0 $LREADERS 2>/dev/null && { alive=1; kill $LREADERS; }
	wait $LREADERS 2>/dev/null
	ls -l $W/l $W/l0.raw $W/l1.raw
	cat $W/l/stats
	"$CTL_BIN" check-pages $W/l0.raw $W/l1.raw
	[ "$rc" = 0 ] && grep -q " stopped " $W/l.stop &&
		grep -q " stop-quiet " $W/l.stop &&
		[ $(((t1 - t0) / 1000000)) -lt 10000 ] &&
		[ -n "$reads" ] && [ "$(echo "$reads" | wc -l)" = 1 ] &&
		[ "$(echo "$reads" | awk '{print ($3 > 0 && $4 > 0)}')" = 1 ] &&
		[ "$alive" = 0 ] &&
		[ -s $W/l0.raw ] && [ -s $W/l1.raw ] &&
		"$CTL_BIN" check-pages $W/l0.raw $W/l1.raw > /dev/null &&
		grep -q '^session .* sink=fifo-ref ' $W/l/stats &&
		awk '/^cpu/ { c++; for (i = 2; i <= NF; i++) {
				split($i, kv, "="); v[kv[1]] = kv[2] }
			 if (v["ref_bytes"] <= 0 || v["sink_errors"] != 0 ||
			     v["ref_bytes"] + v["copied_bytes"] != v["bytes"])
				bad = 1 }
		END { exit bad || c != 2 }' $W/l/stats &&
		[ "$(stat -c %s $W/l0.raw)" = "$(stats_field cpu0 bytes)" ] &&
		[ "$(stat -c %s $W/l1.raw)" = "$(stats_field cpu1 bytes)" ]
}
# stats_field CPU KEY: a per-CPU value of DIR/stats (launch mode)
stats_field() {
	awk -v c=$1 -v k=$2 '$1 == c { for (i = 2; i <= NF; i++) {
		split($i, kv, "="); if (kv[1] == k) print kv[2] } }' $W/l/stats
}
check "$REL: launch: stop (\"0\"): ends once the ports went quiet (agent stop-quiet, under the 10 s timeout); the agent read on both CPUs before and reads nothing after; the FIFOs' readers got every byte counted, lent by reference (ref_bytes > 0), ring-buffer pages" launch_stop

# v1 has left the table, or is there as ended (its files written)
session_gone() {
	"$VT" list | awk '$2 == "v1" {s = $3} END {exit !(s == "" || s == "ended")}'
}

launch_end() {
	local t
	kill $QPID
	wait $RECORD
	for t in $(seq 40); do
		[ -z "$(vdpa_devs)" ] && session_gone && break
		sleep 0.25
	done
	echo "vDPA devices after QEMU's exit: '$(vdpa_devs)'"
	"$VT" list
	grep "vDPA device vt-v1" $W/traced.log
	[ -z "$(vdpa_devs)" ] && session_gone
}
check "$REL: launch: QEMU exits, the vDPA device is deleted, the session leaves" launch_end

# --- attach mode, our agent -------------------------------------------------
# the guest (guest_attach.sh) ends 4 s after the second detach
start_guest() { start_attach_guest -q "$STOCK" -t 500 -e SETTLE=4 -- $MEMFD; }
# host_record's events pinned while no guest runs (lib.sh, trace_pin)
trace_pin kvm/kvm_entry kvm/kvm_exit
check "$REL: a nested guest under the stock QEMU runs, its agent waits" start_guest

qemu_state() {
	kill -0 "$QPID" || { echo "QEMU $QPID is gone"; return 1; }
	echo "devices: $($QMPCMD $QMP qom-list '{"path": "/machine/peripheral"}' |
		python3 -c 'import json, sys
print(" ".join(sorted(d["name"] for d in json.load(sys.stdin))))')"
	echo "vhost-vdpa fds: $(ls -l /proc/$QPID/fd | grep -c /dev/vhost-vdpa)"
	echo "vDPA devices: $(vdpa_devs)"
}

# attach NAME OUT [-d]: attached (auto), the agent runs
attach() {
	local name=$1 out=$2 t a t0
	shift 2
	t0=$(date +%s)
	"$VT" record --attach $QMP -o $out -N $name -q -e sched:sched_switch \
		"$@" > $W/$name.log 2>&1 &
	RECORD=$!
	for t in $(seq 240); do
		a=$("$VT" list 2>/dev/null | awk -v n=$name '$2 == n {print $9}')
		[ "$a" = running ] && break
		case $a in error|gone|silent) break ;; esac
		kill -0 $RECORD 2>/dev/null || [ "$1" = -d ] || break
		sleep 0.5
	done
	echo "agent $a $(($(date +%s) - t0)) s after the attach request"
	cat $W/$name.log
	qemu_state
	[ "$a" = running ] &&
		grep -q "front end vdpa (vDPA device vt-$name on /dev/vhost-vdpa-" \
			$W/$name.log &&
		qemu_state | grep -q "^devices: .*vtrace" &&
		qemu_state | grep -qx "vhost-vdpa fds: 1" ||
		{ tail -n 30 $W/traced.log; tail -n 30 $W/guest.log; return 1; }
}

# the host's kvm_entry/kvm_exit during the first attach, for the merge
check "$REL: trace-cmd record -C x86-tsc -e kvm:kvm_entry -e kvm:kvm_exit runs" host_record

BEFORE=
attach1() {
	BEFORE=$(qemu_state) && echo "before: $BEFORE" &&
		attach va $W/a1 && IO1=$(qemu_io $QPID) && BY1=$(total_bytes va)
}
check "$REL: attach (auto: qom-list-types picks vdpa; add-fd, device_add): the agent finds its ports" attach1

# stop: files complete, device unplugged and the vDPA device deleted
stop_detach() {
	local name=$1 out=$2 rc s
	"$VT" stop $name > $W/$name.stop 2>&1
	rc=$?
	cat $W/$name.stop
	s=$(qemu_state)
	echo "after: $s"
	[ "$rc" = 0 ] && grep -q "device vtrace[0-9]* detached" $W/$name.stop &&
		grep -q "agent=stopped" $out/stats &&
		[ "$s" = "$BEFORE" ] || { tail -n 30 $W/traced.log; return 1; }
}

attach_stop() {
	local rc=0
	sleep 5
	IO2=$(qemu_io $QPID)
	BY2=$(total_bytes va)
	stop_detach va $W/a1 && wait $RECORD || rc=1
	host_record_stop || rc=1
	[ $rc = 0 ] &&
		io_none "$IO1" "$IO2" "$(awk -v a=$BY1 -v b=$BY2 'BEGIN {print b - a}')"
}
check "$REL: attach: stop detaches (device_del, VDPA_DEL): QEMU as before; its /proc/PID/io moved none of the trace bytes" attach_stop

check "$REL: attach: stock trace-cmd reads DIR/trace.dat: sched_switch on both CPUs, every event" \
	tracedat_ok $W/a1 "0 1"

check "$REL: attach: host and guest on one time line (trace-cmd report -i host.dat -i DIR/trace.dat): >= 99% of guest events on vCPU n inside a kvm_entry..kvm_exit of its thread" \
	merged_ok $W/host.dat $W/a1

reattach() {
	attach vb $W/a2 -d || return 1
	sleep 2
	kill -KILL $DAEMON
	wait $DAEMON 2> /dev/null
	start_daemon || return 1
	"$VT" status vb
	"$VT" status vb | grep -q "taken over after a daemon restart" ||
		{ last_log; return 1; }
	sleep 1
	stop_detach vb $W/a2 && tracedat_ok $W/a2 "0 1"
}
check "$REL: attach again; daemon SIGKILLed, restarted (VDPA_CTL by name); stop: trace.dat, detached, QEMU as before" reattach

guest_end() {
	wait $GUEST
	local grc=$?
	echo "guestrun exited $grc"
	grep -v '^\[' $W/guest.log | grep "^guest:"
	[ "$grc" = 0 ] && grep -q "^guest: done" $W/guest.log &&
		grep -q "^guest: the device is gone (2)" $W/guest.log
}
check "$REL: the guest saw the device come and go twice, ran on, ends itself" guest_end
trace_unpin
check "$REL: daemon exits, module unloads" finish_daemon

echo "traced_vdpa.sh: ${SECONDS} s"
exit $FAILED
