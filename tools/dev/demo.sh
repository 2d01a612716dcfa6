#!/bin/bash
# make demo: boot the host VM on the oldest supported kernel with
# vhost_trace.ko; our QEMU runs a nested KVM guest (stock virtio_console)
# with vhost-trace-pci and the trace agent; the host starts tracing of
# scheduler events, stops, and shows per-CPU bytes, lost events and the
# first events as decoded by stock trace-cmd (tools/dev/demo-vm.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
rel=$("$top/tools/dev/kernels.sh" | awk 'NR == 1 {print $1}')
exec "$top/tools/dev/vmrun" -k "$rel" -t 600 -- "$top/tools/dev/demo-vm.sh"
