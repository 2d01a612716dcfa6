#!/bin/bash
# In the host VM, booted with a writable root (tools/dev/vmrun -w): Debian
# 12's libvirt-daemon-system, downloaded into the build directory
# (tools/dev/libvirt-debs.sh), dpkg-installed into the VM's overlay and
# libvirtd run by hand (no systemd here). A nested guest is a libvirt
# domain defined by XML (our QEMU as its <emulator>, the nested tests'
# kernel and initramfs) and started with virsh; its trace agent waits for
# its ports. Then, as libvirt users do:
#   - refusals a libvirt user understands: no such domain, a domain that
#     is not running, a QEMU without the device;
#   - vhost-trace record --domain: the agent finds the hot-plugged ports,
#     sched_switch is traced while a workload runs; stop: stock trace-cmd
#     reads DIR/trace.dat with every page accounted for, `virsh dumpxml`
#     is as before, the domain runs on, QEMU holds no device fd;
#   - the same again (attach twice in a row), and while traced migration
#     is refused (virsh save: libvirt finds the unmigratable device),
#     the domain running on, traced;
#   - from boot: virsh start --paused, record --domain -d, virsh resume:
#     the guest finds the device at boot; then `virsh destroy`: the
#     session ends by itself with its files (DIR/stats state=ended, page
#     files, trace.dat);
#   - from boot with the device in the domain's XML (qemu:commandline:
#     -chardev null and vhost-trace-pci with it), started with virsh
#     start: the guest finds it at boot; record --domain by vtlv1 (not
#     root: the daemon's group and libvirt's) takes that device over
#     (QEMU keeps one device fd), stop releases it (it stays, dumpxml as
#     before, the files vtlv1's); taken over again by root, its own
#     share of the device's counters; vtlv2 (not libvirt's) is refused
#     by libvirt, vtlv3 (not the daemon's group) by the daemon;
#   - the vDPA front end (a kernel with CONFIG_VDPA: make check runs this
#     script on 6.12, where both front ends exist): Debian's stock QEMU
#     10.0 (tools/dev/stock-qemu.sh) as a domain's <emulator>. Without
#     shared RAM refused, naming the XML to add; with it (memoryBacking
#     memfd, access shared) record --domain by vtlv1, auto: the daemon
#     picks vdpa (qom-list-types), creates the vDPA device, binds
#     vhost_vdpa, add-fd of /dev/vhost-vdpa-N and device_add of
#     vhost-vdpa-device-pci through libvirt; the agent runs on the
#     device's control fd; stop: device_del, the vDPA device deleted,
#     QEMU holds no vhost-vdpa fd, dumpxml unchanged, the guest runs on;
#     agent = module = files, trace.dat by stock trace-cmd; from boot: a
#     persistent vDPA device (vdpa dev add, made before the hot-plug's)
#     in the XML (qemu:commandline vhost-vdpa-device-pci,vhostdev=/dev/
#     vhost-vdpa-N), found by the guest at boot, taken over by vtlv1 by
#     its name and released at stop (it stays: domain, module).
# Prints its own time per step (VM seconds).
. "$(dirname "$0")/lib.sh"

W=/tmp/vtlv
SOCK=$W/traced.sock
OUT=$W/out
URI=qemu:///system
DOM=vtguest
DEBS=$BUILD/libvirt-debs
QEMU_BIN=$BUILD/qemu/full/qemu-system-x86_64
. "$(dirname "$0")/traced_lib.sh"
rm -rf $W
mkdir -p $W
VIRSH="virsh -q -c $URI"

for f in "$TRACED" "$VT" "$AGENT" "$CTL_BIN" "$QEMU_BIN"; do
	[ -x "$f" ] || { echo "no $f"; exit 1; }
done

step() { echo "time: $1 at ${SECONDS} s"; }

# with the vDPA core where the kernel has vDPA (6.12: both front ends;
# the vDPA part below needs it)
check "$REL: module loads" load_module_vdpa

# The VM's root must be writable (vmrun -w): the packages go to /usr,
# /etc, /var. Default: dpkg -i, maintainer scripts and all (~120 s under
# TCG: dpkg reads this machine's whole package database over 9p).
# LIBVIRT_INSTALL=unpack: the packages' files only (dpkg-deb, 4 s), the
# socket's group and ldconfig (NOT WORKING YET: libvirtd did not come up
# that way in its one run, before ldconfig was added; why not known).
install_libvirt() {
	local t0=$SECONDS rc d how=${LIBVIRT_INSTALL:-dpkg}
	touch /usr/.vt-writable 2>/dev/null && rm -f /usr/.vt-writable ||
		{ echo "the root is read-only: run under tools/dev/vmrun -w"; return 1; }
	ls $DEBS/*.deb > /dev/null || return 1
	if [ "$how" = dpkg ]; then
		# no service is started by a maintainer script, no man-db
		# index rebuild, no docs, man pages or translations, no fsync
		# (the overlay's upper is a tmpfs)
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		rm -f /var/lib/man-db/auto-update
		DEBIAN_FRONTEND=noninteractive dpkg --force-unsafe-io \
			--path-exclude='/usr/share/doc/*' \
			--path-exclude='/usr/share/man/*' \
			--path-exclude='/usr/share/locale/*' \
			-i $DEBS/*.deb > $W/dpkg.log 2>&1
		rc=$?
		tail -n 3 $W/dpkg.log
		dpkg-query -W -f='${Package} ${Version} ${Status}\n' \
			libvirt-daemon-system libvirt-daemon-driver-qemu \
			libvirt-clients
	else
		rc=0
		for d in $DEBS/*.deb; do
			# merged /usr: /lib, /bin, /sbin stay links
			dpkg-deb --fsys-tarfile "$d" |
				tar -x -C / --keep-directory-symlink \
				--exclude='./usr/share/doc/*' \
				--exclude='./usr/share/man/*' \
				--exclude='./usr/share/locale/*' || rc=1
		done
		getent group libvirt > /dev/null || groupadd -r libvirt || rc=1
		ldconfig || rc=1
	fi
	echo "$how of $(ls $DEBS/*.deb | wc -l) packages ($(cat $DEBS/list |
		grep -o '^libvirt-daemon-system=.*')): exit $rc, $((SECONDS - t0)) s"
	[ "$rc" = 0 ] && command -v libvirtd && command -v virsh
}
check "$REL: Debian's libvirt-daemon-system in the VM's overlay (${LIBVIRT_INSTALL:-dpkg})" \
	install_libvirt
step installed

# libvirtd by hand: QEMU as root (the VM has no libvirt-qemu rights to
# manage), no cgroups, namespaces or security driver (none set up in the
# VM), QEMU's output to a file (no virtlogd); root's unix socket.
start_libvirtd() {
	cat >> /etc/libvirt/qemu.conf <<'EOF'
user = "root"
group = "root"
cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
stdio_handler = "file"
EOF
	# libvirt's own access rule for the non-root tests: members of
	# group libvirt may manage every domain (no polkit in the VM)
	cat >> /etc/libvirt/libvirtd.conf <<'EOF'
unix_sock_group = "libvirt"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
EOF
	modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null
	kvm_shadow_paging || return 1
	run_libvirtd
}
# in the background rather than --daemon: its errors stay in the log
run_libvirtd() {
	local t
	libvirtd --pid-file $W/libvirtd.pid >> $W/libvirtd.out 2>&1 &
	LIBVIRTD=$!
	for t in $(seq 100); do
		$VIRSH version > $W/version 2>&1 && break
		sleep 0.2
	done
	cat $W/version
	grep -q "Running hypervisor: QEMU" $W/version ||
		{ cat $W/libvirtd.out; return 1; }
}
check "$REL: libvirtd runs (virsh -c $URI version)" start_libvirtd
step libvirtd

# the guest: its agent waits for ports; it says when they come and go
cat > $W/guest.sh <<'EOS'
/bin/trace-agent 2> /tmp/agent.log &
for c in 0 1; do
	taskset -c $c sh -c 'while :; do ls -R /sys/class > /dev/null; usleep 20000; done' &
done
port() { grep -qx trace-path-cpu0 /sys/class/virtio-ports/*/name 2>/dev/null; }
echo "guest: ready, agent waiting for its ports"
round=1
while :; do
	until port; do sleep 0.5; done
	echo "guest: the device is here ($round)"
	while port; do sleep 0.5; done
	echo "guest: the device is gone ($round), the guest runs on"
	round=$((round + 1))
done
EOS

# guestrun's initramfs: the base, then the script and the agent
make_initrd() {
	local d=$W/initrd.d
	mkdir -p $d/bin
	cp $W/guest.sh $d/run.sh
	cp "$AGENT" $d/bin/trace-agent
	(cd $d && find . | cpio -o -H newc --quiet | gzip -1) > $W/extra
	cat $BUILD/vm/initramfs-guest-$REL.cpio.gz $W/extra > $W/initrd
}

# domain_xml NAME EMULATOR [OS [MORE]]: a domain of 2 vCPUs; the kernel
# command line and CPU as tools/dev/guestrun has them; MORE after <vcpu>
domain_xml() {
	cat <<EOF
<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  ${4:-}
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    ${3:-}
  </os>
  <features><acpi/></features>
  <cpu mode='host-passthrough' check='none' migratable='off'/>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$2</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$W/$1.console'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-L'/><qemu:arg value='/usr/share/qemu'/>
    <qemu:arg value='-L'/><qemu:arg value='/usr/share/seabios'/>
    <qemu:arg value='-cpu'/><qemu:arg value='host,kvm-steal-time=off'/>
  </qemu:commandline>
</domain>
EOF
}

OS_BOOT="<kernel>$BUILD/kernels/$REL/boot/vmlinuz-$REL</kernel>
    <initrd>$W/initrd</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 maxcpus=1 pci=noearly noreplace-smp</cmdline>"

# boot_domain NAME: define the domain NAME from $W/NAME.xml and start it,
# until its agent waits ("guest: ready" on its console); QPID is its QEMU
boot_domain() {
	local t
	$VIRSH define $W/$1.xml > /dev/null && $VIRSH start $1 || {
		tail -n 20 /var/log/libvirt/qemu/$1.log; return 1; }
	for t in $(seq 240); do
		grep -q "^guest: ready" $W/$1.console 2>/dev/null && break
		sleep 0.5
	done
	QPID=$(cat /run/libvirt/qemu/$1.pid)
	echo "QEMU pid $QPID: $(tr '\0' ' ' < /proc/$QPID/cmdline | cut -c1-300)"
	grep -q "^guest: ready" $W/$1.console || { cat $W/$1.console; return 1; }
}

start_domain() {
	make_initrd || return 1
	domain_xml $DOM "$QEMU_BIN" "$OS_BOOT" > $W/$DOM.xml
	boot_domain $DOM && $VIRSH dumpxml $DOM > $W/before.xml
}
check "$REL: a nested guest defined by XML and started with virsh; its agent waits" \
	start_domain
step domain

# users for the non-root tests: vtlv1 may use the daemon (group
# vtusers) and manage domains (group libvirt); vtlv2 the daemon only,
# vtlv3 libvirt only
users() {
	groupadd -f vtusers && getent group libvirt > /dev/null &&
	useradd -M -N -g vtusers -G libvirt -d /nonexistent vtlv1 &&
	useradd -M -N -g vtusers -d /nonexistent vtlv2 &&
	useradd -M -N -g nogroup -G libvirt -d /nonexistent vtlv3 &&
	chmod 755 $W
}
check "$REL: users vtlv1 (daemon's group, libvirt), vtlv2 (daemon's group), vtlv3 (libvirt)" users
as_user() { local u=$1; shift; setpriv --reuid=$u --init-groups -- "$@"; }

check "$REL: vhost-traced starts (group vtusers)" start_daemon -g vtusers
step daemon

# the refusals, before any session: each names what is wrong
refusals() {
	local t0=$SECONDS r
	# a second domain, defined, not started: "not running"; then started
	# with Debian's stock QEMU (no device; SeaBIOS alone, no guest)
	domain_xml idle /usr/bin/qemu-system-x86_64 > $W/idle.xml
	sed -i '/<qemu:commandline>/,/<\/qemu:commandline>/d; s/ xmlns:qemu=[^>]*//' \
		$W/idle.xml
	$VIRSH define $W/idle.xml > /dev/null || return 1
	"$VT" record --domain nosuch --connect $URI -o $W/bad -q > $W/r1 2>&1
	r=$?
	"$VT" record --domain idle --connect $URI -o $W/bad -q > $W/r2 2>&1
	r="$r $?"
	$VIRSH start idle > /dev/null || return 1
	"$VT" record --domain idle --connect $URI -o $W/bad -q > $W/r3 2>&1
	r="$r $?"
	$VIRSH destroy idle > /dev/null
	$VIRSH undefine idle > /dev/null
	cat $W/r1 $W/r2 $W/r3
	echo "exit codes: $r ($((SECONDS - t0)) s)"
	[ "$r" = "1 1 1" ] && grep -q "no domain nosuch" $W/r1 &&
		grep -q "domain idle is not running" $W/r2 &&
		grep -q "has no vhost-trace-pci device" $W/r3 &&
		"$VT" list | grep -q "no sessions"
}
check "$REL: record --domain refuses: no such domain, not running, QEMU without the device" \
	refusals
step refusals

# a lying bridge (not the CLI): names a process of its own as the
# domain's vCPU and passes the device fd to nobody; the daemon finds that
# process without the device file (kcmp) and takes back the getfd
lying_bridge() {
	local before sp out
	before=$(ls /proc/$DAEMON/fd | wc -l)
	sleep 60 &
	sp=$!
	out=$(python3 "$TOP/selftests/vm/libvirt_fake_bridge.py" $SOCK $W/fk $sp)
	kill $sp
	echo "$out"
	echo "daemon fds: $before before, $(ls /proc/$DAEMON/fd | wc -l) after"
	echo "$out" | grep -qx "commands: qmp_capabilities query-cpus-fast qom-list qom-list qom-list-types getfd closefd" &&
		echo "$out" | grep -q "did not get the device file" &&
		[ "$(ls /proc/$DAEMON/fd | wc -l)" = "$before" ] &&
		"$VT" list | grep -q "no sessions"
}
check "$REL: a lying bridge (a vCPU thread of a process without the device): refused, getfd taken back, nothing left" \
	lying_bridge

agent_of() { "$VT" list 2>/dev/null | awk -v n="$1" '$2 == n {print $9}'; }

# start_record USER DOMAIN NAME DIR: record --domain as USER (DIR made
# theirs) in the background (pid RECORD) until the agent runs (AGENT:
# its state at the end of the wait)
start_record() {
	local u=$1 dom=$2 n=$3 d=$4 t t0=$SECONDS
	mkdir -p $d && chown $u $d
	as_user $u "$VT" record --domain $dom --connect $URI -o $d -N $n -q \
		-e sched:sched_switch > $W/record-$n.log 2>&1 &
	RECORD=$!
	for t in $(seq 240); do
		AGENT=$(agent_of $n)
		[ "$AGENT" = running ] && break
		case $AGENT in error|gone|silent) break ;; esac
		kill -0 $RECORD 2>/dev/null || break
		sleep 0.5
	done
	echo "agent $AGENT $((SECONDS - t0)) s after record --domain"
	cat $W/record-$n.log
	"$VT" status $n
	[ "$AGENT" = running ] || { last_log | tail -n 20; return 1; }
}

# stop_record USER NAME: vhost-trace stop NAME as USER, and the record's
# end: their exit statuses in STOP_RC and RECORD_RC
stop_record() {
	local t0=$SECONDS
	as_user $1 "$VT" stop $2 > $W/stop-$2.out 2>&1
	STOP_RC=$?
	wait $RECORD
	RECORD_RC=$?
	echo "stop: exit $STOP_RC in $((SECONDS - t0)) s; record exited $RECORD_RC"
	cat $W/stop-$2.out
}

# stopped_ok NAME DIR DOMAIN BEFORE_XML STOP_LINE STATE: session NAME's
# stop (stop_record) and its record exited 0, the stop said STOP_LINE (a
# grep pattern) and DIR/stats device_state=STATE, the agent stopped; the
# domain's XML ($W/after-NAME.xml) is BEFORE_XML's, the domain runs
stopped_ok() {
	[ "$STOP_RC" = 0 ] && [ "$RECORD_RC" = 0 ] &&
		grep -q "$5" $W/stop-$1.out &&
		grep -q "device_state=$6" $2/stats &&
		grep -q "agent=stopped" $2/stats &&
		cmp -s $4 $W/after-$1.xml &&
		[ "$($VIRSH domstate $3)" = running ]
}

# record_domain NAME DIR: record --domain (root) until the agent runs;
# the device hot-plugged, the XML as before
record_domain() {
	start_record root $DOM $1 $2 || { tail -n 20 $W/$DOM.console; return 1; }
	$VIRSH dumpxml $DOM > $W/during-$1.xml
	cmp $W/before.xml $W/during-$1.xml &&
		echo "virsh dumpxml while traced: as before" &&
	"$VT" status $1 | grep -q "attached to libvirt domain $DOM ($URI): device vtrace[0-9]* attached" &&
		grep -q "attached to domain, QEMU pid $QPID, 2 port(s)" $W/record-$1.log &&
		[ "$(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)" = 1 ]
}

# stop_domain NAME DIR: vhost-trace stop; files complete, device gone,
# XML as before, the domain runs on
stop_domain() {
	stop_record root $1
	$VIRSH dumpxml $DOM > $W/after-$1.xml
	diff $W/before.xml $W/after-$1.xml && echo "virsh dumpxml: the same"
	echo "domain: $($VIRSH domstate $DOM); QEMU vhost-trace fds:" \
	     "$(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)"
	stopped_ok $1 $2 $DOM $W/before.xml "device vtrace[0-9]* detached" detached &&
		[ "$(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)" = 0 ]
}

# all_pages DIR: per CPU, the agent's byte count (its stop answer) = the
# module's = the file's size; every page valid (check-pages)
all_pages() {
	local p b ab f
	for p in 0 1; do
		b=$(sed -n "s/^cpu$p bytes=\([0-9]*\) .*/\1/p" $1/stats)
		ab=$(sed -n "s/^cpu$p .* agent_bytes=\([0-9]*\).*/\1/p" $1/stats)
		f=$(stat -c %s $1/cpu$p.raw)
		echo "cpu$p: agent $ab, module $b, file $f bytes"
		[ -n "$ab" ] && [ "$ab" = "$b" ] && [ "$b" = "$f" ] || return 1
	done
	"$CTL_BIN" check-pages $1/cpu0.raw $1/cpu1.raw
}

round() {
	local n=$1 dir=$2
	record_domain $n $dir || return 1
	sleep 3
	stop_domain $n $dir && all_pages $dir
}

# virsh save (a migration to a file) while traced: refused (libvirt 9.0
# says "cannot migrate domain: non-migratable device: .../vhost-trace");
# the domain runs on, traced
no_migration() {
	local rc
	$VIRSH save $DOM $W/save.img > $W/save.out 2>&1
	rc=$?
	cat $W/save.out
	echo "virsh save: exit $rc; domain $($VIRSH domstate $DOM);" \
	     "session $("$VT" list | awk '$2 == "lb" {print $3}')"
	[ "$rc" != 0 ] && grep -qi "migrat" $W/save.out &&
		[ "$($VIRSH domstate $DOM)" = running ] &&
		[ "$("$VT" list | awk '$2 == "lb" {print $3}')" = running ] &&
		[ ! -s $W/save.img ]
}

round_migrate() {
	record_domain lb $W/out2 || return 1
	no_migration || { stop_domain lb $W/out2; return 1; }
	sleep 1
	stop_domain lb $W/out2 && all_pages $W/out2
}

check "$REL: record --domain: hot-plugged through libvirt, the agent runs; stop: detached, dumpxml unchanged, domain running; agent bytes = module's = files'" \
	round la $OUT
check "$REL: --domain: stock trace-cmd reads DIR/trace.dat, sched_switch on both CPUs, every page's events" \
	tracedat_ok $OUT "0 1"
step "first round"

check "$REL: record --domain again (twice in a row); migration (virsh save) refused while traced; detached, dumpxml unchanged" \
	round_migrate
check "$REL: --domain again: trace.dat read by stock trace-cmd, every page's events" \
	tracedat_ok $W/out2 "0 1"
step "second round"

# from boot: started paused, the device attached before the guest's
# first instruction, resumed; then destroyed while traced: the session
# ends by itself, with its files
from_boot() {
	local t a t0=$SECONDS
	$VIRSH destroy $DOM > /dev/null || return 1
	$VIRSH start --paused $DOM || return 1
	QPID=$(cat /run/libvirt/qemu/$DOM.pid)
	"$VT" record --domain $DOM --connect $URI -o $W/out3 -N lc -q -d \
		-e sched:sched_switch > $W/record-lc.log 2>&1 ||
		{ cat $W/record-lc.log; return 1; }
	cat $W/record-lc.log
	$VIRSH resume $DOM || return 1
	for t in $(seq 240); do
		a=$(agent_of lc)
		[ "$a" = running ] && break
		case $a in error|gone|silent|"") break ;; esac
		sleep 0.5
	done
	echo "agent $a $((SECONDS - t0)) s after virsh start --paused"
	grep "^guest:" $W/$DOM.console
	[ "$a" = running ] && grep -q "^guest: the device is here (1)" $W/$DOM.console &&
		grep -q "attached to domain, QEMU pid $QPID" $W/record-lc.log
}
check "$REL: from boot: virsh start --paused, record --domain, virsh resume: the guest's agent finds the device and runs" \
	from_boot
step "from boot"

destroyed() {
	local t s
	# the guest's metadata (fetched once the agent started) first: the
	# trace.dat of a session that ends with its QEMU is made from it
	for t in $(seq 120); do
		grep -q "metadata: .* files in $W/out3/meta" $W/traced.log && break
		sleep 0.5
	done
	grep "metadata: .* files in $W/out3/meta" $W/traced.log
	sleep 1
	$VIRSH destroy $DOM || return 1
	for t in $(seq 100); do
		s=$("$VT" list | awk '$2 == "lc" {print $3}')
		[ "$s" = ended ] && break
		sleep 0.2
	done
	echo "session lc: $s after virsh destroy"
	"$VT" stop lc > $W/stop-lc.out 2>&1 || { cat $W/stop-lc.out; return 1; }
	cat $W/stop-lc.out
	ls -l $W/out3
	[ "$s" = ended ] && grep -q "^session .* state=ended" $W/out3/stats &&
		grep -q "device_state=detached" $W/out3/stats &&
		[ -s $W/out3/cpu0.raw ] && [ -s $W/out3/cpu1.raw ] &&
		[ "$($VIRSH domstate $DOM)" = "shut off" ] &&
		"$VT" list | grep -q "no sessions" && ! grep -q "not running" $W/stop-lc.out
}
check "$REL: a domain destroyed while traced: the session ends cleanly (stats state=ended)" \
	destroyed
check "$REL: the destroyed domain's files: stock trace-cmd reads DIR/trace.dat, every page's events" \
	tracedat_ok $W/out3 "0 1"
step destroyed

# The domain's own device, from its XML (qemu:commandline): the agent's
# chardev a null backend, the device with it; QEMU opens /dev/vhost-trace
# itself. The guest finds the device at boot (no paused start);
# record --domain takes it over (vtlv1: not root, in the daemon's group
# and libvirt's), stop lets go of it (the device stays, the guest keeps
# its ports), and again (root): each session has its own share of the
# device's counters.
OWN_ARGS="<qemu:arg value='-chardev'/><qemu:arg value='null,id=vtagent'/>
    <qemu:arg value='-device'/><qemu:arg value='vhost-trace-pci,id=vtrace,ports=2,chardev=vtagent'/>"
boot_xml() {
	local t
	awk -v a="$OWN_ARGS" '/<\/qemu:commandline>/ {print "    " a} {print}' \
		$W/$DOM.xml > $W/own.xml
	# defined anew (the same name with a new uuid is refused)
	$VIRSH undefine $DOM > /dev/null && $VIRSH define $W/own.xml > /dev/null ||
		return 1
	: > $W/$DOM.console
	$VIRSH start $DOM || { tail -n 20 /var/log/libvirt/qemu/$DOM.log; return 1; }
	for t in $(seq 240); do
		grep -q "^guest: the device is here (1)" $W/$DOM.console && break
		sleep 0.5
	done
	QPID=$(cat /run/libvirt/qemu/$DOM.pid)
	grep "^guest:" $W/$DOM.console
	$VIRSH dumpxml $DOM > $W/before.xml
	echo "QEMU vhost-trace fds: $(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)"
	grep -q "^guest: the device is here (1)" $W/$DOM.console &&
		[ "$(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)" = 1 ]
}
check "$REL: a domain whose XML has the device (qemu:commandline), started with virsh start: the guest finds it at boot" \
	boot_xml
step "boot XML"

# take_round USER NAME DIR: record --domain as USER takes the device
# over (no second device), the agent runs; stop: released, the device
# and the guest's ports stay, XML as before; agent = module = files
take_round() {
	local u=$1 n=$2 d=$3
	start_record $u $DOM $n $d || return 1
	echo "QEMU vhost-trace fds: $(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)"
	grep -q "took over the domain's own device, QEMU pid $QPID, 2 port(s)" $W/record-$n.log &&
		"$VT" status $n | grep -q "attached to libvirt domain $DOM ($URI): device vtrace taken" &&
		[ "$(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)" = 1 ] || return 1
	sleep 3
	stop_record $u $n
	$VIRSH dumpxml $DOM > $W/after-$n.xml
	echo "domain $($VIRSH domstate $DOM);" \
	     "QEMU vhost-trace fds: $(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace);" \
	     "files' owner $(stat -c %U $d/cpu0.raw)"
	sleep 1
	stopped_ok $n $d $DOM $W/before.xml "device vtrace released" released &&
		[ "$(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)" = 1 ] &&
		! grep -q "^guest: the device is gone" $W/$DOM.console &&
		[ "$(stat -c %U $d/cpu0.raw)" = $u ] &&
		all_pages $d
}
check "$REL: record --domain by vtlv1 (not root): the XML's device taken over, not a second one; stop: released, the device stays, dumpxml unchanged; agent bytes = module's = files'" \
	take_round vtlv1 ta $W/out4
check "$REL: the taken-over device: stock trace-cmd reads DIR/trace.dat, every page's events" \
	tracedat_ok $W/out4 "0 1"
check "$REL: taken over again (root): this session's share of the device's counters = its files" \
	take_round root tb $W/out5
check "$REL: the second take-over: trace.dat read by stock trace-cmd" \
	tracedat_ok $W/out5 "0 1"
step "take-over"

# who may not: vtlv2 (the daemon's group, not libvirt's): libvirt says
# no; vtlv3 (libvirt's, not the daemon's group): the daemon says no
refused_users() {
	local r2 r3 n0
	mkdir -p $W/out6 $W/out7 && chown vtlv2 $W/out6 && chown vtlv3 $W/out7
	n0=$("$VT" list | wc -l)
	as_user vtlv2 "$VT" record --domain $DOM --connect $URI -o $W/out6 -q \
		> $W/r6 2>&1
	r2=$?
	as_user vtlv3 "$VT" record --domain $DOM --connect $URI -o $W/out7 -q \
		> $W/r7 2>&1
	r3=$?
	cat $W/r6 $W/r7
	echo "exit codes: vtlv2 $r2, vtlv3 $r3"
	[ "$r2" = 1 ] && grep -q "cannot connect to libvirt at $URI" $W/r6 &&
		[ "$r3" = 3 ] && [ "$("$VT" list | wc -l)" = "$n0" ] &&
		[ "$(ls -l /proc/$QPID/fd | grep -c /dev/vhost-trace)" = 1 ]
}
check "$REL: refused: vtlv2 (the daemon's group, not libvirt's) by libvirt; vtlv3 (libvirt's, not the daemon's group) by the daemon" \
	refused_users
$VIRSH destroy $DOM > /dev/null
step "users"

# --- the vDPA front end: a domain under a stock QEMU ------------------------
# Debian's QEMU 10.0 (tools/dev/stock-qemu.sh) as the domain's <emulator>:
# no vhost-trace-pci, but vhost-vdpa-device-pci. record --domain (auto)
# creates the module's vDPA device, binds vhost_vdpa, passes
# /dev/vhost-vdpa-N through the bridge (add-fd), device_add on
# /dev/fdset/S; the agent's port 0 is the device's control fd. The
# guest's RAM must be shared: memfd, access shared (libvirt's XML).
STOCK=$BUILD/stock-qemu/qemu-system-x86_64
VDOM=vtvdpa
MEMFD_XML="<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
# the module's vDPA devices but the persistent vt-boot (below)
vdpa_devs() { ls /sys/bus/vdpa/devices 2>/dev/null | grep -vx vt-boot | paste -sd' '; }
vdpa_fds() { ls -l /proc/$1/fd 2>/dev/null | grep -c /dev/vhost-vdpa; }

if vdpa_kernel && [ -x "$STOCK" ]; then
	echo "stock QEMU: $(head -n 1 $BUILD/stock-qemu/VERSION)"

	# For the boot-time form (below): a persistent vDPA device of the
	# module (vdpa dev add, 2 ports from vdpa_ports, vhost_vdpa bound),
	# made before any session's: the hot-plug's device is made beside it
	vdpa_persistent() {
		local t drv
		echo 2 > /sys/module/vhost_trace/parameters/vdpa_ports &&
			vdpa dev add mgmtdev vhost-trace name vt-boot || return 1
		drv=$(basename "$(readlink /sys/bus/vdpa/devices/vt-boot/driver)")
		if [ "$drv" != vhost_vdpa ]; then
			modprobe vhost_vdpa
			echo vhost_vdpa > /sys/bus/vdpa/devices/vt-boot/driver_override
			[ -z "$drv" ] || [ "$drv" = . ] ||
				echo vt-boot > /sys/bus/vdpa/drivers/$drv/unbind
			# (vhost_vdpa, once loaded, may have bound it by itself)
			echo vt-boot > /sys/bus/vdpa/drivers/vhost_vdpa/bind 2>/dev/null
		fi
		for t in $(seq 40); do
			VNODE=$(ls /sys/bus/vdpa/devices/vt-boot | grep '^vhost-vdpa-')
			[ -n "$VNODE" ] && [ -c /dev/$VNODE ] && break
			sleep 0.25
		done
		echo "vDPA device vt-boot on /dev/$VNODE (driver '$drv' at first)"
		[ -c /dev/$VNODE ]
	}
	check "$REL: vDPA: a persistent vDPA device (vdpa dev add mgmtdev vhost-trace, vhost_vdpa bound)" \
		vdpa_persistent

	# a stock-QEMU domain without shared RAM (SeaBIOS alone, no guest):
	# refused, naming the XML to add; nothing left behind
	vdpa_no_shared() {
		local r
		domain_xml vtplain "$STOCK" > $W/vtplain.xml
		$VIRSH define $W/vtplain.xml > /dev/null &&
			$VIRSH start vtplain > /dev/null || return 1
		"$VT" record --domain vtplain --connect $URI -o $W/bad -q \
			> $W/r8 2>&1
		r=$?
		$VIRSH destroy vtplain > /dev/null
		$VIRSH undefine vtplain > /dev/null
		cat $W/r8
		grep "front end" $W/traced.log | tail -n 1
		echo "exit $r; vDPA devices after: '$(vdpa_devs)'"
		[ "$r" = 1 ] && grep -q "needs the guest's RAM shared" $W/r8 &&
			grep -q "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>" $W/r8 &&
			[ -z "$(vdpa_devs)" ] && "$VT" list | grep -q "no sessions"
	}
	check "$REL: vDPA: a stock-QEMU domain without shared RAM is refused, naming the XML to add (memoryBacking memfd, access shared); no vDPA device left" \
		vdpa_no_shared

	start_vdpa_domain() {
		domain_xml $VDOM "$STOCK" "$OS_BOOT" "$MEMFD_XML" > $W/$VDOM.xml
		boot_domain $VDOM || return 1
		echo "its RAM: $(tr '\0' ' ' < /proc/$QPID/cmdline | grep -o 'memory-backend-memfd[^ ]*')"
		$VIRSH dumpxml $VDOM > $W/before-vdpa.xml
	}
	check "$REL: vDPA: a domain under the stock QEMU (memfd, shared), started with virsh; its agent waits" \
		start_vdpa_domain

	# as vtlv1 (not root: the daemon's group and libvirt's), auto: the
	# daemon picks vdpa (qom-list-types); stop: device_del, the vDPA
	# device deleted, the files vtlv1's
	vdpa_round() {
		local u=vtlv1 n=lv d=$W/out8 t
		start_record $u $VDOM $n $d ||
			{ tail -n 20 $W/$VDOM.console; return 1; }
		echo "vDPA devices '$(vdpa_devs)'; QEMU vhost-vdpa fds: $(vdpa_fds $QPID)"
		$VIRSH dumpxml $VDOM > $W/during-$n.xml
		grep -q "attached to domain, QEMU pid $QPID, 2 port(s)" $W/record-$n.log &&
			grep -q "front end vdpa (vDPA device vt-$n on /dev/vhost-vdpa-" $W/record-$n.log &&
			grep -q "front end vdpa (QEMU has vhost-vdpa-device-pci, not vhost-trace-pci)" $W/traced.log &&
			"$VT" status $n | grep -q "attached to libvirt domain $VDOM ($URI): device vtrace[0-9]* attached" &&
			cmp -s $W/before-vdpa.xml $W/during-$n.xml &&
			[ "$(vdpa_devs)" = vt-$n ] && [ "$(vdpa_fds $QPID)" -ge 1 ] || return 1
		sleep 3
		stop_record $u $n
		for t in $(seq 20); do
			grep -q "^guest: the device is gone (1)" $W/$VDOM.console && break
			sleep 0.5
		done
		$VIRSH dumpxml $VDOM > $W/after-$n.xml
		diff $W/before-vdpa.xml $W/after-$n.xml && echo "virsh dumpxml: the same"
		echo "domain $($VIRSH domstate $VDOM);" \
		     "vDPA devices '$(vdpa_devs)'; QEMU vhost-vdpa fds: $(vdpa_fds $QPID);" \
		     "files' owner $(stat -c %U $d/cpu0.raw)"
		grep "^guest:" $W/$VDOM.console
		stopped_ok $n $d $VDOM $W/before-vdpa.xml \
			"device vtrace[0-9]* detached" detached &&
			[ -z "$(vdpa_devs)" ] && [ "$(vdpa_fds $QPID)" = 0 ] &&
			grep -q "^guest: the device is gone (1), the guest runs on" $W/$VDOM.console &&
			[ "$(stat -c %U $d/cpu0.raw)" = $u ] &&
			all_pages $d
	}
	check "$REL: vDPA: record --domain by vtlv1, auto picks vdpa; add-fd + device_add through libvirt, the agent runs; stop: device_del, the vDPA device deleted, dumpxml unchanged, the domain runs on; agent bytes = module's = files'" \
		vdpa_round
	check "$REL: vDPA: stock trace-cmd reads DIR/trace.dat, sched_switch on both CPUs, every page's events" \
		tracedat_ok $W/out8 "0 1"
	$VIRSH destroy $VDOM > /dev/null
	$VIRSH undefine $VDOM > /dev/null
	step "vDPA"

	# From boot: the persistent vDPA device (above) named in the
	# domain's XML (qemu:commandline: vhost-vdpa-device-pci,vhostdev=
	# /dev/vhost-vdpa-N; QEMU opens it itself: no namespaces, cgroups or
	# security driver here). The guest finds it at boot; record --domain
	# (vtlv1) takes it over by its name, stop lets go of it: the device
	# stays, in the domain and in the module.
	vdpa_boot() {
		local t
		domain_xml $VDOM "$STOCK" "$OS_BOOT" "$MEMFD_XML" |
			awk -v a="<qemu:arg value='-device'/><qemu:arg value='vhost-vdpa-device-pci,id=vtrace,vhostdev=/dev/$VNODE'/>" \
			'/<\/qemu:commandline>/ {print "    " a} {print}' > $W/vboot.xml
		: > $W/$VDOM.console
		$VIRSH define $W/vboot.xml > /dev/null && $VIRSH start $VDOM || {
			tail -n 20 /var/log/libvirt/qemu/$VDOM.log; return 1; }
		for t in $(seq 240); do
			grep -q "^guest: the device is here (1)" $W/$VDOM.console && break
			sleep 0.5
		done
		QPID=$(cat /run/libvirt/qemu/$VDOM.pid)
		grep "^guest:" $W/$VDOM.console
		$VIRSH dumpxml $VDOM > $W/before-vboot.xml
		echo "QEMU vhost-vdpa fds: $(vdpa_fds $QPID)"
		grep -q "^guest: the device is here (1)" $W/$VDOM.console &&
			[ "$(vdpa_fds $QPID)" = 1 ]
	}
	check "$REL: vDPA from boot: a persistent vDPA device (vdpa dev add, vhost_vdpa) in the domain's XML (qemu:commandline vhostdev=/dev/vhost-vdpa-N): the guest finds it at boot" \
		vdpa_boot

	vdpa_take() {
		local u=vtlv1 n=lt d=$W/out9
		start_record $u $VDOM $n $d ||
			{ tail -n 20 $W/$VDOM.console; return 1; }
		echo "vDPA devices '$(vdpa_devs)'; QEMU vhost-vdpa fds: $(vdpa_fds $QPID)"
		grep -q "took over the domain's own device, QEMU pid $QPID, 2 port(s)" $W/record-$n.log &&
			grep -q "front end vdpa (vDPA device vt-boot on /dev/$VNODE)" $W/record-$n.log &&
			"$VT" status $n | grep -q "attached to libvirt domain $VDOM ($URI): device vtrace taken" &&
			[ "$(vdpa_fds $QPID)" = 1 ] || return 1
		sleep 3
		stop_record $u $n
		sleep 1
		$VIRSH dumpxml $VDOM > $W/after-$n.xml
		echo "domain $($VIRSH domstate $VDOM);" \
		     "vDPA devices '$(ls /sys/bus/vdpa/devices | paste -sd' ')'; QEMU vhost-vdpa fds: $(vdpa_fds $QPID);" \
		     "files' owner $(stat -c %U $d/cpu0.raw)"
		stopped_ok $n $d $VDOM $W/before-vboot.xml \
			"device vtrace released" released &&
			[ -d /sys/bus/vdpa/devices/vt-boot ] && [ "$(vdpa_fds $QPID)" = 1 ] &&
			! grep -q "^guest: the device is gone" $W/$VDOM.console &&
			[ "$(stat -c %U $d/cpu0.raw)" = $u ] &&
			all_pages $d
	}
	check "$REL: vDPA from boot: record --domain by vtlv1 takes the XML's vDPA device over by its name; stop: released, the device stays (domain, module), dumpxml unchanged; agent bytes = module's = files'" \
		vdpa_take
	check "$REL: vDPA from boot: stock trace-cmd reads DIR/trace.dat, every page's events" \
		tracedat_ok $W/out9 "0 1"
	$VIRSH destroy $VDOM > /dev/null
	$VIRSH undefine $VDOM > /dev/null
	vdpa dev del vt-boot
	step "vDPA from boot"
else
	echo "no vDPA part: kernel $REL without CONFIG_VDPA, or no $STOCK"
fi


finish() {
	local rc
	kill -TERM $DAEMON
	wait $DAEMON
	rc=$?
	echo "daemon exit status $rc"
	$VIRSH undefine $DOM > /dev/null
	kill $LIBVIRTD
	grep -E "error|warning" /var/log/libvirt/qemu/$DOM.log | tail -n 5
	[ "$rc" = 0 ] && rmmod vhost_trace && [ ! -e /dev/vhost-trace ]
}
check "$REL: daemon exits, module unloads" finish

echo "traced_libvirt.sh: ${SECONDS} s"
exit $FAILED
