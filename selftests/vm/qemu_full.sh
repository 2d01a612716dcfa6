#!/bin/bash
# In the host VM: the shipped QEMU (vhost-trace-qemu's
# qemu-system-x86_64-vhost-trace, taken from the .deb of `make deb`) runs a
# normal VM: a q35 guest whose root file system is a virtio-blk disk image
# (ext4 made here with mke2fs -d from the guest initramfs' contents; a
# small initrd loads virtio_blk and ext4, mounts /dev/vda and switches to
# it), with virtio-net on user networking (the guest gets a DHCP lease),
# traced through vhost-traced (record --launch adds vhost-trace-pci): the
# agent on the disk, trace.dat as stock trace-cmd reads it.
. "$(dirname "$0")/lib.sh"

W=/tmp/vtq35
SOCK=$W/traced.sock
OUT=$W/out
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W

check "$REL: module loads" load_module

# the binary as the package installs it (the firmware, found relative to
# /usr/bin when installed, is named with -L here)
QF=$W/pkg/usr/bin/qemu-system-x86_64-vhost-trace
unpack() {
	dpkg-deb -x $BUILD/deb/vhost-trace-qemu_*.deb $W/pkg && [ -x $QF ] &&
		$QF -version | head -n 1 &&
		$QF -machine help | grep -q '^q35 ' &&
		$QF -device help | grep -q '"vhost-trace-pci"'
}
check "$REL: vhost-trace-qemu: q35 and vhost-trace-pci in the shipped QEMU" unpack

# mods DIR NAME...: the modules NAME and what they need, uncompressed, into
# DIR/lib/modules, in load order in DIR/modules.order
mods() {
	local dir=$1 m ko name
	shift
	mkdir -p $dir/lib/modules
	: > $dir/modules.order
	for m in "$@"; do
		modprobe --show-depends $m | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++' | while read -r ko; do
		name=$(basename $ko); name=${name%.xz}; name=${name%.zst}
		case $ko in
		*.xz)	xz -dc $ko > $dir/lib/modules/$name ;;
		*.zst)	zstd -qdc $ko > $dir/lib/modules/$name ;;
		*)	cp $ko $dir/lib/modules/$name ;;
		esac
		echo $name >> $dir/modules.order
	done
}

mkdisk() {
	local r=$W/root i=$W/initrd
	mkdir -p $r $i/bin $i/dev $i/proc $i/sys $i/newroot
	(cd $r && zcat $BUILD/vm/initramfs-guest-$REL.cpio.gz | cpio -id --quiet) || return 1
	# the guest's own modules: the console, and the network card's
	rm -rf $r/lib/modules
	mods $r virtio_console virtio_net
	cp $AGENT $r/bin/trace-agent
	cat > $r/run.sh <<'EOS'
echo "guest: root: $(awk '$2 == "/" {print $1, $3}' /proc/mounts)"
ip link set eth0 up &&
	udhcpc -i eth0 -n -q -t 10 -s /bin/true 2>&1 | grep -i lease &&
	echo "guest: virtio-net: $(basename $(readlink /sys/class/net/eth0/device/driver)) lease"
export SETTLE=3
. /guest_traced.sh
EOS
	cp $TOP/selftests/vm/guest_traced.sh $r/guest_traced.sh
	# the initrd: busybox, virtio_pci, virtio_blk, ext4; then the disk
	cp /bin/busybox $i/bin/busybox
	ln -s busybox $i/bin/sh
	mods $i virtio_pci virtio_blk crc32c_generic ext4
	cat > $i/init <<'EOS'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m; done
for t in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
mount -t ext4 -o ro /dev/vda /newroot || { echo "initrd: no /dev/vda"; poweroff -f; }
mount -o remount,rw /newroot
umount /dev /proc
exec switch_root /newroot /init
EOS
	chmod 755 $i/init
	(cd $i && find . | cpio -o -H newc --quiet | gzip -1) > $W/initrd.gz &&
	mke2fs -q -t ext4 -d $r -L vtroot $W/disk.img 96M &&
	ls -l $W/disk.img $W/initrd.gz
}
check "$REL: disk image (mke2fs -d, ext4) and initrd" mkdisk

check "$REL: vhost-traced starts" start_daemon

kvm_dev() {
	[ -e /dev/kvm ] || modprobe kvm_amd 2>/dev/null || modprobe kvm_intel
	[ -c /dev/kvm ]
}
check "$REL: /dev/kvm (kvm_amd) for the nested guest" kvm_dev

record() {
	local t a
	cat > $W/q35.sh <<EOF2
#!/bin/sh
# QEMU as a user starts it; the daemon appends vhost-trace-pci
exec timeout -s KILL 300 $QF -machine q35 -enable-kvm \\
	-cpu host,kvm-steal-time=off -smp 2 -m 512 \\
	-nodefaults -no-user-config -display none -no-reboot \\
	-L /usr/share/qemu -L /usr/share/seabios -L /usr/lib/ipxe/qemu \\
	-kernel $BUILD/kernels/$REL/boot/vmlinuz-$REL -initrd $W/initrd.gz \\
	-append "console=ttyS0 quiet panic=-1 maxcpus=1 pci=noearly noreplace-smp" \\
	-drive file=$W/disk.img,if=virtio,format=raw \\
	-nic user,model=virtio-net-pci \\
	-chardev stdio,id=con,signal=off -serial chardev:con "\$@" < /dev/null
EOF2
	chmod 755 $W/q35.sh
	"$VT" record --launch -d -o $OUT -n 2 -N q35 -e sched:sched_switch \
		-- $W/q35.sh > $W/record.log 2>&1 || { cat $W/record.log; return 1; }
	for t in $(seq 480); do
		a=$("$VT" list 2>/dev/null | awk '$2 == "q35" {print $9}')
		[ "$a" = running ] && break
		case $a in error|gone|silent) break ;; esac
		"$VT" list 2>/dev/null | awk '$2 == "q35" {print $3}' | grep -qx ended && break
		sleep 0.5
	done
	for t in $(seq 60); do
		grep -q ': metadata: ' $W/traced.log && break
		sleep 0.5
	done
	sleep 4
	"$VT" list
	grep "^guest: " $OUT/qemu.log
	[ "$a" = running ] &&
		grep -q "^guest: root: /dev/vda ext4" $OUT/qemu.log &&
		grep -q "^guest: virtio-net: virtio_net lease" $OUT/qemu.log
}
check "$REL: q35 guest from its virtio-blk disk, virtio-net DHCP lease, traced (agent running)" record

stop_session() {
	local t
	"$VT" stop q35 || return 1
	for t in $(seq 120); do
		grep -q "guestrun: exit status" $OUT/qemu.log && break
		sleep 0.5
	done
	tail -n 3 $OUT/qemu.log
	grep -q "guest: done" $OUT/qemu.log && tracedat_ok $OUT "0 1"
}
check "$REL: stop: trace.dat of the q35 guest as trace-cmd reports it" stop_session

quit_daemon() {
	kill -TERM $DAEMON
	wait $DAEMON
}
check "$REL: vhost-traced exits 0" quit_daemon

unload() {
	sleep 1
	rmmod vhost_trace
}
check "$REL: module unloads" unload

exit $FAILED
