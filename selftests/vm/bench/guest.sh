# The nested guest's side of selftests/vm/bench_transports.py (run by
# tools/dev/guestrun as /run.sh): answers one command a line on the port
# bench-cmd, one line back each.
#   start T    make transport T ready and tracing (none: tracing off)
#   work S     the workload (vt-benchg pingpong) for S seconds: "iters N"
#   stop T     stop T, every page it moves delivered: "done cpu_us=N lost=N
#              irqs=N" (the guest agent's CPU time over start..stop, the
#              events the ring buffer lost: overrun + dropped, all
#              instances, and the virtio devices' interrupts over
#              start..stop: what the transports' used-ring signals cost)
#   quit
# T: vt (our agent, its default: up to 256 KiB, 64 pages per buffer),
#    vt1 (our agent, -p 4096: one page per buffer, the old agent),
#    vtup (upstream virtio-trace trace-agent + EAGAIN fix, 256 KiB pipe),
#    vs (our agent over stock virtio-serial ports vs-cpuN),
#    vsf (the same over ports vsf-cpuN: QEMU pipe chardevs, FIFOs),
#    vsock (trace-cmd agent; the host runs trace-cmd record -A),
#    none.
T=/sys/kernel/tracing
for m in vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport; do
	insmod /lib/vsock/$m.ko || echo "bench-guest: insmod $m failed"
done
port=""
for v in /sys/class/virtio-ports/vport*; do
	[ "$(cat "$v/name")" = bench-cmd ] && port=/dev/${v##*/}
done
[ -n "$port" ] || { echo "bench-guest: no port bench-cmd"; exit 1; }
echo 0 > $T/tracing_on
echo > $T/set_event
LD_LIBRARY_PATH=/lib/x86_64-linux-gnu /usr/bin/trace-cmd agent > /tmp/tc-agent.log 2>&1 &
mkfifo /tmp/uctl
ctl_link=$(readlink /dev/virtio-ports/agent-ctl-path)

lost() {
	cat $T/per_cpu/cpu*/stats $T/instances/*/per_cpu/cpu*/stats 2>/dev/null |
		awk '/^overrun:/ {s += $2} /^dropped events:/ {s += $3} END {print s + 0}'
}
events_on() {
	echo 'sched:*' > $T/set_event
	echo 'raw_syscalls:*' >> $T/set_event
}
# clear every CPU buffer (and its overrun counts), tracing off
reset() {
	echo 0 > $T/tracing_on
	echo > $T/trace
}
# interrupts of every virtio device so far, all CPUs (/proc/interrupts)
virtio_irqs() {
	awk '/virtio/ {for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i}
	     END {print s + 0}' /proc/interrupts
}
irqs() {
	echo $(($(virtio_irqs) - irq0))
}
agent_cpu() {
	if [ -f /tmp/a.cpu ]; then
		sed -n 's/^cpu_us //p' /tmp/a.cpu
	else
		echo 0
	fi
}

exec 3<> "$port"
echo "bench-guest: ready on $port"
while :; do
	if ! read -r cmd arg <&3; then
		sleep 0.2
		continue
	fi
	[ "$cmd" = start ] && irq0=$(virtio_irqs)
	case "$cmd $arg" in
	"hello "*)
		echo "hello $(uname -r) $(nproc)" >&3 ;;
	"start none")
		reset; echo > $T/set_event
		echo ok >&3 ;;
	"start vt"|"start vt1"|"start vs"|"start vsf")
		reset; events_on; rm -f /tmp/a.cpu
		case $arg in
		vt) opts="" ;;
		vt1) opts="-p 4096" ;;
		vs) opts="-P vs-cpu -c vs-ctl" ;;
		vsf) opts="-P vsf-cpu -c vs-ctl" ;;
		esac
		# shellcheck disable=SC2086
		/bin/vt-benchg rusage /tmp/a.cpu /bin/trace-agent -s $opts \
			> /tmp/a.log 2>&1 &
		wpid=$!
		i=0
		while ! grep -q 'cpu1: splicing' /tmp/a.log && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		echo ok >&3 ;;
	"start vtup")
		reset; events_on; rm -f /tmp/a.cpu
		ln -sf /tmp/uctl /dev/virtio-ports/agent-ctl-path
		exec 4<> /tmp/uctl
		/bin/vt-benchg rusage /tmp/a.cpu /bin/virtio-trace-agent -s 262144 \
			> /tmp/a.log 2>&1 &
		wpid=$!
		sleep 0.5
		echo 1 > $T/tracing_on
		echo 1 >&4
		echo ok >&3 ;;
	"start vsock")
		reset
		c0=$(/bin/vt-benchg cpu trace-cmd | sed 's/^cpu_us //')
		echo ok >&3 ;;
	"work "*)
		/bin/vt-benchg pingpong "$arg" >&3 ;;
	"stop none")
		echo "done cpu_us=0 lost=$(lost) irqs=$(irqs)" >&3 ;;
	"stop vt"|"stop vt1"|"stop vs"|"stop vsf")
		kill -TERM "$(pidof trace-agent)"
		wait "$wpid"
		echo > $T/set_event
		sed 's/^/bench-guest: agent: /' /tmp/a.log | grep -v splicing
		echo "done cpu_us=$(agent_cpu) lost=$(lost) irqs=$(irqs)" >&3 ;;
	"stop vtup")
		# upstream's stop only pauses its threads: tracing off, let it
		# move the full pages (it looks every 0.1 s), then pause and end
		echo 0 > $T/tracing_on
		sleep 1
		echo 0 >&4
		sleep 0.3
		kill -TERM "$(pidof virtio-trace-agent)" 2> /dev/null
		i=0
		while kill -0 "$wpid" 2> /dev/null && [ $i -lt 20 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$(pidof virtio-trace-agent)" 2> /dev/null
		wait "$wpid"
		exec 4>&-
		ln -sf "$ctl_link" /dev/virtio-ports/agent-ctl-path
		echo > $T/set_event
		sed 's/^/bench-guest: upstream agent: /' /tmp/a.log
		echo "done cpu_us=$(agent_cpu) lost=$(lost) irqs=$(irqs)" >&3 ;;
	"stop vsock")
		c1=$(/bin/vt-benchg cpu trace-cmd | sed 's/^cpu_us //')
		echo "done cpu_us=$((c1 - c0)) lost=$(lost) irqs=$(irqs)" >&3 ;;
	"quit "*)
		echo bye >&3
		break ;;
	*)
		echo "error unknown command: $cmd $arg" >&3 ;;
	esac
done
sed 's/^/bench-guest: trace-cmd agent: /' /tmp/tc-agent.log | tail -n 20
exit 0
