#!/bin/sh
# In the host VM, the body of `make bench`: vhost-trace's transport against
# a userspace relay doing what QEMU's virtio-serial + chardev path does,
# same ring code, same run (selftests/vhost_trace/vt_bench). Figures to
# read, printed as ratios, not a pass/fail test.
. "$(dirname "$0")/lib.sh"

load_module || exit 1
echo "benchmark on $REL (vhost-trace against a userspace relay, same ring, same run):"
"$BUILD/selftests/$SERIES/vhost_trace/vt_bench" -s 256 -p 1024 2>&1 |
	sed 's/^/bench: /'
rmmod vhost_trace
