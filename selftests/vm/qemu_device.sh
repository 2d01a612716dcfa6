#!/bin/bash
# In the host VM: our QEMU runs a nested KVM guest (stock drivers only)
# with vhost-trace-pci. Checks that the guest sees the ports by name, that
# known data written in the guest by write(2) and by splice(2) arrives
# byte-exact in a host file and a host FIFO, that the module's counters
# agree, that QEMU's own I/O does not grow with the data (against stock
# virtio-serial with chardev FIFOs in the same run, with a quarter of the
# bytes: QEMU's share is per byte), and that the agent
# control chardev reaches the guest's agent-ctl-path.
. "$(dirname "$0")/lib.sh"

PAGES=${PAGES:-16384}		# 64 MiB per port
BYTES=$((PAGES * 4096))
# the baseline (stock virtio-serial: QEMU's own path, not ours) moves a
# quarter of it: its share of QEMU's writes is per byte
BASE_PAGES=${BASE_PAGES:-$((PAGES / 4))}
BASE_BYTES=$((BASE_PAGES * 4096))
QEMU=$BUILD/qemu/full/qemu-system-x86_64
LAUNCH=$BUILD/tools/vhost-trace-launch
PATTERN=$BUILD/tools/vt-pattern
W=/tmp/vt
mkdir -p $W

check "$REL: module loads" load_module

# The guest: names, then pattern streams on both ports (cpu0 by write,
# cpu1 by splice), then two bytes from the agent control port.
cat > $W/guest.sh <<EOS
. /bin/vports.sh
for p in /sys/class/virtio-ports/vport*; do echo "\$p: \$(cat \$p/name)"; done
for n in agent-ctl-path trace-path-cpu0 trace-path-cpu1; do
	[ -c /dev/virtio-ports/\$n ] || { echo "guest: no \$n"; exit 1; }
done
echo "guest: all ports present"
/bin/vt-pattern write 0 \${NPAGES:-$PAGES} /dev/virtio-ports/trace-path-cpu0 &
/bin/vt-pattern write 1 \${NPAGES:-$PAGES} /dev/virtio-ports/trace-path-cpu1 splice &
wait
if [ -n "\$AGENT" ]; then
	dd if=/dev/virtio-ports/agent-ctl-path of=/tmp/ctl bs=1 count=2 2>/dev/null
	echo "guest: agent port read \$(od -An -c /tmp/ctl)"
	[ "\$(od -An -tx1 /tmp/ctl)" = " 31 0a" ] || exit 1
fi
# idle before power-off: the host samples QEMU's I/O counters every 0.5 s
sleep 2
EOS

# watch_io PIDFILE OUT: the last /proc/PID/io of QEMU, sampled until it
# exits.
watch_io() {
	local pid="" t
	for t in $(seq 100); do
		pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && break
		sleep 0.2
	done
	while kill -0 "$pid" 2>/dev/null; do
		cat "/proc/$pid/io" > "$2.tmp" 2>/dev/null && mv "$2.tmp" "$2"
		sleep 0.5
	done
}

# io_field FILE FIELD: a counter of a saved /proc/PID/io
io_field() {
	awk -v f="$2:" '$1 == f {print $2}' "$1"
}

run_vhost() {
	rm -f $W/cpu0.dat $W/cpu1.fifo $W/io.vhost $W/stats
	mkfifo $W/cpu1.fifo
	"$PATTERN" check 1 $W/cpu1.fifo > $W/cpu1.check 2>&1 &
	local reader=$!
	python3 - $W/agent.sock > $W/agent.log 2>&1 <<'EOP' &
import socket, sys, time
for _ in range(600):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        break
    except OSError:
        time.sleep(0.2)
s.sendall(b"1\n")
print("host: wrote 1\\n on the agent chardev")
time.sleep(600)
EOP
	local agent=$!
	rm -f $W/qemu.pid
	watch_io $W/qemu.pid $W/io.vhost &
	"$LAUNCH" -n 2 -s 0=$W/cpu0.dat -s 1=$W/cpu1.fifo -o $W/stats -- \
		"$TOP/tools/dev/guestrun" -t 400 -f "$PATTERN:/bin/vt-pattern" \
		-e AGENT=1 $W/guest.sh \
		-chardev socket,id=agent,path=$W/agent.sock,server=on,wait=off \
		-device vhost-trace-pci,vhostfd=@VHOSTFD@,ports=2,chardev=agent \
		-pidfile $W/qemu.pid \
		> $W/launch.log 2>&1
	local rc=$?
	cat $W/launch.log
	kill $agent 2>/dev/null
	wait $reader
	cat $W/agent.log
	return $rc
}

check "$REL: vhost-trace-pci guest run (ports by name, agent chardev)" run_vhost

data_exact() {
	echo "cpu0 (file): $("$PATTERN" check 0 $W/cpu0.dat 2>&1)"
	echo "cpu1 (FIFO): $(cat $W/cpu1.check)"
	"$PATTERN" check 0 $W/cpu0.dat > /dev/null &&
		grep -qx "$PAGES pages $BYTES bytes" $W/cpu1.check
}
check "$REL: $((BYTES >> 20)) MiB per port byte-exact (write to file, splice to FIFO)" data_exact

stats_agree() {
	cat $W/stats
	awk -v b=$BYTES -v n=$PAGES '
		{ for (i = 1; i < NF; i += 2) v[$i] = $(i + 1) }
		v["bytes"] != b || v["buffers"] != n || v["dropped_buffers"] != 0 ||
		v["bad_buffers"] != 0 || v["queue_errors"] != 0 { bad = 1 }
		END { exit bad }' $W/stats
}
check "$REL: module statistics equal the bytes and pages sent" stats_agree

# Baseline: the same guest script over stock virtio-serial, chardev FIFOs
# (the upstream virtio-trace path): QEMU itself moves every byte.
run_baseline() {
	local p pids=
	rm -f $W/io.base $W/b0 $W/b1
	for p in 0 1; do
		rm -f $W/base$p.in $W/base$p.out
		mkfifo $W/base$p.in $W/base$p.out
		"$PATTERN" check $p $W/base$p.out > $W/b$p 2>&1 &
		pids="$pids $!"
	done
	rm -f $W/qemu.pid
	watch_io $W/qemu.pid $W/io.base &
	pids="$pids $!"
	"$TOP/tools/dev/guestrun" -t 400 -f "$PATTERN:/bin/vt-pattern" \
		-e NPAGES=$BASE_PAGES $W/guest.sh \
		-device virtio-serial-pci,max_ports=4 \
		-chardev null,id=actl \
		-device virtserialport,chardev=actl,name=agent-ctl-path,nr=1 \
		-chardev pipe,id=t0,path=$W/base0 \
		-device virtserialport,chardev=t0,name=trace-path-cpu0,nr=2 \
		-chardev pipe,id=t1,path=$W/base1 \
		-device virtserialport,chardev=t1,name=trace-path-cpu1,nr=3 \
		-pidfile $W/qemu.pid \
		> $W/base.log 2>&1
	local rc=$?
	tail -n 5 $W/base.log
	wait $pids
	echo "baseline cpu0: $(cat $W/b0), cpu1: $(cat $W/b1)"
	[ "$rc" = 0 ] && grep -qx "$BASE_PAGES pages $BASE_BYTES bytes" $W/b0 &&
		grep -qx "$BASE_PAGES pages $BASE_BYTES bytes" $W/b1
}
check "$REL: baseline: stock virtio-serial with chardev FIFOs, $((BASE_BYTES >> 20)) MiB per port byte-exact" run_baseline

# Guest-to-host trace data leaves QEMU, if at all, as QEMU's writes
# (wchar, syscw). rchar is mostly QEMU reading the kernel and initrd.
qemu_out_of_path() {
	local f moved=$((2 * BYTES)) based=$((2 * BASE_BYTES))
	echo "bytes moved guest->host: $moved (vhost-trace), $based (virtio-serial)"
	printf '%-8s %14s %14s\n' "QEMU" "vhost-trace" "virtio-serial"
	for f in rchar wchar syscr syscw; do
		printf '%-8s %14s %14s\n' $f "$(io_field $W/io.vhost $f)" \
			"$(io_field $W/io.base $f)"
	done
	# sampled every 0.5 s: the last writes before exit may be missed
	[ "$(io_field $W/io.base wchar)" -ge $((based / 100 * 99)) ] &&
		[ "$(io_field $W/io.vhost wchar)" -lt $((moved / 100)) ]
}
check "$REL: QEMU writes < 1% of the trace data (virtio-serial: > 99%)" \
	qemu_out_of_path

unload() {
	rmmod vhost_trace && [ ! -e /dev/vhost-trace ]
}
check "$REL: module unloads after the runs" unload

exit $FAILED
