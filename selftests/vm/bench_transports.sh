#!/bin/sh
# In the host VM, the transports benchmark of `make bench` (make
# bench-transports): vhost-trace with our agent (and with it set to one page
# per buffer, the old agent), vhost-trace with upstream virtio-trace's
# trace-agent, stock virtio-serial through QEMU chardev files, trace-cmd's
# agent over vsock, and the floor, side by side in this one boot with one
# nested guest; on a kernel with vDPA a second nested guest under Debian's
# stock QEMU 10.0 (build/stock-qemu) with the module's vDPA device on
# vhost_vdpa. Then the FIFO half in the same windows' rotation: FIFO sinks
# read by one splice reader (vt-benchg drain), vhost-trace by reference and
# by copy, virtio-serial -> QEMU pipe chardevs, the vDPA device with FIFO
# sinks, and a floor into a FIFO. Figures, not a pass/fail test; see
# bench_transports.py.
#
#   tools/dev/vmrun -k 6.12.118+deb12-amd64 -t 1500 -- \
#       env BENCH_ROUNDS=5 BENCH_SECONDS=6 selftests/vm/bench_transports.sh
. "$(dirname "$0")/lib.sh"

load_module || { echo "bench: cannot load $KMOD"; exit 1; }
modprobe vhost_vsock || { echo "bench: no vhost_vsock"; exit 1; }
# the vDPA rows (bench_transports.py leaves them out where this fails)
modprobe vhost_vdpa 2> /dev/null &&
	export BENCH_VT_VDPA="$BUILD/selftests/$SERIES/vhost_trace/vt_vdpa"
modprobe kvm_amd 2> /dev/null || modprobe kvm_intel
grep -q ' /sys/kernel/debug ' /proc/mounts ||
	mount -t debugfs debugfs /sys/kernel/debug
grep -q ' /sys/kernel/tracing ' /proc/mounts ||
	mount -t tracefs tracefs /sys/kernel/tracing
# The nested guest's vCPU threads would otherwise poll halted vCPUs and
# take the host VM's CPUs from the threads being measured.
echo 0 > /sys/module/kvm/parameters/halt_poll_ns
echo "bench: kvm_amd npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)," \
     "halt_poll_ns=0"
python3 "$(dirname "$0")/bench_transports.py"
rc=$?
rmmod vhost_trace
exit $rc
