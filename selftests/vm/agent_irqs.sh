#!/bin/sh
# In the host VM: how many used-ring interrupts a real guest takes on its
# trace ports (virtio_console's output queues) while our agent streams,
# with lazy used signalling (the module's default signal_delay_ms) against
# eager signalling (signal_delay_ms=0, what the module did before). A
# nested guest (stock virtio_console, vhost-trace-pci) traces sched:* and
# raw_syscalls:* under a light workload for AGENT_IRQ_SECONDS (10) with
# the agent's 1-page buffers (-p 4096) and its default 64 KiB ones, each
# with both settings; one guest boot per case. Per case: the interrupts on
# the device's output queues (the guest's /proc/interrupts), the bytes
# that reached the host files, interrupts per MB.
# Checks: every case streamed (bytes > 0, guest status 0), and lazy takes
# fewer interrupts per MB than eager for each buffer size.
# AGENT_IRQ_PIPES (agent -p values, "4096 65536"), AGENT_IRQ_ROUNDS (1):
# more rounds, each eager then lazy.
#
#   tools/dev/vmrun -k 6.12.118+deb12-amd64 -- selftests/vm/agent_irqs.sh
. "$(dirname "$0")/lib.sh"

LAUNCH=$BUILD/tools/vhost-trace-launch
AGENT=$BUILD/guest/trace-agent
PARAM=/sys/module/vhost_trace/parameters/signal_delay_ms
SECS=${AGENT_IRQ_SECONDS:-10}
D=$(mktemp -d /tmp/irqs.XXXXXX)

ready() {
	{ grep -q '^vhost_trace ' /proc/modules || load_module; } &&
		[ -w "$PARAM" ] && [ -x "$LAUNCH" ] && [ -x "$AGENT" ]
}
check "$REL: vhost_trace.ko loads (with $PARAM), the agent is built" \
	ready || exit 1
kvm_shadow_paging
lazy=$(cat $PARAM)

cat > "$D/guest.sh" <<'EOS'
dev=$(basename "$(readlink -f /sys/class/virtio-ports/vport0p1/device 2>/dev/null)")
[ -n "$dev" ] || dev=$(basename "$(readlink -f "$(ls -d /sys/class/virtio-ports/vport* | head -1)/device")")
# the output queues' vectors (one shared vector: all of the device's)
irqs() {
	pat="$dev-output"
	grep -q "$pat" /proc/interrupts || pat="$dev-"
	grep "$pat" /proc/interrupts |
		awk -v n="$(nproc)" '{for (i = 2; i <= n + 1; i++) s += $i} END {print s + 0}'
}
echo "guest: device $dev, vectors:"
grep "$dev-" /proc/interrupts | sed 's/^/guest:   /'
echo 'sched:*' > /sys/kernel/tracing/set_event
echo 'raw_syscalls:*' >> /sys/kernel/tracing/set_event
for c in 0 1; do
	taskset -c $c sh -c 'while :; do ls /sys/class > /dev/null; usleep 2000; done' &
done
sleep 1
i0=$(irqs)
/bin/trace-agent -s -p "$PIPE" > /tmp/agent.log 2>&1 &
apid=$!
sleep "$SECS"
kill -TERM $apid
wait $apid
st=$?
i1=$(irqs)
echo "guest: irqs $((i1 - i0)) agent status $st"
sed 's/^/guest: agent: /' /tmp/agent.log | tail -3
exit $st
EOS

# run_case DELAY PIPE: prints "irqs bytes"
run_case() {
	echo "$1" > $PARAM
	rm -f "$D"/cpu*.raw
	"$LAUNCH" -n 2 -s "0=$D/cpu0.raw" -s "1=$D/cpu1.raw" -- \
		"$TOP/tools/dev/guestrun" -t 200 -e "PIPE=$2" -e "SECS=$SECS" \
		-f "$AGENT:/bin/trace-agent" "$D/guest.sh" \
		-chardev "socket,id=ctl,path=$D/ctl.sock,server=on,wait=off" \
		-device "vhost-trace-pci,vhostfd=@VHOSTFD@,ports=2,chardev=ctl" \
		> "$D/guest.log" 2>&1
	rc=$?
	grep '^guest:' "$D/guest.log" | sed "s/^/  [delay $1 p $2] /" >&2
	irqs=$(sed -n 's/.*guest: irqs \([0-9]*\) agent status 0.*/\1/p' "$D/guest.log" | tail -1)
	if [ "$rc" != 0 ] || [ -z "$irqs" ]; then
		echo "  [delay $1 p $2] guest run status $rc; its log's end:" >&2
		tail -n 40 "$D/guest.log" | sed "s/^/  [delay $1 p $2] | /" >&2
	fi
	bytes=$(( $(stat -c %s "$D/cpu0.raw" 2>/dev/null || echo 0) + \
		  $(stat -c %s "$D/cpu1.raw" 2>/dev/null || echo 0) ))
	[ "$rc" = 0 ] && [ -n "$irqs" ] || { echo "fail fail"; return; }
	echo "$irqs $bytes"
}

# interrupts per MB, 3 decimals
per_mb() { awk -v i="$1" -v b="$2" 'BEGIN {printf "%.3f", b ? i * 1048576 / b : -1}'; }

for pipe in ${AGENT_IRQ_PIPES:-4096 65536}; do
for round in $(seq "${AGENT_IRQ_ROUNDS:-1}"); do
	# shellcheck disable=SC2046
	set -- $(run_case 0 $pipe)
	ei=$1 eb=$2
	# shellcheck disable=SC2046
	set -- $(run_case "$lazy" $pipe)
	li=$1 lb=$2
	echo "irqs: round $round: agent -p $pipe, ${SECS}s: eager (delay 0): $ei interrupts," \
	     "$eb bytes, $(per_mb "$ei" "$eb")/MB; lazy (delay $lazy ms):" \
	     "$li interrupts, $lb bytes, $(per_mb "$li" "$lb")/MB"
	streamed() { [ "$ei" != fail ] && [ "$li" != fail ] &&
		     [ "$eb" -gt 0 ] && [ "$lb" -gt 0 ]; }
	check "$REL: agent -p $pipe streams with eager and lazy signalling" \
		streamed
	fewer() { streamed && awk -v l="$(per_mb "$li" "$lb")" \
				  -v e="$(per_mb "$ei" "$eb")" \
				  'BEGIN {exit !(l < e)}'; }
	check "$REL: agent -p $pipe: lazy signalling, fewer interrupts per MB" \
		fewer
done
done
echo "$lazy" > $PARAM
rm -rf "$D"
exit $FAILED
