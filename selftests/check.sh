#!/bin/bash
# make check: install what is missing, build everything, and run every test
# (host-side guards, then VM tests on each supported kernel). TAP output;
# the last line is "N passed, N failed"; non-zero exit on any failure.
#
# STAGES (space separated) picks stages: deps build guards libvt tracedat fuzz
# module qemu agent traced libvirt vdpa pkg qemufull debug.
# Default: all of them but debug (make check-debug).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$top/build}
STAGES=${STAGES:-deps build guards libvt tracedat fuzz module qemu agent traced libvirt vdpa pkg qemufull}

t0=$SECONDS
. "$top/selftests/lib/tap.sh"

echo "TAP version 13"

# point ok|"not ok" NAME: one test point (selftests/lib/tap.sh)
point() {
	[ "$1" = ok ]
	ok $? "$2"
}

# run NAME CMD...: one test point; the command's output becomes comments.
run() {
	local name=$1 log
	shift
	log=$(mktemp)
	if "$@" > "$log" 2>&1; then
		sed 's/^/# /' "$log"
		point ok "$name"
	else
		sed 's/^/# /' "$log"
		point "not ok" "$name"
	fi
	rm -f "$log"
}

# run_vm NAME CMD...: a VM run streamed as comments; its "check: ok NAME"
# lines become test points, and the run itself (status, dmesg) one more.
# A failed point is followed by the last lines its check printed, so that
# a reader of the TAP points (CI's excerpt) sees why without the stream.
# When tools/dev/vmrun boots again (the host VM hung or died), the points of
# the attempt before are dropped: only the last attempt's count.
run_vm() {
	local name=$1 line rc=255 pts=() why=() out=() i=0
	shift
	while IFS= read -r line; do
		case "$line" in
		"check: ok "*)
			pts+=("ok|${line#check: ok }")
			why+=("") ;;
		"check: not ok "*)
			pts+=("not ok|${line#check: not ok }")
			i=$(( ${#out[@]} > 40 ? ${#out[@]} - 40 : 0 ))
			why+=("$(printf '%s\n' "${out[@]:i}")") ;;
		"check-rc: "*)		rc=${line#check-rc: } ;;
		"vmrun: booting "*)	pts=(); why=(); echo "# $line" ;;
		*)			echo "# $line" ;;
		esac
		case "$line" in
		"check: "*)	echo "# $line"; out=() ;;
		*)		out+=("$line") ;;
		esac
	done < <("$@" 2>&1; echo "check-rc: $?")
	for i in "${!pts[@]}"; do
		point "${pts[i]%%|*}" "${pts[i]#*|}"
		[ -z "${why[i]}" ] || printf '%s\n' "${why[i]}" | sed 's/^/#   /'
	done
	if [ "$rc" = 0 ]; then
		point ok "$name: exit 0, dmesg clean"
	else
		point "not ok" "$name: exit $rc (see above)"
	fi
}

# What decides how the machine boots: /boot, the kernel image packages,
# the kernels' module trees, the boot loader's configuration. make check
# (and make demo) may change none of it: the test kernels are unpacked into
# the build directory (tools/dev/kernel-images.sh).
boot_state() {
	local d
	ls -l --time-style=full-iso /boot /boot/grub 2>/dev/null
	dpkg-query -W -f='${Package} ${Version} ${Status}\n' 'linux-image-*' \
		2>/dev/null
	for d in /lib/modules/*/kernel; do
		[ -d "$d" ] && echo "modules: $d"
	done
	cat /etc/default/grub 2>/dev/null
}
boot_before=$(boot_state)

boot_unchanged() {
	diff <(echo "$boot_before") <(boot_state)
}

stage() {
	local s=$SECONDS
	echo "# stage $1"
	"stage_$1"
	echo "# stage $1 took $((SECONDS - s))s"
}

has_stage() {
	case " $STAGES " in *" $1 "*) return 0 ;; esac
	return 1
}

stage_deps() {
	run "dependencies installed" "$top/tools/dev/deps.sh" "$BUILD"
}

stage_build() {
	local rel series
	while read -r rel series; do
		run "vhost_trace.ko builds for $rel (vhost.h from linux-source-$series)" \
			"$top/tools/dev/build-module.sh" "$BUILD" "$rel" "$series"
	done < <("$top/tools/dev/kernels.sh")
	run "kselftests build" make -s -C "$top" selftests
	run "QEMU builds with the qemu-glue series (every default device, KVM and TCG: shipped and tested)" \
		make -s -C "$top" qemu
	run "VM initramfs images build" make -s -C "$top" vm-images
	run "host tools build" make -s -C "$top" tools
	run "guest agent builds (static)" make -s -C "$top" guest
	run "agent-ctl builds" make -s -C "$top" agent-ctl
	run "vhost-traced and vhost-trace build" make -s -C "$top" traced
}

checkpatch_clean() {
	local out
	out=$(make -s -C "$top" checkpatch 2>&1)
	echo "$out" | grep -E '^(total|ERROR|WARNING|CHECK)'
	! echo "$out" | grep -E '^total:' | grep -vq ' 0 errors, 0 warnings'
}

stage_guards() {
	run "a vhost.h from another kernel stops the build" \
		"$top/selftests/build/vhost_h_mismatch.sh"
	run "vhost-trace/ passes checkpatch --strict" checkpatch_clean
}

# A TAP stream from a host-side test suite, its points renumbered as ours.
run_tap() {
	local prefix=$1 line
	shift
	while IFS= read -r line; do
		case "$line" in
		"ok "*" - "*)		point ok "$prefix: ${line#* - }" ;;
		"not ok "*" - "*)	point "not ok" "$prefix: ${line#* - }" ;;
		"TAP version"*|"1.."*)	;;
		*)			echo "# $line" ;;
		esac
	done < <("$@" 2>&1)
}

# The code the agent and the host tools share (tools/libvt): buffers,
# reply framing, the agent and control protocols, cpio, page checks.
stage_libvt() {
	run_tap "libvt unit" make -s -C "$top/tools/libvt" check
}

stage_tracedat() {
	run "tracedat builds" make -s -C "$top" tracedat
	run_tap tracedat make -s -C "$top/tools/tracedat" check
}

# Every parser of guest or QEMU bytes under libFuzzer (ASan, UBSan):
# each seed corpus replayed, then each target fuzzed FUZZ_CHECK_SECONDS
# (3; `make fuzz` is the long run). Host-side, no VM; about 50 s.
FUZZ_TARGETS="qmp ctlproto agent_proto agent cpio meta pages tracedat_edit"
stage_fuzz() {
	run "fuzz targets build (clang, libFuzzer, ASan, UBSan)" \
		make -s -C "$top/selftests/fuzz" -j2
	run_tap "fuzz corpus" "$top/selftests/fuzz/run.sh" replay $FUZZ_TARGETS
	FUZZ_SECONDS=${FUZZ_CHECK_SECONDS:-3} run_tap fuzz \
		"$top/selftests/fuzz/run.sh" fuzz $FUZZ_TARGETS
}

# The VM stages queue their scripts per kernel; after the host-side work
# each kernel's queue runs in one host-VM boot (selftests/vm/suite.sh),
# which saves a boot (~20 s under TCG) per script.
declare -A vmq vmqw

# kernels_of all|oldest|newest: releases, one per line
kernels_of() {
	case "$1" in
	all)	"$top/tools/dev/kernels.sh" ;;
	oldest)	"$top/tools/dev/kernels.sh" | head -n 1 ;;
	newest)	"$top/tools/dev/kernels.sh" | tail -n 1 ;;
	esac | awk '{print $1}'
}

# in_vm KERNELS SCRIPT [VAR=VALUE...]: queue selftests/vm/SCRIPT for the
# host VM on each kernel of KERNELS.
in_vm() {
	local which=$1 script=$2 rel
	shift 2
	for rel in $(kernels_of "$which"); do
		vmq[$rel]+="${vmq[$rel]:+|}${*:+$* }$script"
	done
}

# in_vm_writable KERNELS SCRIPT [VAR=VALUE...]: the same, in a host-VM
# boot of their own with a writable root (vmrun -w: an overlay, a tmpfs
# over the machine's root), for scripts that install packages there.
in_vm_writable() {
	local which=$1 script=$2 rel
	shift 2
	for rel in $(kernels_of "$which"); do
		vmqw[$rel]+="${vmqw[$rel]:+|}${*:+$* }$script"
	done
}

run_vm_queues() {
	local rel specs s
	for rel in $(kernels_of all); do
		[ -n "${vmq[$rel]:-}" ] || continue
		IFS='|' read -ra specs <<< "${vmq[$rel]}"
		s=$SECONDS
		echo "# stage vm $rel: ${specs[*]}"
		run_vm "vm $rel" "$top/tools/dev/vmrun" -k "$rel" -t 2400 -- \
			"$top/selftests/vm/suite.sh" "${specs[@]}"
		echo "# stage vm $rel took $((SECONDS - s))s"
	done
	for rel in $(kernels_of all); do
		[ -n "${vmqw[$rel]:-}" ] || continue
		IFS='|' read -ra specs <<< "${vmqw[$rel]}"
		s=$SECONDS
		echo "# stage vm $rel (writable root): ${specs[*]}"
		# -r 2: three boots at most. With libvirtd on 6.12 the host
		# VM's kernel died twice (of ~6 runs) of an int3 oops in
		# __schedule: a CPU ran code TCG had not yet seen patched
		# (a static key's text_poke_bp across vCPUs), not ours
		run_vm "vm $rel writable root" "$top/tools/dev/vmrun" -w \
			-r 2 -k "$rel" -t 1200 -- "$top/selftests/vm/suite.sh" \
			"${specs[@]}"
		echo "# stage vm $rel (writable root) took $((SECONDS - s))s"
	done
}

# The module's kselftests on every kernel; the vDPA front end (6.12: no
# 6.1 kernel has CONFIG_VDPA) driven by the host VM's own virtio_vdpa and
# virtio_console, and by a hostile vhost_vdpa user: no nested guest.
stage_module() {
	in_vm all module.sh
	in_vm newest vdpa_virtio.sh
}

# The vhost-trace-pci device end to end, and against stock virtio-serial
# in the same script (our QEMU boots a nested guest that sees those
# ports by name: what nested_virtio_serial.sh, no longer queued, checked
# alone), on the oldest kernel; on the newest, whose worker is a
# vhost_task, its life cycle (SIGKILL, hotplug, unplug). The newest
# kernel's vhost-trace-pci data path with a real guest is traced_libvirt.sh's
# (stage libvirt: pages, byte counts, trace.dat, on 6.12), and a 6.12
# guest's virtio-serial ports agent_virtio_serial.sh's.
stage_qemu() {
	in_vm oldest qemu_device.sh
	in_vm newest qemu_lifecycle.sh
}

# The guest agent: unit tests (its protocol's are the libvt stage's), then in a nested guest through vhost-trace
# (guest kernel = host VM kernel, the oldest) and over stock virtio-serial
# FIFOs (guest on the newest kernel), so both guest kernels and both paths.
stage_agent() {
	run_tap "guest agent unit" make -s -C "$top/guest" check
	in_vm oldest agent_vhost.sh
	in_vm oldest agent_virtio_serial.sh \
		"AGENT_GUEST_KERNEL=$(kernels_of newest)"
}

# The daemon: unit tests (protocol, RCU session table, QMP (jansson)
# client, state files, recovery, the agent's reconnection, TSC sampling,
# socket permissions) and the man pages; then, in the host VM, launch mode
# with an upstream-style agent; attach mode over QMP to a running guest
# (trace.dat; again, with a daemon restart); two guests at once with our
# agent, the daemon SIGKILLed and restarted; host and guest traces on one
# time line in launch mode (in attach mode: traced_vdpa.sh's, stage
# vdpa, on the newest kernel); a hostile guest
# agent (cpus=100000) in a real session (the other bad fields are the
# unit tests hostile_test.c and hostile_test.sh); a member of the
# daemon's group planting links, FIFOs and swaps in their directories.
stage_traced() {
	run_tap traced make -s -C "$top/tools/traced" check
	run_tap "man pages" "$top/tools/man/check.sh" "$BUILD"
	in_vm oldest traced_launch.sh
	in_vm oldest traced_attach.sh
	in_vm oldest traced_restart.sh
	in_vm oldest traced_clock.sh
	in_vm oldest traced_hostile.sh
	in_vm oldest traced_trust.sh
}

# libvirt (vhost-trace record --domain): Debian 12's libvirt-daemon-system
# dpkg-installed into a writable host VM, libvirtd run by hand, nested
# guests defined by XML and started with virsh. On the newest kernel
# (6.12), where both front ends exist, in one boot: vhost-trace-pci (our
# QEMU as the <emulator>): refusals, two attaches in a row (trace.dat by
# stock trace-cmd, virsh dumpxml unchanged, the domain runs on), migration
# (virsh save) refused while traced, a domain destroyed while traced, the
# XML's own device taken over, users libvirt or the daemon refuses; then
# the vDPA front end (Debian's stock QEMU 10.0 as the <emulator>, RAM a
# shared memfd): a domain without shared RAM refused naming the XML to
# add, record --domain hot-plugs vhost-vdpa-device-pci (add-fd through
# libvirt), stop unplugs it and deletes the vDPA device; a persistent vDPA
# device in the domain's XML taken over by its name and released.
stage_libvirt() {
	run "stock QEMU unpacked (tools/dev/stock-qemu.sh): $(head -n 1 \
		"$BUILD/stock-qemu/VERSION" 2>/dev/null)" \
		"$top/tools/dev/stock-qemu.sh" "$BUILD"
	in_vm_writable newest traced_libvirt.sh
}

# The vDPA front end with a stock QEMU (issue 17): Debian's QEMU 10.0 from
# bookworm-backports unpacked into the build directory, linux's upstream
# virtio-trace agent (with its EAGAIN fix) built; then in the host VM on
# each kernel selftests/vm/traced_vdpa.sh: where the kernel has vDPA
# (6.12) nested guests under that QEMU with vhost-vdpa-device-pci through
# vhost-traced (launch with the upstream agent, attach/detach/attach with
# ours, trace.dat, QEMU's /proc/PID/io, host and guest on one time line:
# the attach-mode merge of make check); where not (6.1) the tools say
# why.
stage_vdpa() {
	run "stock QEMU unpacked (tools/dev/stock-qemu.sh): $(head -n 1 \
		"$BUILD/stock-qemu/VERSION" 2>/dev/null)" \
		"$top/tools/dev/stock-qemu.sh" "$BUILD"
	run "upstream virtio-trace agent builds (EAGAIN fix)" \
		"$top/tools/dev/virtio-trace-agent.sh" "$BUILD"
	in_vm all traced_vdpa.sh
}

# The packages (make deb: packaging/debian) on a host as a user would have
# them, in a host VM of its own with a writable root (vmrun -w: an overlay
# over the dev machine's root; nothing reaches this machine), on the
# oldest kernel: dpkg -i with Debian's dkms (downloaded, never installed
# here), DKMS's build, modules-load.d, the udev rule, the group, the
# daemon as its unit starts it, a group member recording a guest (run by
# the installed vhost-trace-qemu) whose agent starts from its installed
# rule and unit, dpkg --purge and nothing left
# (selftests/vm/pkg_install.sh).
fetch_dkms() {
	mkdir -p "$BUILD/pkgdeps" && chmod 0777 "$BUILD/pkgdeps" &&
	(cd "$BUILD/pkgdeps" && { ls dkms_*.deb 2>/dev/null ||
		apt-get download -q dkms; }) && ls "$BUILD/pkgdeps"/dkms_*.deb
}
# make install and install-agent into a DESTDIR: every file where it
# belongs, the units naming the installed programs
install_tree() {
	local d f missing=""
	d=$(mktemp -d)
	make -s -C "$top" install install-agent DESTDIR="$d" > /dev/null || return 1
	for f in /usr/local/sbin/vhost-traced /usr/local/bin/vhost-trace \
		/usr/local/bin/vhost-trace-dat /usr/local/sbin/trace-agent \
		/usr/local/share/man/man1/vhost-trace.1 \
		/usr/local/share/man/man1/vhost-trace-dat.1 \
		/usr/local/share/man/man8/vhost-traced.8 \
		/usr/local/share/man/man8/trace-agent.8 \
		/usr/local/lib/systemd/system/vhost-traced.service \
		/usr/local/lib/systemd/system/trace-agent.service \
		/usr/src/vhost-trace-0.1.0/dkms.conf /usr/lib/sysusers.d/vhost-trace.conf \
		/usr/lib/modules-load.d/vhost-trace.conf; do
		[ -f "$d$f" ] || missing="$missing $f"
	done
	ls "$d"/*/udev/rules.d/60-vhost-trace.rules || missing="$missing 60-vhost-trace.rules"
	grep -q '^ExecStart=/usr/local/sbin/vhost-traced ' \
		"$d/usr/local/lib/systemd/system/vhost-traced.service" ||
		missing="$missing ExecStart"
	rm -rf "$d"
	echo "missing:${missing:- nothing}"
	[ -z "$missing" ]
}

# The packaged module source built as DKMS builds it (dkms-build.sh) for
# the newest kernel whose headers are an installed package (DKMS's case;
# not those tools/dev/kernel-headers.sh unpacked), and refused for a
# kernel without its vhost.h.
dkms_tree() {
	local d rel out rc r
	d=$(mktemp -d)
	for r in $(kernels_of all); do
		[ -d "/usr/src/linux-headers-$r" ] && rel=$r
	done
	dpkg-deb -x "$BUILD"/deb/vhost-trace-dkms_*.deb "$d" || return 1
	(cd "$d"/usr/src/vhost-trace-* &&
		sh ./dkms-build.sh build "$rel" "/usr/src/linux-headers-$rel" > make.log 2>&1 &&
		modinfo -F vhost_src vhost-trace/vhost_trace.ko) || { cat "$d"/usr/src/*/make.log; rm -rf "$d"; return 1; }
	mkdir "$d/nokernel"
	out=$(cd "$d"/usr/src/vhost-trace-* &&
		sh ./dkms-build.sh build 9.9.9-none "$d/nokernel" 2>&1)
	rc=$?
	echo "$out"
	rm -rf "$d"
	[ "$rc" != 0 ] && echo "$out" | grep -q "cannot build vhost_trace.ko for kernel 9.9.9-none"
}

# make deb, with vhost-trace-qemu (the QEMU of the build stage)
deb_all() {
	make -s -C "$top" deb && ls "$BUILD"/deb/vhost-trace-qemu_*.deb
}

stage_pkg() {
	local rel s
	run "make install, install-agent (DESTDIR): every file in place" install_tree
	run "make deb: vhost-trace, vhost-trace-dkms, vhost-trace-agent, vhost-trace-qemu" \
		deb_all
	run "vhost-trace-dkms's tree builds as DKMS does; a kernel without vhost.h is refused" \
		dkms_tree
	run "Debian's dkms .deb downloaded (apt-get download)" fetch_dkms
	rel=$(kernels_of oldest)
	s=$SECONDS
	echo "# stage vm $rel (writable root): pkg_install.sh"
	run_vm "vm $rel pkg" "$top/tools/dev/vmrun" -w -k "$rel" -t 1200 -s 600 -- \
		"$top/selftests/vm/pkg_install.sh"
	echo "# stage vm $rel pkg took $((SECONDS - s))s"
}

# The shipped QEMU (make qemu: every default device plus vhost-trace-pci;
# the build stage's, which the tests run too): packaged by make deb as
# vhost-trace-qemu (stage pkg), it boots a q35 guest from a virtio-blk
# disk with virtio-net (user), traced through the daemon
# (selftests/vm/qemu_full.sh, in the oldest kernel's host-VM boot). Alone:
# `make check-qemu-full`, which builds and packages it here.
stage_qemufull() {
	has_stage build || run "QEMU builds with the qemu-glue series" \
		make -s -C "$top" qemu
	has_stage pkg || run "make deb: with vhost-trace-qemu" deb_all
	in_vm oldest qemu_full.sh
}

# The debug kernel (tools/dev/debug-kernel.sh: Debian's 6.12 source with
# KASAN, lockdep, DEBUG_ATOMIC_SLEEP, kmemleak, DEBUG_LIST, UBSAN; built
# once, cached outside the clone) and the module built against it; then
# in one host-VM boot on it: kmemleak cleared, KVM loads (kvm.sh: a
# nested guest could run), the module's kselftests
# one by one (selftests/vm/ksft_each.sh: hostile rings, release while
# busy, sink swaps, SIGKILL of the owner; the module unloaded and loaded
# again after each), the randomized hostile driver (vt_fuzz: the seeds of
# its earlier reports, then FUZZ_CHECK_TIME s, 60 by default, from a
# random first seed it prints; `make fuzz-ring` runs it longer), the
# vDPA layer (vdpa_virtio.sh: virtio_vdpa, hostile vhost_vdpa rings, a
# smaller stream), a kmemleak scan. tools/dev/vmrun fails on any KASAN, lockdep, UBSAN or
# kmemleak report in dmesg and prints it. Not in the default STAGES:
# `make check-debug` (.ci/run runs it after make check).
FUZZ_SEEDS=95399094,156777839,472066627,759751769,762519086,757335630
FUZZ_SEEDS=$FUZZ_SEEDS,760763956,761803766,492957258,516235323,464338217
FUZZ_SEEDS=$FUZZ_SEEDS,493627411,676829500
stage_debug() {
	local rel series
	run "debug kernel built or cached (tools/dev/debug-kernel.sh)" \
		"$top/tools/dev/debug-kernel.sh" "$BUILD"
	read -r rel series _ < "$BUILD/debug-kernel.release" || return
	run "kselftests built" make -s -C "$top" selftests
	run "module built for $rel" \
		"$top/tools/dev/build-module.sh" "$BUILD" "$rel" "$series"
	run_vm "vm $rel" "$top/tools/dev/vmrun" -k "$rel" -t 2400 -- \
		"$top/selftests/vm/suite.sh" "KMEMLEAK=clear kmemleak.sh" \
		kvm.sh ksft_each.sh \
		"FUZZ_SEEDS=$FUZZ_SEEDS FUZZ_TIME=${FUZZ_CHECK_TIME:-60} fuzz.sh" \
		"VDPA_PAGES=4096 vdpa_virtio.sh" kmemleak.sh
}

for s in deps build guards libvt tracedat fuzz module qemu agent traced libvirt vdpa pkg qemufull debug; do
	has_stage "$s" && stage "$s"
done
run_vm_queues
run "the machine's boot configuration is unchanged" boot_unchanged

echo "1..$n"
echo "# total time $((SECONDS - t0))s"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
