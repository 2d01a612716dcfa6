// SPDX-License-Identifier: GPL-2.0
/*
 * The guest agent as the daemon sees it (tools/traced/agent.c through
 * tools/libvt/conn.c): the input is everything the guest writes to
 * its control port (answers to hello, info, clock, events, start, stats,
 * stop, meta), then it hangs up. The first byte picks a fresh start or
 * a reconnection after a daemon restart (stale bytes to skip).
 */
#include "agent.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[128], err[256];
	uint64_t lost[4], bytes;
	struct agent a;
	unsigned int i;
	int peer, fd, resume;

	if (!size)
		return 0;
	resume = data[0] & 1;
	fd = fuzz_peer(data + 1, size - 1, &peer);
	if (fd < 0)
		return 0;
	memset(&a, 0, sizeof(a));	/* as the daemon: calloc */
	agent_init(&a, "fuzz", 1, "sched:sched_switch", "x86-tsc");
	a.fd = fd;
	if (resume)
		agent_resume(&a, 1, AGENT_RUNNING, data[0] & 2);
	if (!agent_start(&a) && a.state == AGENT_HELLO)
		agent_input(&a);
	if (a.cpus > AGENT_MAX_CPUS || strlen(a.release) >= sizeof(a.release))
		abort();
	agent_lost_events(&a, lost, 4);
	snprintf(dir, sizeof(dir), "%s/meta", fuzz_tmpdir());
	agent_fetch_meta(&a, dir, err, sizeof(err));
	fuzz_rm_rf(dir);
	agent_stop(&a, 200);
	for (i = 0; i < 4; i++)
		agent_sent_bytes(&a, i, &bytes);
	agent_free(&a);
	close(peer);
	return 0;
}
