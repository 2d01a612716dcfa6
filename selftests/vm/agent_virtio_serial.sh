#!/bin/sh
# In the host VM: the guest agent end to end over stock virtio-serial-pci
# ports through QEMU chardevs (the upstream virtio-trace path, the
# baseline): trace-path-cpuN on file chardevs, agent-ctl-path on a unix
# socket chardev. What is shown: see agent_lib.sh.
#
#   tools/dev/vmrun -k 6.1.0-56-amd64 -- selftests/vm/agent_virtio_serial.sh
#   tools/dev/vmrun -k 6.1.0-56-amd64 -- env AGENT_GUEST_KERNEL=6.12.117+deb12-amd64 \
#       selftests/vm/agent_virtio_serial.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"

AGENT_PATH=virtio-serial

run_guest() {
	"$TOP/tools/dev/guestrun" -k "$GK" -t 300 -f "$AGENT:/bin/trace-agent" "$1" \
		-device virtio-serial-pci \
		-chardev "file,id=t0,path=$D/cpu0.raw" \
		-device virtserialport,chardev=t0,name=trace-path-cpu0 \
		-chardev "file,id=t1,path=$D/cpu1.raw" \
		-device virtserialport,chardev=t1,name=trace-path-cpu1 \
		-chardev "socket,id=ctl,path=$D/ctl.sock,server=on,wait=off" \
		-device virtserialport,chardev=ctl,name=agent-ctl-path
}

agent_main
rm -rf "$D"
exit $FAILED
