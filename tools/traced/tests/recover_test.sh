#!/bin/bash
# Unit test (TAP): vhost-traced's recovery decisions at start-up, without
# /dev/vhost-trace (the device is /dev/null here) and without QEMU: state
# files left by a "dead daemon" for sessions whose QEMU is gone, whose pid
# is another process now, whose fd is not the device, or that the device
# refuses; untrusted and ended ones; ids after the highest. A session
# whose QEMU is gone ends from what is in DIR: the files untouched,
# DIR/stats from their sizes, DIR/trace.dat from DIR/meta (stock
# trace-cmd reads it). The real take-over (pidfd_getfd of QEMU's device
# fd, a running agent adopted) is selftests/vm/traced_restart.sh.
# Needs root (state files are root's); skipped otherwise.
PLAN=14
TITLE="vhost-traced recovery after a restart"
. "$(dirname "$0")/daemon_env.sh"
. "$here/../../tracedat/tests/meta.sh"

. "$here/statefile.sh"

start_time() { awk '{print $22}' /proc/$1/stat; }

# a pid that is gone
true &
dead=$!
wait $dead

# s3: QEMU gone while no daemon ran; DIR has the pages and DIR/meta
D3=$W/out3
mkdir -p $D3
mkmeta $D3/meta 2
"$MK" -o $D3/cpu0.raw -c 0 -n 300 -e $W/exp0 > /dev/null
"$MK" -o $D3/cpu1.raw -c 1 -n 200 -t 1000000500 -e $W/exp1 > /dev/null
cp $D3/cpu0.raw $W/keep0
cp $D3/cpu1.raw $W/keep1
state 3 ga running $dead 1 5 $D3 1

# s5: the pid lives, but is another process (another start time)
sleep 300 &
pids+=($!)
state 5 reused running $! $(( $(start_time $!) + 1 )) 5 $W/out5 0

# s6: the right process, but its fd 7 is not the device
sleep 300 7< /dev/zero &
pids+=($!)
state 6 notdev running $! "$(start_time $!)" 7 $W/out6 0

# s7: its fd 7 is the "device" (/dev/null), which refuses GET_CTL_FD
sleep 300 7< /dev/null &
pids+=($!)
state 7 refused running $! "$(start_time $!)" 7 $W/out7 0

# s4: a state file that is not root's: not believed
state 4 forged running $dead 1 5 $W/out4 0
chown nobody "$R/s4/state"

# s8: ended before the restart: forgotten
state 8 old ended $dead 1 5 $W/out8 0

# s9: stopped before (DIR/stats written at its stop), QEMU gone since
mkdir -p $W/out9
echo "stats of the stop" > $W/out9/stats
state 9 stopped stopped $dead 1 5 $W/out9 0

# s12: no state file (an older daemon's): left alone, its id kept
mkdir -p $R/s12

"$TRACED" -s $S -r $R -d /dev/null > $W/log 2>&1 &
pid=$!
pids+=($pid)
for i in $(seq 50); do [ -S $S ] && "$VT" -s $S list > /dev/null 2>&1 && break; sleep 0.1; done
sleep 1.5	# the session threads end the sessions whose QEMU is gone
"$VT" -s $S list > $W/list 2>&1
sed 's/^/# /' $W/log $W/list

grep -q "recovery: 0 session(s) recovered, 5 ended, 1 forgotten (ended before), 2 left alone; new ids from 13" $W/log
ok $? "each state file decided: 5 ended, 1 forgotten, 2 left alone; new ids from 13"

awk '$2 == "ga" && $3 == "ended" {f = 1} END {exit !f}' $W/list
ok $? "QEMU gone: listed as ended"

cmp -s $D3/cpu0.raw $W/keep0 && cmp -s $D3/cpu1.raw $W/keep1
ok $? "its page files are untouched"

s0=$(stat -c %s $D3/cpu0.raw)
s1=$(stat -c %s $D3/cpu1.raw)
grep -q "state=ended" $D3/stats && grep -q "recovered=1" $D3/stats &&
	grep -q "^cpu0 bytes=$s0\$" $D3/stats && grep -q "^cpu1 bytes=$s1\$" $D3/stats
ok $? "DIR/stats: ended, bytes from the file sizes ($s0, $s1)"

if command -v trace-cmd > /dev/null; then
	want=$(cat $W/exp0 $W/exp1 | wc -l)
	got=$(trace-cmd report -i $D3/trace.dat 2> $W/report.err | grep -c vtest_event)
	echo "# trace-cmd report: $got of $want events"
	[ "$got" = "$want" ]
	ok $? "DIR/trace.dat from DIR/meta: stock trace-cmd decodes every event"
else
	echo "ok $((n += 1)) # SKIP no trace-cmd"
fi

grep -q "recover s5 (reused): QEMU is gone (pid [0-9]* is another process now" $W/log &&
	grep -q " reused .*ended" $W/list
ok $? "a pid that is another process now: ended, not taken over"

grep -q "recover s6 (notdev): QEMU runs but cannot be taken over (its fd 7 is not /dev/null any more" $W/log
ok $? "an fd that is not the device: not taken over"

grep -q "recover s7 (refused): QEMU runs but cannot be taken over (VHOST_TRACE_GET_CTL_FD: Inappropriate ioctl" $W/log
ok $? "pidfd_getfd took the device fd; the device refusing a control fd: not taken over"

grep -q "recover s4: ignored: .* is not a plain file of root's" $W/log &&
	[ -f $R/s4/state ] && ! grep -q forged $W/list
ok $? "a state file that is not root's is not believed (and left in place)"

[ ! -e $R/s8 ] && grep -q "recover s8 (old): ended before the restart" $W/log
ok $? "a session that had ended before: forgotten, its run dir removed"

[ "$(cat $W/out9/stats)" = "stats of the stop" ] && grep -q " stopped .*ended" $W/list
ok $? "stopped before, QEMU gone since: ended, DIR/stats of its stop kept"

[ -d $R/s12 ] && grep -q "recover s12: no state file" $W/log
ok $? "a run dir without a state file is left alone"

"$VT" -s $S stop ga > /dev/null 2>&1 && sleep 0.5 && [ ! -e $R/s3 ] &&
	! "$VT" -s $S list | grep -q " ga "
ok $? "stop of the ended session removes it, its state file and run dir"

kill -TERM $pid
wait $pid
rc=$?
[ $rc = 0 ] && [ ! -e $R/s5/state ]
ok $? "SIGTERM: exit 0, the state files of the sessions removed"

tap_done
