#!/usr/bin/env python3
# Writes the hand-made seed inputs of corpus/<name>/ (the trace.dat and
# page seeds come from tools/tracedat's mkpages and vhost-trace-dat: see
# README). Run from selftests/fuzz: ./mkcorpus.py
import os

def put(name, fname, data):
    d = os.path.join("corpus", name)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)

def newc(entries):
    out, ino = b"", 1
    for name, data in entries + [("TRAILER!!!", b"")]:
        n = name.encode() + b"\0"
        mode = 0o100644 if name != "TRAILER!!!" else 0
        hdr = "070701" + "".join("%08X" % v for v in
              (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0))
        ino += 1
        out += hdr.encode() + n
        out += b"\0" * ((4 - (110 + len(n)) % 4) % 4)
        out += data + b"\0" * ((4 - len(data) % 4) % 4)
    return out

HP = ("\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
      "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
      "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
      "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n")
FMT = ("name: vtest_event\nID: 1000\nformat:\n"
       "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
       "\tfield:unsigned int seq;\toffset:8;\tsize:4;\tsigned:0;\n\n"
       "print fmt: \"seq=%u\", REC->seq\n")

# QMP: what QEMU says
G = '{"QMP": {"version": {"qemu": {"micro": 2, "minor": 2, "major": 7}, ' \
    '"package": ""}, "capabilities": ["oob"]}}\r\n'
R = '{"return": {}}\r\n'
EV = '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": ' \
     '"DEVICE_DELETED", "data": {"device": "vtrace1", "path": "/m/p"}}\r\n'
put("qmp", "session", G + R + '{"return": [{"cpu-index": 0}, '
    '{"cpu-index": 1, "props": {"core-id": 1}}]}\r\n' + EV + R)
put("qmp", "error", G + R + '{"error": {"class": "GenericError", '
    '"desc": "Bus \'x\' not found \\u00e9"}}\r\n')
put("qmp", "pretty", G + '{\n    "return": {\n    }\n}\n'
    '{\n "return": [\n  1, 2.5e3, null, true, "a\\n"\n ]\n}\n' + EV)
put("qmp", "events", G + R + EV + EV.replace("vtrace1", "x") + R + R)

# the daemon's control protocol
put("ctlproto", "launch", "launch dir=/tmp/x ports=2 name=vm%201 "
    "policy=drop -- qemu-system-x86_64 -smp sockets=1,cores=2,threads=2 "
    "-m 512")
put("ctlproto", "attach", "attach qmp=/run/q.sock dir=/d ports=4 %-\r")
put("ctlproto", "reply", "ok 12")
put("ctlproto", "smp", "launch dir=/d -- qemu -smp 4 -smp cpus=8,maxcpus=9")
put("ctlproto", "body", "state=running\nname=x\nports=2\n")

# agent protocol framing
put("agent_proto", "replies", "ok 0\nerr 12\nok 268435456\nhello 1\n"
    "events sched:sched_switch irq:*\r\nset pipe_size 65536\n")
put("agent_proto", "stats", "entries: 3\ncommit overrun: 0\nbytes: 448\n"
    "oldest event ts: 1.5\nnow ts:  2.0\ndropped events: 0\n")
put("agent_proto", "kv", "cpu0 pages=5 bytes=20480 session_pages=5 "
    "partial_pages=1 dropped_pages=0\ncpu1 overrun=2 dropped_events=3\n")

# the agent: flag byte, then every reply the daemon reads
def rep(body, ok=True):
    if isinstance(body, str):
        body = body.encode()
    return ("%s %d\n" % ("ok" if ok else "err", len(body))).encode() + body

INFO = ("proto=1\nagent=trace-agent\ncpus=2\nonline=0-1\npage_size=4096\n"
        "release=6.1.0-test\nmachine=x86_64\nclock=local\n"
        "clocks=local global x86-tsc\nstate=stopped\n")
START = "state=running\ncpu0 pages=0 bytes=0\ncpu1 pages=0 bytes=0\n"
STATS = ("cpu0 entries=0 overrun=1 dropped_events=2 pages=1\n"
         "cpu1 entries=0 overrun=0 dropped_events=0 pages=1\n")
STOP = "state=stopped\ncpu0 pages=2 bytes=8192\ncpu1 pages=1 bytes=4096\n"
META = newc([("events/header_page", HP.encode()),
             ("events/header_event", b"# compressed entry header\n"),
             ("events/sched/sched_switch/format", FMT.encode()),
             ("trace_clock", b"[local] global x86-tsc\n")])
full = (rep("proto=1\nagent=trace-agent\n") + rep(INFO) +
        rep("clock=x86-tsc\n") + rep("sched:sched_switch\n") + rep(START) +
        rep(STATS) + rep(META) + rep(STOP))
put("agent", "v1", b"\0" + full)
put("agent", "resume", b"\1" + b"ok 9\nstale" * 3 + full)
put("agent", "resume-stopping", b"\3" + full.replace(b"state=stopped",
                                                    b"state=running"))
put("agent", "refused", b"\0" + rep("unknown version", ok=False) + b"1\n0\n")
put("agent", "bad-cpus", b"\0" + rep("proto=1\n") +
    rep(INFO.replace("cpus=2", "cpus=4294967297")))
put("agent", "bad-hp", b"\0" + full.replace(b"offset:16;", b"offxet:16;"))

# cpio
put("cpio", "meta", META)
put("cpio", "bad-name", newc([("../etc/passwd", b"x")]))
put("cpio", "empty", newc([]))

# meta: header_page \0 format \0 info \0 trace_clock
put("meta", "ok", HP + "\0" + FMT + "\0cpus=2\npage_size=4096\n"
    "long_size=8\nuname=Linux x\n\0[local] global x86-tsc\n")
put("meta", "hp32", HP.replace("offset:16", "offset:12") + "\0" + FMT)
put("meta", "hp-nooffset", HP.replace("offset:16", "") + "\0" + FMT)
