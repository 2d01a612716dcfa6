#!/bin/sh
# In the host VM: run several test scripts of selftests/vm one after the
# other in one boot (a host VM boot costs ~20 s under TCG). Each argument
# is a script name, optionally preceded by VAR=VALUE words:
#   suite.sh module.sh "AGENT_GUEST_KERNEL=6.12... agent_virtio_serial.sh"
# After each script the module must be unloadable: a script that leaves it
# loaded has it unloaded here, and one that leaves it held fails. Each
# script's status and time is one line "suite: NAME: exit N in Ns".
#
# When tools/dev/vmrun boots again after the host VM hung or died, the scripts
# that had finished are not run again: their results, kept in the run
# directory ($VMRUN_DIR), are said again.
# Exit status: 0 when every script exited 0.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
done_dir=${VMRUN_DIR:-/tmp}/suite.done
mkdir -p "$done_dir"

module_free() {
	grep -q '^vhost_trace ' /proc/modules || return 0
	rmmod vhost_trace && [ ! -e /dev/vhost-trace ]
}

# run_one ARG: one script with its VAR=VALUE words; prints its output and
# its "suite:" lines; status 0 when it passed and left the module free.
run_one() {
	# shellcheck disable=SC2086
	set -- $1
	script=$(eval echo "\${$#}")
	envs=""
	while [ $# -gt 1 ]; do
		envs="$envs $1"
		shift
	done
	echo "suite: $script${envs:+ (}${envs# }${envs:+)}"
	start=$(date +%s)
	# shellcheck disable=SC2086
	env $envs "$here/$script"
	st=$?
	echo "suite: $script: exit $st in $(( $(date +%s) - start ))s"
	FAILED=0
	check "$REL: after $script the module is free (unloads)" module_free
	[ "$st" = 0 ] && [ "$FAILED" = 0 ]
}

rc=0
i=0
for arg in "$@"; do
	i=$((i + 1))
	kept=$done_dir/$i
	if [ -f "$kept.rc" ]; then
		echo "suite: ${arg##* }: finished before the host VM was" \
		     "booted again; its results:"
		grep -E '^check: (ok|not ok) ' "$kept.log"
		st=$(cat "$kept.rc")
	else
		{ run_one "$arg"; echo $? > "$kept.st"; } 2>&1 | tee "$kept.log"
		st=$(cat "$kept.st")
		mv "$kept.st" "$kept.rc"
	fi
	[ "$st" = 0 ] || rc=1
done
exit $rc
