#!/bin/sh
# In the host VM of a debug kernel (tools/dev/debug-kernel.sh): KMEMLEAK=clear
# forgets what kmemleak knows so far (boot-time objects); otherwise a scan
# (objects younger than 5 s are not reported: wait first, scan twice as
# the kmemleak documentation advises), and any suspected leak fails and
# is printed.
. "$(dirname "$0")/lib.sh"

KL=/sys/kernel/debug/kmemleak

kmemleak_clear() {
	[ -w "$KL" ] && echo clear > "$KL"
}

kmemleak_scan() {
	[ -w "$KL" ] || { echo "no $KL"; return 1; }
	sleep 6
	echo scan > "$KL" && echo scan > "$KL" || return 1
	cat "$KL" > /tmp/kmemleak.txt
	if [ -s /tmp/kmemleak.txt ]; then
		echo "kmemleak: $(grep -c '^unreferenced object' \
			/tmp/kmemleak.txt) suspected leak(s):"
		head -n 200 /tmp/kmemleak.txt
		return 1
	fi
	echo "kmemleak: no leaks"
}

if [ "${KMEMLEAK:-scan}" = clear ]; then
	check "$REL: kmemleak cleared" kmemleak_clear
else
	check "$REL: kmemleak scan finds no leak" kmemleak_scan
fi
exit $FAILED
