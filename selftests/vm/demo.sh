#!/bin/sh
# In the host VM, the body of `make demo` (called by tools/dev/demo-vm.sh),
# the way a user runs vhost-trace: vhost-traced is started, and
# `vhost-trace record --launch` starts a nested guest (stock virtio_console,
# the trace agent) traced for sched_switch and sched_wakeup; a short
# workload runs on both vCPUs; `vhost-trace stop` has the agent flush,
# the daemon writes DIR/trace.dat, and stock trace-cmd reads it. The host
# records its own kvm_entry/kvm_exit meanwhile (trace-cmd record -C
# x86-tsc): `vhost-trace report -H host.dat DIR` shows host and guest on
# one time line (the daemon aligned the guest's clock with KVM's TSC
# offsets).
. "$(dirname "$0")/lib.sh"

TRACED=$BUILD/tools/vhost-traced
VT=$BUILD/tools/vhost-trace
AGENT=$BUILD/guest/trace-agent
CTL_BIN=$BUILD/tools/agent-ctl/agent-ctl
D=$(mktemp -d /tmp/demo.XXXXXX)
OUT=$D/out
export VHOST_TRACED_SOCKET=$D/traced.sock

modprobe vhost && insmod "$KMOD" || exit 1
echo "== host VM: kernel $REL, /dev/vhost-trace ready"

"$TRACED" -s "$VHOST_TRACED_SOCKET" > "$D/traced.log" 2>&1 &
daemon=$!
for t in $(seq 50); do
	"$VT" list > /dev/null 2>&1 && break
	sleep 0.2
done

echo "== host: trace-cmd record -C x86-tsc -e kvm:kvm_entry -e kvm:kvm_exit"
modprobe kvm_amd 2> /dev/null || modprobe kvm_intel 2> /dev/null
trace_pin kvm/kvm_entry kvm/kvm_exit || exit 1	# (lib.sh: why)
trace-cmd record -C x86-tsc -e kvm:kvm_entry -e kvm:kvm_exit \
	-o "$D/host.dat" > "$D/hrec.log" 2>&1 &
hrec=$!
for t in $(seq 100); do
	[ "$(cat /sys/kernel/tracing/events/kvm/kvm_entry/enable)" = 1 ] &&
		break
	sleep 0.1
done

echo "== vhost-trace record --launch -N demo -e sched:sched_switch -e sched:sched_wakeup"
"$VT" record --launch -d -o "$OUT" -N demo -n 2 \
	-e sched:sched_switch -e sched:sched_wakeup -- \
	"$TOP/tools/dev/guestrun" -t 300 -f "$AGENT:/bin/trace-agent" -e SETTLE=3 \
	"$(dirname "$0")/guest_traced.sh" | sed 's/^/   /'

agent_state() { "$VT" list 2>/dev/null | awk '$2 == "demo" {print $9}'; }
for t in $(seq 240); do
	a=$(agent_state)
	case $a in running|error|gone|silent|"") break ;; esac
	sleep 0.5
done
if [ "$a" != running ]; then
	echo "the agent did not start ($a)"
	cat "$D/traced.log" "$OUT/qemu.log"
	exit 1
fi
echo "== tracing; vhost-trace list:"
for t in 1 2 3; do
	sleep 1
	"$VT" list | sed 's/^/   /' | { [ "$t" = 1 ] && cat || tail -n 1; }
done

echo "== vhost-trace stop demo:"
"$VT" stop demo | sed 's/^/   /' || { cat "$D/traced.log"; exit 1; }

echo "== $OUT:"
ls -l "$OUT" | sed 1d | awk '{printf "   %10s  %s\n", $5, $9}'
"$CTL_BIN" check-pages "$OUT"/cpu0.raw "$OUT"/cpu1.raw |
	sed "s|$OUT/||; s/^/   /"
echo "== guest events per CPU (stock trace-cmd report -i $OUT/trace.dat): $(
	trace-cmd report -i "$OUT/trace.dat" 2> /dev/null |
	grep -oE '\[00[0-9]\]' | sort | uniq -c | tr -s ' \n' ' ')"
kill -INT $hrec
wait $hrec
echo "== vhost-trace report -H host.dat $OUT (stock trace-cmd report"
echo "   -i host.dat -i $OUT/trace.dat), around the first guest event:"
"$VT" report -H "$D/host.dat" "$OUT" 2> "$D/merge.log" |
	awk '/^ *trace.dat: .*\[[0-9]+\]/ && !f {
		f = 1
		for (i = NR - 3; i < NR; i++) if (i > 0) print b[i % 4]
	} f; {b[NR % 4] = $0}' | head -n 16 | cut -c 1-110
sed 's/^/   /' "$D/merge.log"

# Let the guest power off, then take the daemon down.
for t in $(seq 120); do
	"$VT" list 2>/dev/null | awk '$2 == "demo" {print $3}' | grep -q ended && break
	sleep 0.5
done
trace_unpin
kill -TERM $daemon
wait $daemon
rmmod vhost_trace
rm -rf "$D"
