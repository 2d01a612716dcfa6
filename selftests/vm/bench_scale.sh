#!/bin/sh
# In the host VM, part of `make bench` (and `make bench-scale` alone): many
# devices at once, each driven by a guest thread of its own
# (selftests/vhost_trace/vt_scale): kernel memory per device and port,
# worker threads, aggregate MB/s, host CPU per GB, fairness between
# devices. Figures to read, not a pass/fail test. SCALE_DEVS, SCALE_PORTS,
# SCALE_SECONDS.
. "$(dirname "$0")/lib.sh"

load_module || exit 1
echo "scale on $REL (devices x ports at once, a guest thread per device, file sinks):"
"$BUILD/selftests/$SERIES/vhost_trace/vt_scale" -d "${SCALE_DEVS:-1,16,64}" \
	-p "${SCALE_PORTS:-8}" -t "${SCALE_SECONDS:-5}" 2>&1 | sed 's/^/bench: /'
rmmod vhost_trace
