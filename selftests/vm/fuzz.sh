#!/bin/sh
# In the host VM: the randomized hostile driver (selftests/vhost_trace/
# vt_fuzz.c). FUZZ_SEEDS=N,M,...: those episodes, one by one (seeds that
# once found something); then, unless FUZZ_SEED is set, episodes from a
# random first seed (printed) for FUZZ_TIME seconds (default 20; 0: none).
# FUZZ_SEED=N: that one episode alone. Loads the module if it is not
# loaded, and vhost_vdpa where the kernel has it (6.12): episodes then
# alternate between the vhost front end (even seeds) and a vDPA device
# driven through vhost_vdpa (odd seeds); FUZZ_FRONT=vhost|vdpa: that one
# only. FUZZ_SEEDS were recorded on the vhost front end and rerun there.
. "$(dirname "$0")/lib.sh"

FUZZ=$BUILD/selftests/$SERIES/vhost_trace/vt_fuzz
grep -q '^vhost_trace ' /proc/modules ||
	check "$REL: module loads, /dev/vhost-trace exists" load_module
# the vDPA front end (no vDPA on 6.1: the vhost one only)
modprobe vhost_vdpa 2>/dev/null || echo "# $REL: no vhost_vdpa: vhost front end only"

# FUZZ_CONTRACT=1: the uapi before whole buffers across swaps (vt_fuzz.c);
# FUZZ_ARGS: more vt_fuzz options (e.g. --verbose)
fuzz() {
	# shellcheck disable=SC2086
	set -- --contract "${FUZZ_CONTRACT:-2}" --front "${FUZZ_FRONT:-both}" \
		${FUZZ_ARGS:-}
	if [ -n "${FUZZ_SEED:-}" ]; then
		"$FUZZ" "$@" --seed "$FUZZ_SEED"
	else
		"$FUZZ" "$@" --time "${FUZZ_TIME:-20}"
	fi
}

fuzz_seeds() {
	for s in $(echo "$FUZZ_SEEDS" | tr , ' '); do
		# shellcheck disable=SC2086
		"$FUZZ" --contract "${FUZZ_CONTRACT:-2}" --front vhost \
			${FUZZ_ARGS:-} --seed "$s" || return 1
	done
}

if [ -n "${FUZZ_SEEDS:-}" ]; then
	check "$REL: vt_fuzz, the seeds of earlier reports" fuzz_seeds
fi
if [ -n "${FUZZ_SEED:-}" ] || [ "${FUZZ_TIME:-20}" != 0 ]; then
	# a long run is no hang (lib.sh's check reports one after CHECK_SLOW)
	CHECK_SLOW=$((${FUZZ_TIME:-20} + 150))
	check "$REL: randomized hostile driver (vt_fuzz)" fuzz
fi
# what comes next in the same boot binds new vDPA devices as it wants
modprobe -r vhost_vdpa 2>/dev/null
exit $FAILED
