#!/usr/bin/env python3
# A fake QEMU monitor for socket_test.sh: serves QMP on a unix socket, one
# client at a time: the greeting, {"return": {}} to every command (two
# vCPUs for query-cpus-fast), and logs each command's name to LOG.
#
#   fake_qmp.py SOCKET LOG
import json, os, socket, sys

path, log = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
os.chmod(path, 0o600)
srv.listen(1)
with open(log, "w") as f:
    f.write("ready\n")
while True:
    c, _ = srv.accept()
    try:
        r = c.makefile("r")
        c.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
        for line in r:
            cmd = json.loads(line)["execute"]
            with open(log, "a") as f:
                f.write(cmd + "\n")
            ret = [{"cpu-index": 0}, {"cpu-index": 1}] \
                if cmd == "query-cpus-fast" else {}
            c.sendall(json.dumps({"return": ret}).encode() + b"\r\n")
    except OSError:
        pass
    c.close()
