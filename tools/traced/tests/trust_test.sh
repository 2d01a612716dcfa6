#!/bin/bash
# Unit test (TAP): vhost-traced against a user of its group who plants
# links, FIFOs and swaps in the directories that are theirs (DIR, and
# RUNDIR/sID, which is chowned to them), without /dev/vhost-trace: launch
# requests (DIR and the sinks are made before the device is opened) and
# sessions taken over after a restart whose QEMU is gone (they end from
# what is in DIR: sinks synced, file sizes, DIR/stats, trace.dat, the
# state file). No file outside the user's rights changes content, owner
# or mode; the daemon never blocks; a user sees and stops their own
# sessions only; a run directory others may write is refused. The same
# with a device and QEMU (qemu.log, the agent socket, detach):
# selftests/vm/traced_trust.sh. Needs root and setpriv; skipped otherwise.
PLAN=18
TITLE="vhost-traced: a hostile member of its group"
NEEDS=setpriv
. "$(dirname "$0")/daemon_env.sh"
chmod 755 "$W"
. "$here/statefile.sh"

# user A (nobody) and user B (a uid without a name), both of the group
A=nobody
B=12346
as() { local u=$1; shift; setpriv --reuid="$u" --regid=nogroup --clear-groups "$@"; }
vt() { local u=$1; shift; timeout 10 setpriv --reuid="$u" --regid=nogroup \
	--clear-groups "$VT" -s "$S" "$@"; }

# root's files, which the plants point at
V=$W/root
mkdir -p "$V/dir"
echo precious > "$V/victim"
echo secret > "$V/secret"
chmod 600 "$V/secret"
echo "not a session" > "$V/dir/file"
snap() { stat -c '%n %s %U %G %a %Y' "$V"/* "$V"/dir/*; md5sum "$V"/victim "$V"/secret "$V"/dir/file; }
snap > "$W/before"
untouched() { snap > "$W/after"; cmp -s "$W/before" "$W/after" || diff "$W/before" "$W/after" | sed 's/^/# /'; cmp -s "$W/before" "$W/after"; }

# a DIR of user A's
userdir() { mkdir -p "$1"; chown "$A:nogroup" "$1"; }

# the run directory: others may not write it
mkdir -m 1777 "$W/pub"
out=$(timeout 10 "$TRACED" -s "$W/pub/t.sock" -d /dev/null 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 1 ] && echo "$out" | grep -q "refused as the run directory: owned by uid 0, mode 1777"
ok $? "a world-writable run directory is refused"
userdir "$W/usr"
out=$(timeout 10 "$TRACED" -s "$W/usr/t.sock" -d /dev/null 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "refused as the run directory: owned by uid 65534"
ok $? "a run directory of a user's is refused"

true &
dead=$!
wait $dead

# s3: A's session, QEMU gone; DIR full of plants: a FIFO as a page file
# (a sync would block on it), links to root's files as the other page
# file, stats, .stats.tmp, trace.dat and meta; a link as state.tmp
D3=$W/a3
userdir "$D3"
as $A mkfifo "$D3/cpu0.raw"
as $A ln -s "$V/victim" "$D3/cpu1.raw"
as $A ln -s "$V/victim" "$D3/stats"
as $A ln -s "$V/secret" "$D3/.stats.tmp"
as $A ln -s "$V/secret" "$D3/trace.dat"
as $A ln -s "$V/dir" "$D3/meta"
state 3 ga running $dead 1 5 "$D3" 1 65534 65534
chown -R $A:nogroup "$R/s3"
chown root "$R/s3/state"
as $A ln -s "$V/victim" "$R/s3/state.tmp"

# s4: A's session with a FIFO as state.tmp (the state write would block)
D4=$W/a4
userdir "$D4"
state 4 gb running $dead 1 5 "$D4" 0 65534 65534
chown $A:nogroup "$R/s4"
as $A mkfifo "$R/s4/state.tmp"

# s5: the state file is a link to a good state file of root's
state 5 linked running $dead 1 5 "$W/a5" 0
mv "$R/s5/state" "$V/state.good"
ln -s "$V/state.good" "$R/s5/state"
snap > "$W/before"

# s6: a FIFO as the state file
mkdir -p "$R/s6"
mkfifo "$R/s6/state"

# s7: root's session
D7=$W/r7
mkdir -p "$D7"
state 7 rootsess running $dead 1 5 "$D7" 0

timeout 20 "$TRACED" -s "$S" -g nogroup -r "$R" -d "$W/no-device" > "$W/log" 2>&1 &
pid=$!
pids+=($pid)
for i in $(seq 50); do [ -S "$S" ] && "$VT" -s "$S" list > /dev/null 2>&1 && break; sleep 0.1; done
sleep 1.5	# the session threads end the sessions whose QEMU is gone
timeout 10 "$VT" -s "$S" list > "$W/list" 2>&1
rc=$?
sed 's/^/# /' "$W/log" "$W/list"
[ $rc = 0 ] && grep -q " ga .*ended" "$W/list" && grep -q " gb .*ended" "$W/list" &&
	grep -q " rootsess .*ended" "$W/list"
ok $? "the daemon answers; the planted sessions ended"

untouched
ok $? "no file of root's changed (content, owner, mode, time)"

[ "$(stat -c %F:%U "$D3/stats")" = "regular file:$A" ] &&
	grep -q "state=ended" "$D3/stats" && ! grep -q "^cpu1 bytes=" "$D3/stats" &&
	[ ! -e "$D3/.stats.tmp" ]
ok $? "DIR/stats: the link replaced by A's own file; no size through the link"

[ -p "$D3/cpu0.raw" ] && [ -L "$D3/cpu1.raw" ] && [ -L "$D3/trace.dat" ] &&
	grep -q "ga: $D3/meta: a symbolic link (not followed)" "$W/log"
ok $? "page files, trace.dat and meta as planted: not followed, not opened"

[ "$(stat -c %F:%U:%a "$R/s3/state")" = "regular file:root:600" ] &&
	grep -q "state=ended" "$R/s3/state" && [ ! -e "$R/s3/state.tmp" ] &&
	[ "$(stat -c %F:%U:%a "$R/s4/state")" = "regular file:root:600" ]
ok $? "the state file written anew past a link and a FIFO as state.tmp"

grep -q "recover s5: ignored: cannot read state: Too many levels of symbolic links" "$W/log" &&
	grep -q "recover s6: ignored: state is not a plain file of root's" "$W/log" &&
	! grep -q " linked " "$W/list"
ok $? "a state file that is a link or a FIFO is not believed"

out=$(vt $A list)
echo "$out" | sed 's/^/# A: /'
echo "$out" | grep -q " ga " && ! echo "$out" | grep -q " rootsess "
ok $? "A lists A's sessions, not root's"

out=$(vt $B list)
[ $? = 0 ] && ! echo "$out" | grep -q " ga \| gb \| rootsess "
ok $? "B lists none of them"

out=$(vt $B status ga 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "status: session 'ga' is another user's"
ok $? "B cannot read A's session: $out"

out=$(vt $B stop ga 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "stop: session 'ga' is another user's" &&
	timeout 10 "$VT" -s "$S" list | grep -q " ga "
ok $? "B cannot stop A's session: $out"

out=$(vt $A stop rootsess 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "is another user's" && vt $A status ga > /dev/null
ok $? "A cannot stop root's session, reads its own"

# launch by A: DIR and the sinks are made before the device is opened
D10=$W/a10
userdir "$D10"
as $A ln -s "$V/victim" "$D10/cpu0.raw"
out=$(vt $A record --launch -o "$D10" -n 2 -- /bin/true 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 1 ] && echo "$out" | grep -q "cannot create $D10/cpu0.raw: a symbolic link (not followed)" && untouched
ok $? "launch: a link as a page file: refused, says why, its target untouched"

D11=$W/a11
userdir "$D11"
as $A mkfifo "$D11/cpu0.raw"
out=$(vt $A record --launch -o "$D11" -n 2 -- /bin/true 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 1 ] && echo "$out" | grep -q "cannot create $D11/cpu0.raw: of the wrong type"
ok $? "launch: a FIFO as a page file: refused at once, says why"

D12=$W/a12
userdir "$D12"
as $A ln -s "$V/victim" "$D12/cpu1.fifo"
out=$(vt $A record --launch --fifo -o "$D12" -n 2 -- /bin/true 2>&1)
echo "$out" | sed 's/^/# /'
[ -p "$D12/cpu1.fifo" ] && [ "$(stat -c %U "$D12/cpu1.fifo")" = "$A" ] && untouched
ok $? "launch --fifo: a link as a FIFO is replaced by A's FIFO, its target untouched"

# QEMU (here its -device help probe) runs as A with A's own groups, the
# supplementary ones too (/dev/kvm is the kvm group's), not only A's gid
D13=$W/a13
userdir "$D13"
printf '#!/bin/sh\nid -G > %s/groups\n' "$D13" > "$W/qemu-groups"
chmod 755 "$W/qemu-groups"
out=$(timeout 10 setpriv --reuid=$A --regid=nogroup --groups=4242,4343 \
	"$VT" -s "$S" record --launch -o "$D13" -n 2 -- "$W/qemu-groups" 2>&1)
echo "$out" | sed 's/^/# /'
groups=$(cat "$D13/groups" 2>/dev/null)
echo "# the probe ran with groups: $groups"
[ "$(echo "$groups" | tr ' ' '\n' | sort -n | xargs)" = "4242 4343 65534" ]
ok $? "launch: QEMU runs with the requester's supplementary groups"

kill -TERM $pid
wait $pid
rc=$?
[ $rc = 0 ]
ok $? "SIGTERM: exit 0 (nothing blocked)"

tap_done
