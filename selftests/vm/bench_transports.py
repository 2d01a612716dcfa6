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
  - the guest's exits while the workload runs (after "start" answered,
    before "stop": the agent's start and stop, and switching the events,
    are not the transport's), KVM's per-VM counter (debugfs
    kvm/PID-FD/exits: the sum over the VM's vCPUs), all of them, and the
    ones the tracing added: minus the no-tracing window's exits per round
    trip
  - what the transport itself costs the guest, over the whole window,
    counted exactly: its kicks (KVM's kvm_mmio write events of the guest's
    vCPU threads, counted in a histogram of a tracing instance of our own
    that is set up once, before any guest runs: virtio-pci notifies are
    the only MMIO writes the guests make while they run) and the virtio
    devices' interrupts in the guest (/proc/interrupts)
  - host CPU by thread kind: QEMU's threads that are not vCPUs, vhost
    workers (vhost-trace's and vhost-vsock's), reader processes
  - bytes that reached the host sinks (regular files on the host VM's
    tmpfs); events lost in the guest (ring buffer overrun + dropped) and
    buffers the module dropped or refused
The floor: this process writing the bytes our agent moved in the round
into a regular file on the same tmpfs, in 1 MiB writes (its thread CPU
time). Prints one table; figures are medians over the rounds with the
range in brackets.

Where the kernel has vDPA (BENCH_VT_VDPA: the vt_vdpa selftest program,
set by bench_transports.sh) and Debian's QEMU 10.0 is unpacked
(build/stock-qemu), a second nested guest runs beside the first under that
stock QEMU, with the module's vDPA device (2 ports, file sinks) on
vhost_vdpa as vhost-vdpa-device-pci. Its rows (STOCK_ROWS: no tracing, the
vDPA front end, virtio-serial chardev files) are windows of the same
rounds, its workload ratio against its own no-tracing window; the vDPA
device's kthread worker counts as a vhost worker. Both guests' RAM is a
shared memfd (vhost_vdpa maps only shared file mappings).

The FIFO half, windows of the same rounds in the same guests: every FIFO
sink is read by one reader per FIFO, `vt-benchg drain splice` (splice()s
the FIFO to /dev/null: the pages are moved on and released without being
touched; 1 MiB pipes), whose CPU time from its FIFO's open to its end
(its own clock: not its exec, nor its exit) counts as "readers":
  - vtref: vhost-trace-pci, our agent, FIFO sinks by reference
    (VHOST_TRACE_SINK_BY_REF): the module's stats must show ref_bytes ~
    bytes, copied_bytes ~ 0 (copies per page, printed)
  - vtcp: the same with FIFO sinks by copy (the A/B of lending)
  - vsf: virtio-serial -> QEMU pipe chardevs (-chardev pipe, FIFOs
    PATH.in/PATH.out), our agent: upstream virtio-trace's own path
  - vdpaf, vs10f: the same two under stock QEMU 10.0: the vDPA device
    with FIFO sinks (by reference if the module lends on vDPA ports; it
    answered EOPNOTSUPP before that: then by copy, and the row says so),
    and virtio-serial -> QEMU 10.0 pipe chardevs
  - the FIFO floor: this process write()ing the bytes our agent moved by
    reference that round into a FIFO in 1 MiB writes, read by the same
    reader (writer thread + reader CPU).
This process holds the vhost-trace device itself (open, ports, control
fd, sinks, statistics; QEMU inherits the device fd, as vhost-trace-launch
does it) so that it can swap each port's sink between windows.
"""
import errno
import fcntl
import struct
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
    ("vt", "vhost-trace, our agent (256 KiB buffers)"),
    ("vt1", "vhost-trace, our agent -p 4096 (old: 1 page/buffer)"),
    ("vtup", "vhost-trace, upstream trace-agent (EAGAIN fix)"),
    ("vs", "virtio-serial -> QEMU chardev files, our agent"),
    ("vsock", "trace-cmd agent over vsock -> trace-cmd record"),
    ("vtref", "FIFO: vhost-trace, our agent, FIFO sinks by reference"),
    ("vtcp", "FIFO: vhost-trace, our agent, FIFO sinks by copy"),
    ("vsf", "FIFO: virtio-serial -> QEMU pipe chardevs, our agent"),
]
# The rows of the stock QEMU 10.0 guest, and what its guest.sh runs for each
STOCK_ROWS = [
    ("none10", "QEMU 10.0: no tracing", "none"),
    ("vdpa", "QEMU 10.0: vhost-trace vDPA front end, our agent (256 KiB)", "vt"),
    ("vs10", "QEMU 10.0: virtio-serial -> chardev files, our agent", "vs"),
    ("vdpaf", "FIFO: QEMU 10.0: vDPA device, our agent, FIFO sinks by "
     "reference", "vt"),
    ("vs10f", "FIFO: QEMU 10.0: virtio-serial -> pipe chardevs, our agent",
     "vsf"),
]
STOCK = {t: gt for t, _, gt in STOCK_ROWS}
# what the first guest runs for a row, where it is not the row's name
GUEST_T = {"vtref": "vt", "vtcp": "vt"}
# the FIFOs of each FIFO row, one reader each (QEMU's pipe chardevs: PATH.out)
FIFOS = {"vtref": ("vtf0", "vtf1"), "vtcp": ("vtf0", "vtf1"),
         "vsf": ("vsf0.out", "vsf1.out"), "vdpaf": ("vdf0", "vdf1"),
         "vs10f": ("vs10f0.out", "vs10f1.out")}
# rows whose bytes the module's statistics count (vhost or vDPA front end)
MODULE_ROWS = ("vt", "vt1", "vtup", "vtref", "vtcp", "vdpa", "vdpaf")
# how the vDPA FIFO row went: "reference", or "copy" (EOPNOTSUPP)
VDPA_FIFO = {"mode": None}
ALL = ["none"] + [t for t, _ in TRANSPORTS]
# the host sink files of each transport
SINKS = {"vt": ("vt0", "vt1"), "vs": ("vs0", "vs1"), "vdpa": ("vd0", "vd1"),
         "vs10": ("vs10_0", "vs10_1")}
SINKS["vt1"] = SINKS["vtup"] = SINKS["vt"]
STOCK_QEMU = os.path.join(BUILD, "stock-qemu/qemu-system-x86_64")
VT_VDPA = os.environ.get("BENCH_VT_VDPA")
VDPA = "vtbench"	# the vDPA device's name
# Opt-in, for a quick A/B: BENCH_ONLY=none,vtref,vsf runs only those rows
# (no QEMU 10.0 guest unless one of its rows is named).
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))


# The module's ioctls (linux/vhost_trace.h): _IOC(dir, VHOST_VIRTIO, nr, size)
def _ioc(d, nr, size):
    return (d << 30) | (size << 16) | (0xAF << 8) | nr


VT_SET_PORTS = _ioc(1, 0xA0, 4)
VT_GET_CTL_FD = _ioc(0, 0xA2, 0)
VT_SET_SINK = _ioc(1, 0xA4, 16)
VT_STATS_FMT = "=IIQQQQQQQQiIQQQQ"	# struct vhost_trace_stats, 112 bytes
VT_GET_STATS = _ioc(3, 0xA5, struct.calcsize(VT_STATS_FMT))
VT_VDPA_CTL = _ioc(1, 0xA7, 40)
VT_BY_REF = 1
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PIPE_SZ = 1 << 20	# every FIFO's pipe, as vt-benchg drain sets it
VT_STATS_NAMES = ("port", "flags", "bytes", "buffers", "dropped_bytes",
                  "dropped_buffers", "stalls", "sink_errors", "bad_buffers",
                  "queue_errors", "last_error", "reserved", "ref_bytes",
                  "copied_bytes", "ref_buffers", "ref_pending")


class Ports:
    """The control fd of a vhost-trace device (either front end) and its
    two trace ports' sinks: regular files (fds kept open, so that each
    re-attach writes on at the file's position) or FIFOs."""

    def __init__(self, ctl, files):
        self.ctl, self.files = ctl, files

    def set_sink(self, port, fd, flags=0):
        fcntl.ioctl(self.ctl, VT_SET_SINK,
                    bytearray(struct.pack("=IiII", port, fd, 0, flags)))

    def attach_files(self):
        for port, fd in enumerate(self.files):
            self.set_sink(port, fd)

    def attach_fifos(self, names, by_ref):
        """The FIFOs (their readers started first) as the sinks, by
        reference if by_ref; returns whether they went by reference (the
        module refuses it with EOPNOTSUPP where the front end does not
        lend: then by copy)."""
        for port, n in enumerate(names):
            fd = fifo_writer(os.path.join(D, n))
            try:
                fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SZ)
                try:
                    self.set_sink(port, fd, VT_BY_REF if by_ref else 0)
                except OSError as e:
                    if not by_ref or e.errno != errno.EOPNOTSUPP:
                        raise
                    by_ref = False
                    self.set_sink(port, fd, 0)
            finally:
                os.close(fd)
        return by_ref

    def detach(self):
        for port in range(len(self.files)):
            self.set_sink(port, -1)

    def stats(self):
        st = {}
        for port in range(len(self.files)):
            buf = bytearray(struct.pack(VT_STATS_FMT, port, *([0] * 15)))
            fcntl.ioctl(self.ctl, VT_GET_STATS, buf)
            for k, v in zip(VT_STATS_NAMES, struct.unpack(VT_STATS_FMT, buf)):
                st[k] = st.get(k, 0) + v
        return st


def fifo_writer(path, limit=20):
    """path (a FIFO) opened for writing, nonblocking, once its reader has
    opened it (not forever: a reader that failed to start)."""
    t0 = time.monotonic()
    while True:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO or time.monotonic() - t0 > limit:
                raise
            time.sleep(0.01)


def vhost_open(files):
    """/dev/vhost-trace with 2 ports and file sinks, the way
    vhost-trace-launch opens it: (device fd for QEMU, Ports)."""
    dev = os.open("/dev/vhost-trace", os.O_RDWR)
    fcntl.ioctl(dev, VT_SET_PORTS, bytearray(struct.pack("=I", 2)))
    ports = Ports(fcntl.ioctl(dev, VT_GET_CTL_FD), files)
    ports.attach_files()
    return dev, ports


def start_readers(names):
    """One reader (vt-benchg drain splice) per FIFO; its counter file is
    NAME.n under D. Before the window's first Snap: they are reaped before
    its second, and the CPU time each reports (from its FIFO's open on)
    is the window's readers."""
    rs = []
    for n in names:
        cnt = os.path.join(D, n + ".n")
        with open(cnt, "wb") as f:
            f.write(b"\0" * 4096)
        p = subprocess.Popen([os.path.join(BUILD, "bench/vt-benchg"), "drain",
                              "splice", os.path.join(D, n), cnt],
                             stdout=subprocess.PIPE, text=True)
        rs.append((p, cnt))
    return rs


def reader_bytes(rs):
    n = 0
    for _, cnt in rs:
        with open(cnt, "rb") as f:
            n += struct.unpack("=Q", f.read(8))[0]
    return n


def settle_readers(rs, quiet=0.6, limit=30):
    """Waits until the readers' byte counts stop growing."""
    last, t0, since = None, time.monotonic(), time.monotonic()
    while time.monotonic() - t0 < limit:
        cur = reader_bytes(rs)
        if cur != last:
            last, since = cur, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def stop_readers(rs):
    """SIGTERM (again, until each has ended: the signal can come just
    before it blocks in splice) and reap; the bytes they moved and their
    CPU seconds."""
    n = cpu = 0
    for p, _ in rs:
        for _ in range(100):
            if p.poll() is not None:
                break
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
        else:
            p.kill()
        out = p.communicate()[0]
        m = re.search(r"bytes (\d+) cpu ([\d.]+)", out or "")
        if p.returncode != 0 or not m:
            raise RuntimeError("FIFO reader exit %s: %r" % (p.returncode, out))
        n += int(m.group(1))
        cpu += float(m.group(2))
    return n, cpu


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


def qemu_pid(sock):
    """The QEMU (not guestrun's shell) whose arguments name sock."""
    for p in glob.glob("/proc/[0-9]*/comm"):
        try:
            if open(p).read().strip().startswith("qemu-system") and \
                    sock.encode() in open(p[:-4] + "cmdline", "rb").read():
                return int(p.split("/")[2])
        except OSError:
            pass
    return None


def task_ticks(stat_path):
    s = open(stat_path).read()
    f = s[s.rindex(")") + 2:].split()
    return int(f[11]) + int(f[12])


def task_cpu(task_dir):
    """CPU seconds of one thread (/proc/PID or /proc/PID/task/TID): the
    scheduler's runtime in ns (schedstat), not stat's 10 ms ticks: a
    window's threads run a few ticks each."""
    try:
        return int(open(task_dir + "/schedstat").read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return task_ticks(task_dir + "/stat") / CLK


class Snap:
    """Host-side counters at one instant (CPU times in seconds)."""

    def __init__(self, qpid, ports=None):
        self.qemu = self.vhost = 0
        for t in glob.glob("/proc/%d/task/*" % qpid):
            try:
                comm = open(t + "/comm").read().strip()
                ticks = task_cpu(t)
            except OSError:
                continue
            if comm.startswith("CPU "):
                continue
            if comm.startswith("vhost-"):
                self.vhost += ticks
            else:
                self.qemu += ticks
        # vhost kthreads (6.1) are not in QEMU's thread group, nor is the
        # vDPA device's kthread worker ("vhost-trace-vdpa/NAME", vdpa.c)
        for c in glob.glob("/proc/[0-9]*/comm"):
            try:
                comm = open(c).read().strip()
                if comm == "vhost-%d" % qpid or \
                        comm.startswith("vhost-trace-vd"):
                    pid = int(c.split("/")[2])
                    if pid != qpid and not os.path.exists(
                            "/proc/%d/task/%d" % (qpid, pid)):
                        self.vhost += task_cpu("/proc/%d" % pid)
            except OSError:
                pass
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.readers = ru.ru_utime + ru.ru_stime
        self.exits = vm_exits(qpid)
        self.kicks = KICKS.count(qpid)
        self.sizes = {}
        for n in set(sum(SINKS.values(), ())):
            p = os.path.join(D, n)
            self.sizes[n] = os.path.getsize(p) if os.path.exists(p) else 0
        self.vtstats = ports.stats() if ports else {}
        self.t = time.monotonic()


def vm_exits(qpid):
    """KVM's per-VM debugfs stat: the sum over the VM's vCPUs."""
    return sum(int(open(e).read()) for e in
               glob.glob("/sys/kernel/debug/kvm/%d-*/exits" % qpid))


class Kicks:
    """The guests' MMIO writes, per thread: a hist trigger on kvm:kvm_mmio
    (type 2: KVM_TRACE_MMIO_WRITE) in a tracing instance of our own. Set
    up before the guests boot and removed after they are gone: switching a
    host tracepoint while nested guests run has crashed the host VM under
    TCG (the stale int3, see README). None where it cannot be set up."""
    INST = "/sys/kernel/tracing/instances/vtbench"
    TRIG = "hist:keys=common_pid:vals=hitcount:size=256 if type == 2"

    def __init__(self):
        self.hist = None

    def setup(self):
        trig = self.INST + "/events/kvm/kvm_mmio/trigger"
        try:
            os.mkdir(self.INST)
            with open(trig, "w") as f:
                f.write(self.TRIG)
            self.hist = self.INST + "/events/kvm/kvm_mmio/hist"
        except OSError as e:
            log("no kick counts: %s: %r" % (trig, e))
            self.end()

    def end(self):
        self.hist = None
        try:
            with open(self.INST + "/events/kvm/kvm_mmio/trigger", "w") as f:
                f.write("!" + self.TRIG)
        except OSError:
            pass
        try:
            os.rmdir(self.INST)
        except OSError:
            pass

    def count(self, qpid):
        """MMIO writes so far of QEMU qpid's vCPU threads, or None."""
        if not self.hist:
            return None
        tids = set()
        for t in glob.glob("/proc/%d/task/*" % qpid):
            try:
                if open(t + "/comm").read().startswith("CPU "):
                    tids.add(int(t.rsplit("/", 1)[1]))
            except OSError:
                pass
        n = 0
        for m in re.finditer(r"common_pid:\s*(\d+)\s*\}\s*hitcount:\s*(\d+)",
                             open(self.hist).read()):
            if int(m.group(1)) in tids:
                n += int(m.group(2))
        return n


KICKS = Kicks()
STAT_KEYS = ("bytes", "buffers", "dropped_buffers", "bad_buffers",
             "ref_bytes", "copied_bytes")


def vdpa_setup():
    """The vDPA device of the stock QEMU's guest: 2 trace ports with file
    sinks vd0 and vd1 (block), bound to vhost_vdpa. Its /dev/vhost-vdpa-N
    open and its Ports (a control fd of this process: VHOST_TRACE_VDPA_CTL),
    or None with the reason logged."""
    why = ("no vhost_vdpa (this kernel has no vDPA)" if not VT_VDPA else
           "no %s (make selftests)" % VT_VDPA if not os.path.exists(VT_VDPA)
           else "no %s (tools/dev/stock-qemu.sh)" % STOCK_QEMU
           if not os.path.exists(STOCK_QEMU) else None)
    if why:
        log("no QEMU 10.0 rows: " + why)
        return None
    sysfs = "/sys/bus/vdpa/devices/" + VDPA
    subprocess.check_call([VT_VDPA, "add", VDPA, "2"])
    vt = os.open("/dev/vhost-trace", os.O_RDWR)
    try:
        ctl = fcntl.ioctl(vt, VT_VDPA_CTL, bytearray(
            struct.pack("=32sII", VDPA.encode(), 0, 0)))
    finally:
        os.close(vt)
    ports = Ports(ctl, [os.open(os.path.join(D, n), os.O_WRONLY | os.O_CREAT |
                                os.O_TRUNC, 0o644) for n in SINKS["vdpa"]])
    ports.attach_files()
    # it binds at creation to the vDPA bus driver that is loaded
    if os.path.basename(os.path.realpath(sysfs + "/driver")) != "vhost_vdpa":
        with open(sysfs + "/driver_override", "w") as f:
            f.write("vhost_vdpa")
        with open("/sys/bus/vdpa/drivers/vhost_vdpa/bind", "w") as f:
            f.write(VDPA)
    for _ in range(50):
        nodes = glob.glob(sysfs + "/vhost-vdpa-*")
        if nodes and os.path.exists("/dev/" + os.path.basename(nodes[0])):
            log("vDPA device %s on /dev/%s" % (VDPA, os.path.basename(nodes[0])))
            return (os.open("/dev/" + os.path.basename(nodes[0]), os.O_RDWR),
                    ports)
        time.sleep(0.1)
    raise RuntimeError("no /dev/vhost-vdpa-N for " + VDPA)


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


def floor_fifo(nbytes):
    """The FIFO floor: this thread write()s nbytes into a FIFO in 1 MiB
    writes, read by the FIFO rows' reader. (writer s, reader s)."""
    path = os.path.join(D, "ffloor")
    if not os.path.exists(path):
        os.mkfifo(path)
    rs = start_readers(["ffloor"])
    fd = fifo_writer(path)
    os.set_blocking(fd, True)
    fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SZ)
    buf = b"\x5a" * (1 << 20)
    t0 = time.thread_time()
    left = nbytes
    while left > 0:
        left -= os.write(fd, buf[:min(left, len(buf))])
    t1 = time.thread_time()
    os.close(fd)
    rs[0][0].wait()	# it drains the FIFO to its EOF
    return t1 - t0, stop_readers(rs)[1]


def window(g, qpid, t, ports):
    """One window of transport t in guest g (QEMU qpid; ports: the Ports of
    its vhost-trace device, vhost or vDPA front end, or None)."""
    gt = STOCK.get(t, GUEST_T.get(t, t))	# what the guest runs
    readers = []
    # the sinks of this row, attached before the window, outside its Snaps
    if t in MODULE_ROWS:
        if t in FIFOS:
            readers = start_readers(FIFOS[t])
            ref = ports.attach_fifos(FIFOS[t], t != "vtcp")
            if t == "vdpaf" and VDPA_FIFO["mode"] != ("reference" if ref
                                                       else "copy"):
                VDPA_FIFO["mode"] = "reference" if ref else "copy"
                log("vDPA FIFO sinks by %s%s" % (VDPA_FIFO["mode"], "" if ref
                    else " (VHOST_TRACE_SINK_BY_REF on a vDPA port: "
                    "EOPNOTSUPP)"))
            elif t == "vtref" and not ref:
                raise RuntimeError("vhost-trace-pci refuses FIFO sinks by "
                                   "reference")
        else:
            ports.attach_files()
    elif t in FIFOS:
        readers = start_readers(FIFOS[t])
    try:
        a = Snap(qpid, ports)
        g.cmd("start " + gt)
        rec = record_start() if t == "vsock" else None
        w = vm_exits(qpid)
        iters = int(g.cmd("work %g" % SECONDS, timeout=SECONDS + 120).split()[1])
        w = vm_exits(qpid) - w
        tc = None
        if rec:
            tc = record_stop(rec)
        r = kv(g.cmd("stop " + gt, timeout=120))
        if t in SINKS:
            settle(SINKS[t])
        fifo_bytes = fifo_cpu = 0
        if readers:
            settle_readers(readers)
            fifo_bytes, fifo_cpu = stop_readers(readers)
            readers = []
        b = Snap(qpid, ports)
    finally:
        try:
            if readers:
                stop_readers(readers)
            if t in FIFOS and t in MODULE_ROWS:
                ports.detach()
        except (OSError, RuntimeError) as e:
            log("%s: its readers' and sinks' end: %r" % (t, e))
    res = {
        "iters": iters,
        "agent_s": int(r["cpu_us"]) / 1e6,
        "lost": int(r["lost"]),
        "exits": w,
        "window_exits": b.exits - a.exits,
        "kicks": None if a.kicks is None or b.kicks is None
        else b.kicks - a.kicks,
        "irqs": int(r["irqs"]) if "irqs" in r else None,
        "qemu_s": b.qemu - a.qemu,
        "vhost_s": b.vhost - a.vhost,
        "readers_s": b.readers - a.readers,
        "secs": b.t - a.t,
        "bytes": 0, "buffers": 0, "host_lost": 0,
    }
    if t in SINKS:
        res["bytes"] = sum(b.sizes[n] - a.sizes[n] for n in SINKS[t])
    if t in FIFOS:
        res["bytes"] = fifo_bytes
        res["readers_s"] = fifo_cpu
    if t in MODULE_ROWS:
        d = {k: b.vtstats.get(k, 0) - a.vtstats.get(k, 0) for k in STAT_KEYS}
        res["buffers"] = d["buffers"]
        res["mod_bytes"] = d["bytes"]
        res["ref_bytes"] = d["ref_bytes"]
        res["copied_bytes"] = d["copied_bytes"]
        res["host_lost"] = d["dropped_buffers"] + d["bad_buffers"]
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


def finish_round(n, got, floor_per_gb, ffloor_per_gb=None):
    """Per-round figures against the round's no-tracing window. trace-cmd
    record reports compressed sizes: vsock's bytes become its round trips
    times the bytes per round trip of the other transports that round."""
    bpi = [r["bytes"] / r["iters"] for t, r in got.items()
           if t in ("vt", "vt1", "vtup", "vs") and r["bytes"] and r["iters"]]
    for t, r in got.items():
        r["round"] = n
        # each guest's rows against its own no-tracing window
        base = got.get("none10" if t in STOCK else "none", {})
        bi = base.get("iters")
        r["ratio"] = r["iters"] / bi if bi else None
        r["added_exits"] = r["exits"] - base["exits"] / bi * r["iters"] \
            if bi else None
        # QEMU's non-vCPU threads over their rate with no tracing (QEMU
        # 10.0's are busy then too); none where the log has no durations
        r["qemu_idle"] = base["qemu_s"] / base["secs"] if base.get("secs") else 0
        r["qemu_over"] = r["qemu_s"] - r["qemu_idle"] * r["secs"]
        # FIFO rows against the FIFO floor, the others the tmpfs file one
        r["floor"] = ffloor_per_gb if t in FIFOS else floor_per_gb
        if t == "vsock" and bpi:
            r["reported_bytes"] = r["bytes"]
            r["bytes"] = round(r["iters"] * statistics.median(bpi))
    return got


def num(x):
    return int(x) if x and x != "None" else None


def from_log(path):
    """The table again from the "bench: round" lines of a run's log."""
    rounds, floors = {}, {}
    pat = re.compile(r"bench: round (\d+) (\w+) +iters +(\d+) bytes +(\d+) "
                     r"buffers +(\d+) agent ([\d.]+)s exits +(\d+) qemu "
                     r"([\d.]+)s vhost ([\d.]+)s readers ([\d.]+)s lost "
                     r"(\d+)\+(\d+)(?: in ([\d.]+)s)?(?: window exits (\d+) "
                     r"kicks (\d+|None) irqs (\d+|None))?")
    fpat = re.compile(r"bench: round (\d+) floor: (\d+) bytes .*, ([\d.]+) s")
    ffpat = re.compile(r"bench: round (\d+) fifo floor: (\d+) bytes .*, "
                       r"([\d.]+) s, reader ([\d.]+) s")
    mpat = re.compile(r"bench: round (\d+) (\w+) +module bytes (\d+) "
                      r"ref_bytes (\d+) copied_bytes (\d+)")
    ffloors, mods = {}, {}
    for line in open(path, errors="replace"):
        m = pat.search(line)
        if m:
            n = int(m.group(1))
            rounds.setdefault(n, {})[m.group(2)] = {
                "iters": int(m.group(3)), "bytes": int(m.group(4)),
                "buffers": int(m.group(5)), "agent_s": float(m.group(6)),
                "exits": int(m.group(7)), "qemu_s": float(m.group(8)),
                "vhost_s": float(m.group(9)), "readers_s": float(m.group(10)),
                "lost": int(m.group(11)), "host_lost": int(m.group(12)),
                "secs": float(m.group(13) or 0),
                "kicks": num(m.group(15)), "irqs": num(m.group(16))}
            continue
        m = fpat.search(line)
        if m and int(m.group(2)):
            floors[int(m.group(1))] = float(m.group(3)) / (int(m.group(2)) / 1e9)
            continue
        m = ffpat.search(line)
        if m and int(m.group(2)):
            ffloors[int(m.group(1))] = (float(m.group(3)) + float(
                m.group(4))) / (int(m.group(2)) / 1e9)
            continue
        m = mpat.search(line)
        if m:
            mods[(int(m.group(1)), m.group(2))] = {
                "mod_bytes": int(m.group(3)), "ref_bytes": int(m.group(4)),
                "copied_bytes": int(m.group(5))}
            continue
        if "bench: vDPA FIFO sinks by " in line:
            VDPA_FIFO["mode"] = line.split("bench: vDPA FIFO sinks by ")[
                1].split()[0]
    rows = {t: [] for t in ALL + list(STOCK)}
    fl, ffl = [], []
    done = sorted(n for n in rounds if n in floors and "none" in rounds[n])
    for (n, t), m in mods.items():
        if t in rounds.get(n, {}):
            rounds[n][t].update(m)
    for n in done:
        fl.append(floors[n])
        ffl.append(ffloors.get(n))
        for t, r in finish_round(n, rounds[n], floors[n],
                                 ffloors.get(n)).items():
            rows[t].append(r)
    left = sorted(set(rounds) - set(done))
    summarize(rows, fl, ffl, set(), len(done), host_rel="(from %s)" % path)
    if left:
        print("incomplete rounds left out: %s" % " ".join(map(str, left)))


def summarize(rows, floors, ffloors, failed, nrounds, host_rel=None):
    host_rel = host_rel or os.uname().release
    print()
    print("Transports side by side: host VM %s (TCG), one nested guest %s "
          "(2 vCPUs, KVM),\nsched:* + raw_syscalls:*, pipe ping-pong CPU0<->CPU1, "
          "%d interleaved rounds x %g s.\nMedian (min-max) over the rounds."
          % (host_rel, GK, nrounds, SECONDS))
    print("Host CPU s/GB = QEMU non-vCPU threads (over their rate in the "
          "guest's no-tracing\nwindow) + vhost/vDPA workers + readers, over "
          "the bytes that reached the host in\nthe window; floor = 1 MiB "
          "write()s of the same bytes to tmpfs. FIFO rows: the bytes\nthe "
          "readers (vt-benchg drain splice: FIFO -> /dev/null, 1 MiB pipes) "
          "got; their\nfloor: 1 MiB write()s of our agent's by-reference "
          "bytes into a FIFO, same reader\n(writer + reader CPU). Module "
          "copies/page: copied_bytes / bytes of the module's\nstatistics "
          "(the splice reader copies none).")
    print("Guest exits/MB: KVM's exits of the guest's vCPUs while the "
          "workload ran (after the\nagent's start, before its stop), over "
          "the window's bytes; added: minus the\nno-tracing window's exits "
          "per round trip x the round trips. Kicks/MB: the guest's\nMMIO "
          "writes (virtio-pci notifies) over the whole window, from KVM's "
          "kvm_mmio event;\nvirtio irqs/MB: the guest's virtio interrupts "
          "over the whole window. The bench's\ncommand port adds a few of "
          "each to every window (no tracing: kicks %s, irqs %s)."
          % (med([r.get("kicks") for r in rows.get("none", [])]),
             med([r.get("irqs") for r in rows.get("none", [])])))
    print()
    hdr = ("transport", "workload vs none", "MB/s", "KiB/buf",
           "guest agent s/GB", "guest exits/MB", "added exits/MB",
           "kicks/MB", "virtio irqs/MB", "host s/GB total", "QEMU other", "vhost/vDPA worker", "readers",
           "lost", "x floor", "module copies/page")
    table = []
    fl = [f for f in floors if f]
    table.append(("floor (1 MiB writes, tmpfs file)", "-", "-", "-", "-", "-",
                  "-", "-", "-", med(fl), "-", "-", med(fl), "0", "1", "-"))
    stock = [(t, name) for t, name, _ in STOCK_ROWS if rows.get(t)]
    fifo = [(t, n) for t, n in TRANSPORTS + stock if t in FIFOS]
    if VDPA_FIFO["mode"] == "copy":
        fifo = [(t, n.replace("by reference", "by copy (by reference: "
                              "EOPNOTSUPP on vDPA)") if t == "vdpaf" else n)
                for t, n in fifo]
    if not any(rows.get(t) for t, _ in fifo):
        fifo = []	# a run (log) without the FIFO half
    ffl = [f for f in ffloors if f]
    for t, name in [("none", "no tracing")] + [
            x for x in TRANSPORTS + stock if x[0] not in FIFOS] + [
            ("ffloor", None)] + fifo:
        if t == "ffloor":
            if fifo:
                table.append(("FIFO: floor (1 MiB writes into a FIFO, same "
                              "reader)", "-", "-", "-", "-", "-", "-", "-",
                              "-", med(ffl), "-", "-", med(ffl), "0", "1",
                              "-"))
            continue
        rs = rows[t]
        if not rs:
            table.append((name + " (failed)",) + ("-",) * (len(hdr) - 1))
            continue

        def per_gb(key, unit=1e9):
            return [r[key] / (r["bytes"] / unit)
                    if r["bytes"] and r[key] is not None else None for r in rs]

        def per_mb(key):
            return per_gb(key, 1e6)
        tot = [host_s(r) / (r["bytes"] / 1e9) if r["bytes"] else None
               for r in rs]
        xfl = [tt / r["floor"] if tt and r["floor"] else None
               for tt, r in zip(tot, rs)]
        kib = [r["bytes"] / r["buffers"] / 1024 if r["buffers"] else None for r in rs]
        mbs = [r["bytes"] / 1e6 / SECONDS for r in rs] if t not in ("none", "none10") else []
        lost = sum(r["lost"] for r in rs)
        hl = sum(r["host_lost"] for r in rs)
        table.append((name, med([r["ratio"] for r in rs]), med(mbs), med(kib),
                      med(per_gb("agent_s")), med(per_mb("exits")),
                      med(per_mb("added_exits")), med(per_mb("kicks")),
                      med(per_mb("irqs")), med(tot),
                      med(per_gb("qemu_over")), med(per_gb("vhost_s")),
                      med(per_gb("readers_s")),
                      "%d%s" % (lost, " +%d buffers" % hl if hl else ""),
                      med(xfl), med([r["copied_bytes"] / r["mod_bytes"]
                                     if r.get("mod_bytes") and "copied_bytes"
                                     in r else None for r in rs])))
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for row in table:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()
    same_run(rows, "vt1", "vt", "old agent (1 page/buffer) / new (256 KiB)")
    same_run(rows, "vdpa", "vt", "vDPA front end (QEMU 10.0) / vhost front "
             "end (QEMU 7.2)")
    same_run(rows, "vdpa", "vs10", "vDPA front end / chardev path, both "
             "QEMU 10.0")
    same_run(rows, "vs10", "vs", "chardev path, QEMU 10.0 / QEMU 7.2")
    fifo_summary(rows)
    for t, what in (("none", "QEMU 7.2"), ("none10", "QEMU 10.0")):
        if rows.get(t) and rows[t][0].get("secs"):
            print("%s's non-vCPU threads with no tracing: %s CPU s per s "
                  "(subtracted above)" % (what, med([r["qemu_s"] / r["secs"]
                                                     for r in rows[t]])))
    if stock:
        print("QEMU 10.0 rows: a second nested guest (same kernel, agent, "
              "events, workload),\nDebian's stock QEMU %s beside ours (7.2, "
              "vhost-trace-pci); vDPA: the module's\nvDPA device on "
              "vhost_vdpa as vhost-vdpa-device-pci. Their workload ratio "
              "and added\nexits are against their own guest's no-tracing "
              "window." % stock_version())
    if failed:
        print("left out after a failure: " + " ".join(sorted(failed)))
    print("vsock: trace-cmd record reports its trace.dat data sizes "
          "(compressed by default);\nits per-GB figures use raw-equivalent "
          "bytes: its round trips x the bytes per round\ntrip the other "
          "transports moved in the same round (reported bytes: %s MB)." %
          med([r.get("reported_bytes", 0) / 1e6 for r in rows["vsock"]]))


def fifo_summary(rows):
    """The FIFO half's ratios (issue 20's targets), copies per page, and
    which row adds the fewest guest exits per MB."""
    if not any(rows.get(t) for t in FIFOS):
        return
    print("FIFO half:")
    for t in ("vtref", "vtcp", "vdpaf"):
        rs = [r for r in rows.get(t, []) if r.get("mod_bytes")]
        if rs:
            ref, cp, mod = (sum(r[k] for r in rs) for k in (
                "ref_bytes", "copied_bytes", "mod_bytes"))
            print("  %s: module ref_bytes/bytes %.6f, copied_bytes/bytes "
                  "%.6f (all rounds: %d of %d bytes by reference); copies "
                  "per page: module %.6f + reader 0 (splice); reader got/"
                  "module bytes %s" % (
                      t, ref / mod, cp / mod, ref, mod, cp / mod,
                      med([r["bytes"] / r["mod_bytes"] for r in rs])))
    same_run(rows, "vtref", "vsf", "our agent by reference (vhost-trace-pci) "
             "/ chardev FIFO path (QEMU 7.2) [issue 20: host CPU <= 0.25]")
    same_run(rows, "vtref", "vsock", "our agent by reference / trace-cmd "
             "over vsock [issue 20: host CPU <= 0.5]")
    same_run(rows, "vtref", "vtcp", "FIFO by reference / FIFO by copy "
             "(vhost-trace-pci)")
    same_run(rows, "vtref", "vt", "FIFO by reference / tmpfs file sinks "
             "(vhost-trace-pci)")
    same_run(rows, "vsf", "vs", "chardev path: FIFO / tmpfs file (QEMU 7.2)")
    same_run(rows, "vdpaf", "vs10f", "vDPA FIFO sinks (%s) / chardev FIFO "
             "path, both QEMU 10.0" % (VDPA_FIFO["mode"] or "?"))
    same_run(rows, "vdpaf", "vtref", "vDPA FIFO (QEMU 10.0) / vhost-trace-pci "
             "FIFO by reference (QEMU 7.2)")
    for what, f in (("added guest exits", lambda r: r.get("added_exits")),
                    ("the transport's kicks + virtio interrupts",
                     lambda r: None if r.get("kicks") is None or
                     r.get("irqs") is None else r["kicks"] + r["irqs"])):
        added = []
        for t, rs in rows.items():
            xs = [f(r) / (r["bytes"] / 1e6) for r in rs
                  if f(r) is not None and r["bytes"]]
            if xs and t not in ("none", "none10"):
                added.append((statistics.median(xs), t))
        if added:
            print("  %s per MB, median, lowest first: %s" % (what, ", ".join(
                "%s %.3g" % (t, v) for v, t in sorted(added))))


def host_s(r):
    """Host CPU seconds of a window: QEMU's non-vCPU threads over their
    no-tracing rate, vhost or vDPA workers, readers."""
    return r["qemu_over"] + r["vhost_s"] + r["readers_s"]


def same_run(rows, a, b, what):
    """Per round, row a's host CPU per GB, added guest exits per MB and
    guest agent CPU per GB over row b's: one line."""
    def per_byte(r):
        return (host_s(r) / r["bytes"],
                None if r["added_exits"] is None else
                r["added_exits"] / r["bytes"], r["agent_s"] / r["bytes"])
    ratios = []
    rb_of = {r["round"]: r for r in rows.get(b, [])}
    for ra in rows.get(a, []):
        rb = rb_of.get(ra["round"])
        if rb and ra["bytes"] and rb["bytes"]:
            ratios.append([x / y if x is not None and y is not None and y > 0
                           else None for x, y in zip(per_byte(ra), per_byte(rb))])
    if ratios:
        print("same run, %s, per round: host CPU per GB %s, added guest "
              "exits per MB %s, guest agent CPU per GB %s" % (
                  what, med([r[0] for r in ratios]),
                  med([r[1] for r in ratios]), med([r[2] for r in ratios])))


def stock_version():
    try:
        return open(os.path.join(BUILD, "stock-qemu/VERSION")).readline().split()[1]
    except (OSError, IndexError):
        return "10.0"


def guest_cmd(qemu, files, tag, sinks, fifos):
    """guestrun with QEMU qemu and the devices both guests have: RAM a
    shared memfd, virtio-serial-pci with ports vs-cpu0/1 into the files
    sinks, vsf-cpu0/1 into pipe chardevs (fifos: the FIFOs NAME.in and
    NAME.out are made here; QEMU opens both O_RDWR, writes the port's bytes
    into NAME.out and reads NAME.in, which nobody writes), vs-ctl and
    bench-cmd (D/cmd<tag>.sock); QEMU arguments follow."""
    a = [os.path.join(TOP, "tools/dev/guestrun"), "-q", qemu, "-k", GK,
         "-t", "1800", "-c", "2", "-m", "512",
         "-a", "vtpin=none"] + files + [
         os.path.join(TOP, "selftests/vm/bench/guest.sh"),
         "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
         "-machine", "memory-backend=mem", "-device", "virtio-serial-pci"]
    for i, n in enumerate(sinks):
        a += ["-chardev", "file,id=vs%d,path=%s/%s" % (i, D, n),
              "-device", "virtserialport,chardev=vs%d,name=vs-cpu%d" % (i, i)]
    for i, n in enumerate(fifos):
        for end in (".in", ".out"):
            if not os.path.exists(os.path.join(D, n + end)):
                os.mkfifo(os.path.join(D, n + end))
        a += ["-chardev", "pipe,id=vsf%d,path=%s/%s" % (i, D, n),
              "-device", "virtserialport,chardev=vsf%d,name=vsf-cpu%d" % (i, i)]
    for port, name in (("vsctl", "vs-ctl"), ("cmd", "bench-cmd")):
        a += ["-chardev", "socket,id=%s,path=%s/%s%s.sock,server=on,wait=off"
              % (port, D, port, tag),
              "-device", "virtserialport,chardev=%s,name=%s" % (port, name)]
    # thread names: the vCPU threads are "CPU n/KVM"
    return a + ["-name", "bench%s,debug-threads=on" % tag]


def end_guest(vm, qpid, glog, lost):
    """Waits for (or, lost, kills) a guest; prints its console's bench
    lines, and its end when lost."""
    if lost:
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
    lines = open(glog, errors="replace").read().splitlines()
    for line in lines:
        if "bench-guest" in line or "guestrun:" in line or "qemu" in line:
            print("  " + line)
    if lost:
        log("the end of its console:")
        for line in lines[-60:]:
            print("  | " + line)


def log_threads(what, qpid):
    """QEMU's threads' CPU seconds since it started, by name."""
    cpu = {}
    for t in glob.glob("/proc/%d/task/*" % qpid):
        try:
            comm = open(t + "/comm").read().strip()
            cpu[comm] = cpu.get(comm, 0) + task_ticks(t + "/stat") / CLK
        except OSError:
            pass
    log("%s threads, CPU s since start: %s" % (what, ", ".join(
        "%s %.2f" % c for c in sorted(cpu.items()))))


class StockGuest:
    """The QEMU 10.0 guest with the vDPA device; ok is False once it (or
    its vDPA device) failed: its rows are left out from then on. It boots
    once the first guest runs: two guests booting at once crashed the
    host VM once (int3 Oops in kvm_arch_vcpu_ioctl_run: the stale int3 of
    TCG and the kernel's text patching, see README)."""

    def __init__(self, files):
        self.vm = self.g = self.qpid = self.ports = None
        self.ok = False
        self.files = files
        self.glog = os.path.join(D, "guest10.log")
        if ONLY and not ONLY & set(STOCK):
            log("no QEMU 10.0 rows: BENCH_ONLY")
            return
        try:
            fd = vdpa_setup()
        except (subprocess.SubprocessError, OSError, RuntimeError) as e:
            log("no QEMU 10.0 rows: the vDPA device: %r" % e)
            subprocess.call([VT_VDPA, "del", VDPA])
            return
        if fd is None:
            return
        self.fd, self.ports = fd
        self.ok = True

    def connect(self):
        if self.ok and not self.vm:
            for n in SINKS["vs10"]:
                open(os.path.join(D, n), "w").close()
            cmd = guest_cmd(STOCK_QEMU, self.files, "10", SINKS["vs10"],
                            ("vs10f0", "vs10f1")) + [
                "-add-fd", "fd=%d,set=1" % self.fd,
                "-device", "vhost-vdpa-device-pci,vhostdev=/dev/fdset/1"]
            with open(self.glog, "w") as out:
                self.vm = subprocess.Popen(cmd, stdout=out,
                                           stderr=subprocess.STDOUT,
                                           pass_fds=(self.fd,))
            os.close(self.fd)
        if self.ok and not self.g:
            try:
                self.g = Guest(os.path.join(D, "cmd10.sock"))
                log("QEMU 10.0 guest:", self.g.cmd("hello", timeout=600))
                self.qpid = qemu_pid(os.path.join(D, "cmd10.sock"))
                log("QEMU 10.0 guest: QEMU pid %d" % self.qpid)
            except (RuntimeError, OSError) as e:
                self.fail(e)
        return self.ok

    def fail(self, e):
        log("QEMU 10.0 guest: %r; its rows are left out from now on" % e)
        self.ok = False
        end_guest(self.vm, self.qpid, self.glog, True)

    def end(self):
        if self.ok and not self.vm:
            os.close(self.fd)
        if self.vm and self.ok:
            log_threads("QEMU 10.0", self.qpid)
            try:
                self.g.cmd("quit", timeout=60)
            except (RuntimeError, OSError) as e:
                self.fail(e)
            else:
                end_guest(self.vm, self.qpid, self.glog, False)
        if VT_VDPA and (self.ok or self.vm):
            subprocess.call([VT_VDPA, "del", VDPA])


def main():
    if not all(os.path.exists(p) for p in (
            os.path.join(BUILD, "bench/vt-benchg"),
            os.path.join(BUILD, "bench/virtio-trace-agent"),
            os.path.join(BUILD, "guest/trace-agent"))):
        print("bench: build first: make guest bench-tools")
        return 1
    for n in SINKS["vs"]:
        open(os.path.join(D, n), "w").close()
    vt_files = [os.open(os.path.join(D, n), os.O_WRONLY | os.O_CREAT |
                        os.O_TRUNC, 0o644) for n in SINKS["vt"]]
    for n in FIFOS["vtref"] + FIFOS["vdpaf"]:
        os.mkfifo(os.path.join(D, n))
    files = guest_files()
    cmd = guest_cmd(
           os.path.join(BUILD, "qemu/full/qemu-system-x86_64"), files, "",
           SINKS["vs"], ("vsf0", "vsf1")) + [
           "-chardev", "socket,id=vtctl,path=%s/vtctl.sock,server=on,wait=off" % D,
           "-device", "vhost-trace-pci,vhostfd=@VHOSTFD@,ports=2,chardev=vtctl",
           "-device", "vhost-vsock-pci,guest-cid=3"]
    KICKS.setup()	# before the first guest
    stock = StockGuest(files)
    if stock.ok:
        ALL.extend(STOCK)
    rows = {t: [] for t in ALL}
    floors = []
    ffloors = []
    failed = set()
    losses = {}
    boots = 0
    rnd = 0
    while rnd < ROUNDS and boots < 3:
        boots += 1
        glog_path = os.path.join(D, "guest%d.log" % boots)
        glog = open(glog_path, "w")
        # this boot's vhost-trace device: QEMU inherits the device fd, this
        # process keeps the control fd (the sinks of each window)
        dev, vt_ports = vhost_open(vt_files)
        vm = subprocess.Popen([a.replace("@VHOSTFD@", str(dev)) for a in cmd],
                              stdout=glog, stderr=subprocess.STDOUT,
                              pass_fds=(dev,))
        os.close(dev)
        lost_guest = False
        qpid = None
        try:
            g = Guest(os.path.join(D, "cmd.sock"))
            log("guest:", g.cmd("hello", timeout=600))
            qpid = qemu_pid(os.path.join(D, "cmd.sock"))
            log("guest boot %d, QEMU pid %d; %d rounds of %g s; order rotates "
                "each round" % (boots, qpid, ROUNDS, SECONDS))
            stock.connect()
            while rnd < ROUNDS:
                k = rnd % len(ALL)
                order = ALL[k:] + ALL[:k]
                got = {}
                for t in order:
                    if t in failed or (t in STOCK and not stock.ok) or \
                            (ONLY and t not in ONLY):
                        continue
                    if t in STOCK:
                        try:
                            got[t] = window(stock.g, stock.qpid, t,
                                            stock.ports)
                        except (RuntimeError, subprocess.SubprocessError,
                                ValueError, KeyError, OSError) as e:
                            stock.fail(e)
                            continue
                    else:
                        try:
                            got[t] = window(g, qpid, t, vt_ports)
                        except (RuntimeError, subprocess.TimeoutExpired,
                                ValueError, KeyError, OSError) as e:
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
                                g.cmd("stop " + GUEST_T.get(t, t), timeout=120)
                            except Exception as e2:
                                log("and its stop: %r" % e2)
                            continue
                    r = got[t]
                    log("round %d %-5s iters %6d bytes %9d buffers %6d agent %.3fs "
                        "exits %7d qemu %.4fs vhost %.4fs readers %.4fs lost %d+%d"
                        " in %.3fs window exits %d kicks %s irqs %s"
                        % (rnd + 1, t, r["iters"], r["bytes"], r["buffers"],
                           r["agent_s"], r["exits"], r["qemu_s"], r["vhost_s"],
                           r["readers_s"], r["lost"], r["host_lost"], r["secs"],
                           r["window_exits"], r["kicks"], r["irqs"]))
                    if "copied_bytes" in r:
                        log("round %d %-5s module bytes %d ref_bytes %d "
                            "copied_bytes %d" % (rnd + 1, t, r["mod_bytes"],
                                                 r["ref_bytes"],
                                                 r["copied_bytes"]))
                fb = max(r["bytes"] for r in got.values())
                if "vt" in got:
                    fb = got["vt"]["bytes"]
                fs = floor(fb)
                floors.append(fs / (fb / 1e9) if fb else None)
                log("round %d floor: %d bytes in 1 MiB writes, %.4f s" %
                    (rnd + 1, fb, fs))
                fb = got["vtref"]["bytes"] if got.get("vtref", {}).get(
                    "bytes") else fb
                ws, rs = floor_fifo(fb)
                ffloors.append((ws + rs) / (fb / 1e9) if fb else None)
                log("round %d fifo floor: %d bytes in 1 MiB writes, %.4f s, "
                    "reader %.4f s" % (rnd + 1, fb, ws, rs))
                for t, r in finish_round(rnd + 1, got, floors[-1],
                                         ffloors[-1]).items():
                    rows[t].append(r)
                rnd += 1
            log_threads("QEMU 7.2", qpid)
            g.cmd("quit", timeout=60)
        except Exception as e:
            log("guest boot %d: %r" % (boots, e))
            lost_guest = True
        finally:
            glog.close()
            if lost_guest:
                log("guest lost in round %d" % (rnd + 1))
            end_guest(vm, qpid, glog_path, lost_guest)
            if lost_guest and rnd < ROUNDS:
                log("that round is run again in a new guest%s" %
                    (", without " + " ".join(sorted(failed)) if failed else ""))
    stock.end()
    KICKS.end()		# after the last
    summarize(rows, floors, ffloors, failed, rnd)
    shutil.rmtree(D, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--from-log":
        from_log(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
