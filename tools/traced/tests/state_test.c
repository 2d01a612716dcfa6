// SPDX-License-Identifier: GPL-2.0
/* Unit tests: a session's state file (state.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"

static char dir[64];

static void sample(struct saved_session *sv)
{
	memset(sv, 0, sizeof(*sv));
	sv->id = 12;
	strcpy(sv->name, "guest-a.1");
	strcpy(sv->state, "running");
	sv->pid = 4242;
	sv->start_time = 123456789012ULL;
	sv->vhostfd = 7;
	sv->ports = 2;
	strcpy(sv->dir, "/tmp/out dir/100%\ttab");
	sv->fifo = 0;
	sv->policy = 1;
	sv->agent = 1;
	strcpy(sv->agent_state, "running");
	sv->agent_proto = -1;
	strcpy(sv->events, "sched:sched_switch sched:sched_wakeup");
	strcpy(sv->socket, "/run/vhost-trace/s12/agent.sock");
	sv->uid = 1000;
	sv->gid = 1001;
	sv->stop_timeout_ms = 10000;
	sv->started = 1700000000;
	sv->meta = 1;
	sv->cpus = 2;
	strcpy(sv->release, "6.1.0-56-amd64");
	sv->machine[0] = '\0';		/* empty values survive */
	sv->device = 1;			/* attached */
	strcpy(sv->qmp, "/run/qemu/vm a.qmp");
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

static int read_back(struct saved_session *sv, char *err, size_t n)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/state", dir);
	return state_read(path, sv, err, n);
}

static void t_roundtrip(void)
{
	struct saved_session a, b;
	char err[256] = "", path[128];
	struct stat st;

	sample(&a);
	tap_ok(!state_write(dir, &a), "state written");
	snprintf(path, sizeof(path), "%s/state", dir);
	if (stat(path, &st))
		st.st_mode = 0;
	tap_ok((st.st_mode & 0777) == 0600, "mode 0600 (%o)",
	       st.st_mode & 0777);
	snprintf(path, sizeof(path), "%s/state.tmp", dir);
	tap_ok(access(path, F_OK) && errno == ENOENT, "no temporary left");
	tap_ok(!read_back(&b, err, sizeof(err)), "read back %s", err);
	tap_ok(!memcmp(&a, &b, sizeof(a)),
	       "every field survives (blanks, %%, tab, empty values)");
	strcpy(a.state, "stopped");
	a.agent_proto = 1;
	a.vhostfd = -1;
	a.device = 2;
	tap_ok(!state_write(dir, &a) && !read_back(&b, err, sizeof(err)) &&
	       !strcmp(b.state, "stopped") && b.agent_proto == 1 &&
	       b.vhostfd == -1 && b.device == 2,
	       "rewritten in place (attached: no fd number, detached)");
}

static void t_bad(void)
{
	struct saved_session sv;
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

	tap_plan("vhost-traced session state file", 14);
	snprintf(dir, sizeof(dir), "/tmp/state_test.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	t_roundtrip();
	t_bad();
	t_proc();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
	return tap_done();
}
