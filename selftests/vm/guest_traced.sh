# A nested guest's /run.sh (tools/guestrun) for daemon tests and the demo:
# the trace agent, and a workload pinned to each vCPU. The host starts,
# then stops tracing (tracing_on 1, then 0) and fetches the metadata;
# SETTLE seconds after the stop (default 20) the guest ends, and QEMU
# with it. guestrun -f puts the agent at /bin/trace-agent.
# shellcheck shell=sh
/bin/trace-agent 2> /tmp/agent.log &
apid=$!
for c in 0 1; do
	taskset -c $c sh -c 'while :; do ls -R /sys/class > /dev/null; usleep 20000; done' &
done
T=/sys/kernel/tracing/tracing_on
seen=0
while :; do
	on=$(cat $T)
	[ "$on" = 1 ] && seen=1
	[ "$seen" = 1 ] && [ "$on" = 0 ] && break
	sleep 1
done
sleep "${SETTLE:-20}"
kill -TERM $apid
wait $apid
echo "guest: done"
