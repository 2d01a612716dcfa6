# A nested guest's /run.sh (tools/dev/guestrun) for the attach-mode tests
# (traced_attach.sh with our QEMU's vhost-trace-pci, traced_vdpa.sh with
# the stock QEMU's vhost-vdpa-device-pci): the trace agent runs from boot
# and waits for its ports, which come with the hot-plugged device, while
# a workload runs on both CPUs. The guest says when the device comes and
# goes (two rounds: attach, detach, attach again, detach), runs on
# SETTLE seconds (default 8) after that and ends itself.
# A line every 10 s says that the guest lives and what the agent's
# threads wait for (a wedged guest says nothing at all); blocked tasks
# are reported after 20 s. guestrun -f puts the agent at /bin/trace-agent.
# shellcheck shell=sh
/bin/trace-agent 2> /tmp/agent.log &
apid=$!
echo 20 > /proc/sys/kernel/hung_task_timeout_secs
while :; do
	sleep 10
	w=""
	for t in /proc/$apid/task/*; do w="$w $(cat $t/wchan 2>/dev/null)"; done
	echo "guest: alive $(cut -d' ' -f1 /proc/uptime), agent waits in$w"
done &
beat=$!
for c in 0 1; do
	taskset -c $c sh -c 'while :; do ls -R /sys/class > /dev/null; usleep 20000; done' &
done
port() { grep -qx trace-path-cpu0 /sys/class/virtio-ports/*/name 2>/dev/null; }
echo "guest: ready, agent waiting for its ports"
for round in 1 2; do
	until port; do sleep 0.5; done
	echo "guest: the device is here ($round)"
	while port; do sleep 0.5; done
	echo "guest: the device is gone ($round), the guest runs on"
done
sleep "${SETTLE:-8}"
echo "guest: still running $(cat /proc/uptime)"
kill -TERM $apid
wait $apid
echo "guest: agent exited $?"
kill $beat
grep -E "port|exit" /tmp/agent.log | head -n 20
echo "guest: done"
