#!/usr/bin/env python3
"""A lying libvirt bridge (vhost-trace record --domain's side, PROTOCOL):
sends vhost-traced "attach domain=fake ..." with one end of a socket pair
and answers every QMP command on it with success, naming thread TID as
the domain's only vCPU, but passes the device fd to nobody. The daemon
must not believe that TID's process is QEMU (kcmp: it does not hold the
device file). With TID "nofd" the request goes without the bridge.
With "own", it also says the domain has a vhost-trace-pci of its own
(id vtrace, 2 ports, chardev vtagent) for the daemon to take over; the
daemon must not believe TID's process either (it does not hold the
socket passed with getfd).

Usage: libvirt_fake_bridge.py SOCKET DIR TID [own]
Prints "commands: ..." (what the daemon sent on the bridge) and
"reply: ..." (the daemon's answer)."""
import array
import json
import select
import socket
import sys

sock_path, out_dir, tid = sys.argv[1:4]
own = sys.argv[4:5] == ["own"]
ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ctl.connect(sock_path)
req = ("attach domain=fake dir=%s name=fk agent=off clock=keep\n"
       % out_dir).encode()
ours = None
if tid == "nofd":
    ctl.sendall(req)
else:
    ours, theirs = socket.socketpair()
    ctl.sendmsg([req], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                         array.array("i", [theirs.fileno()]))])
    theirs.close()

cmds = []
buf = b""
reply = b""
watch = [ctl] + ([ours] if ours else [])
while True:
    ready, _, _ = select.select(watch, [], [], 30)
    if not ready:
        break
    if ours in ready:
        msg, anc, _, _ = ours.recvmsg(65536, socket.CMSG_SPACE(4 * 8))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
                for fd in fds:      # passed to nobody
                    socket.close(fd)
        if not msg:
            watch.remove(ours)
            continue
        buf += msg
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            j = json.loads(line)
            cmd = j.get("execute", "?")
            args = j.get("arguments", {})
            cmds.append(cmd)
            if cmd == "query-cpus-fast":
                ans = {"return": [{"cpu-index": 0, "thread-id": int(tid)}]}
            elif own and cmd == "qom-list" and \
                    args.get("path") == "/machine/peripheral":
                ans = {"return": [{"name": "vtrace",
                                   "type": "child<vhost-trace-pci>"}]}
            elif own and cmd == "qom-get":
                ans = {"return": 2 if args.get("property") == "ports"
                       else "vtagent"}
            else:
                ans = {"return": {}}
            ours.sendall(json.dumps(ans).encode() + b"\n")
    if ctl in ready:
        data = ctl.recv(65536)
        if not data:
            break
        reply += data
        head, _, body = reply.partition(b"\n")
        if head and len(body) >= int(head.split()[1]):
            break
print("commands:", " ".join(cmds))
print("reply:", reply.decode(errors="replace").replace("\n", " | "))
