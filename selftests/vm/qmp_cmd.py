#!/usr/bin/env python3
# Test glue: one QMP command on QEMU's monitor socket; prints its "return"
# as JSON, or QEMU's error (exit 1), or why QMP failed (exit 2).
#
#   qmp_cmd.py QMP_SOCKET COMMAND [JSON_ARGUMENTS]
import json, socket, sys

try:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    f = s.makefile("r")
    json.loads(f.readline())                    # greeting
    for cmd, args in (("qmp_capabilities", {}),
                      (sys.argv[2], json.loads(sys.argv[3])
                       if len(sys.argv) > 3 else {})):
        s.sendall(json.dumps({"execute": cmd, "arguments": args}).encode() + b"\n")
        while True:
            r = json.loads(f.readline())
            if "event" not in r:
                break
    if "error" in r:
        print(r["error"]["desc"])
        sys.exit(1)
    print(json.dumps(r["return"]))
except (OSError, ValueError) as e:
    print("qmp_cmd.py: %s: %s" % (sys.argv[1], e))
    sys.exit(2)
