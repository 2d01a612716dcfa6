#!/bin/bash
# The host VM half of `make demo` (see tools/demo.sh): the agent in a nested
# guest traces scheduler events through vhost-trace-pci into host files, and
# stock trace-cmd decodes them (selftests/vm/agent_demo.sh does the work).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
exec "$top/selftests/vm/agent_demo.sh"
