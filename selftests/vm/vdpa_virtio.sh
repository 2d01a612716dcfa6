#!/bin/sh
# In the host VM (kernels with CONFIG_VDPA): vhost_trace.ko as a vDPA device
# driven by the host's own virtio_vdpa + virtio_console, no guest needed.
# Port names, 64 MiB per port byte-exact into a pipe and a file sink, block
# and drop with exact counts, port 0 both ways through the control fd, the
# management device (vdpa tool), rights and errors of the ioctls, deletion
# while data flows, unload refused while a device exists. With
# hostile rings from a userspace driver through vhost_vdpa
# (vt_vdpa_hostile). Sink swaps in mid stream (pipe -> pipe -> file).
. "$(dirname "$0")/lib.sh"

VT=$BUILD/selftests/$SERIES/vhost_trace/vt_vdpa
PATTERN=$BUILD/tools/vt-pattern
W=/tmp/vdpa
rm -rf $W
mkdir -p $W
PAGES=${VDPA_PAGES:-16384}	# 64 MiB per port

if ! grep -q '^CONFIG_VDPA=' "/boot/config-$REL" 2>/dev/null &&
   ! modinfo vdpa > /dev/null 2>&1; then
	echo "check: ok $REL: no CONFIG_VDPA, vDPA front end not built # SKIP"
	exit 0
fi

# virtio_vdpa the only vDPA driver: a vhost_vdpa left loaded (by an
# earlier script of the boot) could take vt0 first; the hostile part
# below loads it and binds its own device with driver_override.
load() {
	modprobe -r vhost_vdpa 2>/dev/null
	load_module && modprobe -a virtio_vdpa virtio_console &&
		[ -d /sys/bus/vdpa/drivers/virtio_vdpa ] &&
		[ ! -d /sys/bus/vdpa/drivers/vhost_vdpa ]
}
check "$REL: module loads with vdpa, virtio_vdpa" load

mgmtdev() {
	vdpa mgmtdev show | tee $W/mgmt && grep -q '^vhost-trace:' $W/mgmt &&
		true
}
check "$REL: management device vhost-trace" mgmtdev

# port_dev NAME: /dev/vportXpY of the virtio-console port named NAME
port_dev() {
	for d in /sys/class/virtio-ports/vport*; do
		[ "$(cat "$d/name" 2>/dev/null)" = "$1" ] &&
			echo "/dev/${d##*/}" && return 0
	done
	return 1
}

# wait_for TRIES CMD...: CMD succeeds within TRIES * 0.1 s (sh has no
# local: the count is wait_tries, a name no CMD uses)
wait_for() {
	wait_tries=$1
	shift
	while [ "$wait_tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		wait_tries=$((wait_tries - 1))
	done
	return 1
}

ports_of() {
	for port_name in agent-ctl-path \
		$(seq -f 'trace-path-cpu%g' 0 $(($1 - 1))); do
		port_dev "$port_name" > /dev/null || return 1
	done
}

add_dev() {
	"$VT" add vt0 2 &&
		wait_for 100 ports_of 2 &&
		for d in /sys/class/virtio-ports/vport*; do
			echo "$d: $(cat "$d/name")"
		done
}
check "$REL: VDPA_ADD vt0 with 2 ports, virtio_console names them" add_dev

# virtio_console negotiated EVENT_IDX (bit 29 of the virtio device's
# features: kicks and interrupts only where the other side asks for them)
# and indirect descriptors (bit 28): what follows runs with both.
ring_features() {
	f=$(cat /sys/bus/vdpa/devices/vt0/virtio*/features) || return 1
	echo "vt0 virtio features: $f"
	[ "$(echo "$f" | cut -c29-30)" = 11 ]
}
check "$REL: virtio_console over virtio_vdpa negotiates INDIRECT_DESC and EVENT_IDX" \
	ring_features

unload_refused() {
	! rmmod vhost_trace 2>/dev/null && grep -q '^vhost_trace ' /proc/modules
}
check "$REL: unload refused while a device exists" unload_refused

# stat NAME PORT FIELD
stat() {
	"$VT" stats "$1" "$2" | tr ' ' '\n' | sed -n "s/^$3=//p"
}

stat_is() {
	[ "$(stat "$1" "$2" "$3")" = "$4" ]
}

# 64 MiB per port, byte-exact: port 0 (trace-path-cpu0) into a pipe by
# write(), port 1 (cpu1) into a file by splice(). The pipe sink asks for
# the pages by reference: virtio_vdpa's are the host's own, never lent,
# so all of it is copied (copied_bytes, ref_bytes 0).
transfer() {
	rm -f $W/fifo0 $W/out1
	mkfifo $W/fifo0
	"$PATTERN" check 0 $W/fifo0 > $W/check0 2>&1 &
	reader=$!
	"$VT" sink vt0 0 $W/fifo0 block ref &&
	"$VT" sink vt0 1 $W/out1 block || return 1
	d0=$(port_dev trace-path-cpu0)
	d1=$(port_dev trace-path-cpu1)
	s=$(date +%s)
	"$PATTERN" write 0 "$PAGES" "$d0" > $W/w0 2>&1 &
	w0=$!
	"$PATTERN" write 1 "$PAGES" "$d1" splice > $W/w1 2>&1 &
	w1=$!
	wait $w0 && wait $w1 || { cat $W/w0 $W/w1; return 1; }
	bytes=$((PAGES * 4096))
	wait_for 600 stat_is vt0 0 bytes $bytes &&
		wait_for 600 stat_is vt0 1 bytes $bytes || {
		"$VT" stats vt0 0; "$VT" stats vt0 1; return 1; }
	echo "2 x $((bytes >> 20)) MiB in $(($(date +%s) - s)) s"
	"$VT" sink vt0 0 - block
	wait $reader
	cat $W/check0
	"$PATTERN" check 1 $W/out1 | tee $W/check1
	"$VT" stats vt0 0
	"$VT" stats vt0 1
	[ "$(cat $W/check0)" = "$PAGES pages $bytes bytes" ] &&
		[ "$(cat $W/check1)" = "$PAGES pages $bytes bytes" ] &&
		stat_is vt0 0 buffers "$PAGES" &&
		stat_is vt0 0 bad_buffers 0 && stat_is vt0 0 queue_errors 0 &&
		stat_is vt0 0 ref_bytes 0 && stat_is vt0 0 copied_bytes $bytes &&
		stat_is vt0 0 ref_pending 0
}
check "$REL: $((PAGES / 256)) MiB per port byte-exact, pipe (write, asked by reference: copied) and file (splice)" transfer

# Port 0 (agent-ctl-path) both ways through the control fd.
port0() {
	p0=$(port_dev agent-ctl-path) || return 1
	exec 4<> "$p0"
	"$VT" write vt0 1 || return 1
	dd bs=2 count=1 <&4 2>/dev/null > $W/p0in
	od -An -c $W/p0in
	[ "$(od -An -tx1 $W/p0in)" = " 31 0a" ] || return 1
	printf 'hello host\n' >&4
	"$VT" read vt0 11 > $W/p0out
	exec 4>&-
	cat $W/p0out
	[ "$(cat $W/p0out)" = "hello host" ]
}
check "$REL: port 0 both ways through the control fd" port0

# Drop: no sink, policy drop: every page dropped and counted, the writer
# never waits.
drop() {
	"$VT" sink vt0 1 - drop || return 1
	a=$(stat vt0 1 dropped_buffers)
	timeout 60 "$PATTERN" write 1 1000 "$(port_dev trace-path-cpu1)" || return 1
	wait_for 100 stat_is vt0 1 dropped_buffers $((a + 1000)) &&
		"$VT" stats vt0 1 &&
		stat_is vt0 1 dropped_bytes $(((a + 1000) * 4096))
}
check "$REL: drop without a sink: 1000 pages dropped, counted exactly" drop

# Block: no sink, policy block: the writer waits (ring and the guest's
# buffers full), nothing is lost; a file sink then takes every page.
block() {
	"$VT" sink vt0 1 - block || return 1
	b=$(stat vt0 1 bytes)
	"$PATTERN" write 2 2000 "$(port_dev trace-path-cpu1)" > $W/wb 2>&1 &
	w=$!
	sleep 2
	kill -0 $w || { echo "writer did not wait"; return 1; }
	stat_is vt0 1 bytes "$b" || return 1
	"$VT" sink vt0 1 $W/blocked block || return 1
	wait $w || return 1
	wait_for 300 stat_is vt0 1 bytes $((b + 2000 * 4096)) || return 1
	"$VT" stats vt0 1
	[ "$("$PATTERN" check 2 $W/blocked)" = "2000 pages 8192000 bytes" ]
}
check "$REL: block without a sink: writer waits, then 2000 pages exact" block

# Sink swaps in mid stream, at points the test controls: each pipe's
# reader takes SWAP_HEAD pages and then stops reading, so the pipe fills
# and the port waits (WAITING, its bytes stand still) while the writer is
# still busy (the ring and virtio_console's buffers full): only then the
# sink is swapped, pipe -> pipe -> file. Afterwards the pipes are drained:
# each holds exactly the bytes the port had written when it was swapped
# out, the file the rest; end to end every page of the stream once, in
# order.
# (VDPA_SWAP_HEAD >= SWAP_PAGES never waits: how the test fails)
SWAP_PAGES=4000
SWAP_HEAD=${VDPA_SWAP_HEAD:-1000}

# stalled_reader FIFO OUT: SWAP_HEAD pages of FIFO into OUT, then no more
# until FIFO.go exists, then the rest to EOF (once the module lets go of
# the pipe); pid in $reader
stalled_reader() {
	{
		dd bs=4096 count=$SWAP_HEAD iflag=fullblock 2> /dev/null
		while [ ! -e "$1.go" ]; do sleep 0.1; done
		cat
	} < "$1" > "$2" &
	reader=$!
}

# waits_past BYTES: port 0 has written more than BYTES and waits for room
waits_past() {
	[ "$(stat vt0 0 bytes)" -gt "$1" ] &&
		[ $(($(stat vt0 0 flags) & 2)) != 0 ]
}

# swap_at BYTES SINK: once port 0 waits past BYTES, its bytes stand still
# for a second and the writer $w waits too, swap to SINK; the bytes
# written before it in $at
swap_at() {
	wait_for 100 waits_past "$1" || { echo "port 0 does not wait"; return 1; }
	at=$(stat vt0 0 bytes)
	sleep 1
	"$VT" stats vt0 0
	stat_is vt0 0 bytes "$at" && waits_past "$1" ||
		{ echo "port 0 went on"; return 1; }
	kill -0 $w || { echo "writer did not wait"; return 1; }
	"$VT" sink vt0 0 "$2" block
}

swap_run() {
	rm -f $W/fifo1 $W/fifo2 $W/fifo1.go $W/fifo2.go $W/part1 $W/part2 \
		$W/part3
	mkfifo $W/fifo1 $W/fifo2
	b0=$(stat vt0 0 bytes)
	# the readers' opens wait for the sinks' (vt_vdpa sink opens the FIFO)
	stalled_reader $W/fifo1 $W/part1
	r1=$reader
	stalled_reader $W/fifo2 $W/part2
	r2=$reader
	"$VT" sink vt0 0 $W/fifo1 block || return 1
	"$PATTERN" write 3 $SWAP_PAGES "$(port_dev trace-path-cpu0)" \
		> $W/ws 2>&1 &
	w=$!
	swap_at $((b0 + SWAP_HEAD * 4096)) $W/fifo2 || return 1
	a1=$at
	swap_at $((a1 + SWAP_HEAD * 4096)) $W/part3 || return 1
	a2=$at
	wait $w || { cat $W/ws; return 1; }
	wait_for 300 stat_is vt0 0 bytes $((b0 + SWAP_PAGES * 4096)) ||
		{ "$VT" stats vt0 0; return 1; }
	touch $W/fifo1.go $W/fifo2.go
	wait $r1
	wait $r2
	"$VT" stats vt0 0
	echo "swapped after $(((a1 - b0) / 4096)) and $(((a2 - b0) / 4096)) pages"
	ls -l $W/part1 $W/part2 $W/part3
	cat $W/part1 $W/part2 $W/part3 | "$PATTERN" check 3 - | tee $W/checks
	[ "$(wc -c < $W/part1)" = $((a1 - b0)) ] &&
		[ "$(wc -c < $W/part2)" = $((a2 - a1)) ] &&
		[ "$(wc -c < $W/part3)" = $((b0 + SWAP_PAGES * 4096 - a2)) ] &&
		[ -s $W/part3 ] &&
		[ "$(cat $W/checks)" = "$SWAP_PAGES pages $((SWAP_PAGES * 4096)) bytes" ] &&
		stat_is vt0 0 sink_errors 0 && stat_is vt0 0 dropped_buffers 0
}

# After a failure nothing may hang: port 0 into a file (the writer ends,
# the module lets go of the pipes), the readers read to EOF (one still in
# its open gets a writer that goes at once).
swap() {
	swap_run && return 0
	"$VT" sink vt0 0 $W/rest block
	touch $W/fifo1.go $W/fifo2.go
	exec 3<> $W/fifo1
	exec 3>&-
	exec 3<> $W/fifo2
	exec 3>&-
	wait $w $r1 $r2
	return 1
}
check "$REL: sink swaps at controlled points (pipe -> pipe -> file): each sink holds what was written before its swap, together every page once, in order" swap

# The ioctls' errors and rights.
errors() {
	e=$("$VT" errno add vt0 2; "$VT" errno add 'bad/name' 1;
	    "$VT" errno add x 0; "$VT" errno add y 257; "$VT" errno ctl nosuch;
	    "$VT" errno del nosuch)
	echo $e
	[ "$(echo $e)" = "EEXIST EINVAL EINVAL EINVAL ENOENT ENOENT" ] ||
		return 1
	chmod 666 /dev/vhost-trace
	e=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$VT" errno ctl vt0; setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$VT" errno del vt0)
	chmod 600 /dev/vhost-trace
	echo $e
	[ "$(echo $e)" = "EPERM EPERM" ]
}
check "$REL: VDPA ioctls: EEXIST, EINVAL, ENOENT; EPERM for another user" errors

# The vdpa tool: a device of vdpa_ports ports, deleted by the tool.
vdpa_tool() {
	vdpa dev add mgmtdev vhost-trace name vt2 &&
		vdpa dev show vt2 &&
		[ -d /sys/bus/vdpa/devices/vt2 ] &&
		wait_for 100 port_dev trace-path-cpu3 > /dev/null &&
		vdpa dev del vt2 && [ ! -d /sys/bus/vdpa/devices/vt2 ]
}
check "$REL: vdpa dev add/del mgmtdev vhost-trace (4 ports)" vdpa_tool

# Hostile rings from a userspace driver through vhost_vdpa.
hostile() {
	"$VT" add vt1 1 && wait_for 50 test -e /sys/bus/vdpa/devices/vt1/driver ||
		return 1
	modprobe vhost_vdpa || return 1
	echo vt1 > /sys/bus/vdpa/devices/vt1/driver/unbind &&
	echo vhost_vdpa > /sys/bus/vdpa/devices/vt1/driver_override &&
	echo vt1 > /sys/bus/vdpa/drivers/vhost_vdpa/bind || return 1
	dev=$(ls -d /sys/bus/vdpa/devices/vt1/vhost-vdpa-* 2>/dev/null | head -n 1)
	[ -n "$dev" ] && wait_for 50 test -c "/dev/${dev##*/}" || return 1
	"$BUILD/selftests/$SERIES/vhost_trace/vt_vdpa_hostile" \
		"/dev/${dev##*/}" vt1 $W/hostile.out
	st=$?
	"$VT" stats vt1 0
	"$VT" del vt1 && [ $st = 0 ]
}
check "$REL: hostile rings through vhost_vdpa: counters exact" hostile

# Deletion while data flows (virtio_vdpa bound, a writer busy).
delete_busy() {
	"$VT" sink vt0 0 $W/busy block || return 1
	"$PATTERN" write 4 100000 "$(port_dev trace-path-cpu0)" > $W/wd 2>&1 &
	w=$!
	sleep 1
	stat vt0 0 bytes
	"$VT" del vt0 || return 1
	wait $w
	echo "writer: $(cat $W/wd)"
	[ ! -d /sys/bus/vdpa/devices/vt0 ] && ! port_dev trace-path-cpu0 &&
		[ "$("$VT" errno ctl vt0)" = ENOENT ]
}
check "$REL: device deleted while a writer is busy" delete_busy

exit $FAILED
