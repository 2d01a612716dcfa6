#!/bin/bash
# In the host VM: vhost-traced with the device, against a member of its
# group (nobody; B: an unnamed uid of the group) who plants links, FIFOs
# and swaps in what is theirs while sessions run: DIR/qemu.log as a link
# (QEMU's child opens it as the user: QEMU never starts), a FIFO sink
# swapped for a link and a regular file and back (never attached while
# so, attached again once a FIFO with a reader), RUNDIR/sID/agent.sock as
# a link to root's socket (the peer is not QEMU's uid: nothing sent),
# stats and .stats.tmp as links at stop, and QMP's socket swapped before
# detach (another pid answers: nothing sent). Root's files keep content,
# owner and mode; B can neither read nor stop A's session. The "QEMU" is
# a shell that holds the device fd (no guest: the checks are the
# daemon's). Host-side attacks without the device: tools/traced/tests/
# trust_test.sh.
. "$(dirname "$0")/lib.sh"

W=/tmp/vtt
SOCK=$W/traced.sock
. "$(dirname "$0")/traced_lib.sh"
FAKE_QMP=$TOP/tools/traced/tests/fake_qmp.py
rm -rf $W
mkdir -p $W/root
chmod 755 $W
cd $W || exit 1

A=nobody
B=12346
as() { local u=$1; shift; setpriv --reuid="$u" --regid=nogroup --clear-groups "$@"; }
# A's background processes: setpriv execs, so $! is the process itself
AS_A="setpriv --reuid=$A --regid=nogroup --clear-groups"
vt() { local u=$1; shift; as "$u" timeout 30 "$VT" "$@"; }
echo precious > $W/root/victim
snap() { stat -c '%n %s %U %G %a %Y' $W/root/*; md5sum $W/root/victim; }
snap > $W/before
untouched() {
	snap > $W/after
	cmp -s $W/before $W/after || diff $W/before $W/after
}
userdir() { mkdir -p "$1" && chown $A:nogroup "$1"; }
# field KEY FILE: KEY's value in the "session" line of a DIR/stats
field() { head -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
say_log() { last_log | grep "$1" || { last_log | tail -n 20; return 1; }; }

check "$REL: module loads" load_module
check "$REL: vhost-traced starts (group nogroup)" start_daemon -g nogroup

qemu_log() {
	userdir $W/d1 || return 1
	as $A ln -s $W/root/victim $W/d1/qemu.log
	vt $A record --launch -d -N tlog -o $W/d1 -n 1 -- sh -c 'exec sleep 30' qemu
	sleep 2
	vt $A status tlog
	[ "$(field state $W/d1/stats)" = ended ] &&
		[ "$(field exit $W/d1/stats)" = 126 ] && [ -L $W/d1/qemu.log ] &&
		untouched
}
check "$REL: DIR/qemu.log a link: QEMU does not start, the target untouched" qemu_log

start_fifo() {
	local out
	userdir $W/d2 || return 1
	out=$(vt $A record --launch -d -N tfifo --fifo -o $W/d2 -n 2 -- \
		sh -c 'exec sleep 120' qemu) || return 1
	echo "$out"
	SID=$(echo "$out" | sed -n 's/.*session \([0-9]*\) .*/\1/p')
	QPID=$(echo "$out" | sed -n 's/.*QEMU pid \([0-9]*\),.*/\1/p')
	[ -p $W/d2/cpu0.fifo ] && [ "$(stat -c %U $W/d2/cpu0.fifo)" = $A ]
}
check "$REL: A's session with FIFO sinks runs" start_fifo

# cpu0's SINK column in status: yes (attached) or no
sink0() { vt $A status tfifo | awk '$1 == "cpu0" {print $8}'; }

# swap NAME: A renames $W/d2/new over NAME (in one step)
swap() { as $A mv -T $W/d2/new "$W/d2/$1"; }

fifo_swaps() {
	as $A ln -s $W/root/victim $W/d2/new && swap cpu0.fifo || return 1
	sleep 2.5
	say_log "tfifo: $W/d2/cpu0.fifo: a symbolic link (not followed)" &&
		untouched || return 1
	as $A touch $W/d2/new && swap cpu0.fifo || return 1
	sleep 2.5
	echo "cpu0 attached with a regular file: $(sink0)"
	[ "$(sink0)" = no ] && [ ! -s $W/d2/cpu0.fifo ] || return 1
	as $A mkfifo $W/d2/new && swap cpu0.fifo || return 1
	$AS_A cat $W/d2/cpu0.fifo > /dev/null &
	READER=$!
	sleep 2.5
	echo "cpu0 attached with a FIFO and its reader: $(sink0)"
	[ "$(sink0)" = yes ]
}
check "$REL: a FIFO sink swapped for a link, a file: not attached; a FIFO again: attached" fifo_swaps

agent_link() {
	python3 - $W/rootsock $W/rootsock.log <<'EOP' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.listen(4)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        d = c.recv(4096)
    except OSError:
        d = b""
    with open(sys.argv[2], "a") as f:
        f.write("connection, %d bytes\n" % len(d))
    c.close()
EOP
	ROOTSOCK=$!
	for _ in $(seq 50); do [ -S $W/rootsock ] && break; sleep 0.1; done
	as $A ln -s $W/rootsock $W/s$SID/agent.sock || return 1
	sleep 3
	cat $W/rootsock.log
	say_log "tfifo: agent socket .*: the peer (pid [0-9]*) runs as uid 0, not as QEMU (uid 65534): not trusted" &&
		! grep -q "[1-9][0-9]* bytes" $W/rootsock.log
}
check "$REL: RUNDIR/sID/agent.sock a link to root's socket: not trusted, nothing sent" agent_link

others() {
	local out
	out=$(vt $B list)
	echo "$out"
	echo "$out" | grep -q tfifo && return 1
	out=$(vt $B status tfifo 2>&1)
	echo "$out"
	echo "$out" | grep -q "another user's" || return 1
	out=$(vt $B stop tfifo 2>&1)
	echo "$out"
	echo "$out" | grep -q "another user's" &&
		vt $A status tfifo | grep -q "^[0-9]* *tfifo *running"
}
check "$REL: B can neither read nor stop A's session" others

stop_links() {
	as $A ln -s $W/root/victim $W/d2/stats
	as $A ln -s $W/root/victim $W/d2/.stats.tmp
	vt $A stop tfifo || return 1
	[ "$(stat -c %F:%U $W/d2/stats)" = "regular file:$A" ] &&
		[ "$(field state $W/d2/stats)" = stopped ] && untouched
}
check "$REL: stop with stats and .stats.tmp as links: A's own stats, the target untouched" stop_links

qmp_swap() {
	local out
	userdir $W/d3 || return 1
	$AS_A python3 $FAKE_QMP $W/d3/qmp.sock $W/d3/qmp1.log &
	FAKE1=$!
	for _ in $(seq 50); do [ -S $W/d3/qmp.sock ] && break; sleep 0.1; done
	vt $A record --attach $W/d3/qmp.sock -d -N tatt -o $W/d3/out || return 1
	as $A mv $W/d3/qmp.sock $W/d3/qmp.old
	$AS_A python3 $FAKE_QMP $W/d3/qmp.sock $W/d3/qmp2.log &
	FAKE2=$!
	for _ in $(seq 50); do [ -S $W/d3/qmp.sock ] && break; sleep 0.1; done
	out=$(vt $A stop tatt 2>&1)
	echo "$out"
	cat $W/d3/qmp1.log $W/d3/qmp2.log
	echo "$out" | grep -q "device vtrace[0-9]* detach-failed" &&
		echo "$out" | grep -q "not QEMU (pid $FAKE1): no command sent" &&
		! grep -q device_del $W/d3/qmp2.log
}
check "$REL: detach: QMP's socket swapped for another process's: nothing sent" qmp_swap

cleanup() {
	kill $READER $ROOTSOCK $FAKE1 $FAKE2 $QPID 2>/dev/null
	kill -TERM $DAEMON
	wait $DAEMON
	rc=$?
	echo "daemon exit status $rc"
	sleep 1
	[ "$rc" = 0 ] && rmmod vhost_trace && [ ! -e /dev/vhost-trace ]
}
check "$REL: SIGTERM: daemon exits 0; module unloads" cleanup

exit $FAILED
