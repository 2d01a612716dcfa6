#!/bin/sh
# In the host VM: the guest agent end to end through vhost-trace: our
# QEMU's vhost-trace-pci device (tools/vhost-trace-launch hands it the
# /dev/vhost-trace fd and sets file sinks), the guest's stock
# virtio_console driver, vhost_trace.ko writing the pages to the host
# files; agent-ctl-path on a unix socket chardev. What is shown: see
# agent_lib.sh; plus the module's statistics agree with the agent.
#
#   tools/dev/vmrun -k 6.1.0-56-amd64 -- selftests/vm/agent_vhost.sh
. "$(dirname "$0")/lib.sh"

LAUNCH=$BUILD/tools/vhost-trace-launch
if load_module && [ -x "$LAUNCH" ]; then
	echo "check: ok $REL: vhost_trace.ko loads for the agent test"
else
	echo "check: not ok $REL: vhost_trace.ko loads for the agent test" \
	     "(and $LAUNCH is built)"
	exit 1
fi

. "$(dirname "$0")/agent_lib.sh"

AGENT_PATH=vhost-trace

run_guest() {
	"$LAUNCH" -n 2 -s "0=$D/cpu0.raw" -s "1=$D/cpu1.raw" \
		-o "$D/vhost-stats" -- \
		"$TOP/tools/dev/guestrun" -k "$GK" -t 300 \
		-f "$AGENT:/bin/trace-agent" "$1" \
		-chardev "socket,id=ctl,path=$D/ctl.sock,server=on,wait=off" \
		-device "vhost-trace-pci,vhostfd=@VHOSTFD@,ports=2,chardev=ctl"
}

agent_main

# Over the whole run: the module carried exactly the bytes in the host
# files, as whole pages, several pages per virtqueue buffer on average
# (the agent puts each batch in one buffer; a stop's last, partial page
# goes alone), nothing dropped or bad.
module_stats() {
	cat "$D/vhost-stats"
	awk -v f0="$(stat -c %s "$D/cpu0.raw")" -v f1="$(stat -c %s "$D/cpu1.raw")" '
		{ for (i = 1; i < NF; i += 2) v[$i] = $(i + 1)
		  p = v["port"]; file = p == 0 ? f0 : f1
		  printf "port %d: host file %d bytes, module %d bytes in %d " \
		      "buffers, %.1f KiB per buffer\n", p, file, v["bytes"],
		      v["buffers"], v["buffers"] ? v["bytes"] / v["buffers"] / 1024 : 0
		  if (v["bytes"] != file || file % 4096 != 0 ||
		      v["bytes"] <= v["buffers"] * 4096 ||
		      v["dropped_buffers"] != 0 || v["bad_buffers"] != 0 ||
		      v["queue_errors"] != 0)
			bad = 1
		  n++ }
		END { exit bad || n != 2 }' "$D/vhost-stats"
}
if module_stats; then
	echo "check: ok $PFX module carried every page, several pages per buffer (bytes/buffers > 4096)"
else
	echo "check: not ok $PFX module carried every page, several pages per buffer (bytes/buffers > 4096)"
	FAILED=1
fi
rm -rf "$D"
exit $FAILED
