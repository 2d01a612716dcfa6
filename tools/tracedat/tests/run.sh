#!/bin/bash
# Tests of the trace.dat writer against the stock trace-cmd reader, TAP
# output (kselftest style). Synthetic ring-buffer pages (mkpages) of the
# events in meta.sh, written as v6, v7 and v7+zstd through the CLI, read
# back with `trace-cmd report` / `trace-cmd dump`.
#
# Usage: BUILD=... tests/run.sh   (make -C tools/tracedat check)
set -u

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../../../build}
B=$BUILD/tracedat
CLI=$B/vhost-trace-dat
MK=$B/tests/mkpages
T=$(mktemp -d /tmp/tracedat-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$here/meta.sh"

. "$here/../../../selftests/lib/tap.sh"
echo "TAP version 13"

# check NAME CMD...: a test point; the command's output as comments on failure
check() {
	local name=$1 log=$T/log
	shift
	if "$@" > "$log" 2>&1; then
		ok 0 "$name"
	else
		sed 's/^/# /' "$log" | head -40
		ok 1 "$name"
	fi
}

# events FILE...: "[file: ]TS CPU SEQ EVENT" per decoded vtest event, sorted
events() {
	local args=() f
	for f in "$@"; do args+=(-i "$f"); done
	trace-cmd report -t "${args[@]}" 2>/dev/null |
	sed -nE 's/^ *(([a-z0-9_.]+\.dat): +)?.*\[0*([0-9]+)\] +([0-9]+)\.([0-9]{9}): (vtest_[a-z]+): .*seq=([0-9]+).*/\2 \4\5 \3 \7 \6/p' |
	sed -E 's/^ //; s/ 0+([0-9])/ \1/' | sort
}

# same_events EXPECTED FILE...: the decoded events equal the expected list
same_events() {
	local exp=$1
	shift
	events "$@" > "$T/got"
	sort "$exp" > "$T/exp"
	if ! cmp -s "$T/exp" "$T/got"; then
		echo "expected $(wc -l < "$T/exp") events, decoded $(wc -l < "$T/got")"
		diff "$T/exp" "$T/got" | head -20
		return 1
	fi
	echo "$(wc -l < "$T/got") events match"
}

# fails_cleanly OUT PATTERN CMD...: exit 1, PATTERN on stderr, OUT absent
# (or unchanged if it existed), no temporary file left next to it
fails_cleanly() {
	local out=$1 pat=$2 rc before=""
	shift 2
	[ -e "$out" ] && before=$(md5sum < "$out")
	"$@" 2> "$T/err"
	rc=$?
	cat "$T/err"
	[ "$rc" = 1 ] || { echo "exit $rc, expected 1"; return 1; }
	grep -qi -- "$pat" "$T/err" || { echo "no '$pat' in the message"; return 1; }
	if [ -n "$before" ]; then
		[ "$(md5sum < "$out")" = "$before" ] ||
			{ echo "$out was changed"; return 1; }
	elif [ -e "$out" ]; then
		echo "$out exists"
		return 1
	fi
	if ls "$out".tmp-* > /dev/null 2>&1; then
		echo "temporary file left: $(ls "$out".tmp-*)"
		return 1
	fi
}

for tool in "$CLI" "$MK" "$B/tests/test_api"; do
	[ -x "$tool" ] || { echo "Bail out! $tool not built"; exit 1; }
done
command -v trace-cmd > /dev/null || { echo "Bail out! trace-cmd missing"; exit 1; }

# --- the library API (test_api's own TAP points, renumbered)
mkmeta "$T/meta" 2
mkdir -p "$T/api"
while IFS= read -r line; do
	case "$line" in
	"ok "*)		ok 0 "${line#ok [0-9]* - }" ;;
	"not ok "*)	ok 1 "${line#not ok [0-9]* - }" ;;
	"#"*)		echo "$line" ;;
	esac
done < <("$B/tests/test_api" "$T/meta" "$T/api" 2>&1; echo "# test_api exit $?")

# --- data: CPU 0 with time extends, big and discarded events, padded
# pages; CPU 1 plain; CPU 3 (for the empty-CPU cases) sparse.
mkmeta "$T/meta" 2
"$MK" -o "$T/cpu0.raw" -c 0 -n 1500 -g 100 -b 10 -x 7 -P -e "$T/exp0"
"$MK" -o "$T/cpu1.raw" -c 1 -n 700 -t 1000000500 -d 1500 -e "$T/exp1"
"$MK" -o "$T/cpu3.raw" -c 3 -n 50 -t 1000000700 -d 100000 -g 20 -e "$T/exp3"
: > "$T/empty.raw"
cat "$T/exp0" "$T/exp1" > "$T/exp01"

variants="6 7 7z"
vopts() {
	case $1 in 6) echo "-v 6" ;; 7) echo "-v 7" ;; 7z) echo "-v 7 --zstd" ;; esac
}

for v in $variants; do
	out=$T/two-$v.dat
	# shellcheck disable=SC2046
	check "v$v: 2 CPUs written" "$CLI" -m "$T/meta" -o "$out" $(vopts $v) \
		"$T/cpu0.raw" "$T/cpu1.raw"
	check "v$v: trace-cmd report decodes all 2200 events, timestamps exact" \
		same_events "$T/exp01" "$out"
	check "v$v: trace-cmd dump --summary reads it" trace-cmd dump --summary -i "$out"
	check "v$v: clock, uname, CPU count options" sh -c \
		"trace-cmd dump --options -i '$out' > '$T/opts' &&
		 grep -qx '\[local\]' '$T/opts' && grep -q 'vtest-guest 6.1.0-56' '$T/opts' &&
		 grep -A1 'Option CPUCOUNT' '$T/opts' | grep -qx 2"
done

# --- empty CPUs: 4 CPUs, 1 is a 0-byte file, 2 is not given at all
mkmeta "$T/meta4" 4
cat "$T/exp0" "$T/exp3" > "$T/exp03"
for v in $variants; do
	out=$T/sparse-$v.dat
	# shellcheck disable=SC2046
	check "v$v: empty CPUs (0-byte file, CPU not given) written" \
		"$CLI" -m "$T/meta4" -o "$out" $(vopts $v) \
		0="$T/cpu0.raw" 1="$T/empty.raw" 3="$T/cpu3.raw"
	check "v$v: empty CPUs: cpus=4, events of CPUs 0 and 3 exact" sh -c \
		"trace-cmd report -i '$out' 2>/dev/null | head -1 | grep -qx 'cpus=4'"
	check "v$v: empty CPUs: events exact" same_events "$T/exp03" "$out"
done
check "v7: only empty CPUs" sh -c "'$CLI' -m '$T/meta' -o '$T/none.dat' '$T/empty.raw' &&
	trace-cmd report -i '$T/none.dat'"

# --- host + guest merge: TRACEID, TIME_SHIFT in the guest, GUEST in the host
host_id=0x1122334455667788
guest_id=0x1a0b0c0d0e0f1011
"$MK" -o "$T/h0.raw" -c 0 -n 200 -t 5000000000 -d 5000 -e "$T/h0.exp"
"$MK" -o "$T/h1.raw" -c 1 -n 200 -t 5000002500 -d 5000 -e "$T/h1.exp"
for v in $variants; do
	# shellcheck disable=SC2046
	check "v$v: host file with TRACEID and GUEST" \
		"$CLI" -m "$T/meta" -o "$T/host-$v.dat" $(vopts $v) \
		--trace-id $host_id --guest "vtest-guest:$guest_id:100,101" \
		"$T/h0.raw" "$T/h1.raw"
	# guest CPU 0: constant +4 s; CPU 1: +4.5 s then (interpolated) +4.5 s + 2 us
	# shellcheck disable=SC2046
	check "v$v: guest file with TRACEID and TIME_SHIFT" \
		"$CLI" -m "$T/meta" -o "$T/guest-$v.dat" $(vopts $v) \
		--trace-id $guest_id --peer-id $host_id --tsync-flags 1 \
		--ts 0:0:4000000000 \
		--ts 1:1000000000:4500000000 --ts 1:1001000000:4500002000 \
		"$T/cpu0.raw" "$T/cpu1.raw"
done
{
	awk '{ print "host.dat", $0 }' "$T/h0.exp" "$T/h1.exp"
	awk '$2 == 0 { printf "guest.dat %.0f %d %d %s\n", $1 + 4000000000, $2, $3, $4 }
	     $2 == 1 { d = 1000000; x = ($1 - 1000000000) * 2000;
		       printf "guest.dat %.0f %d %d %s\n",
		       $1 + 4500000000 + int((x + d / 2) / d), $2, $3, $4 }' \
		"$T/exp0" "$T/exp1"
} > "$T/merged.exp"
for v in $variants; do
	cp "$T/host-$v.dat" "$T/host.dat"
	cp "$T/guest-$v.dat" "$T/guest.dat"
	check "v$v: report -i host.dat -i guest.dat merges, guest times shifted" \
		same_events "$T/merged.exp" "$T/host.dat" "$T/guest.dat"
	check "v$v: GUEST option names the guest, its id and vCPU threads" sh -c \
		"trace-cmd dump --options -i '$T/host.dat' > '$T/hopts' &&
		 grep -q 'vtest-guest \[Guest name\]' '$T/hopts' &&
		 grep -qi '$guest_id \[trace id\]' '$T/hopts' &&
		 grep -q '1 101 \[guest cpu, host pid\]' '$T/hopts'"
done

printf '# cpu time offset\n0 0 4000000000\n1 1000000000 4500000000\n1 1001000000 4500002000\n' \
	> "$T/ts.txt"
check "--ts-file gives the same TIME_SHIFT as --ts" sh -c "
	'$CLI' -m '$T/meta' -o '$T/guest-f.dat' --trace-id $guest_id --peer-id $host_id \
		--tsync-flags 1 --ts-file '$T/ts.txt' '$T/cpu0.raw' '$T/cpu1.raw' &&
	trace-cmd dump --options -i '$T/guest-f.dat' | grep -A12 TimeShift > '$T/a' &&
	trace-cmd dump --options -i '$T/guest-7.dat' | grep -A12 TimeShift > '$T/b' &&
	cmp '$T/a' '$T/b'"

# --- amending version 7 files (tracedat_edit_*): what `vhost-trace attach`
# does to a host file recorded by trace-cmd and to the daemon's guest file
ED=$B/tests/edit
le() {	# le VALUE BYTES: little-endian hex
	local i out=""
	for ((i = 0; i < $2; i++)); do
		out+=$(printf %02x $(( ($1 >> (8 * i)) & 255 )))
	done
	echo "$out"
}
guest_hex=$(printf 'vtest-guest' | od -An -tx1 | tr -d ' \n')00$(le $guest_id 8)$(le 2 4)$(le 0 4)$(le 100 4)$(le 1 4)$(le 101 4)
"$CLI" -m "$T/meta" -o "$T/ah.dat" --trace-id $host_id "$T/h0.raw" "$T/h1.raw"
"$CLI" -m "$T/meta" -o "$T/ag.dat" --trace-id $guest_id --peer-id 0 \
	--tsync-flags 1 --ts-file "$T/ts.txt" "$T/cpu0.raw" "$T/cpu1.raw"
trace-cmd convert -i "$T/ah.dat" -o "$T/ahc.dat" --compression any > /dev/null 2>&1
check "trace-cmd convert writes a compressed version 7 host file" sh -c \
	"trace-cmd dump --summary -i '$T/ahc.dat' 2>&1 | tee '$T/sum' | grep -qi 'compress' &&
	 ! grep -qi 'compression.*none' '$T/sum'"
cat "$T/h0.exp" "$T/h1.exp" > "$T/hexp"
for h in ah ahc; do
	check "$h: TRACEID read from the options" sh -c \
		"[ \"\$('$ED' '$T/$h.dat' get 11)\" = $(le $host_id 8) ]"
	check "$h: GUEST added (a new options section, linked from the last)" \
		"$ED" "$T/$h.dat" append 13 "$guest_hex"
	check "$h: trace-cmd reads the GUEST option and every event" sh -c \
		"trace-cmd dump --options -i '$T/$h.dat' > '$T/aopts' &&
		 grep -q 'vtest-guest \[Guest name\]' '$T/aopts' &&
		 grep -qi '$guest_id \[trace id\]' '$T/aopts' &&
		 grep -q '1 101 \[guest cpu, host pid\]' '$T/aopts' &&
		 [ \"\$('$ED' '$T/$h.dat' count 13)\" = 1 ]"
	check "$h: every event still decodes, times unchanged" \
		same_events "$T/hexp" "$T/$h.dat"
done
check "guest: TIME_SHIFT peer id patched in place" sh -c \
	"'$ED' '$T/ag.dat' patch 12 0 $(le $host_id 8) &&
	 trace-cmd dump --options -i '$T/ag.dat' | grep -A1 TimeShift | grep -qi '$host_id'"
cp "$T/ahc.dat" "$T/host.dat"
cp "$T/ag.dat" "$T/guest.dat"
check "amended host (trace-cmd's file) + guest merge, guest times shifted" \
	same_events "$T/merged.exp" "$T/host.dat" "$T/guest.dat"
"$CLI" -m "$T/meta" -o "$T/a6.dat" -v 6 "$T/cpu0.raw"
check "version 6 file: refused, says why, untouched" sh -c \
	"cp '$T/a6.dat' '$T/a6.orig'; ! '$ED' '$T/a6.dat' append 13 00 2> '$T/err' &&
	 grep -q 'only version 7' '$T/err' && cmp '$T/a6.dat' '$T/a6.orig'"
check "not a trace.dat: refused" sh -c \
	"head -c 4096 /dev/urandom > '$T/rnd' &&
	 ! '$ED' '$T/rnd' get 11 2> '$T/err' && grep -q 'not a trace.dat' '$T/err'"

# --- error cases: clear message, exit 1, nothing (complete-looking) left
cp -r "$T/meta" "$T/nohp" && rm "$T/nohp/header_page"
check "missing header_page: fails, says so, no output" \
	fails_cleanly "$T/e1.dat" header_page "$CLI" -m "$T/nohp" -o "$T/e1.dat" "$T/cpu0.raw"
cp -r "$T/meta" "$T/noev" && rm -r "$T/noev/events"
check "no event formats: fails, says so, no output" \
	fails_cleanly "$T/e2.dat" "no event formats" "$CLI" -m "$T/noev" -o "$T/e2.dat" "$T/cpu0.raw"
check "metadata directory missing: fails, no output" \
	fails_cleanly "$T/e3.dat" "metadata" "$CLI" -m "$T/nonexistent" -o "$T/e3.dat" "$T/cpu0.raw"
check "CPU file missing: fails, no output" \
	fails_cleanly "$T/e4.dat" "nonexistent.raw" "$CLI" -m "$T/meta" -o "$T/e4.dat" "$T/nonexistent.raw"

cp -r "$T/meta" "$T/minimal"
rm -r "$T/minimal/kallsyms" "$T/minimal/printk_formats" "$T/minimal/saved_cmdlines" \
	"$T/minimal/info" "$T/minimal/events/ftrace"
for v in $variants; do
	# shellcheck disable=SC2046
	check "v$v: optional metadata absent (kallsyms, printk, cmdlines, info, ftrace): decodes" \
		sh -c "'$CLI' -m '$T/minimal' -o '$T/min-$v.dat' $(vopts $v) '$T/cpu0.raw' '$T/cpu1.raw' &&
		trace-cmd report -i '$T/min-$v.dat' 2>/dev/null | grep -c 'vtest_' | grep -qx 2200"
done

head -c $((4096 * 3 + 100)) "$T/cpu0.raw" > "$T/partial.raw"
echo "an older complete file" > "$T/e5.dat"
check "partial last page: fails, says so, existing output untouched" \
	fails_cleanly "$T/e5.dat" "partial" "$CLI" -m "$T/meta" -o "$T/e5.dat" "$T/cpu1.raw" "$T/partial.raw"
check "partial last page with --drop-partial: warns, keeps the whole pages" sh -c "
	'$CLI' -m '$T/meta' -o '$T/drop.dat' --drop-partial '$T/partial.raw' 2> '$T/warn' &&
	grep -q 'dropping a partial last page' '$T/warn' &&
	trace-cmd report -i '$T/drop.dat' 2>/dev/null | grep -c 'vtest_' > '$T/cnt' &&
	c=\$(cat '$T/cnt') && [ \"\$c\" -gt 100 ] && [ \"\$c\" -lt 1500 ]"
head -c 8192 /dev/urandom > "$T/garbage.raw"
check "a page that is not a ring-buffer page: fails, says so" \
	fails_cleanly "$T/e6.dat" "commit" "$CLI" -m "$T/meta" -o "$T/e6.dat" "$T/garbage.raw"
touch "$T/afile"
check "unwritable output (path under a file): fails, says so" \
	fails_cleanly "$T/afile/out.dat" "cannot create" "$CLI" -m "$T/meta" -o "$T/afile/out.dat" "$T/cpu0.raw"
check "unwritable output (missing directory): fails, says so" \
	fails_cleanly "$T/nodir/out.dat" "cannot create" "$CLI" -m "$T/meta" -o "$T/nodir/out.dat" "$T/cpu0.raw"
# a write that fails half way (file size limit): no partial file left
check "write failing half way (ulimit -f): fails, no partial file" \
	fails_cleanly "$T/e7.dat" "write failed" bash -c \
	"trap '' XFSZ; ulimit -f 8; exec '$CLI' -m '$T/meta' -o '$T/e7.dat' '$T/cpu0.raw' '$T/cpu1.raw'"
check "TIME_SHIFT without a sample for CPU 0: fails, says so" \
	fails_cleanly "$T/e8.dat" "no sample for CPU 0" "$CLI" -m "$T/meta" -o "$T/e8.dat" \
	--peer-id 1 --ts 1:0:5 "$T/cpu0.raw"
check "no CPU data and no CPU count: fails, says so" \
	fails_cleanly "$T/e11.dat" "no CPU data" "$CLI" -m "$T/minimal" -o "$T/e11.dat"
check "--zstd with version 6: usage error (exit 2)" sh -c \
	"'$CLI' -m '$T/meta' -o '$T/e9.dat' -v 6 --zstd '$T/cpu0.raw'; [ \$? = 2 ] && [ ! -e '$T/e9.dat' ]"
check "bad --ts: usage error (exit 2), no output" sh -c \
	"'$CLI' -m '$T/meta' -o '$T/e10.dat' --peer-id 1 --ts 0:x '$T/cpu0.raw'; [ \$? = 2 ] && [ ! -e '$T/e10.dat' ] && ! ls '$T'/e10.dat.tmp-* 2>/dev/null"

tap_done -p
