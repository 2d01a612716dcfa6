# kvm_windows.awk: is a merged host + guest time line consistent?
#
#   trace-cmd report -i DIR1/HOST.DAT -i DIR2/GUEST.DAT |
#   awk -f kvm_windows.awk -v host=HOST.DAT -v guest=GUEST.DAT \
#       -v tids=TID0,TID1,... [-v mhz=TSC_MHZ] [-v min=99]
#
# A guest runs only between a kvm_entry and the next kvm_exit of its
# vCPU's host thread, so each guest event on vCPU n, once mapped to host
# time, must fall inside such a window of thread TIDn (tids: the GUEST
# option's map). Per vCPU: events, how many are inside, the misses and
# how far the farthest is from its nearest window (the clock error it
# implies; TSC cycles, and ns with mhz). Guest events while the window
# is still open at the end of the host trace count as inside. Both files
# on the x86-tsc clock: the time stamps are integers (cycles), or, with
# TSC2NSEC in both (vhost-traced writes it), seconds (report -t: to the
# ns), taken as ns.
# The map is checked too: a kvm_entry of thread TIDn must say "vcpu n".
# host and guest: the files' base names, which report puts before each line.
# Exit status 0 when every vCPU has at least min% (default 99) inside.

# "[001] 1234:" or, once the time stamp fills its column, "[001]1234:"
function evtime(   i, rest, t) {
	for (i = 2; i < NF; i++)
		if ($i ~ /^\[[0-9]+\]/) {
			rest = $i
			sub(/^\[[0-9]+\]/, "", rest)
			t = rest == "" ? 1 : 0
			cpu = substr($i, 2, index($i, "]") - 2) + 0
			pid = $(i - 1)
			sub(/.*-/, "", pid)
			ts = t ? $(i + 1) : rest
			sub(/:$/, "", ts)
			ev = $(i + 1 + t)
			sub(/:$/, "", ev)
			if (ts ~ /^[0-9]+\.[0-9]+$/) {
				inns = 1
				split(ts, sf, ".")
				ts = sf[1] * 1000000000 + \
				     substr(sf[2] "00000000", 1, 9)
				return 1
			}
			return ts ~ /^[0-9]+$/
		}
	return 0
}

# a guest event at t outside every window of thread tid: pending until
# the thread's next kvm_entry tells its distance
function miss(v, tid, t, line) {
	# %.0f: mawk turns large numbers into strings as %.6g
	pend[tid] = pend[tid] " " sprintf("%.0f", t)
	pendv[tid] = v
	if (shown[v]++ < 5)
		example[v] = example[v] "\n#   " line
}

function resolve(tid, next_entry,   n, a, i, m, d) {
	n = split(pend[tid], a, " ")
	for (i = 1; i <= n; i++) {
		m = a[i] + 0
		d = -1
		if (tid in last_exit)
			d = m - last_exit[tid]
		if (next_entry >= 0 && (d < 0 || next_entry - m < d))
			d = next_entry - m
		v = pendv[tid]
		misses[v]++
		if (d > maxd[v])
			maxd[v] = d
		if (d < 0)
			nowin[v]++
	}
	pend[tid] = ""
}

BEGIN {
	if (min == "")
		min = 99
	nv = split(tids, t, ",")
	for (v = 0; v < nv; v++) {
		tidof[v] = t[v + 1]
		vcpu_of[t[v + 1]] = v
	}
	hostp = host ":"
	guestp = guest ":"
}

$1 == hostp && ($0 ~ / kvm_entry: / || $0 ~ / kvm_exit: /) {
	if (!evtime() || !(pid in vcpu_of))
		next
	if (ev == "kvm_entry") {
		# the thread runs the vCPU the map says ("vcpu N" of the event)
		if (match($0, / vcpu [0-9]+/) &&
		    substr($0, RSTART + 6, RLENGTH - 6) + 0 != vcpu_of[pid])
			wrong[vcpu_of[pid]]++
		resolve(pid, ts + 0)
		inwin[pid] = 1
		entries[vcpu_of[pid]]++
	} else if (ev == "kvm_exit") {
		inside[vcpu_of[pid]] += open[pid]
		open[pid] = 0
		inwin[pid] = 0
		last_exit[pid] = ts + 0
	}
	next
}

$1 == guestp {
	if (!evtime() || !(cpu in tidof))
		next
	tid = tidof[cpu]
	events[cpu]++
	if (inwin[tid])
		open[tid]++
	else
		miss(cpu, tid, ts + 0, $0)
}

END {
	bad = 0
	for (v = 0; v < nv; v++) {
		tid = tidof[v]
		resolve(tid, -1)
		inside[v] += open[tid]
		e = events[v] + 0
		pct = e ? 100 * inside[v] / e : 0
		ns = mhz && !inns ? sprintf(" = %.0f ns", maxd[v] * 1000 / mhz) : ""
		printf "vcpu %d (host thread %s, %d kvm_entry): %d guest events, " \
		       "%d inside a kvm_entry..kvm_exit window (%.2f%%), %d " \
		       "misses, farthest %.0f %s%s from its window%s\n",
		       v, tid, entries[v], e, inside[v], pct, misses[v] + 0,
		       maxd[v] + 0, inns ? "ns" : "cycles", ns,
		       nowin[v] ? sprintf(" (%d with no window at all)", nowin[v]) : ""
		if (example[v] != "")
			printf "# first misses on vcpu %d:%s\n", v, example[v]
		if (wrong[v]) {
			printf "vcpu %d: %d kvm_entry of thread %s are for " \
			       "another vCPU: wrong map\n", v, wrong[v], tid
			bad = 1
		}
		if (!e || !entries[v] || pct < min)
			bad = 1
	}
	if (!nv) {
		print "no vCPU threads given (tids=)"
		bad = 1
	}
	exit bad
}
