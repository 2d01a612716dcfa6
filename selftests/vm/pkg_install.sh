#!/bin/bash
# In the host VM with a writable root (tools/dev/vmrun -w: an overlay over
# the dev machine's read-only root; nothing reaches the dev machine): the
# packages of `make deb` installed with dpkg, used as a user would, and
# purged.
#  - dpkg -i dkms (Debian's, from $PKGDEPS) and vhost-trace-dkms,
#    vhost-trace, vhost-trace-agent, vhost-trace-qemu: DKMS builds
#    vhost_trace.ko for the running kernel (vhost.h from linux-source of
#    the headers' version); postinst makes the vhost-trace group
#    (systemd-sysusers); /usr/bin/qemu-system-x86_64-vhost-trace runs,
#    with q35 and vhost-trace-pci.
#  - systemd-modules-load (what systemd runs at boot) loads it from the
#    installed modules-load.d file; no udevd runs in this busybox-init VM,
#    so `udevadm test` evaluates the installed rules for /dev/vhost-trace
#    and applies the GROUP/MODE they decide, as udevd would.
#  - both units pass `systemd-analyze verify`; vhost-traced is started
#    with the unit's RuntimeDirectory= and ExecStart= (no systemd here).
#  - an unprivileged member of the group records a nested guest, run by
#    the installed QEMU, with the installed CLI; in the guest (busybox: no
#    udev, no systemd) the installed agent rule is evaluated against the
#    guest's virtio ports and the unit's ExecStart run, as udev + systemd
#    would; trace.dat as stock trace-cmd reads it.
#  - dpkg --purge of all of them: no file of theirs left, no module under
#    /lib/modules, nothing in /var/lib/dkms, no file anywhere in /etc,
#    /usr, /lib or /var (dpkg's own records aside) but the test user's
#    and the group's entries.
. "$(dirname "$0")/lib.sh"
# DKMS compiles the module under TCG: minutes, not a hang
CHECK_SLOW=${CHECK_SLOW:-600}

W=/tmp/vtpkg
SOCK=/run/vhost-trace/traced.sock
OUT=$W/out
DEBS=${DEBS:-$BUILD/deb}
PKGDEPS=${PKGDEPS:-$BUILD/pkgdeps}
USER_=vtuser
PKGS="vhost-trace-qemu vhost-trace-agent vhost-trace vhost-trace-dkms dkms"
QEMU_BIN=/usr/bin/qemu-system-x86_64-vhost-trace
. "$(dirname "$0")/traced_lib.sh"
VT=/usr/bin/vhost-trace
export VHOST_TRACED_SOCKET=$SOCK
rm -rf $W
mkdir -p $W
chmod 0755 $W
stamp=$W/stamp
touch $stamp
sleep 1

as_user() { setpriv --reuid=$USER_ --regid=users --init-groups -- "$@"; }

install_debs() {
	local s=$SECONDS
	ls -l $DEBS/*.deb $PKGDEPS/dkms_*.deb || return 1
	[ -w /usr ] || { echo "the root is not writable (vmrun -w)"; return 1; }
	# what linux-headers-$REL installs, but the VM's /lib/modules is the
	# unpacked kernel's (tools/dev/vm/init-host)
	ln -sfn /usr/src/linux-headers-$REL /lib/modules/$REL/build
	# what systemd makes in /dev at boot (dkms's bash needs <(...))
	[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
	# man-db's trigger would re-index every manual page over 9p under
	# TCG (minutes): off, as its debconf question man-db/auto-update does
	rm -f /var/lib/man-db/auto-update
	DEBIAN_FRONTEND=noninteractive dpkg -i $PKGDEPS/dkms_*.deb \
		$DEBS/vhost-trace-dkms_*.deb $DEBS/vhost-trace_*.deb \
		$DEBS/vhost-trace-agent_*.deb $DEBS/vhost-trace-qemu_*.deb 2>&1 |
		tee $W/dpkg.log
	local rc=${PIPESTATUS[0]}
	echo "dpkg -i: exit $rc in $((SECONDS - s)) s"
	[ "$rc" = 0 ]
}
check "$REL: dpkg -i dkms vhost-trace-dkms vhost-trace vhost-trace-agent vhost-trace-qemu" install_debs

dkms_built() {
	local ko
	dkms status vhost-trace
	ko=$(find /lib/modules/$REL/updates -name 'vhost_trace.ko*' | head -n 1)
	echo "module: $ko"
	[ -n "$ko" ] || { cat /var/lib/dkms/vhost-trace/*/build/make.log; return 1; }
	modinfo -F vhost_src "$ko"
	dkms status vhost-trace | grep -q "$REL.*installed" &&
		modinfo -F vhost_src "$ko" | grep -q "^linux-source-$SERIES $(dpkg-query -W -f='${Version}' linux-headers-$REL)\$"
}
check "$REL: DKMS built and installed vhost_trace.ko (vhost.h from linux-source-$SERIES of the headers' version)" dkms_built

group_made() {
	getent group vhost-trace
}
check "$REL: postinst made the vhost-trace group (sysusers.d)" group_made

# the installed QEMU runs (its libraries are there); it runs the nested
# guest recorded below too
qemu_installed() {
	$QEMU_BIN --version | head -n 1 &&
		$QEMU_BIN -machine help | grep -q '^q35 ' &&
		$QEMU_BIN -device help | grep -q '"vhost-trace-pci"'
}
check "$REL: vhost-trace-qemu: $QEMU_BIN --version; q35 and vhost-trace-pci" qemu_installed

# systemd-modules-load reads modules-load.d as at boot
modules_load() {
	rmmod vhost_trace 2>/dev/null
	[ ! -e /dev/vhost-trace ] || return 1
	cat /usr/lib/modules-load.d/vhost-trace.conf
	/lib/systemd/systemd-modules-load || return 1
	lsmod | grep vhost_trace && [ -c /dev/vhost-trace ]
}
check "$REL: systemd-modules-load loads vhost_trace (modules-load.d)" modules_load

# udevadm test: the installed rules decide GROUP and MODE of the device
# (no udevd runs here; udevadm test of systemd 252 sets them on the node
# itself, as udevd would).
udev_rule() {
	local out group mode
	out=$(udevadm test --action=add /sys/class/misc/vhost-trace 2>&1)
	echo "$out" | grep -iE 'vhost-trace|GROUP|MODE' | tail -n 8
	group=$(echo "$out" | sed -n "s/.*60-vhost-trace.rules:[0-9]* GROUP \([0-9]*\).*/\1/p" | tail -n 1)
	mode=$(echo "$out" | sed -n "s/.*60-vhost-trace.rules:[0-9]* MODE \(0[0-7]*\).*/\1/p" | tail -n 1)
	echo "rule: group ${group:-?} mode ${mode:-?}"
	[ "$group" = "$(getent group vhost-trace | cut -d: -f3)" ] &&
		[ "$mode" = 0660 ] || return 1
	# (udevadm test of systemd 252 applies them to the node itself)
	ls -l /dev/vhost-trace
	chgrp "$group" /dev/vhost-trace && chmod "$mode" /dev/vhost-trace &&
		[ "$(stat -c '%G %a' /dev/vhost-trace)" = "vhost-trace 660" ]
}
check "$REL: udevadm test: 60-vhost-trace.rules gives /dev/vhost-trace to group vhost-trace, 0660" udev_rule

units_verify() {
	SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
		/lib/systemd/system/vhost-traced.service \
		/lib/systemd/system/trace-agent.service
}
check "$REL: systemd-analyze verify: both installed units" units_verify

# kvm for QEMU as the user, as Debian's udev rule (50-udev-default.rules)
# gives it; the test user, as `adduser USER kvm; adduser USER vhost-trace`
# leave one: both supplementary (vhost-traced starts QEMU with the
# requester's supplementary groups too).
user_ready() {
	modprobe kvm_amd 2>/dev/null || modprobe kvm_intel
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm &&
	useradd -M -N -g users -G kvm,vhost-trace -d /nonexistent $USER_ &&
	id $USER_ &&
	as_user sh -c 'exec 3<> /dev/vhost-trace' &&
	! setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		sh -c 'exec 3<> /dev/vhost-trace' 2>/dev/null
}
check "$REL: a member of vhost-trace opens /dev/vhost-trace, nobody else" user_ready

# the unit's key: its last value
unit_key() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

start_unit() {
	local u=/lib/systemd/system/vhost-traced.service t cmd
	mkdir -p -m "$(unit_key $u RuntimeDirectoryMode)" \
		"/run/$(unit_key $u RuntimeDirectory)"
	cmd=$(unit_key $u ExecStart)
	echo "ExecStart: $cmd"
	$cmd > $W/traced.log 2>&1 &
	DAEMON=$!
	for t in $(seq 50); do
		[ -S $SOCK ] && as_user $VT list > /dev/null 2>&1 && break
		sleep 0.2
	done
	ls -l $SOCK
	[ "$(stat -c '%G %a' $SOCK)" = "vhost-trace 660" ] &&
		as_user $VT list
}
check "$REL: vhost-traced started as its unit does; the group's socket" start_unit

# The guest: the installed agent files, and what udev + systemd would do
# with them (coldplug: the ports are there at boot).
mkguest() {
	cat > $W/guest.sh <<'EOS'
R=/lib/udev/rules.d/60-trace-agent.rules
rule=$(grep -v '^#' $R | grep .)
name=$(echo "$rule" | sed -n 's/.*ATTR{name}=="\([^"]*\)".*/\1/p')
want=$(echo "$rule" | sed -n 's/.*ENV{SYSTEMD_WANTS}+="\([^"]*\)".*/\1/p')
echo "$rule" | grep -q 'SUBSYSTEM=="virtio-ports"' &&
	echo "$rule" | grep -q 'TAG+="systemd"' ||
	{ echo "guest: rule not understood: $rule"; exit 1; }
for p in /sys/class/virtio-ports/vport*; do
	[ "$(cat $p/name)" = "$name" ] || continue
	exe=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/$want)
	echo "guest: udev: ${p##*/} is $name: systemd starts $want: $exe"
	$exe 2> /tmp/agent.log &
	apid=$!
done
[ -n "${apid:-}" ] || { echo "guest: no port $name"; exit 1; }
c=0
while [ $c -lt "$(grep -c ^processor /proc/cpuinfo)" ]; do
	taskset -c $c sh -c "while :; do ls -R /sys/class > /dev/null; usleep 20000; done" &
	c=$((c + 1))
done
D=/sys/kernel/tracing
seen=0; zeros=0
while :; do
	on=$(cat $D/tracing_on)
	grep -q "\[x86-tsc\]" $D/trace_clock && [ "$on" = 1 ] && seen=1
	if [ "$seen" = 1 ] && [ "$on" = 0 ]; then
		zeros=$((zeros + 1)); [ $zeros -ge 2 ] && break
	else
		zeros=0
	fi
	sleep 0.5
done
sleep 5
kill -TERM $apid
wait $apid
echo "guest: agent exit $?"
echo "guest: done"
EOS
	chmod 0644 $W/guest.sh
}

record() {
	local t a
	mkguest
	mkdir -p $OUT && chown $USER_:users $OUT
	as_user $VT record --launch -d -o $OUT -n 2 -N pkg \
		-e sched:sched_switch -- "$TOP/tools/dev/guestrun" -t 300 -q $QEMU_BIN \
		-f /usr/sbin/trace-agent:/usr/sbin/trace-agent \
		-f /lib/udev/rules.d/60-trace-agent.rules:/lib/udev/rules.d/60-trace-agent.rules \
		-f /lib/systemd/system/trace-agent.service:/lib/systemd/system/trace-agent.service \
		$W/guest.sh > $W/record.log 2>&1 || { cat $W/record.log; return 1; }
	for t in $(seq 480); do
		a=$(as_user $VT list 2>/dev/null | awk '$2 == "pkg" {print $9}')
		[ "$a" = running ] && break
		case $a in error|gone|silent) break ;; esac
		sleep 0.5
	done
	for t in $(seq 60); do
		grep -q ': metadata: ' $W/traced.log && break
		sleep 0.5
	done
	sleep 4
	as_user $VT list
	grep "guest: udev" $OUT/qemu.log
	[ "$a" = running ] && grep -q "guest: udev: .* is agent-ctl-path" $OUT/qemu.log
}
check "$REL: $USER_ records a guest; the agent started from its rule and unit" record

stop_session() {
	local t
	as_user $VT stop pkg || return 1
	for t in $(seq 120); do
		grep -q "guestrun: exit status" $OUT/qemu.log && break
		sleep 0.5
	done
	tail -n 5 $OUT/qemu.log
	ls -l $OUT
	grep -q "guest: done" $OUT/qemu.log && tracedat_ok $OUT "0 1" &&
		[ "$(stat -c %U $OUT/trace.dat)" = $USER_ ]
}
check "$REL: vhost-trace stop; the user's trace.dat as trace-cmd reports it" stop_session

purge() {
	local p lists=$W/lists
	kill -TERM $DAEMON; wait $DAEMON
	: > $lists
	for p in $PKGS; do
		dpkg -L $p | while read -r f; do
			[ -d "$f" ] || echo "$f"
		done >> $lists
	done
	echo "$(wc -l < $lists) files in the packages"
	DEBIAN_FRONTEND=noninteractive timeout 400 dpkg --purge $PKGS 2>&1 |
		tee $W/purge.log
	local rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ]
}
check "$REL: dpkg --purge $PKGS" purge

nothing_left() {
	local f left=0 after
	while read -r f; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		echo "left: $f"; left=1
	done < $W/lists
	find /lib/modules/$REL -name 'vhost_trace.ko*' | grep . && left=1
	[ -e /var/lib/dkms/vhost-trace ] && { echo "left: /var/lib/dkms/vhost-trace"; left=1; }
	ls -d /usr/src/vhost-trace-* 2>/dev/null && left=1
	[ -e /run/vhost-trace ] && { echo "left: /run/vhost-trace"; left=1; }
	# any file written since the start, but dpkg's records, logs, the
	# accounts (the test user, the group: Debian keeps system groups),
	# and the module signing key pair dkms made at its first build (dkms
	# keeps it on purge, dpkg says so: dkms's, not ours)
	# (where packages, DKMS, systemd and udev write). What this VM wrote
	# is in the overlay's upper layer, which tools/dev/vm/init-host (PID 1,
	# outside the chroot) has at /upper/u: found there in a moment, where
	# the same find over the merged root (9p under TCG) took 60 s, and
	# without what the dev machine itself writes meanwhile. /lib/modules
	# is a tmpfs of its own (vmrun), looked at directly.
	local up=/proc/1/root/upper/u d dirs=""
	for d in /etc /lib/systemd /lib/udev /usr/src /usr/sbin /usr/bin \
		/usr/lib/sysusers.d /usr/lib/modules-load.d /usr/lib/tmpfiles.d \
		/usr/share/man /usr/share/doc /var/lib; do
		d=$(readlink -f $d)	# /lib is /usr/lib on Debian 12
		if [ -d $up ]; then
			[ -d $up$d ] && dirs="$dirs $up$d"
		else
			dirs="$dirs $d"
		fi
	done
	[ -d $up ] && echo "looking in the upper layer $up"
	[ -d $up ] || up=""
	after=$(find $dirs /lib/modules -path $up/var/lib/dpkg -prune -o \
		\( -type f -o -type l \) -newer $stamp -print 2>/dev/null |
		sed "s|^$up/|/|" | grep -vE \
		'^/var/lib/dpkg/|^/var/log/|^/var/cache/|^/var/lib/dkms/mok\.(key|pub)$|^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|^/etc/ld.so.cache$|^/lib/modules/[^/]*/build$|^/lib/modules/[^/]*/modules\.')
	[ -z "$after" ] || { echo "written and left:"; echo "$after"; left=1; }
	lsmod | grep -q vhost_trace && echo "(module still loaded: purge does not unload)"
	return $left
}
check "$REL: nothing left behind (package files, module, /var/lib/dkms, /usr/src, /run)" nothing_left

exit $FAILED
