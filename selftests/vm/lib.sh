# Helpers for scripts that run inside the host VM (tools/dev/vmrun). Each
# result line "check: ok NAME" / "check: not ok NAME" becomes one test
# point of `make check`.
# shellcheck shell=sh

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
REL=$(uname -r)
# linux-source series of the running kernel (6.1, 6.12, ...)
SERIES=$("$TOP/tools/dev/kernels.sh" | awk -v r="$REL" '$1 == r {print $2}')
# The debug kernel (tools/dev/debug-kernel.sh) is none of the packaged ones.
[ -n "$SERIES" ] || SERIES=$(awk -v r="$REL" '$1 == r {print $2}' \
	"$BUILD/debug-kernel.release" 2>/dev/null)
KMOD=$BUILD/kmod/$REL/vhost-trace/vhost_trace.ko
KSFT_DIR=$BUILD/linux-src/$SERIES/tools/testing/selftests
FAILED=0
. "$TOP/tools/dev/vm/tracepin.sh"

# What a check that takes too long is waiting for: every process's state
# and wait channel, the kernel stacks of those in D state or of our tools,
# and sysrq-w (blocked tasks) to the kernel log.
hang_report() {
	echo "check: '$1' still running after ${CHECK_SLOW:-150}s: what waits"
	ps -eo pid,stat,wchan:30,etimes,args | grep -v ' \[.*\]$'
	echo "QEMU threads (vCPUs: running or halted?):"
	ps -eLo pid,tid,stat,wchan:30,comm | awk '$5 ~ /qemu|CPU|vhost/'
	for p in $(ps -eo pid=,stat=,comm= |
		   awk '$2 ~ /D/ || $3 ~ /vhost|qemu|trace/ {print $1}'); do
		echo "--- $p $(cat /proc/$p/comm 2>/dev/null)"
		cat /proc/$p/stack 2>/dev/null
	done
	echo w > /proc/sysrq-trigger 2>/dev/null
	dmesg | tail -n 60
}

check() {
	name=$1
	shift
	(
		trap 'kill $_nap 2>/dev/null; exit 0' TERM
		sleep "${CHECK_SLOW:-150}" &
		_nap=$!
		wait $_nap && hang_report "$name"
	) &
	_watch=$!
	_t0=$(date +%s)
	if "$@"; then
		echo "check: ok $name"
	else
		echo "check: not ok $name"
		FAILED=1
	fi
	# what each point costs (a comment in make check's TAP)
	echo "check-time: $(( $(date +%s) - _t0 )) s"
	kill $_watch 2>/dev/null
	wait $_watch 2>/dev/null
}

# With the vDPA front end (6.12) the module also needs vdpa and vhost_iotlb.
load_module() {
	# shellcheck disable=SC2046
	modprobe -a vhost $(modinfo -F depends "$KMOD" | tr , ' ') &&
		insmod "$KMOD" && [ -c /dev/vhost-trace ]
}

# The host VM's KVM with shadow paging for its nested guests: tools/dev/vmrun
# boots the host VM with kvm_amd.npt=0 (why: there); this makes sure of
# it for the scripts that need it most (two guests at once, hot-plug).
kvm_shadow_paging() {
	modprobe kvm_amd &&
		[ "$(cat /sys/module/kvm_amd/parameters/npt)" = N ]
}

# kvm_keeper stop|start: the KVM VM that tools/dev/vm/init-host keeps
# open for the whole boot (tools/dev/vm/kvm-keeper.c: it holds KVM's
# static keys on). It holds kvm_amd too: stopped to reload it.
kvm_keeper() {
	local pidf=/run/kvm-keeper.pid pid
	case "$1" in
	stop)
		[ -s $pidf ] || return 0
		pid=$(cat $pidf)
		rm -f $pidf
		kill "$pid" 2>/dev/null || return 0
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
		;;
	start)
		[ -s $pidf ] || "$BUILD/vm/kvm-keeper" $pidf
		;;
	esac
}

# on_one_cpu CMD [ARG...]: CMD while the host VM runs on CPU 0 alone.
# For what live-patches kernel text (a static key, a static call) that
# another CPU may be running: under TCG that CPU now and then goes on
# with old code (the patch's int3 after it is gone). One 6.1 host VM also
# died in traced_restart right after traced_clock's reload, of page
# faults on a bad GS base in exc_page_fault, as a skipped preempt
# notifier (a vCPU's host state not put back) would do: not proven.
on_one_cpu() {
	local rc
	other_cpus 0
	"$@"
	rc=$?
	other_cpus 1
	return $rc
}

# trace_pin EVENT...: the host's tracepoints of EVENTs pinned (trace_pins,
# tools/dev/vm/tracepin.sh), set up on one CPU; trace_unpin removes them,
# on one CPU too. A 6.1 host VM hung in traced_clock as trace-cmd record
# switched kvm_entry/kvm_exit on.
trace_pin() {
	trace_pins check "$@" || on_one_cpu trace_pins set "$@"
}

trace_unpin() {
	on_one_cpu rmdir /sys/kernel/tracing/instances/vtpin0 \
		/sys/kernel/tracing/instances/vtpin1 2>/dev/null
	return 0
}

# kvm_paging Y|N: kvm_amd reloaded with nested paging on or off (no VM
# may run). Shadow paging makes every guest page fault a kvm_exit: a
# script that traces the host's kvm_exit events runs its guest on NPT.
# The keeper's VM goes and comes with it (KVM's static keys switch), and
# the load patches kvm.ko's static calls: on one CPU.
kvm_paging() {
	on_one_cpu kvm_reload "$1"
}

kvm_reload() {
	kvm_keeper stop
	if [ -d /sys/module/kvm_amd ]; then
		rmmod kvm_amd || return 1
	fi
	modprobe kvm_amd npt=$([ "$1" = Y ] && echo 1 || echo 0) &&
		[ "$(cat /sys/module/kvm_amd/parameters/npt)" = "$1" ] &&
		kvm_keeper start
}
