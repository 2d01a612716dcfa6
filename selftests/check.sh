#!/bin/bash
# make check: install what is missing, build everything, and run every test
# (host-side guards, then VM tests on each supported kernel). TAP output;
# the last line is "N passed, N failed"; non-zero exit on any failure.
#
# STAGES (space separated) picks stages: deps build guards tracedat module
# nested qemu agent traced.
# Default: all of them.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$top/build}
STAGES=${STAGES:-deps build guards tracedat module nested qemu agent traced}

n=0
passed=0
failed=0
t0=$SECONDS

echo "TAP version 13"

point() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
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
run_vm() {
	local name=$1 line rc=255
	shift
	while IFS= read -r line; do
		case "$line" in
		"check: ok "*)		point ok "${line#check: ok }" ;;
		"check: not ok "*)	point "not ok" "${line#check: not ok }" ;;
		"check-rc: "*)		rc=${line#check-rc: } ;;
		*)			echo "# $line" ;;
		esac
	done < <("$@" 2>&1; echo "check-rc: $?")
	if [ "$rc" = 0 ]; then
		point ok "$name: exit 0, dmesg clean"
	else
		point "not ok" "$name: exit $rc (see above)"
	fi
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
	run "dependencies installed" "$top/tools/deps.sh" "$BUILD"
}

stage_build() {
	local rel series
	while read -r rel series; do
		run "vhost_trace.ko builds for $rel (vhost.h from linux-source-$series)" \
			"$top/tools/build-module.sh" "$BUILD" "$rel" "$series"
	done < <("$top/tools/kernels.sh")
	run "kselftests build" make -s -C "$top" selftests
	run "QEMU builds with the qemu-glue series" make -s -C "$top" qemu
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

stage_tracedat() {
	run "tracedat builds" make -s -C "$top/tools/tracedat"
	run_tap tracedat make -s -C "$top/tools/tracedat" check
}

# in_vm KERNELS NAME SCRIPT [VMRUN-ARG...]: run selftests/vm/SCRIPT in a
# host VM on each kernel of KERNELS (all, oldest or newest).
in_vm() {
	local rel series extra=("${@:4}")
	while read -r rel series; do
		run_vm "vm $rel: $2" "$top/tools/vmrun" -k "$rel" -t 900 \
			"${extra[@]}" -- "$top/selftests/vm/$3"
	done < <(case "$1" in
		all)	"$top/tools/kernels.sh" ;;
		oldest)	"$top/tools/kernels.sh" | head -n 1 ;;
		newest)	"$top/tools/kernels.sh" | tail -n 1 ;;
		esac)
}

stage_module() {
	in_vm all "module test" module.sh
}

# Our QEMU boots a nested guest with stock virtio-serial.
stage_nested() {
	in_vm oldest "nested guest" nested_virtio_serial.sh
}

# The vhost-trace-pci device end to end; its life cycle (SIGKILL, hotplug,
# unplug) on the newest kernel, whose worker is a vhost_task.
stage_qemu() {
	in_vm all "vhost-trace-pci" qemu_device.sh
	in_vm newest "vhost-trace-pci life cycle" qemu_lifecycle.sh
}

# The guest agent: unit tests, then in a nested guest through vhost-trace
# (guest kernel = host VM kernel, the oldest) and over stock virtio-serial
# FIFOs (guest on the newest kernel), so both guest kernels and both paths.
stage_agent() {
	local old new
	run_tap "guest agent unit" make -s -C "$top/guest" check
	run_tap "agent-ctl unit" make -s -C "$top/tools/agent-ctl" check
	old=$("$top/tools/kernels.sh" | awk 'NR == 1 {print $1}')
	new=$("$top/tools/kernels.sh" | awk 'END {print $1}')
	run_vm "vm $old: agent through vhost-trace" \
		"$top/tools/vmrun" -k "$old" -t 1200 -- \
		"$top/selftests/vm/agent_vhost.sh"
	run_vm "vm $old, guest $new: agent over virtio-serial" \
		"$top/tools/vmrun" -k "$old" -t 1200 -- \
		env AGENT_GUEST_KERNEL="$new" \
		"$top/selftests/vm/agent_virtio_serial.sh"
}

# The daemon: unit tests (protocol, RCU session table, socket permissions),
# then launch mode end to end: with an upstream-style agent, and with our
# agent and a guest trace.dat written at stop.
stage_traced() {
	run_tap traced make -s -C "$top/tools/traced" check
	in_vm oldest "vhost-traced launch mode" traced_launch.sh
	in_vm oldest "vhost-traced trace.dat at stop" traced_tracedat.sh
	# TCG's TSC is one counter for all CPUs, but without invariant-TSC
	# flags Linux calls it unstable and KVM then re-bases guest TSCs on
	# every vCPU load (tools/traced/README): say it is reliable
	in_vm oldest "host and guest traces merge" traced_clock.sh \
		-a tsc=reliable
}

for s in deps build guards tracedat module nested qemu agent traced; do
	has_stage "$s" && stage "$s"
done

echo "1..$n"
echo "# total time $((SECONDS - t0))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
