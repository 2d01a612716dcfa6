#!/bin/bash
# Run inside a host VM (tools/dev/vmrun): trace sched_switch/sched_wakeup on the
# VM's real kernel, copy the raw per-CPU pages and the metadata the way the
# guest agent does, write v6, v7 and v7+zstd files with vhost-trace-dat and
# check that stock trace-cmd decodes every page.
#
#   tools/dev/vmrun -k 6.1.0-56-amd64 -- tools/tracedat/tests/real-vm.sh
#
# Prints "check: ok|not ok NAME" lines (selftests/check.sh run_vm).
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../../../build}
CLI=$BUILD/tracedat/vhost-trace-dat
W=${VMRUN_DIR:-$(mktemp -d)}/tracedat-real
TR=/sys/kernel/tracing
rc=0

check() {	# check NAME CMD...
	local name=$1
	shift
	if "$@" > "$W/log" 2>&1; then
		echo "check: ok $name"
	else
		sed 's/^/  /' "$W/log" | head -30
		echo "check: not ok $name"
		rc=1
	fi
}

mkdir -p "$W/meta/events" "$W/raw"
[ -e $TR/trace ] || mount -t tracefs nodev $TR
cpus=$(ls -d $TR/per_cpu/cpu* | wc -l)

echo 0 > $TR/tracing_on
echo > $TR/trace
echo 1 > $TR/events/sched/sched_switch/enable
echo 1 > $TR/events/sched/sched_wakeup/enable
echo 1 > $TR/tracing_on
for i in $(seq 1 200); do sh -c 'true'; done &
for i in $(seq 1 200); do ls / > /dev/null; done
wait
echo 0 > $TR/tracing_on

# metadata, as the agent sends it
cp $TR/events/header_page $TR/events/header_event "$W/meta/"
for e in sched/sched_switch sched/sched_wakeup; do
	mkdir -p "$W/meta/events/$e"
	cp $TR/events/$e/format "$W/meta/events/$e/"
done
for f in $TR/events/ftrace/*/format; do
	e=${f%/format}; e=${e##*/}
	mkdir -p "$W/meta/events/ftrace/$e"
	cp "$f" "$W/meta/events/ftrace/$e/"
done
cp /proc/kallsyms "$W/meta/kallsyms"
cp $TR/printk_formats $TR/saved_cmdlines $TR/trace_clock "$W/meta/"
{
	echo "cpus=$cpus"
	echo "page_size=$(getconf PAGESIZE)"
	echo "uname=$(uname -a)"
	echo "kernel_release=$(uname -r)"
} > "$W/meta/info"

# the ring buffer's own count of what it holds, per CPU
total=0
for c in $(seq 0 $((cpus - 1))); do
	n=$(awk '/^entries:/ { print $2 }' $TR/per_cpu/cpu$c/stats)
	total=$((total + n))
	dd if=$TR/per_cpu/cpu$c/trace_pipe_raw of="$W/raw/cpu$c.raw" bs=4096 \
		iflag=nonblock 2> /dev/null
done
ls -l "$W/raw"
echo "ring buffer entries: $total"
echo 0 > $TR/events/enable

args=()
for c in $(seq 0 $((cpus - 1))); do args+=("$W/raw/cpu$c.raw"); done
for v in 6 7 7z; do
	case $v in 6) o="-v 6" ;; 7) o="-v 7" ;; 7z) o="-v 7 --zstd" ;; esac
	# shellcheck disable=SC2086
	check "real pages ($(uname -r)): v$v written" \
		"$CLI" -m "$W/meta" -o "$W/real-$v.dat" $o "${args[@]}"
	check "real pages ($(uname -r)): v$v: trace-cmd report decodes all $total events" sh -c "
		trace-cmd report -i '$W/real-$v.dat' > '$W/report-$v' 2> '$W/err-$v' &&
		! grep -q 'UNKNOWN' '$W/report-$v' &&
		n=\$(grep -c -E 'sched_(switch|wakeup):' '$W/report-$v') &&
		echo \"decoded \$n of $total\" && [ \"\$n\" = $total ] && [ $total -gt 0 ]"
done
head -5 "$W/report-7z"
cmp "$W/report-6" "$W/report-7" && cmp "$W/report-7" "$W/report-7z" &&
	echo "check: ok real pages: v6, v7 and v7+zstd reports identical" ||
	{ echo "check: not ok real pages: v6, v7 and v7+zstd reports identical"; rc=1; }
exit $rc
