#!/bin/bash
# TAP (as root): record --domain without a libvirtd. The CLI's refusals
# against libvirt's client-side test driver (test:///default: no daemon):
# not a QEMU domain, no such domain, no libvirtd at the URI; the daemon's
# side of the libvirt bridge (selftests/vm/libvirt_fake_bridge.py): an
# attach with domain= but no bridge is refused, and on a bridge the daemon
# speaks QMP without a greeting (qmp_capabilities, query-cpus-fast) and a
# failure leaves no session and no fd. The real thing, against Debian's
# libvirtd in a host VM: selftests/vm/traced_libvirt.sh.
PLAN=8
TITLE="record --domain: CLI refusals (libvirt test driver), the daemon's bridge"
NEEDS=python3
. "$(dirname "$0")/daemon_env.sh"
FAKE=$here/../../../selftests/vm/libvirt_fake_bridge.py
export VHOST_TRACED_SOCKET=$S

"$TRACED" -s "$S" -r "$R" -d "$W/no-device" > "$W/log" 2>&1 &
pids+=($!)
for i in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
fds() { ls /proc/${pids[0]}/fd | wc -l; }
before=$(fds)

out=$("$VT" record --domain test --connect test:///default -o "$W/o" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "domain test is not a QEMU domain (libvirt driver TEST"
ok $? "a domain of another libvirt driver: 'not a QEMU domain', exit 1${out:+: ${out//$'\n'/; }}"

out=$("$VT" record --domain nosuch --connect test:///default -o "$W/o" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "no domain nosuch at test:///default"
ok $? "no such domain: says so, exit 1${out:+: ${out//$'\n'/; }}"

out=$("$VT" record --domain x --connect "qemu+unix:///system?socket=$W/none" \
	-o "$W/o" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "cannot connect to libvirt at"
ok $? "no libvirtd at the URI: says so, exit 1${out:+: ${out//$'\n'/; }}"

out=$(python3 "$FAKE" "$S" "$W/o" nofd 2>&1)
echo "$out" | grep -q "reply: err .* attach: domain= comes with the requester's libvirt bridge"
ok $? "attach domain= without a bridge fd: refused${out:+: ${out//$'\n'/; }}"

sleep 100 &
sp=$!
pids+=($sp)
out=$(python3 "$FAKE" "$S" "$W/o" $sp 2>&1)
echo "$out" | grep -qx "commands: qmp_capabilities query-cpus-fast qom-list qom-list qom-list-types" &&
	echo "$out" | grep -q "reply: err .*no-device"
ok $? "a bridge: QMP without a greeting, the vCPU's process found; no device: refused${out:+: ${out//$'\n'/; }}"

# the domain's own device to take over (PROTOCOL): the process named
# does not hold the socket passed with getfd; then the daemon itself
out=$(python3 "$FAKE" "$S" "$W/o" $sp own 2>&1)
echo "$out" | grep -qx "commands: qmp_capabilities query-cpus-fast qom-list qom-list qom-get qom-get getfd closefd" &&
	echo "$out" | grep -q "reply: err .*did not get the file passed"
ok $? "take-over of the domain's own device: a process without the passed file refused, getfd taken back${out:+: ${out//$'\n'/; }}"

out=$(python3 "$FAKE" "$S" "$W/o" ${pids[0]} own 2>&1)
echo "$out" | grep -qx "commands: qmp_capabilities query-cpus-fast" &&
	echo "$out" | grep -q "reply: err .*vhost-traced's own"
ok $? "a bridge naming the daemon's own thread: refused before any getfd${out:+: ${out//$'\n'/; }}"

list=$("$VT" list 2>&1)
[ "$list" = "no sessions" ] && [ "$(fds)" = "$before" ]
ok $? "no session and no fd left behind ($before fds before, $(fds) after)"
tap_done
