#!/bin/bash
# In the host VM: vhost-traced launches a nested guest that runs the real
# trace agent (guest/, protocol version 1). The daemon says hello 1,
# chooses the events asked with `vhost-trace record -e`, starts; at stop
# it takes the per-CPU bytes from the agent's stop answer, fetches the
# metadata into DIR/meta/ and writes DIR/trace.dat (libtracedat, v7).
# Stock trace-cmd must decode it: events from both CPUs, as many as
# agent-ctl check-pages counts in DIR/cpu*.raw.
. "$(dirname "$0")/lib.sh"

TRACED=$BUILD/tools/vhost-traced
VT=$BUILD/tools/vhost-trace
AGENT=$BUILD/guest/trace-agent
CTL_BIN=$BUILD/tools/agent-ctl/agent-ctl
W=/tmp/vtdat
SOCK=$W/traced.sock
OUT=$W/out
export VHOST_TRACED_SOCKET=$SOCK
rm -rf $W
mkdir -p $W

for f in "$TRACED" "$VT" "$AGENT" "$CTL_BIN"; do
	[ -x "$f" ] || { echo "no $f"; exit 1; }
done

check "$REL: module loads" load_module

start_daemon() {
	"$TRACED" -s $SOCK > $W/traced.log 2>&1 &
	DAEMON=$!
	local t
	for t in $(seq 50); do
		[ -S $SOCK ] && "$VT" list > /dev/null 2>&1 && return 0
		sleep 0.2
	done
	cat $W/traced.log
	return 1
}
check "$REL: vhost-traced starts" start_daemon


# agent column of `vhost-trace list` for session tg
agent_state() { "$VT" list 2>/dev/null | awk '$2 == "tg" {print $9}'; }

record() {
	"$VT" record --launch -o $OUT -n 2 -N tg -q -e sched:sched_switch -- \
		"$TOP/tools/guestrun" -t 300 -f "$AGENT:/bin/trace-agent" \
		"$(dirname "$0")/guest_traced.sh" > $W/record.log 2>&1 &
	RECORD=$!
	local t a
	for t in $(seq 400); do
		a=$(agent_state)
		[ "$a" = running ] && break
		case $a in error|gone|silent) break ;; esac
		kill -0 $RECORD 2>/dev/null || break
		sleep 0.5
	done
	"$VT" list
	[ "$a" = running ] || { cat $W/traced.log $W/record.log $OUT/qemu.log; return 1; }
	sleep 4
	"$VT" status tg
}
check "$REL: record -e sched:sched_switch: the agent speaks version 1 and runs" record

stop_session() {
	"$VT" stop tg > $W/stop.out 2>&1
	local rc=$?
	cat $W/stop.out
	wait $RECORD
	local rrc=$?
	echo "record exited $rrc"
	cat $W/traced.log
	ls -l $OUT
	[ "$rc" = 0 ] && [ "$rrc" = 0 ] && grep -q " stopped " $W/stop.out &&
		grep -q "agent=stopped" $OUT/stats
}
check "$REL: vhost-trace stop: the agent confirms with per-CPU bytes" stop_session

meta_fetched() {
	find $OUT/meta -type f | sort | head -n 20
	[ -s $OUT/meta/events/header_page ] &&
		[ -s $OUT/meta/events/sched/sched_switch/format ]
}
check "$REL: DIR/meta holds the guest's tracefs metadata" meta_fetched

report() {
	[ -s $OUT/trace.dat ] || { echo "no $OUT/trace.dat"; return 1; }
	"$CTL_BIN" check-pages $OUT/cpu0.raw $OUT/cpu1.raw | tee $W/pages || return 1
	trace-cmd report -i $OUT/trace.dat > $W/report 2> $W/report.err ||
		{ cat $W/report.err; return 1; }
	head -n 12 $W/report
	local want c0 c1 n other
	want=$(awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "events,") s += $i} END {print s + 0}' $W/pages)
	c0=$(grep -cE '\[000\] +[0-9]+\.[0-9]+:' $W/report)
	c1=$(grep -cE '\[001\] +[0-9]+\.[0-9]+:' $W/report)
	n=$(grep -cE '\[[0-9]{3}\] +[0-9]+\.[0-9]+:' $W/report)
	other=$(grep -E '\[[0-9]{3}\] +[0-9]+\.[0-9]+:' $W/report | grep -vc 'sched_switch:')
	echo "check-pages: $want events; trace-cmd report: $n events" \
	     "(cpu0 $c0, cpu1 $c1, not sched_switch $other)"
	trace-cmd report -i $OUT/trace.dat --cpu 0 > /dev/null 2>&1 || true
	[ "$c0" -gt 0 ] && [ "$c1" -gt 0 ] && [ "$n" = "$want" ] &&
		[ "$other" = 0 ]
}
check "$REL: stock trace-cmd reads DIR/trace.dat: sched_switch on both CPUs, every event" report

version7() {
	head -c 16 $OUT/trace.dat | od -c | head -n 2
	trace-cmd dump --summary -i $OUT/trace.dat 2>&1 | head -n 8
	[ "$(head -c 10 $OUT/trace.dat | tail -c 7)" = "tracing" ] &&
		[ "$(dd if=$OUT/trace.dat bs=1 skip=10 count=1 2>/dev/null)" = 7 ]
}
check "$REL: DIR/trace.dat is version 7" version7

finish() {
	local t
	for t in $(seq 120); do
		"$VT" list 2>/dev/null | awk '$2 == "tg" {print $3}' | grep -q ended && break
		sleep 0.5
	done
	"$VT" list
	tail -n 3 $OUT/qemu.log
	kill -TERM $DAEMON
	wait $DAEMON
	local rc=$?
	echo "daemon exit status $rc"
	sleep 1
	rmmod vhost_trace && [ ! -e /dev/vhost-trace ] && [ "$rc" = 0 ]
}
check "$REL: QEMU ends, daemon exits, module unloads" finish

exit $FAILED
