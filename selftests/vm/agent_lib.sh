# Sourced by selftests/vm/agent_*.sh, after lib.sh: the guest agent
# (guest/) end to end in a nested KVM guest with two vCPUs, the host side
# driven by tools/agent-ctl on the agent-ctl-path chardev socket.
#
# The sourcing script sets AGENT_PATH (a label) and defines
# run_guest SCRIPT: runs the nested guest with SCRIPT (in the foreground),
# its trace-path-cpu0/1 ports ending in the host files $D/cpu0.raw and
# $D/cpu1.raw, agent-ctl-path on the unix socket $D/ctl.sock; then calls
# agent_main.
#
# Shows: real sched_switch events reach the host files; the files are
# sequences of valid ring-buffer pages; stock trace-cmd decodes them (via
# `trace-cmd restore` with the metadata fetched from the agent) with sane
# per-CPU time stamps; stop means stop; the upstream 2-byte protocol works
# alone; a CPU that comes online later gets its port; SIGTERM flushes;
# tracefs at the older debugfs path works; missing ports are reported and
# waiting does not spin.
#
# AGENT_GUEST_KERNEL picks the guest kernel (default: the host VM's).
# shellcheck shell=sh

AGENT=$BUILD/guest/trace-agent
CTL_BIN=$BUILD/tools/agent-ctl/agent-ctl
GK=${AGENT_GUEST_KERNEL:-$REL}
D=$(mktemp -d /tmp/agent.XXXXXX)

agent_prepare() {
	PFX="guest $GK, $AGENT_PATH:"
	for f in "$AGENT" "$CTL_BIN"; do
		[ -x "$f" ] || { echo "no $f (make -C guest; make -C tools/agent-ctl)"; exit 1; }
	done
}

cat > "$D/guest.sh" <<'EOS'
echo "guest: kernel $(uname -r), $(nproc) CPUs online"
for v in /sys/class/virtio-ports/vport*; do
	[ "$(cat $v/name)" = trace-path-cpu0 ] &&
		echo "guest: trace port device features $(cat $v/device/features)"
done
# cpu1 is offline when the agent starts: it must get its port later
echo 0 > /sys/devices/system/cpu/cpu1/online
/bin/trace-agent > /tmp/agent.log 2>&1 &
apid=$!
sleep 2
echo 1 > /sys/devices/system/cpu/cpu1/online
# a workload on each CPU for the whole run; the host starts and stops
for c in 0 1; do
	taskset -c $c sh -c 'while :; do ls -R /sys/class > /dev/null; usleep 20000; done' &
done
wait $apid
echo "guest: agent exit status $?"
sed 's/^/guest: agent: /' /tmp/agent.log

# SIGTERM while running: every page is flushed, exit status 0. Tracefs
# only at the older debugfs path this time: the agent must find it there.
echo sched:sched_switch > /sys/kernel/tracing/set_event
umount /sys/kernel/tracing
/bin/trace-agent -s > /tmp/term.log 2>&1 &
apid=$!
sleep 3
kill -TERM $apid
wait $apid
echo "guest: sigterm exit status $?"
sed 's/^/guest: sigterm: /' /tmp/term.log

# wakeups (voluntary context switches, all threads) and CPU ticks of a
# process over 5 s: an idle agent must sleep, not spin
idle5() {
	cs() { cat /proc/$1/task/*/status | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }
	tk() { cat /proc/$1/task/*/stat | awk '{s += $14 + $15} END {print s}'; }
	c0=$(cs $1); t0=$(tk $1)
	sleep 5
	echo "guest: $2 idle: $(( $(cs $1) - c0 )) wakeups, $(( $(tk $1) - t0 )) CPU ticks in 5 s"
}

# stopped, control host disconnected (nobody on the socket now): naps;
# and with no ports at all: said clearly, and no spinning while waiting
# for them. The two agents side by side (the second opens no real port),
# each measured on its own over the same 5 s.
/bin/trace-agent > /tmp/idle.log 2>&1 &
apid=$!
/bin/trace-agent -s -P nosuch-cpu -c nosuch-ctl > /tmp/noport.log 2>&1 &
npid=$!
sleep 2
idle5 $apid disconnected &
i1=$!
idle5 $npid noport &
i2=$!
wait $i1 $i2
kill -TERM $apid $npid
wait $apid $npid
sed 's/^/guest: noport: /' /tmp/noport.log
exit 0
EOS

# Nested guests sometimes stall (RCU stalls, see DESIGN.md). Results of
# an attempt whose guest died without a status are dropped, and the whole
# run is tried once more; the log says so.
# Results are kept until the attempt is over; each is said at once too,
# as a comment, which also tells the VM watchdog that the run goes on.
check() {
	name=$1
	shift
	if "$@"; then
		echo "check: ok $name" >> "$D/results"
		echo "agent: ok: $name"
	else
		echo "check: not ok $name" >> "$D/results"
		echo "agent: not ok: $name"
	fi
}

# ctl ARGS: agent-ctl on this run's control socket. After a connection or
# protocol failure (exit 3: the guest died or stalls) later calls fail at
# once instead of each waiting for its time-out.
ctl() {
	[ "$broken" = 1 ] && { echo "agent-ctl $*: skipped, the guest is gone"; return 3; }
	"$CTL_BIN" -s "$D/ctl.sock" -T 60 "$@"
	rc=$?
	[ "$rc" = 3 ] && broken=1
	return $rc
}

attempt() {
broken=0
rm -f "$D"/cpu*.raw "$D/results" "$D/ctl.sock"
rm -rf "$D/meta"
# size FILE
size() { stat -c %s "$1"; }

sizes() { echo "$(size "$D/cpu0.raw") $(size "$D/cpu1.raw")"; }

run_guest "$D/guest.sh" > "$D/guest.log" 2>&1 &
gpid=$!

hello() { ctl hello; }
check "$PFX agent answers hello over agent-ctl-path" hello
if [ "$broken" = 1 ]; then
	# The guest did not come up (nested guests under TCG sometimes die
	# while booting): end it now, so that agent_main can retry.
	echo "agent: no answer from the guest; the end of its console:"
	tail -n 30 "$D/guest.log"
	pkill -KILL -f qemu-system-x86_64
	wait $gpid
	grc=125
	return
fi

ctl info > "$D/info" 2>&1
sed 's/^/info: /' "$D/info"
info_ok() {
	grep -qx 'cpus=2' "$D/info" && grep -qx 'page_size=4096' "$D/info" &&
		grep -qx "release=$GK" "$D/info" && grep -q '^clock=' "$D/info"
}
check "$PFX info: 2 CPUs, page size, kernel release, clock" info_ok

hotplug() {
	# cpu1 came online 2 s after the agent started; the rescan takes it
	i=0
	while [ $i -lt 10 ]; do
		ctl info | grep -qx 'ports=0,1' && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}
check "$PFX cpu1 onlined after the agent started gets trace-path-cpu1" hotplug

clock_tsc() {
	old=$(sed -n 's/^clock=//p' "$D/info")
	ctl clock x86-tsc | grep -qx 'clock=x86-tsc' &&
		ctl info | grep -qx 'clock=x86-tsc' &&
		ctl clock "$old" | grep -qx "clock=$old"
}
check "$PFX clock x86-tsc is set and reported (then set back)" clock_tsc

events() {
	ctl stats > "$D/stats0" &&
	ctl events sched:sched_switch sched:sched_wakeup > "$D/events" &&
		grep -qx 'sched:sched_switch' "$D/events" &&
		! ctl events nosuch:event 2> "$D/events.err" &&
		cat "$D/events.err" &&
		ctl events sched:sched_switch sched:sched_wakeup > /dev/null
}
check "$PFX events chosen from the host; a bad one is refused" events

# tracing from start to stop, then nothing may arrive
ctl start | sed 's/^/start: /'
sleep 4
ctl stop > "$D/stop" 2>&1
s_stop=$(sizes)
sed 's/^/stop: /' "$D/stop"
want() { sed -n "s/^cpu$1 .* bytes=\([0-9]*\) .*/\1/p" "$D/stop"; }
w_stop="$(want 0) $(want 1)"
# The stop answer carries the bytes written per port (PROTOCOL): the
# host has everything once its files hold that many. Through QEMU's
# chardevs they are there at the answer; a host data path may lag a
# little behind the control port.
i=0
while [ "$(sizes)" != "$w_stop" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
s_full=$(sizes)
sleep 3
s_later=$(sizes)
echo "stop answer: agent wrote $w_stop bytes; host files: $s_stop at the" \
     "answer, $s_full after $((i * 100)) ms, $s_later 3 s later"

stop_complete() {
	[ -n "$(want 0)" ] && [ "$(want 0)" -gt 0 ] && [ "$(want 1)" -gt 0 ] &&
		[ "$s_full" = "$w_stop" ]
}
check "$PFX after the stop answer the host has every page the agent sent" \
	stop_complete
check "$PFX no byte reaches the host beyond what was sent before the stop answer" \
	[ "$s_later" = "$w_stop" ]

ctl stats > "$D/stats" 2>&1
sed 's/^/stats: /' "$D/stats"
drained() {
	for c in 0 1; do
		grep -q "^cpu$c entries=0 overrun=0 " "$D/stats" || return 1
	done
}
check "$PFX after stop the guest buffers are empty and nothing overran" drained

meta() {
	ctl meta "$D/meta" || return 1
	for f in events/header_page events/header_event \
	    events/sched/sched_switch/format events/sched/sched_wakeup/format \
	    events/ftrace/print/format printk_formats saved_cmdlines \
	    kallsyms trace_clock; do
		[ -s "$D/meta/$f" ] || { echo "missing $f"; return 1; }
	done
}
check "$PFX metadata fetched into a tracefs-like directory" meta

pages_ok() {
	"$CTL_BIN" check-pages "$D/cpu0.raw" "$D/cpu1.raw" > "$D/pages"
	rc=$?
	cat "$D/pages"
	[ "$rc" = 0 ] && ! grep -q INVALID "$D/pages" && ! grep -q ' 0 events' "$D/pages"
}
check "$PFX host files are sequences of valid ring-buffer pages" pages_ok

decode() {
	cd "$D" || return 1
	trace-cmd restore -c -t "$D/meta" -k "$D/meta/kallsyms" \
		-o "$D/head.dat" > /dev/null || return 1
	trace-cmd restore -i "$D/head.dat" -o "$D/trace.dat" \
		"$D/cpu0.raw" "$D/cpu1.raw" > /dev/null || return 1
	trace-cmd report -i "$D/trace.dat" > "$D/report" 2> "$D/report.err" ||
		{ cat "$D/report.err"; return 1; }
	grep sched_switch "$D/report" | head -n 4
	# per CPU: sched_switch count, time stamps never going back, range
	# bounds: the guest's trace clock (stats now_ts) before the events
	# were chosen, and after the stop
	nts() { sed -n "s/^cpu$1 .*now_ts=\([0-9.]*\).*/\1/p" "$2"; }
	awk -v now0="$(nts 0 "$D/stats")" -v now1="$(nts 1 "$D/stats")" \
	    -v from0="$(nts 0 "$D/stats0")" -v from1="$(nts 1 "$D/stats0")" '
	{
		for (i = 1; i < NF; i++)
			if ($i ~ /^\[[0-9]+\]$/) break
		if (i >= NF) next
		cpu = substr($i, 2, length($i) - 2) + 0
		ts = $(i + 1); sub(/:$/, "", ts); ts += 0
		n[cpu]++
		if ($0 ~ / sched_switch: /) sw[cpu]++
		if (cpu in last && ts < last[cpu]) back[cpu]++
		if (!(cpu in first)) first[cpu] = ts
		last[cpu] = ts
	}
	END {
		bad = 0
		now[0] = now0; now[1] = now1
		from[0] = from0; from[1] = from1
		for (c = 0; c < 2; c++) {
			printf "cpu%d: %d events, %d sched_switch, ts %.6f..%.6f, " \
			    "guest clock %.6f..%.6f, %d going back\n", c, n[c],
			    sw[c], first[c], last[c], from[c], now[c], back[c]
			if (sw[c] < 1 || back[c] > 0) bad = 1
			if (first[c] < from[c] || last[c] > now[c]) bad = 1
		}
		exit bad
	}' "$D/report"
}
check "$PFX stock trace-cmd decodes sched_switch on both CPUs, sane time stamps" \
	decode

events_all() {
	# every event in the pages is decoded by trace-cmd
	inpages=$(awk '{for (i = 1; i < NF; i++) if ($i == "events,") s += $(i-1)} END {print s}' "$D/pages")
	decoded=$(grep -c '\[00[01]\]' "$D/report")
	echo "events in the pages: $inpages, decoded by trace-cmd: $decoded"
	[ "$inpages" = "$decoded" ]
}
check "$PFX trace-cmd decodes every event in the pages" events_all

legacy() {
	a=$(sizes)
	ctl legacy 1 || return 1
	sleep 3
	ctl legacy 0 || return 1
	b=$(sizes)
	sleep 2
	c=$(sizes)
	echo "legacy: sizes before $a, at the '0' echo $b, 2 s later $c"
	set -- $a $b
	[ "$3" -gt "$1" ] && [ "$4" -gt "$2" ] && [ "$b" = "$c" ]
}
check "$PFX upstream 2-byte orders alone: 1 starts, 0 stops (echoed)" legacy

s_quit=$(sizes)
ctl quit | sed 's/^/quit: /'
wait $gpid
grc=$?
sed 's/^/  /' "$D/guest.log" | grep -v '^  $'
check "$PFX guest run completed" [ "$grc" = 0 ]

sigterm() {
	s=$(sizes)
	echo "host file sizes before the SIGTERM run: $s_quit, after: $s"
	grep -q 'guest: sigterm exit status 0' "$D/guest.log" &&
		grep -q 'guest: sigterm: trace-agent: exit: [1-9][0-9]* pages sent, 0 dropped' "$D/guest.log" &&
		grep -q 'guest: sigterm: trace-agent: tracefs /sys/kernel/debug/tracing,' "$D/guest.log" &&
		[ "$s" != "$s_quit" ]
}
check "$PFX SIGTERM while tracing (tracefs at debug/tracing): pages flushed, exit 0" \
	sigterm

# The trace queues negotiate indirect descriptors (bit 28: a buffer of
# many pages takes one ring slot) and EVENT_IDX (bit 29: notifications
# and used-buffer interrupts only where the other side asks for them).
ring_features() {
	f=$(sed -n 's/.*guest: trace port device features \([01]*\).*/\1/p' "$D/guest.log")
	echo "trace port device features: $f"
	[ "$(echo "$f" | cut -c29-30)" = 11 ]
}
check "$PFX trace queues have INDIRECT_DESC and EVENT_IDX" ring_features

# Several pages per port write (one virtqueue buffer each), and never a
# write that took less than the pipe held (the only way virtio_console
# puts empty scatterlist entries into a buffer), in every agent run.
batches() {
	grep 'trace-agent: cpu[0-9]*: [0-9]* pages sent in' "$D/guest.log" | tee "$D/batches"
	awk '{ for (i = 1; i <= NF; i++) {
		if ($i == "sent" && $(i + 1) == "in") { p = $(i - 2); w = $(i + 2) }
		if ($i == "short") s = $(i - 1) }
	  tp += p; tw += w; if (s != 0) bad = 1; n++ }
	END { printf "%d pages in %d port writes, %.2f pages per write\n", tp, tw,
		tw ? tp / tw : 0; exit bad || n < 2 || tp <= tw }' "$D/batches"
}
check "$PFX several pages per port write, no short write (no empty sg entry)" batches

# A spinning loop makes 10^5+ wakeups in 5 s; the agent's timers make
# a few dozen. (CPU ticks are shown, not judged: in a nested guest under
# a TCG host every wakeup is slow.)
idle_ok() {
	w=$(sed -n "s/.*guest: $1 idle: \([0-9]*\) wakeups.*/\1/p" "$D/guest.log")
	[ -n "$w" ] && [ "$w" -le 100 ]
}
noport() {
	grep -q 'noport: trace-agent: cpu0: no port nosuch-cpu0' "$D/guest.log" &&
		grep -q 'noport: trace-agent: no control port nosuch-ctl' "$D/guest.log" &&
		idle_ok noport
}
check "$PFX missing ports are reported, and waiting for them does not spin" \
	noport
check "$PFX idle with the control host disconnected does not spin" \
	idle_ok disconnected

}

agent_main() {
agent_prepare
n=1
while :; do
	attempt
	if [ "$grc" = 125 ] || [ "$grc" = 124 ]; then
		if [ $n -lt 2 ]; then
			echo "agent: the nested guest died without a status" \
			     "(status $grc); dropping this attempt, retrying once"
			n=$((n + 1))
			continue
		fi
	fi
	break
done
cat "$D/results"
grep -q '^check: not ok' "$D/results" && FAILED=1
}
