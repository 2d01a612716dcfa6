#!/bin/bash
# Unit test (TAP): the guest trace.dat's time shift from (fake) KVM TSC
# terms, read back by stock trace-cmd, and `vhost-trace merge` pairing it
# with a host file: trace-cmd report -i host -i guest shows every guest
# event at its host time. Needs trace-cmd; skipped without it.
# clock_test (C) makes the fake /proc and debugfs, samples them and writes
# DIR/trace.dat, guest.map and tsc; see tests/clock_test.c for the terms:
#   CPU 0: host = guest + 4e9
#   CPU 1: host = guest + 4.5e9 up to guest 6.5e9, then (TSC scaled by
#          1.5, offset -10e9) host = (guest + 10e9) / 1.5
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../../../build}
TD=$BUILD/tracedat
VT=$BUILD/tools/vhost-trace
CT=$BUILD/tools/traced/clock_test
plan=16
. "$(dirname "$0")/../../../selftests/lib/tap.sh"

echo "TAP version 13"
echo "1..$plan"
echo "# guest time shift and vhost-trace merge"
if ! command -v trace-cmd > /dev/null; then
	for i in $(seq $plan); do echo "ok $i # SKIP needs trace-cmd"; done
	exit 0
fi
W=$(mktemp -d)
trap '[ -n "$KEEP" ] || rm -rf "$W"' EXIT
. "$here/../../tracedat/tests/meta.sh"
mkmeta "$W/meta" 2
"$TD/tests/mkpages" -o "$W/g0.raw" -c 0 -n 300 -t 6000000000 -d 7000000 -e "$W/g0.exp"
"$TD/tests/mkpages" -o "$W/g1.raw" -c 1 -n 500 -t 5000000000 -d 10000000 -e "$W/g1.exp"
"$TD/tests/mkpages" -o "$W/h0.raw" -c 0 -n 100 -t 9000000000 -d 30000000 -e "$W/h0.exp"
mkdir "$W/g"

"$CT" "$W/g" "$W/meta" "$W/g0.raw" "$W/g1.raw" > "$W/ct.log" 2>&1
rc=$?
sed 's/^/# /' "$W/ct.log"
[ $rc = 0 ] && [ -s "$W/g/trace.dat" ]
ok $? "clock_test samples fake KVM terms, writes DIR/trace.dat and guest.map"

# "TS CPU SEQ" of each event, as trace-cmd report -t shows it (x86-tsc:
# an integer; clocks in ns: seconds.nanoseconds)
events() {
	local args=() f
	for f in "$@"; do args+=(-i "$f"); done
	trace-cmd report -t "${args[@]}" 2>/dev/null |
	sed -nE 's/^ *([a-z0-9_.]+\.dat: +)?.*\[0*([0-9]+)\] +([0-9]+)\.?([0-9]{9})?: vtest_[a-z]+: .*seq=([0-9]+).*/\3\4 \2 \5/p' |
	sed -E 's/^0+([0-9])/\1/'
}
# expected host times of the guest events (ns)
awk '$2 == 0 { printf "%.0f 0 %d\n", $1 + 4000000000, $3 }
     $2 == 1 && $1 < 6500000000 { printf "%.0f 1 %d\n", $1 + 4500000000, $3 }
     $2 == 1 && $1 >= 6500000000 { printf "%.0f 1 %d\n", ($1 + 10000000000) * 2 / 3, $3 }' \
	"$W/g0.exp" "$W/g1.exp" | sort -k2,2n -k3,3n > "$W/want"

# same TIME_SHIFT'ed times as WANT (default want; within 2 ns: the
# reader's rounding)
same() {
	local want=${2:-$W/want}
	sort -k2,2n -k3,3n "$1" > "$W/got.s"
	if [ "$(wc -l < "$W/got.s")" != "$(wc -l < "$want")" ]; then
		echo "# $(wc -l < "$W/got.s") events, want $(wc -l < "$want")"
		return 1
	fi
	paste -d' ' "$want" "$W/got.s" | awk '
		{ d = $1 - $4; if (d < 0) d = -d
		  if ($2 != $5 || $3 != $6 || d > 2) { bad++; if (bad < 5) print "# " $0 } }
		END { print "# " NR " events compared, " bad + 0 " off"; exit bad > 0 }'
}

trace-cmd dump --options -i "$W/g/trace.dat" > "$W/gopts" 2>&1
grep -A3 TimeShift "$W/gopts" | sed 's/^/# /'
grep -A1 TimeShift "$W/gopts" | grep -qi 0x42 &&
	grep -qi '0x1234ABCD' "$W/gopts"
ok $? "trace-cmd dump: TRACEID and TIME_SHIFT (peer 0x42)"

events "$W/g/trace.dat" > "$W/got"
same "$W/got"
ok $? "trace-cmd report: every guest event at its host time (offset change, scaled TSC)"

"$TD/vhost-trace-dat" -m "$W/meta" -o "$W/host.dat" --trace-id 0x77 \
	--set trace_clock=x86-tsc "$W/h0.raw"
cp "$W/host.dat" "$W/local.dat"
"$TD/vhost-trace-dat" -m "$W/meta" -o "$W/local.dat" --trace-id 0x78 "$W/h0.raw"
cp -r "$W/g" "$W/g2"

"$VT" merge "$W/host.dat" "$W/g" > "$W/att" 2>&1
rc=$?
sed 's/^/# /' "$W/att"
[ $rc = 0 ] && grep -q "added GUEST vm7" "$W/att"
ok $? "vhost-trace merge host.dat DIR"

trace-cmd dump --options -i "$W/host.dat" > "$W/hopts" 2>&1
grep -q 'vm7 \[Guest name\]' "$W/hopts" && grep -qi '0x1234abcd \[trace id\]' "$W/hopts" &&
	grep -q '0 520 \[guest cpu, host pid\]' "$W/hopts" &&
	grep -q '1 511 \[guest cpu, host pid\]' "$W/hopts"
ok $? "host.dat: GUEST names vm7, its trace id, vCPU threads 520 511"

trace-cmd dump --options -i "$W/g/trace.dat" 2>&1 | grep -A1 TimeShift | grep -qi '0x77'
ok $? "guest trace.dat: TIME_SHIFT peer is host.dat's trace id"

events "$W/host.dat" > "$W/hgot"
events "$W/host.dat" "$W/g/trace.dat" > "$W/merged"
grep -c . "$W/merged" | sed 's/^/# merged events: /'
cut -d' ' -f1 "$W/merged" | sort -c -n &&
	[ "$(wc -l < "$W/merged")" = $(( $(wc -l < "$W/hgot") + $(wc -l < "$W/want") )) ]
ok $? "report -i host.dat -i DIR/trace.dat: one time line, every event of both"

"$VT" merge "$W/host.dat" "$W/g" > "$W/att2" 2>&1 &&
	grep -q "already had GUEST" "$W/att2" &&
	[ "$(trace-cmd dump --options -i "$W/host.dat" 2>&1 | grep -c '\[Guest name\]')" = 1 ]
ok $? "merge again: no second GUEST option"

# vhost-trace report -H: the same pairing (idempotent), then stock
# trace-cmd report of both files, the extra arguments passed on
"$VT" report -H "$W/host.dat" "$W/g" -- -t > "$W/rep" 2> "$W/rep.err" &&
	grep -q "already had GUEST" "$W/rep.err" &&
	[ "$(grep -c 'vtest_[a-z]*: ' "$W/rep")" = "$(wc -l < "$W/merged")" ] &&
	"$VT" report "$W/g" > "$W/rep2" 2>&1 &&
	[ "$(grep -c 'vtest_[a-z]*: ' "$W/rep2")" = "$(wc -l < "$W/want")" ]
ok $? "vhost-trace report -H host.dat DIR: both, every event; report DIR: the guest's"

! "$VT" merge "$W/local.dat" "$W/g2" > "$W/att3" 2>&1 &&
	grep -q "recorded with the 'local' clock" "$W/att3" &&
	! trace-cmd dump --options -i "$W/local.dat" 2>&1 | grep -q 'Guest name'
ok $? "a host file on another clock: refused, says why, untouched"

# TSC2NSEC (trace-cmd record -C tsc2nsec): mult 3, shift 2, offset 0
tsc2nsec=03000000020000000000000000000000
cp -r "$W/g2" "$W/g3"
cp -r "$W/g2" "$W/g4"
"$TD/vhost-trace-dat" -m "$W/meta" -o "$W/hostn.dat" --trace-id 0x79 \
	--set trace_clock=x86-tsc "$W/h0.raw"
"$TD/tests/edit" "$W/hostn.dat" append 14 $tsc2nsec &&
	"$VT" merge "$W/hostn.dat" "$W/g2" > "$W/att4" 2>&1 &&
	grep -q "guest file: TSC2NSEC of the host's" "$W/att4" &&
	[ "$("$TD/tests/edit" "$W/g2/trace.dat" get 14)" = $tsc2nsec ]
ok $? "a host file with TSC2NSEC: the guest file gets it too"

# vhost-traced writes the host kernel's TSC2NSEC into the guest file: a
# report of the guest alone shows host time in seconds, (tsc * 3) >> 2 ns
awk '{ printf "%.0f %s %s\n", int($1 * 3 / 4), $2, $3 }' "$W/want" > "$W/want_ns"
"$TD/tests/edit" "$W/g4/trace.dat" append 14 $tsc2nsec &&
	"$VT" report "$W/g4" > "$W/rep4" 2>&1 &&
	grep -m1 -E '\] +[0-9]+\.[0-9]{6}: vtest_' "$W/rep4" | sed 's/^/# /' &&
	events "$W/g4/trace.dat" > "$W/got4" && same "$W/got4" "$W/want_ns"
ok $? "a guest file with TSC2NSEC: report DIR shows host seconds, every event at its time"

"$TD/vhost-trace-dat" -m "$W/meta" -o "$W/hostx.dat" --trace-id 0x82 \
	--set trace_clock=x86-tsc "$W/h0.raw"
"$TD/tests/edit" "$W/hostx.dat" append 14 05000000030000000000000000000000
! "$VT" merge "$W/hostx.dat" "$W/g4" > "$W/att7" 2>&1 &&
	grep -q "other terms" "$W/att7" &&
	! trace-cmd dump --options -i "$W/hostx.dat" 2>&1 | grep -q 'Guest name'
ok $? "host and guest files with different TSC2NSEC: refused, says why"

"$TD/vhost-trace-dat" -m "$W/meta" -o "$W/hostg.dat" --trace-id 0x81 \
	--set trace_clock=x86-tsc "$W/h0.raw"
awk '{ printf "%.0f %s %s\n", int($1 * 3 / 4), $2, $3 }' "$W/h0.exp" > "$W/h0_ns"
"$VT" merge "$W/hostg.dat" "$W/g4" > "$W/att8" 2>&1 &&
	grep -q "host file: TSC2NSEC of the guest's" "$W/att8" &&
	[ "$("$TD/tests/edit" "$W/hostg.dat" get 14)" = $tsc2nsec ] &&
	events "$W/hostg.dat" "$W/g4/trace.dat" > "$W/merged4" &&
	cut -d' ' -f1 "$W/merged4" | sort -c -n &&
	[ "$(wc -l < "$W/merged4")" = $(( $(wc -l < "$W/h0_ns") + $(wc -l < "$W/want") )) ] &&
	events "$W/hostg.dat" | head -n 1 | cut -d' ' -f1 |
	grep -qx "$(sort -n "$W/h0_ns" | head -n 1 | cut -d' ' -f1)"
ok $? "a guest file with TSC2NSEC merged: the host file gets it, one time line in ns"

"$TD/vhost-trace-dat" -m "$W/meta" -o "$W/host6.dat" -v 6 --trace-id 0x80 \
	--set trace_clock=x86-tsc "$W/h0.raw"
! "$VT" merge "$W/host6.dat" "$W/g3" > "$W/att5" 2>&1 &&
	grep -q "only version 7" "$W/att5"
ok $? "a version 6 host file: refused, says why"

rm "$W/g3/guest.map"
! "$VT" merge "$W/host.dat" "$W/g3" > "$W/att6" 2>&1 &&
	grep -q "guest.map" "$W/att6"
ok $? "no DIR/guest.map: refused, says so"

tap_done
