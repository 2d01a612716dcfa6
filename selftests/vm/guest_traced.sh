# A nested guest's /run.sh (tools/dev/guestrun) for daemon tests and the demo:
# the trace agent, and a workload pinned to each vCPU. The host sets the
# trace clock, starts, then stops tracing (tracing_on 1, then 0) and
# fetches the metadata;
# SETTLE seconds after the stop (default 20) the guest ends, and QEMU
# with it (with ENDS=0 it never ends by itself). The workload on each
# CPU sleeps PAUSE_US (default 20000) between rounds. guestrun -f puts the agent at /bin/trace-agent.
# shellcheck shell=sh
/bin/trace-agent 2> /tmp/agent.log &
apid=$!
n=$(grep -c ^processor /proc/cpuinfo)
c=0
while [ $c -lt "$n" ]; do
	taskset -c $c sh -c "while :; do ls -R /sys/class > /dev/null; usleep ${PAUSE_US:-20000}; done" &
	c=$((c + 1))
done
# ENDS=0: run until QEMU is ended from outside
[ "${ENDS:-1}" = 0 ] && while :; do sleep 60; done
# tracing_on is 1 at boot too, and reads 0 for a moment while the daemon
# sets the trace clock (the kernel resets the buffers): a start counts on
# the clock asked for (CLOCK, default x86-tsc: vhost-trace record's), a
# stop only when it lasts
D=/sys/kernel/tracing
seen=0
zeros=0
while :; do
	on=$(cat $D/tracing_on)
	grep -q "\[${CLOCK:-x86-tsc}\]" $D/trace_clock && [ "$on" = 1 ] && seen=1
	if [ "$seen" = 1 ] && [ "$on" = 0 ]; then
		zeros=$((zeros + 1))
		[ $zeros -ge 2 ] && break
	else
		zeros=0
	fi
	sleep 0.5
done
sleep "${SETTLE:-20}"
kill -TERM $apid
wait $apid
echo "guest: done"
