#!/bin/bash
# Unit test (TAP): the real vhost-traced against what a hostile guest
# leaves in a session's DIR, without /dev/vhost-trace (the device is
# /dev/null here) and without QEMU. State files as a daemon that died
# leaves them (the crash loop of issue 15: a guest's header_page without
# an offset made write_tracedat segfault, and recovery wrote the same
# trace.dat again at every start) for sessions whose QEMU is gone and whose
# DIR/meta or pages a guest made: header_page without an offset, with an
# offset past the page, garbage pages; next to a good session and one with
# the most CPUs a guest may claim (4096). The daemon must survive, end each
# hostile session with the error in DIR/stats (tracedat_error=) and its
# log, write the good sessions' trace.dat, and start again after a
# SIGKILL. agent.c's side of the guest (bad fields on the control port) is
# hostile_test.c. Needs root (state files are root's); skipped otherwise.
PLAN=8
TITLE="vhost-traced and a hostile guest's DIR/meta and pages"
. "$(dirname "$0")/daemon_env.sh"
. "$here/../../tracedat/tests/meta.sh"

# state ID NAME DIR CPUS: a running session's state file as a daemon
# writes it (tools/traced/state.c), QEMU gone (a pid that exited)
true &
dead=$!
wait $dead
state() {
	mkdir -p "$R/s$1"
	printf 'vhost-traced-session version=1 id=%s name=%s state=running pid=%s start_time=1 vhostfd=5 ports=2 dir=%s sink=file policy=0 agent=on agent_state=running agent_proto=1 events=vtest:vtest_event socket=%s/s%s/agent.sock uid=0 gid=0 stop_timeout=10000 started=1700000000 meta=1 cpus=%s release=6.1.0-test machine=x86_64 device=0 qmp= clock= trace_id=0\n' \
		"$1" "$2" "$dead" "$3" "$R" "$1" "$4" > "$R/s$1/state"
	chmod 600 "$R/s$1/state"
}

# session DIR: good metadata and pages
session() {
	mkdir -p "$1"
	mkmeta "$1/meta" 2
	"$MK" -o "$1/cpu0.raw" -c 0 -n 300 > /dev/null
	"$MK" -o "$1/cpu1.raw" -c 1 -n 200 -t 1000000500 > /dev/null
}

session $W/badhp
sed -i 's/\toffset:16;//' $W/badhp/meta/header_page
state 3 badhp $W/badhp 2

session $W/bigoff
sed -i 's/offset:16;/offset:8192;/' $W/bigoff/meta/header_page
state 4 bigoff $W/bigoff 2

session $W/garbage
head -c 4096 /dev/urandom > $W/garbage/cpu0.raw
printf '\x01\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\x07' |
	dd of=$W/garbage/cpu0.raw conv=notrunc status=none
state 5 garbage $W/garbage 2

session $W/good
state 6 good $W/good 2

session $W/maxcpus
state 7 maxcpus $W/maxcpus 4096

start_daemon() {
	"$TRACED" -s $S -r $R -d /dev/null >> $W/log 2>&1 &
	pid=$!
	pids+=($pid)
	for i in $(seq 50); do
		[ -S $S ] && "$VT" -s $S list > /dev/null 2>&1 && break
		sleep 0.1
	done
	sleep 1.5	# the session threads end the sessions whose QEMU is gone
}

start_daemon
"$VT" -s $S list > $W/list 2>&1
sed 's/^/# /' $W/log $W/list

kill -0 $pid && [ "$(grep -c ' ended ' $W/list)" = 5 ] &&
	grep -q "recovery: 0 session(s) recovered, 5 ended" $W/log
ok $? "the daemon survives recovering 5 sessions whose QEMU is gone, 3 of them hostile"

# stats FILE: DIR/stats's first line, words decoded
stats() { head -n 1 "$1" | tr ' ' '\n' | python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read()))'; }

st=$(stats $W/badhp/stats)
echo "$st" | grep '^tracedat_error=' | sed 's/^/# /'
[ ! -e $W/badhp/trace.dat ] && echo "$st" | grep -q '^state=ended' &&
	echo "$st" | grep -q '^tracedat_error=header_page: the data field has no offset' &&
	grep -q "trace.dat: header_page: the data field has no offset" $W/log
ok $? "header_page's data field without offset: (the segfault): no trace.dat, DIR/stats and the log say why"

st=$(stats $W/bigoff/stats)
echo "$st" | grep '^tracedat_error=' | sed 's/^/# /'
[ ! -e $W/bigoff/trace.dat ] &&
	echo "$st" | grep -q "^tracedat_error=header_page: the data field's offset is not a number in 12..64"
ok $? "header_page's data offset 8192 (psize - hdr wrapped): no trace.dat, DIR/stats says why"

st=$(stats $W/garbage/stats)
echo "$st" | grep '^tracedat_error=' | sed 's/^/# /'
[ ! -e $W/garbage/trace.dat ] &&
	echo "$st" | grep -q '^tracedat_error=.*cpu0.raw (cpu 0): page 0 at offset 0: commit .* exceeds'
ok $? "a garbage ring-buffer page: no trace.dat, DIR/stats names the file, page and commit"

[ -s $W/good/trace.dat ] && ! grep -q tracedat_error $W/good/stats
ok $? "the good session next to them: DIR/trace.dat written, no error"

if command -v trace-cmd > /dev/null; then
	got=$(trace-cmd report -i $W/maxcpus/trace.dat 2> /dev/null | grep -c vtest_event)
	cpus=$(trace-cmd report --cpus -i $W/maxcpus/trace.dat 2> /dev/null | head -n 1)
	echo "# maxcpus: $got events; trace-cmd: ${cpus:-?}"
	[ "$got" = 500 ]
	ok $? "cpus=4096 (the most a guest may claim) reads back after a restart: trace.dat written, every event decoded"
else
	[ -s $W/maxcpus/trace.dat ]
	ok $? "cpus=4096 (the most a guest may claim) reads back after a restart: trace.dat written"
fi

# a daemon that dies (SIGKILL: as the segfault did) and starts again
{ kill -KILL $pid; wait $pid; } 2> /dev/null
: > $W/log
start_daemon
sed 's/^/# /' $W/log
kill -0 $pid && "$VT" -s $S list > /dev/null
ok $? "after a SIGKILL the daemon starts again and answers (no crash loop)"

kill -TERM $pid
wait $pid
ok $? "SIGTERM: exit 0"

tap_done
