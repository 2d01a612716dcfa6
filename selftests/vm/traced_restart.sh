#!/bin/bash
# In the host VM: vhost-traced survives its own SIGKILL, and traces two
# guests at once.
#
# One daemon launches two nested guests (ga: 2 vCPUs, gb: 1 vCPU, each
# with the real agent, sched_switch, a steady workload on every CPU),
# each into its own DIR. The daemon is SIGKILLed mid-session: the guests
# keep running and pages keep arriving in DIR/cpuN.raw while no daemon
# runs (the module keeps the sinks; the dead daemon's control fd closing
# detaches nothing). A new daemon takes both sessions over (running,
# recovered, agent adopted without a new start, counters continued) and
# gives the next launch the next id. `vhost-trace stop ga` then works as
# if nothing happened: the agent's per-CPU bytes equal the module's and
# the files', every page is valid (agent-ctl check-pages), and stock
# trace-cmd decodes DIR/trace.dat. Then the daemon is killed again and
# gb's QEMU exits meanwhile: the next daemon ends gb cleanly (files kept,
# DIR/stats, DIR/trace.dat from the metadata fetched at start).
. "$(dirname "$0")/lib.sh"

W=/tmp/vtrs
SOCK=$W/traced.sock
A=$W/ga
B=$W/gb
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W

for f in "$TRACED" "$VT" "$AGENT" "$CTL_BIN"; do
	[ -x "$f" ] || { echo "no $f"; exit 1; }
done

check "$REL: module loads" load_module

# Two nested KVM guests at once: see kvm_shadow_paging (lib.sh).
check "$REL: kvm_amd with shadow paging (npt=0) for two nested guests" kvm_shadow_paging

check "$REL: vhost-traced starts" start_daemon


# The guest: the agent and a steady workload on every CPU
# (guest_traced.sh). ga ends 5 s after the host stopped tracing; gb runs
# until its QEMU is ended.
GUEST_SH=$TOP/selftests/vm/guest_traced.sh

# field N of session NAME in `vhost-trace list` (3 state, 4 pid, 9 agent)
field() { "$VT" list 2>/dev/null | awk -v n="$1" -v f="$2" '$2 == n {print $f}'; }

# wait_agent NAME STATE SECONDS
wait_agent() {
	local t a
	for t in $(seq $(($3 * 2))); do
		a=$(field "$1" 9)
		[ "$a" = "$2" ] && return 0
		case $a in error|gone|silent) break ;; esac
		sleep 0.5
	done
	echo "$1: agent $a, not $2"
	return 1
}

# size of FILE, 0 if none
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# One guest boots after the other: two nested boots at once on the TCG
# host VM's 2 CPUs make guest boots fail now and then.
launch_two() {
	"$VT" record --launch -d -o $A -n 2 -N ga -e sched:sched_switch -- \
		"$TOP/tools/dev/guestrun" -t 400 -m 448 -e ENDS=1 -e SETTLE=5 \
		-f "$AGENT:/bin/trace-agent" $GUEST_SH > $W/record_a.log 2>&1 ||
		{ cat $W/record_a.log; return 1; }
	cat $W/record_a.log
	wait_agent ga running 240 &&
	"$VT" record --launch -d -o $B -n 1 -N gb -e sched:sched_switch -- \
		"$TOP/tools/dev/guestrun" -t 400 -c 1 -m 384 -e ENDS=0 \
		-f "$AGENT:/bin/trace-agent" $GUEST_SH > $W/record_b.log 2>&1 &&
	cat $W/record_b.log && wait_agent gb running 240 || {
		"$VT" list; cat $W/traced.log; tail -n 20 $A/qemu.log $B/qemu.log
		return 1
	}
	# the metadata is fetched right after the start: let it finish
	local t
	for t in $(seq 120); do
		[ "$(grep -c ': metadata: ' $W/traced.log)" = 2 ] && break
		sleep 0.5
	done
	grep ': metadata: ' $W/traced.log
	# until each session's files have pages (30 s at most)
	for t in $(seq 60); do
		[ "$(size $A/cpu0.raw)" -gt 0 ] && [ "$(size $A/cpu1.raw)" -gt 0 ] &&
			[ "$(size $B/cpu0.raw)" -gt 0 ] && break
		sleep 0.5
	done
	"$VT" list
	GA_PID=$(field ga 4)
	GB_PID=$(field gb 4)
	[ -n "$GA_PID" ] && [ -n "$GB_PID" ]
}
check "$REL: one daemon, two guests launched, both agents running" launch_two

# module bytes of session NAME (sum of its cpuN lines in `status`)
module_bytes() { "$VT" status "$1" | awk '$1 ~ /^cpu/ {s += $2} END {print s + 0}'; }
# ports of session NAME whose SINK column says yes
sinks_attached() { "$VT" status "$1" | awk '$1 ~ /^cpu/ && $8 == "yes"' | wc -l; }

two_sessions() {
	"$VT" status ga
	"$VT" status gb
	local ba bb
	ba=$(module_bytes ga)
	bb=$(module_bytes gb)
	echo "ga: $ba bytes, files $(size $A/cpu0.raw) + $(size $A/cpu1.raw)" \
	     "in $A; gb: $bb bytes, file $(size $B/cpu0.raw) in $B"
	[ "$(size $A/cpu0.raw)" -gt 0 ] && [ "$(size $A/cpu1.raw)" -gt 0 ] &&
		[ "$(size $B/cpu0.raw)" -gt 0 ] && [ ! -e $B/cpu1.raw ] &&
		[ "$ba" -gt 0 ] && [ "$bb" -gt 0 ] && [ "$ba" != "$bb" ] &&
		! cmp -s $A/cpu0.raw $B/cpu0.raw &&
		"$VT" status ga | grep -q "^  cpu1 " &&
		! "$VT" status gb | grep -q "^  cpu1 "
}
check "$REL: two sessions, their own DIR, files and statistics" two_sessions

files() { echo "$(size $A/cpu0.raw) $(size $A/cpu1.raw) $(size $B/cpu0.raw)"; }

kill_daemon() {
	local t
	echo "SIGKILL to vhost-traced (pid $DAEMON)"
	kill -KILL "$DAEMON" || return 1
	wait "$DAEMON" 2>/dev/null
	echo "== daemon SIGKILLed" >> $W/traced.log
	for t in $(seq 50); do
		[ -e /proc/$DAEMON ] || return 0
		sleep 0.2
	done
	echo "pid $DAEMON still there: $(cat /proc/$DAEMON/status 2>&1 | head -n 3)"
	return 1
}

# (until every file grew, 30 s at most)
survive() {
	kill_daemon || return 1
	local s0 s1 a b t
	s0=$(files)
	for t in $(seq 60); do
		sleep 0.5
		s1=$(files)
		set -- $s0 $s1
		[ "$4" -gt "$1" ] && [ "$5" -gt "$2" ] && [ "$6" -gt "$3" ] && break
	done
	echo "file sizes at the kill: $s0; $((t / 2)) s later, no daemon: $s1"
	kill -0 "$GA_PID" && kill -0 "$GB_PID" || { echo "a QEMU is gone"; return 1; }
	set -- $s0 $s1
	[ "$4" -gt "$1" ] && [ "$5" -gt "$2" ] && [ "$6" -gt "$3" ]
}
check "$REL: SIGKILL of the daemon: the guests run, pages keep arriving in every DIR/cpuN.raw" survive

SIZES_DEAD=$(files)
# (the recovery's log lines: 20 s at most)
restart() {
	local t
	start_daemon || return 1
	for t in $(seq 40); do
		[ "$(last_log | grep -c "recover s[12] (g[ab]): QEMU pid .* runs: recovered, running")" = 2 ] &&
			[ "$(field ga 3)" = running ] && [ "$(field gb 3)" = running ] &&
			break
		sleep 0.5
	done
	last_log
	"$VT" list
	grep -q "recover s1 (ga): QEMU pid $GA_PID runs: recovered, running" $W/traced.log &&
		grep -q "recover s2 (gb): QEMU pid $GB_PID runs: recovered, running" $W/traced.log &&
		[ "$(field ga 3)" = running ] && [ "$(field gb 3)" = running ] &&
		"$VT" status ga | grep -q "taken over after a daemon restart"
}
check "$REL: a new daemon takes both sessions over (list: running)" restart

adopted() {
	wait_agent ga running 30 && wait_agent gb running 30 || return 1
	last_log | grep agent
	[ "$(last_log | grep -c 'the agent runs: adopted (no events, no start sent)')" = 2 ]
}
check "$REL: the agents reconnected and adopted, no start sent again" adopted

# The module kept the sinks attached (SINK yes on every port) and its
# counters: they are at least what the files held while no daemon ran.
continued() {
	"$VT" status ga
	"$VT" status gb
	local sa sb
	sa=$(module_bytes ga)
	sb=$(module_bytes gb)
	set -- $SIZES_DEAD
	echo "module counters: ga $sa, gb $sb; files while dead: $(($1 + $2)), $3"
	[ "$sa" -ge $(($1 + $2)) ] && [ "$sb" -ge "$3" ] &&
		[ "$(sinks_attached ga)" = 2 ] && [ "$(sinks_attached gb)" = 1 ]
}
check "$REL: sinks still attached, counters continued" continued

next_id() {
	"$VT" record --launch -d -A -o $W/dummy -n 1 -N dummy -- \
		/bin/sh -c 'sleep 20' sh > $W/dummy.out 2>&1
	cat $W/dummy.out
	"$VT" stop dummy > /dev/null
	grep -q "session 3 (dummy) started" $W/dummy.out
}
check "$REL: new session ids continue after the recovered ones (3)" next_id

stop_ga() {
	"$VT" stop ga > $W/stop.out 2>&1
	local rc=$?
	cat $W/stop.out
	cat $A/stats
	[ "$rc" = 0 ] && grep -q "state=stopped" $A/stats &&
		grep -q "agent=stopped" $A/stats &&
		grep -qE "^session .* lost_events=[0-9]+ " $A/stats &&
		grep -qE "^cpu0 .* lost_events=[0-9]+" $A/stats &&
		grep -qE "^cpu1 .* lost_events=[0-9]+" $A/stats || return 1
	# cpuN bytes= (module) agent_bytes= (the agent's stop answer) = file
	local p b ab f
	for p in 0 1; do
		b=$(sed -n "s/^cpu$p bytes=\([0-9]*\) .*/\1/p" $A/stats)
		ab=$(sed -n "s/^cpu$p .* agent_bytes=\([0-9]*\).*/\1/p" $A/stats)
		f=$(size $A/cpu$p.raw)
		echo "cpu$p: agent $ab, module $b, file $f"
		[ -n "$ab" ] && [ "$ab" = "$b" ] && [ "$b" = "$f" ] || return 1
	done
}
check "$REL: stop after the restart: the agent's bytes = the module's = the files'; lost events per CPU" stop_ga

pages_ga() {
	"$CTL_BIN" check-pages $A/cpu0.raw $A/cpu1.raw | tee $W/pages_a
}
check "$REL: every page that reached ga's sinks is valid (check-pages)" pages_ga

check "$REL: ga's trace.dat: version 7 from DIR/meta, stock trace-cmd, both CPUs, every event" tracedat_ok $A "0 1"

# gb: the daemon is killed again, gb's QEMU exits meanwhile (SIGTERM to
# the `timeout` that guestrun runs it under), a new daemon ends gb.
qemu_exits() {
	kill_daemon || return 1
	local p t
	for p in /proc/[0-9]*; do
		[ "$(awk '{print $4}' $p/stat 2>/dev/null)" = "$GB_PID" ] &&
			[ "$(cat $p/comm 2>/dev/null)" = timeout ] || continue
		echo "SIGTERM to gb's timeout ${p#/proc/} (QEMU's parent)"
		kill -TERM "${p#/proc/}"
	done
	for t in $(seq 60); do
		kill -0 "$GB_PID" 2>/dev/null || break
		sleep 0.5
	done
	tail -n 3 $B/qemu.log
	GB_SIZE=$(size $B/cpu0.raw)
	! kill -0 "$GB_PID" 2>/dev/null
}
check "$REL: daemon killed again, gb's QEMU exits while no daemon runs" qemu_exits

ended() {
	local t
	start_daemon || return 1
	for t in $(seq 40); do
		last_log | grep -q "recover s2 (gb): .*the session ends from what is in $B" &&
			[ "$(field gb 3)" = ended ] && grep -q "state=ended" $B/stats 2>/dev/null &&
			break
		sleep 0.5
	done
	last_log
	"$VT" list
	cat $B/stats
	grep -q "recover s2 (gb): .*the session ends from what is in $B" $W/traced.log &&
		[ "$(field gb 3)" = ended ] && grep -q "state=ended" $B/stats &&
		grep -q "^cpu0 bytes=$GB_SIZE\$" $B/stats &&
		[ "$(size $B/cpu0.raw)" = "$GB_SIZE" ]
}
check "$REL: a new daemon ends gb cleanly: files kept, DIR/stats" ended

gb_tracedat() {
	tracedat_ok $B 0
}
check "$REL: gb's pages valid, its trace.dat (metadata of the start) decodes" gb_tracedat

finish() {
	local t
	"$VT" stop gb > /dev/null
	for t in $(seq 120); do
		kill -0 "$GA_PID" 2>/dev/null || kill -0 "$GB_PID" 2>/dev/null ||
			break
		sleep 0.5
	done
	"$VT" list
	kill -TERM $DAEMON
	wait $DAEMON
	local rc=$?
	echo "daemon exit status $rc"
	ls $W
	sleep 1
	rmmod vhost_trace && [ ! -e /dev/vhost-trace ] && [ "$rc" = 0 ] &&
		[ -z "$(ls -d $W/s[0-9]* 2>/dev/null)" ]
}
check "$REL: QEMUs end, daemon exits, no state left, module unloads" finish


echo "traced_restart: ${SECONDS} s"

exit $FAILED
