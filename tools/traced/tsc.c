// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's TSC terms of a session's guest (clock.h): found, sampled while
 * tracing, and turned into trace.dat's TIME_SHIFT and TSC2NSEC.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "session_int.h"
#include "tracedat.h"

void session_tsc_search(struct session *s)
{
	s->tsc_state = SESS_TSC_SEARCHING;
	s->tsc_give_up_ms = vt_now_ms() + SESS_TSC_SEARCH_MS;
}

static void set_tsc_state(struct session *s, int state)
{
	if (state != SESS_TSC_SAMPLING)
		kvm_clock_free(&s->kclock);
	uatomic_set(&s->tsc_state, state);
}

/* QEMU exited: no more samples (none were asked for: still off). */
void session_tsc_end(struct session *s)
{
	set_tsc_state(s, uatomic_read(&s->tsc_state) == SESS_TSC_OFF ?
		      SESS_TSC_OFF : SESS_TSC_NONE);
}

/*
 * First the VM of QEMU (or of a process QEMU's launcher started) and its
 * vCPU threads, then a sample every SESS_TSC_POLL_MS while tracing.
 */
void session_tsc_poll(struct session *s)
{
	int state = uatomic_read(&s->tsc_state);
	const char *debugfs;
	char err[PATH_MAX + 128];
	int ret;

	if (vt_now_ms() < s->tsc_next_ms || uatomic_read(&s->state) != SESS_RUNNING)
		return;
	s->tsc_next_ms = vt_now_ms() + SESS_TSC_POLL_MS;
	if (state == SESS_TSC_SAMPLING) {
		ret = kvm_clock_poll(&s->kclock, host_tsc());
		if (ret < 0) {
			sess_log(s, "%s: %s: no more TSC samples",
				 s->kclock.dir, strerror(-ret));
			set_tsc_state(s, SESS_TSC_NONE);
			return;
		}
		uatomic_set(&s->tsc_changes, s->kclock.changes);
		return;
	}
	if (state != SESS_TSC_SEARCHING)
		return;
	err[0] = '\0';
	debugfs = kvm_debugfs(err, sizeof(err));
	ret = debugfs ? kvm_clock_open(&s->kclock, debugfs, "/proc", s->pid,
				       host_tsc(), err, sizeof(err)) : -ENOENT;
	if (!ret) {
		sess_log(s, "guest TSC from %s, %u vCPU(s), QEMU pid %d",
			 s->kclock.dir, s->kclock.nr_vcpus, s->kclock.pid);
		set_tsc_state(s, SESS_TSC_SAMPLING);
	} else if (ret != -ENOENT || vt_now_ms() > s->tsc_give_up_ms) {
		sess_log(s, "no guest TSC terms: %s", err);
		set_tsc_state(s, SESS_TSC_NONE);
	}
}

/* The last TSC sample, once the agent has sent its last page. */
void session_tsc_finish(struct session *s)
{
	int ret;

	if (uatomic_read(&s->tsc_state) != SESS_TSC_SAMPLING)
		return;
	ret = kvm_clock_finish(&s->kclock, host_tsc());
	if (ret < 0) {
		sess_log(s, "last TSC sample: %s", strerror(-ret));
		set_tsc_state(s, SESS_TSC_NONE);
		return;
	}
	uatomic_set(&s->tsc_changes, s->kclock.changes);
	if (kvm_clock_unstable(&s->kclock))
		sess_log(s, "warning: the guest's TSC offsets changed %lu "
			 "times in %lu samples: the host's TSC is unstable (KVM "
			 "re-bases the guest TSC on every vCPU load) and the "
			 "time shift cannot follow; see tools/traced/README",
			 s->kclock.changes, s->kclock.polls);
}

/*
 * TSC2NSEC: the host's TSC to ns terms, for the guest times TIME_SHIFT
 * made host TSC (trace-cmd report then shows seconds, as for trace-cmd
 * record -C tsc2nsec). Without them the times stay TSC cycles.
 */
static int add_tsc2nsec(struct session *s, struct tracedat *td)
{
	struct {
		uint32_t mult, shift;
		uint64_t offset;
	} opt = { 0 };			/* little endian: x86 */
	char err[256];

	if (host_tsc2nsec(&opt.mult, &opt.shift, err, sizeof(err))) {
		sess_log(s, "guest times stay TSC cycles (no TSC2NSEC): %s",
			 err);
		return 0;
	}
	s->kclock.ns_mult = opt.mult;
	s->kclock.ns_shift = opt.shift;
	return tracedat_add_option(td, TRACEDAT_OPT_TSC2NSEC, &opt,
				   sizeof(opt));
}

/*
 * With the guest on x86-tsc and its TSC terms sampled: TRACEID and
 * TIME_SHIFT (the host's trace id comes later, from `vhost-trace merge`
 * or `report -H`).
 */
int session_tsc_options(struct session *s, struct tracedat *td)
{
	int ret = tracedat_add_traceid(td, s->trace_id);

	if (ret || uatomic_read(&s->tsc_state) != SESS_TSC_SAMPLING)
		return ret;
	if (strcmp(s->agent.clock, "x86-tsc")) {
		sess_log(s, "the guest's trace clock is %s, not x86-tsc: no "
			 "TIME_SHIFT", s->agent.clock[0] ? s->agent.clock :
			 "unknown");
		return 0;
	}
	ret = kvm_clock_time_shift(&s->kclock, td, 0);
	return ret ? ret : add_tsc2nsec(s, td);
}
