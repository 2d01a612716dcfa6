# shellcheck shell=sh
# Sourced by the nested guest's init (as /bin/tracepin.sh) and by
# selftests/vm/lib.sh in the host VM. Both kernels run under TCG, where a
# CPU now and then runs the int3 of a live code patch after the patch is
# gone (Oops: int3, or a call executed from its second byte, "e8 <d4>").
#
# trace_pins check|set EVENT...: EVENTs (SYSTEM or SYSTEM/NAME) held on by
# two tracing instances of their own, vtpin0 and vtpin1, that record
# nothing. A tracepoint switched on or off live-patches code: its static
# key (off to on) and its static call (no probe to one, one to two: every
# call site). With two probes in place, a tracer's switching the same
# events on and off (one more probe, one less) only moves counts. Set them
# while one CPU is online. `check` succeeds when all are held.
trace_pins() {
	local how=$1 i d e
	shift
	for i in 0 1; do
		d=/sys/kernel/tracing/instances/vtpin$i
		if [ "$how" = check ]; then
			for e; do
				[ "$(cat $d/events/$e/enable 2>/dev/null)" = 1 ] ||
					return 1
			done
			continue
		fi
		[ -d $d ] || mkdir $d || return 1
		echo 0 > $d/tracing_on
		for e; do
			echo 1 > $d/events/$e/enable || return 1
		done
	done
}

# other_cpus 0|1: every CPU but CPU 0 offline or online.
other_cpus() {
	local c
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -f "$c" ] && echo "$1" > "$c"
	done
}
