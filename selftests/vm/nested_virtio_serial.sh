#!/bin/sh
# In the host VM: our QEMU boots a nested KVM guest with a stock
# virtio-serial-pci device and a port named trace-path-cpu0; the guest's
# stock virtio_console driver shows that name in /sys/class/virtio-ports.
. "$(dirname "$0")/lib.sh"

cat > /tmp/guest.sh <<'EOS'
uname -r
for p in /sys/class/virtio-ports/vport*; do
	echo "$p: $(cat "$p/name")"
done
grep -qx trace-path-cpu0 /sys/class/virtio-ports/vport*/name &&
	[ -c /dev/virtio-ports/trace-path-cpu0 ]
EOS

guest_sees_port() {
	"$TOP/tools/dev/guestrun" -t 240 /tmp/guest.sh \
		-device virtio-serial-pci \
		-chardev null,id=t0 \
		-device virtserialport,chardev=t0,name=trace-path-cpu0
}
check "$REL: nested guest sees virtio-serial port trace-path-cpu0" \
	guest_sees_port

exit $FAILED
