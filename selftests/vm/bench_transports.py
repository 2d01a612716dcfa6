#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In the host VM (selftests/vm/bench_transports.sh): the trace transports
side by side, one nested guest (2 vCPUs), the same events (sched:* and
raw_syscalls:*) and workload (vt-benchg pingpong: a pipe ping-pong between
CPU 0 and CPU 1), interleaved: each round runs every transport once, in an
order rotated from round to round, then the floor.

Per window (start .. workload .. stop, every byte delivered) it measures:
  - the workload's round trips, against the no-tracing window of the round
  - the guest agent's CPU time (guest side, wait4 / /proc)
  - the guest's exits: KVM's counters of the guest's vCPUs
    (debugfs kvm/PID-FD/vcpuN/exits), all of them, and the ones the
    tracing added: minus the no-tracing window's exits per round trip
  - host CPU by thread kind: QEMU's threads that are not vCPUs, vhost
    workers (vhost-trace's and vhost-vsock's), reader processes
  - bytes that reached the host sinks (regular files on the host VM's
    tmpfs); events lost in the guest (ring buffer overrun + dropped) and
    buffers the module dropped or refused
The floor: this process writing the bytes our agent moved in the round
into a regular file on the same tmpfs, in 1 MiB writes (its thread CPU
time). Prints one table; figures are medians over the rounds with the
range in brackets.
"""
import glob
import re
import lzma
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", os.path.join(TOP, "build"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
GK = os.environ.get("BENCH_GUEST_KERNEL", os.uname().release)
D = os.environ.get("BENCH_DIR") or subprocess.check_output(
    ["mktemp", "-d", "/tmp/bench.XXXXXX"], text=True).strip()
CLK = os.sysconf("SC_CLK_TCK")

TRANSPORTS = [
    ("vt", "vhost-trace, our agent (64 KiB buffers)"),
    ("vt1", "vhost-trace, our agent -p 4096 (old: 1 page/buffer)"),
    ("vtup", "vhost-trace, upstream trace-agent (EAGAIN fix)"),
    ("vs", "virtio-serial -> QEMU chardev files, our agent"),
    ("vsock", "trace-cmd agent over vsock -> trace-cmd record"),
]
ALL = ["none"] + [t for t, _ in TRANSPORTS]


def log(*a):
    print("bench:", *a, flush=True)


def guest_files():
    """-f SRC:DST arguments for guestrun."""
    files = [
        (os.path.join(BUILD, "guest/trace-agent"), "/bin/trace-agent"),
        (os.path.join(BUILD, "bench/virtio-trace-agent"), "/bin/virtio-trace-agent"),
        (os.path.join(BUILD, "bench/vt-benchg"), "/bin/vt-benchg"),
    ]
    moddir = os.path.join(BUILD, "kernels", GK, "lib/modules", GK,
                          "kernel/net/vmw_vsock")
    for m in ("vsock", "vmw_vsock_virtio_transport_common",
              "vmw_vsock_virtio_transport"):
        out = os.path.join(D, m + ".ko")
        with lzma.open(os.path.join(moddir, m + ".ko.xz")) as f, open(out, "wb") as o:
            o.write(f.read())
        files.append((out, "/lib/vsock/%s.ko" % m))
    # trace-cmd and what it loads (glibc dlopens libgcc_s for threads)
    files.append(("/usr/bin/trace-cmd", "/usr/bin/trace-cmd"))
    ldd = subprocess.check_output(["ldd", "/usr/bin/trace-cmd"], text=True)
    libs = set()
    for line in ldd.splitlines():
        p = line.split("=>")[-1].split("(")[0].strip()
        if p.startswith("/"):
            libs.add(p)
    libs.add(glob.glob("/lib/x86_64-linux-gnu/libgcc_s.so.1")[0])
    for p in sorted(libs):
        files.append((p, p))
    args = []
    for src, dst in files:
        args += ["-f", "%s:%s" % (src, dst)]
    return args


def qemu_pid():
    for p in glob.glob("/proc/[0-9]*/comm"):
        try:
            if open(p).read().strip().startswith("qemu-system"):
                return int(p.split("/")[2])
        except OSError:
            pass
    return None


def task_ticks(stat_path):
    s = open(stat_path).read()
    f = s[s.rindex(")") + 2:].split()
    return int(f[11]) + int(f[12])


class Snap:
    """Host-side counters at one instant."""

    def __init__(self, qpid):
        self.qemu = self.vhost = 0
        for t in glob.glob("/proc/%d/task/*" % qpid):
            try:
                comm = open(t + "/comm").read().strip()
                ticks = task_ticks(t + "/stat")
            except OSError:
                continue
            if comm.startswith("CPU "):
                continue
            if comm.startswith("vhost-"):
                self.vhost += ticks
            else:
                self.qemu += ticks
        # vhost kthreads (6.1) are not in QEMU's thread group
        for c in glob.glob("/proc/[0-9]*/comm"):
            try:
                if open(c).read().strip() == "vhost-%d" % qpid:
                    pid = int(c.split("/")[2])
                    if pid != qpid and not os.path.exists(
                            "/proc/%d/task/%d" % (qpid, pid)):
                        self.vhost += task_ticks("/proc/%d/stat" % pid)
            except OSError:
                pass
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.readers = ru.ru_utime + ru.ru_stime
        # KVM's per-VM debugfs stat: the sum over the VM's vCPUs
        self.exits = 0
        for e in glob.glob("/sys/kernel/debug/kvm/%d-*/exits" % qpid):
            self.exits += int(open(e).read())
        self.sizes = {}
        for n in ("vt0", "vt1", "vs0", "vs1"):
            p = os.path.join(D, n)
            self.sizes[n] = os.path.getsize(p) if os.path.exists(p) else 0
        self.vtstats = read_vtstats()
        self.t = time.monotonic()


def read_vtstats():
    st = {}
    try:
        for line in open(os.path.join(D, "vtstats")):
            f = line.split()
            v = dict(zip(f[0::2], f[1::2]))
            for k in ("bytes", "buffers", "dropped_buffers", "bad_buffers"):
                st[k] = st.get(k, 0) + int(v.get(k, 0))
    except OSError:
        pass
    return st


class Guest:
    def __init__(self, path):
        for _ in range(600):
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("no " + path)
        self.f = self.s.makefile("rw", buffering=1)

    def cmd(self, line, timeout=300):
        self.s.settimeout(timeout)
        self.f.write(line + "\n")
        self.f.flush()
        r = self.f.readline().strip()
        if r.startswith("error") or not r:
            raise RuntimeError("guest: %s -> %r" % (line, r))
        return r


def kv(reply):
    return dict(w.split("=", 1) for w in reply.split() if "=" in w)


def settle(names, quiet=0.6, limit=30):
    """Waits until the sink files stop growing."""
    last, t0, since = None, time.monotonic(), time.monotonic()
    while time.monotonic() - t0 < limit:
        cur = [os.path.getsize(os.path.join(D, n)) for n in names]
        if cur != last:
            last, since = cur, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


# The host's own events for trace-cmd record, if it insists on some (set
# when a record with none exited at once): one that hardly ever fires.
HOST_EVENTS = []


def record_start():
    for attempt in range(2):
        out = open(os.path.join(D, "record.log"), "w")
        for f in glob.glob(os.path.join(D, "tc*.dat")):
            os.unlink(f)
        p = subprocess.Popen(
            ["trace-cmd", "record", "-o", os.path.join(D, "tc.dat")] +
            HOST_EVENTS + ["-A", "@3", "-e", "sched", "-e", "raw_syscalls"],
            cwd=D, stdout=out, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            if "Hit Ctrl^C" in open(os.path.join(D, "record.log")).read():
                return p
            if p.poll() is not None:
                break
            time.sleep(0.1)
        if p.poll() is None:
            return p	# no prompt, but recording
        text = open(os.path.join(D, "record.log")).read()
        log("trace-cmd record %s exited %d:" % (" ".join(HOST_EVENTS), p.returncode))
        print(text[-1500:])
        if HOST_EVENTS:
            break
        HOST_EVENTS.extend(["-e", "sched:sched_process_exec"])
        log("trying again with a host event that hardly fires:", HOST_EVENTS)
    raise RuntimeError("trace-cmd record does not start")


def record_stop(p):
    p.send_signal(signal.SIGINT)
    p.wait(timeout=120)
    text = open(os.path.join(D, "record.log")).read()
    # the guest's per-CPU data sizes, as trace-cmd record reports them
    nbytes, lost, guest = 0, 0, False
    for line in text.splitlines():
        if "bytes in size" in line:
            nbytes += int(line.split()[0])
        if line.strip().startswith("overrun:"):
            lost += int(line.split()[1])
    files = [f for f in glob.glob(os.path.join(D, "tc*.dat"))]
    fsize = sum(os.path.getsize(f) for f in files)
    for f in files:
        os.unlink(f)
    if not nbytes:
        nbytes = fsize
    return nbytes, lost, p.returncode, text


def floor(nbytes):
    """CPU time of writing nbytes into a tmpfs file in 1 MiB writes."""
    buf = b"\x5a" * (1 << 20)
    path = os.path.join(D, "floor")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t0 = time.thread_time()
    left = nbytes
    while left > 0:
        n = os.write(fd, buf[:min(left, len(buf))])
        left -= n
    t1 = time.thread_time()
    os.close(fd)
    os.unlink(path)
    return t1 - t0


def window(g, qpid, t):
    a = Snap(qpid)
    g.cmd("start " + t)
    rec = record_start() if t == "vsock" else None
    iters = int(g.cmd("work %g" % SECONDS, timeout=SECONDS + 120).split()[1])
    tc = None
    if rec:
        tc = record_stop(rec)
    r = kv(g.cmd("stop " + t, timeout=120))
    if t in ("vt", "vt1", "vtup"):
        settle(["vt0", "vt1"])
        time.sleep(1.2)		# vhost-trace-launch writes stats each second
    elif t == "vs":
        settle(["vs0", "vs1"])
    b = Snap(qpid)
    res = {
        "iters": iters,
        "agent_s": int(r["cpu_us"]) / 1e6,
        "lost": int(r["lost"]),
        "exits": b.exits - a.exits,
        "qemu_s": (b.qemu - a.qemu) / CLK,
        "vhost_s": (b.vhost - a.vhost) / CLK,
        "readers_s": b.readers - a.readers,
        "secs": b.t - a.t,
        "bytes": 0, "buffers": 0, "host_lost": 0,
    }
    if t in ("vt", "vt1", "vtup"):
        res["bytes"] = sum(b.sizes[n] - a.sizes[n] for n in ("vt0", "vt1"))
        res["buffers"] = b.vtstats.get("buffers", 0) - a.vtstats.get("buffers", 0)
        res["mod_bytes"] = b.vtstats.get("bytes", 0) - a.vtstats.get("bytes", 0)
        res["host_lost"] = sum(b.vtstats.get(k, 0) - a.vtstats.get(k, 0)
                               for k in ("dropped_buffers", "bad_buffers"))
    elif t == "vs":
        res["bytes"] = sum(b.sizes[n] - a.sizes[n] for n in ("vs0", "vs1"))
    elif t == "vsock":
        res["bytes"], tlost, rc, text = tc
        res["lost"] += tlost
        if rc != 0:
            log("trace-cmd record exit %d:" % rc)
            print(text[-2000:])
    return res


def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    m, lo, hi = statistics.median(xs), min(xs), max(xs)

    def f(v):
        return "%.3g" % v if abs(v) < 1000 else "%.0f" % v
    return "%s (%s-%s)" % (f(m), f(lo), f(hi))


def finish_round(got, floor_per_gb):
    """Per-round figures against the round's no-tracing window. trace-cmd
    record reports compressed sizes: vsock's bytes become its round trips
    times the bytes per round trip of the other transports that round."""
    base = got["none"]
    bpi = [r["bytes"] / r["iters"] for t, r in got.items()
           if t in ("vt", "vt1", "vtup", "vs") and r["bytes"] and r["iters"]]
    for t, r in got.items():
        r["ratio"] = r["iters"] / base["iters"] if base["iters"] else None
        per_iter = base["exits"] / base["iters"] if base["iters"] else 0
        r["added_exits"] = r["exits"] - per_iter * r["iters"]
        r["floor"] = floor_per_gb
        if t == "vsock" and bpi:
            r["reported_bytes"] = r["bytes"]
            r["bytes"] = round(r["iters"] * statistics.median(bpi))
    return got


def from_log(path):
    """The table again from the "bench: round" lines of a run's log."""
    rounds, floors = {}, {}
    pat = re.compile(r"bench: round (\d+) (\w+) +iters +(\d+) bytes +(\d+) "
                     r"buffers +(\d+) agent ([\d.]+)s exits +(\d+) qemu "
                     r"([\d.]+)s vhost ([\d.]+)s readers ([\d.]+)s lost "
                     r"(\d+)\+(\d+)")
    fpat = re.compile(r"bench: round (\d+) floor: (\d+) bytes .*, ([\d.]+) s")
    for line in open(path, errors="replace"):
        m = pat.search(line)
        if m:
            n = int(m.group(1))
            rounds.setdefault(n, {})[m.group(2)] = {
                "iters": int(m.group(3)), "bytes": int(m.group(4)),
                "buffers": int(m.group(5)), "agent_s": float(m.group(6)),
                "exits": int(m.group(7)), "qemu_s": float(m.group(8)),
                "vhost_s": float(m.group(9)), "readers_s": float(m.group(10)),
                "lost": int(m.group(11)), "host_lost": int(m.group(12))}
            continue
        m = fpat.search(line)
        if m and int(m.group(2)):
            floors[int(m.group(1))] = float(m.group(3)) / (int(m.group(2)) / 1e9)
    rows = {t: [] for t in ALL}
    fl = []
    done = sorted(n for n in rounds if n in floors and "none" in rounds[n])
    for n in done:
        fl.append(floors[n])
        for t, r in finish_round(rounds[n], floors[n]).items():
            rows[t].append(r)
    left = sorted(set(rounds) - set(done))
    summarize(rows, fl, set(), len(done), host_rel="(from %s)" % path)
    if left:
        print("incomplete rounds left out: %s" % " ".join(map(str, left)))


def summarize(rows, floors, failed, nrounds, host_rel=None):
    host_rel = host_rel or os.uname().release
    print()
    print("Transports side by side: host VM %s (TCG), one nested guest %s "
          "(2 vCPUs, KVM),\nsched:* + raw_syscalls:*, pipe ping-pong CPU0<->CPU1, "
          "%d interleaved rounds x %g s.\nMedian (min-max) over the rounds."
          % (host_rel, GK, nrounds, SECONDS))
    print("Host CPU s/GB = QEMU non-vCPU threads + vhost workers + readers, "
          "over the bytes\nthat reached the host in the window; floor = 1 MiB "
          "write()s of the same bytes to tmpfs.")
    print()
    hdr = ("transport", "workload vs none", "MB/s", "KiB/buf",
           "guest agent s/GB", "guest exits/MB", "added exits/MB",
           "host s/GB total", "QEMU other", "vhost", "readers",
           "lost", "x floor")
    table = []
    fl = [f for f in floors if f]
    table.append(("floor (1 MiB writes, tmpfs file)", "-", "-", "-", "-", "-", "-",
                  med(fl), "-", "-", med(fl), "0", "1"))
    for t, name in [("none", "no tracing")] + TRANSPORTS:
        rs = rows[t]
        if not rs:
            table.append((name + " (failed)",) + ("-",) * (len(hdr) - 1))
            continue

        def per_gb(key):
            return [r[key] / (r["bytes"] / 1e9) if r["bytes"] else None for r in rs]

        def per_mb(key):
            return [r[key] / (r["bytes"] / 1e6) if r["bytes"] else None for r in rs]
        tot = [(r["qemu_s"] + r["vhost_s"] + r["readers_s"]) / (r["bytes"] / 1e9)
               if r["bytes"] else None for r in rs]
        xfl = [tt / r["floor"] if tt and r["floor"] else None
               for tt, r in zip(tot, rs)]
        kib = [r["bytes"] / r["buffers"] / 1024 if r["buffers"] else None for r in rs]
        mbs = [r["bytes"] / 1e6 / SECONDS for r in rs] if t != "none" else []
        lost = sum(r["lost"] for r in rs)
        hl = sum(r["host_lost"] for r in rs)
        table.append((name, med([r["ratio"] for r in rs]), med(mbs), med(kib),
                      med(per_gb("agent_s")), med(per_mb("exits")),
                      med(per_mb("added_exits")), med(tot),
                      med(per_gb("qemu_s")), med(per_gb("vhost_s")),
                      med(per_gb("readers_s")),
                      "%d%s" % (lost, " +%d buffers" % hl if hl else ""),
                      med(xfl)))
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for row in table:
        print("| " + " | ".join(str(c) for c in row) + " |")
    # the same-run gain of the batching agent
    print()
    ratios = []
    for a, b in zip(rows["vt"], rows["vt1"]):
        if a["bytes"] and b["bytes"]:
            ca = (a["qemu_s"] + a["vhost_s"] + a["readers_s"]) / a["bytes"]
            cb = (b["qemu_s"] + b["vhost_s"] + b["readers_s"]) / b["bytes"]
            ea = a["added_exits"] / a["bytes"]
            eb = b["added_exits"] / b["bytes"]
            ga = a["agent_s"] / a["bytes"]
            gb = b["agent_s"] / b["bytes"]
            ratios.append((cb / ca if ca else None, eb / ea if ea > 0 else None,
                           gb / ga if ga else None))
    if ratios:
        print("same-run gain, old agent (1 page/buffer) / new (64 KiB), per "
              "round: host CPU per GB %s, added guest exits per MB %s, guest "
              "agent CPU per GB %s" % (med([r[0] for r in ratios]),
                                      med([r[1] for r in ratios]),
                                      med([r[2] for r in ratios])))
    if failed:
        print("left out after a failure: " + " ".join(sorted(failed)))
    print("vsock: trace-cmd record reports its trace.dat data sizes "
          "(compressed by default);\nits per-GB figures use raw-equivalent "
          "bytes: its round trips x the bytes per round\ntrip the other "
          "transports moved in the same round (reported bytes: %s MB)." %
          med([r.get("reported_bytes", 0) / 1e6 for r in rows["vsock"]]))


def main():
    if not all(os.path.exists(p) for p in (
            os.path.join(BUILD, "bench/vt-benchg"),
            os.path.join(BUILD, "bench/virtio-trace-agent"),
            os.path.join(BUILD, "guest/trace-agent"))):
        print("bench: build first: make guest bench-tools")
        return 1
    for n in ("vt0", "vt1", "vs0", "vs1"):
        open(os.path.join(D, n), "w").close()
    cmd = [os.path.join(BUILD, "tools/vhost-trace-launch"), "-n", "2",
           "-s", "0=%s/vt0" % D, "-s", "1=%s/vt1" % D,
           "-o", "%s/vtstats" % D, "--",
           os.path.join(TOP, "tools/dev/guestrun"), "-k", GK, "-t", "1800",
           "-c", "2", "-m", "512"] + guest_files() + [
           os.path.join(TOP, "selftests/vm/bench/guest.sh"),
           "-chardev", "socket,id=vtctl,path=%s/vtctl.sock,server=on,wait=off" % D,
           "-device", "vhost-trace-pci,vhostfd=@VHOSTFD@,ports=2,chardev=vtctl",
           "-device", "virtio-serial-pci",
           "-chardev", "file,id=vs0,path=%s/vs0" % D,
           "-device", "virtserialport,chardev=vs0,name=vs-cpu0",
           "-chardev", "file,id=vs1,path=%s/vs1" % D,
           "-device", "virtserialport,chardev=vs1,name=vs-cpu1",
           "-chardev", "socket,id=vsctl,path=%s/vsctl.sock,server=on,wait=off" % D,
           "-device", "virtserialport,chardev=vsctl,name=vs-ctl",
           "-chardev", "socket,id=cmd,path=%s/cmd.sock,server=on,wait=off" % D,
           "-device", "virtserialport,chardev=cmd,name=bench-cmd",
           "-device", "vhost-vsock-pci,guest-cid=3",
           # thread names: the vCPU threads are "CPU n/KVM"
           "-name", "bench,debug-threads=on"]
    rows = {t: [] for t in ALL}
    floors = []
    failed = set()
    losses = {}
    boots = 0
    rnd = 0
    while rnd < ROUNDS and boots < 3:
        boots += 1
        glog_path = os.path.join(D, "guest%d.log" % boots)
        glog = open(glog_path, "w")
        vm = subprocess.Popen(cmd, stdout=glog, stderr=subprocess.STDOUT)
        lost_guest = False
        qpid = None
        try:
            g = Guest(os.path.join(D, "cmd.sock"))
            log("guest:", g.cmd("hello", timeout=600))
            qpid = qemu_pid()
            log("guest boot %d, QEMU pid %d; %d rounds of %g s; order rotates "
                "each round" % (boots, qpid, ROUNDS, SECONDS))
            while rnd < ROUNDS:
                k = rnd % len(ALL)
                order = ALL[k:] + ALL[:k]
                got = {}
                for t in order:
                    if t in failed:
                        continue
                    try:
                        got[t] = window(g, qpid, t)
                    except (RuntimeError, subprocess.TimeoutExpired, ValueError,
                            KeyError, OSError) as e:
                        if isinstance(e, OSError) or "-> ''" in str(e) or t == "none":
                            # the guest (or its channel) is gone: the round
                            # again in a new guest; a transport that loses
                            # the guest twice is left out
                            losses[t] = losses.get(t, 0) + 1
                            if losses[t] >= 2:
                                failed.add(t)
                            log("round %d %s: the guest is gone (%r)" %
                                (rnd + 1, t, e))
                            lost_guest = True
                            raise
                        log("round %d %s failed: %r; %s left out from now on" %
                            (rnd + 1, t, e, t))
                        failed.add(t)
                        try:	# the guest's side of it ends
                            g.cmd("stop " + t, timeout=120)
                        except Exception as e2:
                            log("and its stop: %r" % e2)
                        continue
                    r = got[t]
                    log("round %d %-5s iters %6d bytes %9d buffers %6d agent %.3fs "
                        "exits %7d qemu %.2fs vhost %.2fs readers %.2fs lost %d+%d"
                        % (rnd + 1, t, r["iters"], r["bytes"], r["buffers"],
                           r["agent_s"], r["exits"], r["qemu_s"], r["vhost_s"],
                           r["readers_s"], r["lost"], r["host_lost"]))
                fb = max(r["bytes"] for r in got.values())
                if "vt" in got:
                    fb = got["vt"]["bytes"]
                fs = floor(fb)
                floors.append(fs / (fb / 1e9) if fb else None)
                log("round %d floor: %d bytes in 1 MiB writes, %.4f s" %
                    (rnd + 1, fb, fs))
                for t, r in finish_round(got, floors[-1]).items():
                    rows[t].append(r)
                rnd += 1
            g.cmd("quit", timeout=60)
        except Exception as e:
            log("guest boot %d: %r" % (boots, e))
            lost_guest = True
        finally:
            if lost_guest:
                if qpid:
                    try:
                        os.kill(qpid, signal.SIGKILL)
                    except OSError:
                        pass
                vm.terminate()
            try:
                vm.wait(timeout=120)
            except subprocess.TimeoutExpired:
                vm.kill()
                vm.wait()
            glog.close()
            lines = open(glog_path, errors="replace").read().splitlines()
            for line in lines:
                if "bench-guest" in line or "guestrun:" in line or "qemu" in line:
                    print("  " + line)
            if lost_guest:
                log("guest lost in round %d; the end of its console:" % (rnd + 1))
                for line in lines[-60:]:
                    print("  | " + line)
                if rnd < ROUNDS:
                    log("that round is run again in a new guest%s" %
                        (", without " + " ".join(sorted(failed)) if failed else ""))

    summarize(rows, floors, failed, rnd)
    shutil.rmtree(D, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--from-log":
        from_log(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
