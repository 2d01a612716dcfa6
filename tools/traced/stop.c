// SPDX-License-Identifier: GPL-2.0
/*
 * The end of tracing, in the session thread: a stop request (the agent
 * stops and flushes, the last pages leave the rings, the sinks are
 * detached, trace.dat and DIR/stats written, an attached device
 * unplugged), or QEMU's exit.
 */
#include <errno.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libvirt.h"
#include "session_int.h"
#include "vdpa.h"

static uint64_t ports_bytes(void *arg)
{
	return session_total_bytes(arg);
}

/*
 * The agent stops and flushes (when it answers; an upstream agent that
 * never answered is done when its ports went quiet), the last pages leave
 * the rings (the byte counters stay still), the sinks are detached and
 * the files synced and closed.
 */
static void drain(struct session *s, int qemu_alive)
{
	long start = vt_now_ms(), end = start + s->stop_timeout_ms;
	struct agent_quiet quiet = { ports_bytes, s };
	uint64_t bytes;
	unsigned int p;

	session_set_state(s, SESS_STOPPING);
	if (qemu_alive && s->agent.fd >= 0) {
		agent_stop(&s->agent, s->stop_timeout_ms);
		uatomic_set(&s->agent_state, s->agent.state);
		for (p = 0; p < s->nports; p++)
			if (!agent_sent_bytes(&s->agent, p, &bytes))
				uatomic_set(&s->agent_bytes[p], bytes);
		session_poll_lost(s, 1);
	}
	if (qemu_alive)
		session_tsc_finish(s);
	/* a version 1 agent said how many bytes each port got */
	while (qemu_alive && vt_now_ms() < end && !session_all_arrived(s))
		usleep(20000);
	/* the stop's one wait for the ports (1 s for an unconfirmed stop) */
	if (qemu_alive) {
		agent_wait_quiet(&s->agent, &quiet, start, end);
		uatomic_set(&s->agent_state, s->agent.state);
	}
	session_detach_sinks(s);
	session_tick(s, 0);
}

void session_stop(struct session *s)
{
	drain(s, 1);
	session_write_tracedat(s, 1);
	if (s->device == DEV_ATTACHED) {
		session_detach(s);
		s->stopped = time(NULL);
	} else if (s->device == DEV_TAKEN) {
		libvirt_release(s);	/* the domain keeps its device */
		s->stopped = time(NULL);
	}
	session_set_state(s, SESS_STOPPED);
	session_write_stats(s);
}

/*
 * QEMU exited (its pidfd is readable). Our child is reaped for its exit
 * status; an attached QEMU, or one we took over after a restart, is not
 * ours to reap.
 */
int session_reap(struct session *s)
{
	int status;

	if (s->child && waitpid(s->pid, &status, WNOHANG) != s->pid)
		return 0;
	if (s->child)
		s->status = status;
	s->ended = time(NULL);
	return 1;
}

/* QEMU exited: tracing ends (files complete), DIR/stats. */
void session_qemu_exited(struct session *s, int state)
{
	agent_close(&s->agent);
	if (state == SESS_RUNNING) {
		drain(s, 0);
		session_write_tracedat(s, 0);
	} else {
		session_tick(s, 0);
	}
	session_tsc_end(s);
	/* an attached device went with QEMU: nothing is left to unplug */
	if (uatomic_read(&s->device) == DEV_ATTACHED)
		uatomic_set(&s->device, DEV_DETACHED);
	if (uatomic_read(&s->device) == DEV_TAKEN)
		uatomic_set(&s->device, DEV_RELEASED);
	/* QEMU let the vDPA device go with its exit */
	if (s->front == FRONT_VDPA)
		vdpa_delete(s, 5000);
	session_set_state(s, SESS_ENDED);
	/* a session stopped before keeps the DIR/stats of its stop */
	if (state == SESS_RUNNING)
		session_write_stats(s);
}
