#!/bin/bash
# run.sh replay|fuzz NAME...: TAP, one point per target.
#   replay   every input of corpus/NAME once (a crash fails it)
#   fuzz     FUZZ_SECONDS (default 5) of libFuzzer from corpus/NAME (and
#            NAME.dict when there is one); new
#            inputs to $BUILD/fuzz/work/NAME, a crash's input to
#            $BUILD/fuzz/artifacts/NAME-crash-* (said in the output)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../../build}
O=$BUILD/fuzz
mode=$1
shift
secs=${FUZZ_SECONDS:-5}
n=0 bad=0

echo "TAP version 13"
echo "1..$#"
for name in "$@"; do
	n=$((n + 1))
	bin=$O/fuzz_$name
	corpus=$here/corpus/$name
	log=$(mktemp)
	case "$mode" in
	replay)
		files=("$corpus"/*)
		"$bin" -rss_limit_mb=2048 -timeout=20 "${files[@]}" \
			> "$log" 2>&1
		rc=$?
		what="replays ${#files[@]} input(s) of corpus/$name" ;;
	fuzz)
		mkdir -p "$O/work/$name" "$O/artifacts"
		dict=()
		[ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
		"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
			-max_len=65536 -print_final_stats=1 "${dict[@]}" \
			-artifact_prefix="$O/artifacts/$name-" \
			"$O/work/$name" "$corpus" > "$log" 2>&1
		rc=$?
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		what="fuzz_$name: ${secs}s, ${runs:-?} runs" ;;
	esac
	if [ "$rc" = 0 ]; then
		echo "ok $n - $what"
	else
		bad=$((bad + 1))
		grep -E 'ERROR|SUMMARY|Test unit written|#[0-9]|^ +#[0-9]+ ' \
			"$log" | head -40 | sed 's/^/# /'
		echo "not ok $n - $what (exit $rc)"
	fi
	rm -f "$log"
done
[ "$bad" = 0 ]
