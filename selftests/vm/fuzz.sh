#!/bin/sh
# In the host VM: the randomized hostile driver (selftests/vhost_trace/
# vt_fuzz.c) for FUZZ_TIME seconds (default 20), or one episode with
# FUZZ_SEED. Loads the module if it is not loaded.
. "$(dirname "$0")/lib.sh"

FUZZ=$BUILD/selftests/$SERIES/vhost_trace/vt_fuzz
grep -q '^vhost_trace ' /proc/modules ||
	check "$REL: module loads, /dev/vhost-trace exists" load_module

# FUZZ_CONTRACT=1: the uapi before whole buffers across swaps (vt_fuzz.c)
fuzz() {
	set -- --contract "${FUZZ_CONTRACT:-2}"
	if [ -n "${FUZZ_SEED:-}" ]; then
		"$FUZZ" "$@" --seed "$FUZZ_SEED"
	else
		"$FUZZ" "$@" --time "${FUZZ_TIME:-20}"
	fi
}
check "$REL: randomized hostile driver (vt_fuzz)" fuzz
exit $FAILED
