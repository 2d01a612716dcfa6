#!/bin/bash
# In the host VM: vhost-traced launches a nested guest that runs the real
# trace agent (guest/, protocol version 1). The daemon says hello 1,
# chooses the events asked with `vhost-trace record -e`, starts; at stop
# it takes the per-CPU bytes from the agent's stop answer, fetches the
# metadata into DIR/meta/ and writes DIR/trace.dat (libtracedat, v7).
# Stock trace-cmd must decode it: events from both CPUs, as many as
# agent-ctl check-pages counts in DIR/cpu*.raw.
. "$(dirname "$0")/lib.sh"

W=/tmp/vtdat
SOCK=$W/traced.sock
OUT=$W/out
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W

for f in "$TRACED" "$VT" "$AGENT" "$CTL_BIN"; do
	[ -x "$f" ] || { echo "no $f"; exit 1; }
done

check "$REL: module loads" load_module

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
	# the events the guest lost, per CPU, from the agent's stats
	[ "$rc" = 0 ] && [ "$rrc" = 0 ] && grep -q " stopped " $W/stop.out &&
		grep -q "agent=stopped" $OUT/stats &&
		grep -qE "^session .* lost_events=[0-9]+ " $OUT/stats &&
		grep -qE "^cpu0 .* lost_events=[0-9]+" $OUT/stats &&
		grep -qE "^cpu1 .* lost_events=[0-9]+" $OUT/stats
}
check "$REL: vhost-trace stop: the agent confirms with per-CPU bytes" stop_session

meta_fetched() {
	find $OUT/meta -type f | sort | head -n 20
	[ -s $OUT/meta/events/header_page ] &&
		[ -s $OUT/meta/events/sched/sched_switch/format ]
}
check "$REL: DIR/meta holds the guest's tracefs metadata" meta_fetched

report() {
	tracedat_ok $OUT "0 1" || return 1
	# pages flagged with lost events before them iff the agent said
	# the guest lost events
	local flagged lost
	flagged=$(awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "with") s += $i} END {print s + 0}' $W/pages)
	lost=$(sed -n 's/^session .* lost_events=\([0-9]*\) .*/\1/p' $OUT/stats)
	echo "pages flagged with lost events: $flagged; lost_events: $lost"
	{ [ "$flagged" = 0 ] && [ "$lost" = 0 ]; } ||
		{ [ "$flagged" != 0 ] && [ "$lost" != 0 ]; }
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
