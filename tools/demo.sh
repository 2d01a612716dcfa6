#!/bin/bash
# make demo: boot the host VM on the oldest supported kernel, load
# vhost_trace.ko, boot a nested KVM guest, trace its scheduler and carry the
# guest's raw ftrace pages to the host VM over a virtio-serial port named
# trace-path-cpu0.
#
# At this stage the vhost data path is not built yet: the pages travel
# through QEMU's stock virtio-serial (the upstream virtio-trace path).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
rel=$("$top/tools/kernels.sh" | awk 'NR == 1 {print $1}')
exec "$top/tools/vmrun" -k "$rel" -t 600 -- "$top/tools/demo-vm.sh"
