#!/bin/sh
# In the host VM, the body of `make demo` (to be called from
# tools/demo-vm.sh): a nested guest with the stock virtio_console driver
# and the agent; vhost_trace.ko carries its pages to host files. The host
# enables scheduler events, starts tracing, lets a short workload run,
# stops, and shows per-CPU bytes, lost events and the first events as
# decoded by stock trace-cmd (trace.dat built with `trace-cmd restore`
# from the agent's metadata until the native writer is used here).
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/guest/trace-agent
CTL_BIN=$BUILD/tools/agent-ctl/agent-ctl
LAUNCH=$BUILD/tools/vhost-trace-launch
D=$(mktemp -d /tmp/demo.XXXXXX)
ctl() { "$CTL_BIN" -s "$D/ctl.sock" -T 60 "$@"; }

modprobe vhost && insmod "$KMOD" || exit 1
echo "== host VM: kernel $REL, /dev/vhost-trace ready"

cat > "$D/guest.sh" <<'EOS'
/bin/trace-agent 2> /tmp/agent.log &
apid=$!
for c in 0 1; do
	taskset -c $c sh -c 'while :; do ls -R /sys/class > /dev/null; usleep 20000; done' &
done
wait $apid
sed 's/^/   guest: /' /tmp/agent.log
EOS

"$LAUNCH" -n 2 -s "0=$D/cpu0.raw" -s "1=$D/cpu1.raw" -o "$D/vhost-stats" -- \
	"$TOP/tools/guestrun" -t 300 -f "$AGENT:/bin/trace-agent" "$D/guest.sh" \
	-chardev "socket,id=ctl,path=$D/ctl.sock,server=on,wait=off" \
	-device "vhost-trace-pci,vhostfd=@VHOSTFD@,ports=2,chardev=ctl" \
	> "$D/guest.log" 2>&1 &
gpid=$!

ctl hello > /dev/null || { cat "$D/guest.log"; exit 1; }
echo "== guest:"
ctl info | grep -E '^(cpus|release|clock|ports|tracefs)=' | sed 's/^/   /'
ctl events sched:sched_switch sched:sched_wakeup > /dev/null || exit 1
echo "== tracing sched_switch, sched_wakeup for 3 s"
ctl reset > /dev/null
ctl start > /dev/null
sleep 3
ctl stop > "$D/stop"
ctl stats > "$D/stats"
ctl meta "$D/meta" > /dev/null
ctl quit > /dev/null
wait $gpid

echo "== per CPU (host files written by vhost_trace.ko):"
for c in 0 1; do
	b=$(stat -c %s "$D/cpu$c.raw")
	lost=$(sed -n "s/^cpu$c .* overrun=\([0-9]*\) .*dropped_events=\([0-9]*\).*/\1 \2/p" "$D/stats")
	set -- $lost
	echo "   cpu$c: $b bytes ($((b / 4096)) pages), lost events: overrun ${1:-?}, dropped ${2:-?}"
done
"$CTL_BIN" check-pages "$D/cpu0.raw" "$D/cpu1.raw" | sed 's/^/   /'
cd "$D" || exit 1
trace-cmd restore -c -t "$D/meta" -k "$D/meta/kallsyms" -o head.dat > /dev/null &&
	trace-cmd restore -i head.dat -o trace.dat cpu0.raw cpu1.raw > /dev/null 2>&1 || exit 1
echo "== first events, stock trace-cmd report:"
trace-cmd report -i trace.dat 2> /dev/null | grep -E 'sched_(switch|wakeup):' | head -n 12
echo "== events per CPU: $(trace-cmd report -i trace.dat 2> /dev/null |
	grep -oE '\[00[0-9]\]' | sort | uniq -c | tr -s ' \n' ' ')"
rm -rf "$D"
