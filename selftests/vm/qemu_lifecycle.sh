#!/bin/bash
# In the host VM: vhost-trace-pci during a transfer, when QEMU is
# SIGKILLed and when the device is hot-plugged (QMP getfd + device_add)
# and hot-unplugged (device_del). The host must stay clean: the device is
# released, the sink holds whole pages of the stream, the module unloads,
# dmesg is clean (checked by vmrun).
. "$(dirname "$0")/lib.sh"

LAUNCH=$BUILD/tools/vhost-trace-launch
PATTERN=$BUILD/tools/vt-pattern
W=/tmp/vt
mkdir -p $W

check "$REL: module loads" load_module

# A stream that outlasts the test: the guest writes until it is stopped.
cat > $W/endless.sh <<'EOS'
. /bin/vports.sh
i=0
until grep -qx trace-path-cpu0 /sys/class/virtio-ports/*/name 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 600 ] && { echo "guest: no trace port"; exit 1; }
	sleep 0.1
done
vports_link
[ -c /dev/virtio-ports/trace-path-cpu0 ] || { echo "guest: no port"; exit 1; }
echo "guest: writing"
/bin/vt-pattern write 0 100000000 /dev/virtio-ports/trace-path-cpu0
echo "guest: writer ended with status $?"
sleep 1
echo "guest: still running"
EOS

# sink_prefix FILE: whole pages of stream 0, at least 1 MiB
sink_prefix() {
	local size
	size=$(stat -c %s "$1")
	echo "sink $1: $size bytes; $("$PATTERN" check 0 "$1" 2>&1)"
	[ $((size % 4096)) = 0 ] && [ "$size" -ge 1048576 ] &&
		"$PATTERN" check 0 "$1" > /dev/null
}

kill_qemu_mid_transfer() {
	local launcher pid t bytes=0
	rm -f $W/k0.dat $W/kstats $W/qemu.pid
	"$LAUNCH" -n 1 -s 0=$W/k0.dat -o $W/kstats -- \
		"$TOP/tools/dev/guestrun" -t 300 -f "$PATTERN:/bin/vt-pattern" \
		$W/endless.sh -pidfile $W/qemu.pid \
		-device vhost-trace-pci,vhostfd=@VHOSTFD@,ports=1 \
		> $W/kill.log 2>&1 &
	launcher=$!
	for t in $(seq 600); do
		bytes=$(awk '{print $4}' $W/kstats 2>/dev/null)
		[ "${bytes:-0}" -ge 16777216 ] && break
		sleep 0.5
	done
	pid=$(cat $W/qemu.pid)
	echo "port 0 has ${bytes:-0} bytes: SIGKILL to QEMU $pid"
	kill -KILL "$pid"
	wait $launcher
	cat $W/kill.log | grep -v '^\['
	grep -q '^port 0 .* flags 0x10$' $W/kill.log && sink_prefix $W/k0.dat
}
check "$REL: QEMU SIGKILLed mid-transfer: device released, sink intact" \
	kill_qemu_mid_transfer

hotplug_unplug_mid_transfer() {
	local rc
	rm -f $W/qmp.sock $W/hp0.dat
	"$TOP/tools/dev/guestrun" -t 300 -f "$PATTERN:/bin/vt-pattern" \
		$W/endless.sh -qmp unix:$W/qmp.sock,server=on,wait=off \
		> $W/hotplug.log 2>&1 &
	local guest=$!
	python3 "$TOP/selftests/vm/qmp_hotplug.py" $W/qmp.sock 1 $W 16777216
	rc=$?
	wait $guest
	local grc=$?
	grep -v '^\[' $W/hotplug.log
	[ "$rc" = 0 ] && [ "$grc" = 0 ] &&
		grep -q '^guest: still running' $W/hotplug.log &&
		sink_prefix $W/hp0.dat
}
check "$REL: hot-plug, then hot-unplug mid-transfer: guest lives, sink intact" \
	hotplug_unplug_mid_transfer

unload() {
	rmmod vhost_trace && [ ! -e /dev/vhost-trace ]
}
check "$REL: module unloads afterwards (nothing holds it)" unload

exit $FAILED
