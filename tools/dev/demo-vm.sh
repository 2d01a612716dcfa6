#!/bin/bash
# The host VM half of `make demo` (see tools/dev/demo.sh): vhost-traced and
# `vhost-trace record` trace a nested guest's scheduler events through
# vhost-trace-pci into host files and a trace.dat that stock trace-cmd
# reads (selftests/vm/demo.sh does the work).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/selftests/vm/demo.sh"
