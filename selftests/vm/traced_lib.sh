# Helpers for the vhost-traced scripts of selftests/vm (after lib.sh):
# the daemon, and a guest trace.dat as stock trace-cmd reads it. The
# script sets W (its work directory) and SOCK (the control socket).
# shellcheck shell=bash

TRACED=$BUILD/tools/vhost-traced
VT=$BUILD/tools/vhost-trace
AGENT=$BUILD/guest/trace-agent
CTL_BIN=$BUILD/tools/agent-ctl/agent-ctl
export VHOST_TRACED_SOCKET=$SOCK

# start_daemon [ARG...]: vhost-traced on $SOCK (log appended to
# $W/traced.log after a "== daemon started" line), answering; DAEMON is
# its pid
start_daemon() {
	local t
	echo "== daemon started" >> $W/traced.log
	"$TRACED" -s $SOCK "$@" >> $W/traced.log 2>&1 &
	DAEMON=$!
	for t in $(seq 50); do
		[ -S $SOCK ] && "$VT" list > /dev/null 2>&1 && return 0
		sleep 0.2
	done
	cat $W/traced.log
	return 1
}

# vdpa_kernel: the kernel has vDPA (6.12; Debian's 6.1 has not)
vdpa_kernel() {
	grep -q '^CONFIG_VDPA=[ym]' "$BUILD/kernels/$REL/boot/config-$REL" \
		2>/dev/null
}

# load_module_vdpa: the module, with the vDPA core it needs where the
# kernel has vDPA
load_module_vdpa() {
	if vdpa_kernel; then
		modprobe vdpa && modprobe vhost_iotlb || return 1
	fi
	load_module
}

# the log of the last daemon started
last_log() {
	awk '/^== daemon started/ {b = ""} {b = b $0 "\n"} END {printf "%s", b}' \
		$W/traced.log
}

# events in a `trace-cmd report`: "[CPU] TIME:" with TIME in seconds
# (local clocks) or TSC cycles (x86-tsc), glued to the CPU once it is wide
EV_RE='\[[0-9]{3}\] *[0-9]+(\.[0-9]+)?:'

# tracedat_ok DIR "CPUS" [EVENT]: DIR/trace.dat is a version 7 file,
# made with the guest's metadata (DIR/meta), that stock trace-cmd reports
# with exactly the events agent-ctl check-pages counts in DIR/cpuN.raw
# (check-pages output in $W/pages, the report in $W/report), some on each
# of CPUS, only EVENT (default sched_switch); and pages carry the ring
# buffer's lost-events flag iff DIR/stats says the guest lost events
# (when it says)
tracedat_ok() {
	local dir=$1 cpus=$2 ev=${3:-sched_switch} want n other c files=
	local flagged lost
	[ -s $dir/trace.dat ] || { echo "no $dir/trace.dat"; return 1; }
	[ "$(head -c 10 $dir/trace.dat | tail -c 7)" = "tracing" ] &&
		[ "$(dd if=$dir/trace.dat bs=1 skip=10 count=1 2>/dev/null)" = 7 ] ||
		{ echo "$dir/trace.dat: not a version 7 trace.dat"; return 1; }
	[ -s $dir/meta/events/header_page ] &&
		find $dir/meta/events -path "*/$ev/format" -size +0 | grep -q . ||
		{ echo "$dir/meta: no header_page or $ev format"; return 1; }
	for c in $cpus; do files="$files $dir/cpu$c.raw"; done
	# shellcheck disable=SC2086
	"$CTL_BIN" check-pages $files | tee $W/pages || return 1
	trace-cmd report -i $dir/trace.dat > $W/report 2> $W/report.err ||
		{ cat $W/report.err; return 1; }
	head -n 8 $W/report
	want=$(awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "events,") s += $i} END {print s + 0}' $W/pages)
	n=$(grep -cE "$EV_RE" $W/report)
	other=$(grep -E "$EV_RE" $W/report | grep -vc " $ev:")
	echo "check-pages: $want events; trace-cmd report: $n events," \
	     "$other not $ev"
	for c in $cpus; do
		[ "$(grep -cE "\[00$c\] *[0-9]+(\.[0-9]+)?:" $W/report)" -gt 0 ] ||
			{ echo "no events on cpu$c"; return 1; }
	done
	flagged=$(awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "with") s += $i} END {print s + 0}' $W/pages)
	lost=$(sed -n 's/^session .* lost_events=\([0-9]*\) .*/\1/p' $dir/stats)
	echo "pages flagged with lost events: $flagged; lost_events: ${lost:-?}"
	# (a session ended by a restarted daemon has no agent to ask)
	{ [ -z "$lost" ] || { [ "$flagged" = 0 ] && [ "$lost" = 0 ]; } ||
		{ [ "$flagged" != 0 ] && [ "$lost" != 0 ]; }; } &&
		[ "$n" -gt 0 ] && [ "$n" = "$want" ] && [ "$other" = 0 ] &&
		host_seconds_ok $dir
}

# host_seconds_ok DIR: a guest on x86-tsc (DIR/guest.map clock=x86-tsc)
# is reported in host seconds (TSC2NSEC, guest.map tsc2nsec=): its events
# (in $W/report) lie in the last 10 minutes of this host's time (uptime;
# the TSC counted the firmware's seconds too: up to 60 s more)
host_seconds_ok() {
	local up
	grep -qx "clock=x86-tsc" $1/guest.map 2>/dev/null || return 0
	grep "^tsc2nsec=" $1/guest.map ||
		{ echo "$1/guest.map: no tsc2nsec="; return 1; }
	up=$(cut -d' ' -f1 /proc/uptime)
	grep -oE "$EV_RE" $W/report | sed -E 's/.*\] *//; s/:$//' |
	awk -v up="$up" 'NR == 1 {f = $1} {l = $1}
		!/^[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9]$/ {bad = $1}
		END {printf "guest events from %s to %s s, host uptime %s s\n", f, l, up
		     exit bad != "" || f < up - 600 || l > up + 60 || f > l}'
}

# host_record: the host's KVM entries and exits on the TSC, into
# $W/host.dat (trace-cmd record -C x86-tsc, pid HREC), from now on. The
# events are pinned on first (trace_pin, lib.sh); the script calls
# trace_unpin once its guests are gone.
host_record() {
	local t up=
	modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null
	trace_pin kvm/kvm_entry kvm/kvm_exit || return 1
	trace-cmd record -C x86-tsc -e kvm:kvm_entry -e kvm:kvm_exit \
		-o $W/host.dat > $W/hrec.log 2>&1 &
	HREC=$!
	for t in $(seq 100); do
		grep -q '\[x86-tsc\]' /sys/kernel/tracing/trace_clock &&
			[ "$(cat /sys/kernel/tracing/events/kvm/kvm_entry/enable)" = 1 ] &&
			up=1 && break
		sleep 0.1
	done
	[ -n "$up" ] && trace_pins check kvm/kvm_entry kvm/kvm_exit &&
		return 0
	cat $W/hrec.log
	echo "pins: $(cat /sys/kernel/tracing/instances/vtpin*/events/kvm/kvm_e*/enable)"
	return 1
}

# host_record_stop: host.dat complete
host_record_stop() {
	kill -INT $HREC
	wait $HREC
	tail -n 4 $W/hrec.log
	[ -s $W/host.dat ]
}

tsc_mhz() {
	dmesg | sed -n 's/.*tsc: \(Refined TSC clocksource calibration\|Detected\): \([0-9.]*\) MHz.*/\2/p' | tail -n 1
}

# merged_ok HOST.DAT DIR: `vhost-trace report -H HOST.DAT DIR` (host and
# guest on one time line) puts at least 99% of the guest's events on vCPU
# n inside a kvm_entry..kvm_exit window of vCPU n's host thread
# (kvm_windows.awk; the misses and the clock error they imply are shown)
merged_ok() {
	local tids s=$SECONDS
	tids=$(sed -n 's/^vcpu[0-9]*=//p' $2/guest.map | paste -sd,)
	"$VT" report -H $1 $2 -- -t > $W/merged 2> $W/merged.err ||
		{ cat $W/merged.err; return 1; }
	cat $W/merged.err
	echo "merged report: $(wc -l < $W/merged) lines in $((SECONDS - s)) s," \
	     "host TSC $(tsc_mhz) MHz"
	grep -m 2 -E "^ *trace.dat: .*\[[0-9]+\]" $W/merged
	grep -m 2 -E "^ *host.dat: .*\[[0-9]+\]" $W/merged
	awk -f "$TOP/selftests/vm/kvm_windows.awk" -v host="${1##*/}" \
		-v guest=trace.dat -v tids="$tids" -v mhz="$(tsc_mhz)" $W/merged
}

# start_attach_guest [GUESTRUN-OPTION...] [-- QEMU-ARG...]: a nested guest
# for attach mode (guest_attach.sh: our agent, at /bin/trace-agent, waits
# for the hot-plugged ports) with a QMP socket at $QMP, its console in
# $W/guest.log; returns once the agent waits. GUEST is guestrun's pid,
# QPID QEMU's.
start_attach_guest() {
	local opts=() t
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	"$TOP/tools/dev/guestrun" "${opts[@]}" -f "$AGENT:/bin/trace-agent" \
		"$TOP/selftests/vm/guest_attach.sh" "$@" \
		-qmp unix:$QMP,server=on,wait=off -pidfile $W/qemu.pid \
		> $W/guest.log 2>&1 &
	GUEST=$!
	for t in $(seq 300); do
		grep -q "^guest: ready" $W/guest.log && break
		kill -0 $GUEST 2>/dev/null || break
		sleep 0.5
	done
	QPID=$(cat $W/qemu.pid 2>/dev/null)
	echo "QEMU pid $QPID"
	grep -q "^guest: ready" $W/guest.log || { cat $W/guest.log; return 1; }
}
