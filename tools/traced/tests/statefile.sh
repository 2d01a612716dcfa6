# state ID NAME STATE PID START_TIME VHOSTFD DIR META [UID GID]: a state
# file in $R/sID as a daemon writes it (persist.c), root's, mode 0600, for
# a session of two file sinks of uid:gid (default root)
# shellcheck shell=bash
state() {
	mkdir -p "$R/s$1"
	printf 'vhost-traced-session version=1 id=%s name=%s state=%s pid=%s start_time=%s vhostfd=%s ports=2 dir=%s sink=file policy=0 agent=on agent_state=running agent_proto=1 events=vtest:vtest_event socket=%s/s%s/agent.sock uid=%s gid=%s stop_timeout=10000 started=1700000000 meta=%s cpus=2 release=6.1.0-test machine=x86_64 device=0 qmp= clock= trace_id=0\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$R" "$1" "${9:-0}" \
		"${10:-0}" "$8" > "$R/s$1/state"
	chmod 600 "$R/s$1/state"
}
