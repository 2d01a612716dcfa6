#!/bin/bash
# The host VM half of `make demo` (see tools/demo.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
rel=$(uname -r)

echo "== host VM: kernel $rel"
modprobe vhost
insmod "$build/kmod/$rel/vhost-trace/vhost_trace.ko"
ls -l /dev/vhost-trace
modinfo -F vhost_src "$build/kmod/$rel/vhost-trace/vhost_trace.ko" |
	sed 's/^/vhost.h taken from: /'

cat > /tmp/guest.sh <<'EOS'
echo "== guest: kernel $(uname -r), ports:"
for p in /sys/class/virtio-ports/vport*; do echo "  $(cat $p/name)"; done
T=/sys/kernel/tracing
echo 1 > $T/events/sched/sched_switch/enable
echo 1 > $T/events/sched/sched_wakeup/enable
echo 1 > $T/tracing_on
for i in 1 2 3 4 5; do ls -R /sys/class > /dev/null; sleep 0.1; done
echo 0 > $T/tracing_on
echo "== guest: first events in the guest's own buffer:"
grep -v '^#' $T/trace | head -n 5
# Each read of trace_pipe_raw returns one whole ring-buffer page; once
# the buffer is empty the read waits, so give it a few seconds.
timeout 3 dd if=$T/per_cpu/cpu0/trace_pipe_raw \
	of=/dev/virtio-ports/trace-path-cpu0 bs=4096 2>&1 | tail -n 1
EOS

rm -f /tmp/cpu0.raw
"$top/tools/guestrun" -t 300 -c 1 /tmp/guest.sh \
	-device virtio-serial-pci \
	-chardev file,id=t0,path=/tmp/cpu0.raw \
	-device virtserialport,chardev=t0,name=trace-path-cpu0

bytes=$(stat -c %s /tmp/cpu0.raw)
echo "== host VM: received $bytes bytes ($((bytes / 4096)) ring-buffer pages) for cpu0"
echo "first page header (timestamp, commit):"
od -A d -t x8 -N 16 /tmp/cpu0.raw
