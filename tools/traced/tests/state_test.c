// SPDX-License-Identifier: GPL-2.0
/* Unit tests: a session's state file (persist.c, state.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "persist.h"
#include "session.h"
#include "state.h"
#include "vdpa.h"
#include "tap.h"

static char dir[64];
static int dirfd;

static void sample(struct session *s)
{
	memset(s, 0, sizeof(*s));
	s->te.id = 12;
	strcpy(s->te.name, "guest-a.1");
	s->state = SESS_RUNNING;
	s->pid = 4242;
	s->start_time = 123456789012ULL;
	s->vhostfd = 7;
	s->nports = 2;
	strcpy(s->dir, "/tmp/out dir/100%\ttab");
	s->fifo = 1;
	s->byref = 1;	/* sink=fifo-ref: sink_by=ref */
	s->policy = 1;
	s->agent_on = 1;
	s->agent.state = AGENT_RUNNING;
	s->agent.proto = -1;
	strcpy(s->agent.events, "sched:sched_switch sched:sched_wakeup");
	strcpy(s->agent.path, "/run/vhost-trace/s12/agent.sock");
	s->uid = 1000;
	s->gid = 1001;
	s->stop_timeout_ms = 10000;
	s->started = 1700000000;
	s->meta = 1;
	s->agent.cpus = 2;
	strcpy(s->agent.release, "6.1.0-56-amd64");
	s->agent.machine[0] = '\0';	/* empty values survive */
	s->device = DEV_ATTACHED;
	strcpy(s->qmp, "/run/qemu/vm a.qmp");
	strcpy(s->agent.want_clock, "x86-tsc");
	s->trace_id = 0xfedcba9876543210ULL;
	s->front = FRONT_VDPA;
	strcpy(s->vdpa, "vt-vm12");
	strcpy(s->vhostdev, "vhost-vdpa-3");
	snprintf(s->rundir, sizeof(s->rundir), "%s", dir);
	s->runfd = dirfd;
}

static int put(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/state", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Reads the state file into b; 0, or -EINVAL with why in err. */
static int read_back(struct session *b, char *err, size_t n)
{
	struct ctl_req r;
	const char *bad;
	int ret;

	memset(b, 0, sizeof(*b));
	ret = state_read(dirfd, &r, err, n);
	if (ret)
		return ret;
	ret = persist_load(b, &r, &bad);
	if (ret)
		snprintf(err, n, "missing or malformed %s=", bad);
	ctl_req_free(&r);
	return ret;
}

/* Both sessions' persisted fields are the same. */
static int same(const struct session *a, const struct session *b)
{
	struct vt_buf x, y;
	int eq;

	vt_buf_init(&x);
	vt_buf_init(&y);
	eq = !persist_format(a, &x) && !persist_format(b, &y) &&
	     x.len == y.len && !memcmp(x.p, y.p, x.len);
	vt_buf_free(&x);
	vt_buf_free(&y);
	return eq;
}

static void t_roundtrip(void)
{
	static struct session a, b;
	char err[256] = "", path[128];
	struct stat st;

	sample(&a);
	tap_ok(!session_save(&a), "state written");
	snprintf(path, sizeof(path), "%s/state", dir);
	if (stat(path, &st))
		st.st_mode = 0;
	tap_ok((st.st_mode & 0777) == 0600, "mode 0600 (%o)",
	       st.st_mode & 0777);
	snprintf(path, sizeof(path), "%s/state.tmp", dir);
	tap_ok(access(path, F_OK) && errno == ENOENT, "no temporary left");
	tap_ok(!read_back(&b, err, sizeof(err)), "read back %s", err);
	tap_ok(same(&a, &b) && !strcmp(b.dir, a.dir) &&
	       b.trace_id == a.trace_id && b.agent.state == AGENT_RUNNING &&
	       b.agent.proto == -1 && b.uid == 1000 && !b.agent.machine[0] &&
	       b.front == FRONT_VDPA && !strcmp(b.vdpa, "vt-vm12") &&
	       !strcmp(b.vhostdev, "vhost-vdpa-3"),
	       "every field survives (blanks, %%, tab, empty values, the "
	       "vDPA front end's)");
	a.state = SESS_STOPPED;
	a.agent.proto = 1;
	a.vhostfd = -1;
	a.device = DEV_DETACHED;
	session_save_if_changed(&a);
	tap_ok(!read_back(&b, err, sizeof(err)) && b.state == SESS_STOPPED &&
	       b.agent.proto == 1 && b.vhostfd == -1 &&
	       b.device == DEV_DETACHED,
	       "a change is saved (attached: no fd number, detached)");
	put("changed behind its back\n");
	session_save_if_changed(&a);
	tap_ok(read_back(&b, err, sizeof(err)) == -EINVAL,
	       "no change: not written again");
	free(a.saved);
}

static void t_bad(void)
{
	static struct session sv;
	char err[256];
	int ok;

	put("vhost-traced-session version=2 id=1\n");
	tap_ok(read_back(&sv, err, sizeof(err)) == -EINVAL &&
	       strstr(err, "version 2"), "another version refused: %s", err);
	put("vhost-traced-session version=1 id=1 name=x\n");
	tap_ok(read_back(&sv, err, sizeof(err)) == -EINVAL &&
	       strstr(err, "state="), "a missing key is named: %s", err);
	put("vhost-traced-session version=1 id=1 name=x state=running "
	    "pid=1 start_time=1 vhostfd=3 ports=2 dir=/x sink=file policy=0 "
	    "agent=on agent_state=off agent_proto=0 events= socket=/s "
	    "uid=0 gid=0 stop_timeout=1 started=1 meta=0 cpus=0 release= "
	    "machine=");
	tap_ok(read_back(&sv, err, sizeof(err)) == -EINVAL,
	       "a file without its newline (torn write) refused: %s", err);
	put("something else\n");
	tap_ok(read_back(&sv, err, sizeof(err)) == -EINVAL,
	       "not a state file: %s", err);
	put("vhost-traced-session version=1 id=1 name=x state=running "
	    "pid=1 start_time=1 vhostfd=3 ports=2 dir=relative sink=file "
	    "policy=0 agent=on agent_state=off agent_proto=0 events= "
	    "socket=/s uid=0 gid=0 stop_timeout=1 started=1 meta=0 cpus=0 "
	    "release= machine=\n");
	ok = read_back(&sv, err, sizeof(err)) == -EINVAL && strstr(err, "dir=");
	tap_ok(ok, "a relative dir refused: %s", err);
}

static void t_proc(void)
{
	unsigned long long t1 = 0, t2 = 0, tc = 0;
	char s1 = 0, sc = 0;
	pid_t child;
	int st, ok;

	ok = !proc_stat(getpid(), &s1, &t1) && s1 == 'R' && t1 > 0 &&
	     !proc_stat(getpid(), &s1, &t2) && t1 == t2;
	tap_ok(ok, "our own state R and start time %llu", t1);
	child = fork();
	if (!child) {
		usleep(20000);
		_exit(0);
	}
	usleep(200000);		/* the child exits, unreaped */
	ok = !proc_stat(child, &sc, &tc) && sc == 'Z' && tc >= t1;
	tap_ok(ok, "an unreaped child: state %c", sc);
	waitpid(child, &st, 0);
	tap_ok(proc_stat(child, &sc, &tc) == -ESRCH, "a reaped pid: ESRCH");
}

int main(void)
{
	char cmd[128];

	tap_plan("vhost-traced session state file", 15);
	snprintf(dir, sizeof(dir), "/tmp/state_test.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	t_roundtrip();
	t_bad();
	t_proc();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
	return tap_done();
}
