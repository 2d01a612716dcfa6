#!/usr/bin/env python3
# Test glue for selftests/vm/qemu_lifecycle.sh: hot-plug vhost-trace-pci
# into a running QEMU over QMP (getfd with SCM_RIGHTS, device_add), wait
# until the sink has MIN_BYTES, then device_del it during the transfer and
# report the module's statistics. The device fd is prepared here the way a
# management daemon does it: SET_PORTS, a control fd, the sinks.
#
#   qmp_hotplug.py QMP_SOCKET PORTS SINK_DIR MIN_BYTES
import fcntl, json, os, socket, struct, sys, time

VHOST_TRACE_SET_PORTS = 0x4004AFA0     # _IOW(VHOST_VIRTIO, 0xA0, __u32)
VHOST_TRACE_GET_CTL_FD = 0xAFA2        # _IO(VHOST_VIRTIO, 0xA2)
VHOST_TRACE_SET_SINK = 0x4010AFA4      # _IOW(..., 0xA4, struct vhost_trace_sink)
VHOST_TRACE_GET_STATS = 0xC050AFA5     # _IOWR(..., 0xA5, struct vhost_trace_stats)
STATS = struct.Struct("=II8QiI")


def stats(ctl, port):
    buf = bytearray(STATS.pack(port, 0, *([0] * 8), 0, 0))
    fcntl.ioctl(ctl, VHOST_TRACE_GET_STATS, buf)
    v = STATS.unpack(buf)
    return {"flags": v[1], "bytes": v[2], "buffers": v[3]}


class QMP:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        for _ in range(300):
            try:
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.2)
        self.f = self.s.makefile("r")
        self.events = []
        json.loads(self.f.readline())           # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, fds=(), **args):
        msg = json.dumps({"execute": name, "arguments": args}).encode()
        if fds:
            socket.send_fds(self.s, [msg], list(fds))
        else:
            self.s.sendall(msg)
        while True:
            r = json.loads(self.f.readline())
            if "event" in r:
                self.events.append(r["event"])
                continue
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"]["desc"]))
            return r["return"]

    def wait_event(self, name, timeout):
        end = time.time() + timeout
        self.s.settimeout(timeout)
        while name not in self.events and time.time() < end:
            r = json.loads(self.f.readline())
            if "event" in r:
                self.events.append(r["event"])
        return name in self.events


def main():
    qmp_path, ports, sinks, min_bytes = sys.argv[1], int(sys.argv[2]), \
        sys.argv[3], int(sys.argv[4])
    dev = os.open("/dev/vhost-trace", os.O_RDWR)
    fcntl.ioctl(dev, VHOST_TRACE_SET_PORTS, struct.pack("I", ports))
    ctl = fcntl.ioctl(dev, VHOST_TRACE_GET_CTL_FD)
    for p in range(ports):
        fd = os.open("%s/hp%d.dat" % (sinks, p),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        fcntl.ioctl(ctl, VHOST_TRACE_SET_SINK, struct.pack("IiII", p, fd, 0, 0))
        os.close(fd)

    q = QMP(qmp_path)
    q.cmd("getfd", fds=[dev], fdname="vtfd")
    os.close(dev)                    # QEMU holds the device fd now
    q.cmd("device_add", driver="vhost-trace-pci", id="vt0", vhostfd="vtfd",
          ports=ports)
    print("host: device_add vhost-trace-pci done", flush=True)

    end = time.time() + 300
    while stats(ctl, 0)["bytes"] < min_bytes and time.time() < end:
        time.sleep(0.2)
    print("host: port 0 has %d bytes, device_del during the transfer"
          % stats(ctl, 0)["bytes"], flush=True)
    q.cmd("device_del", id="vt0")
    ok = q.wait_event("DEVICE_DELETED", 120)
    print("host: DEVICE_DELETED %s" % ("seen" if ok else "NOT seen"),
          flush=True)
    time.sleep(1)
    for p in range(ports):
        st = stats(ctl, p)
        print("port %d bytes %d buffers %d flags %#x"
              % (p, st["bytes"], st["buffers"], st["flags"]), flush=True)
    released = all(stats(ctl, p)["flags"] & 0x10 for p in range(ports))
    print("host: device released: %s" % released, flush=True)
    return 0 if ok and released else 1


if __name__ == "__main__":
    sys.exit(main())
