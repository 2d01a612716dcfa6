// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the device owner (QEMU) is SIGKILLed in the middle of a
 * transfer. The device is released: the module lets go of its sinks (a
 * pipe reader sees EOF, a file gets its last close), the statistics say
 * RELEASED and stay readable through the control fd, SET_SINK fails with
 * ENODEV, and nothing leaks: the module's use count comes back, and over
 * many rounds the number of open files does not grow. Needs
 * vhost_trace.ko.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_pattern.h"
#include "vt_producer.h"

#include "kselftest_harness.h"

#define NPORTS		2
#define NUM		256
#define BLOCK		VHOST_TRACE_POLICY_BLOCK

/* Allocated file handles (first field of /proc/sys/fs/file-nr). */
static long nr_files(void)
{
	return vt_read_long("/proc/sys/fs/file-nr");
}

/* A /proc/meminfo field, in kB. */
static long mem_kb(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	size_t len = strlen(field);
	char line[128];
	long n = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			n = atol(line + len + 1);
	if (f)
		fclose(f);
	return n;
}

static bool wait_refcnt(long want, int timeout_ms)
{
	int64_t end = vt_now_ms() + timeout_ms;

	while (vt_module_refcnt() != want && vt_now_ms() < end)
		usleep(5000);
	return vt_module_refcnt() == want;
}

/*
 * The owner: takes the device over, runs it, says so on ready, and
 * writes pages on every port until it is killed. Never returns.
 */
static void owner(struct vt_dev *d, int ready, bool transfer)
{
	struct vt_producer pr[NPORTS];
	unsigned int p;
	char c = 1;

	vt_ignore_sigpipe();
	close(d->ctl);
	d->ctl = -1;
	if (vt_dev_init(d, NUM, VT_F_VERSION_1 | VT_F_EVENT_IDX, 4 << 20) ||
	    vt_dev_run(d, 1))
		_exit(1);
	for (p = 0; transfer && p < NPORTS; p++)
		if (vt_prod_init(&pr[p], &d->mem, &d->tx[p], p, 1, false) ||
		    vt_prod_start(&pr[p], 1ULL << 40, 1000000))
			_exit(2);
	if (write(ready, &c, 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

/*
 * Open the device with its control fd, and fork the owner onto it; the
 * caller keeps only the control fd. Returns the owner's pid.
 */
static pid_t start_owner(struct vt_dev *d, bool transfer)
{
	int ready[2];
	pid_t pid;
	char c;

	if (vt_dev_open(d, NPORTS) || pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		owner(d, ready[1], transfer);
	}
	close(ready[1]);
	vt_dev_close_fd(d);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		pid = -1;
	}
	close(ready[0]);
	return pid;
}

FIXTURE(rel) {
	struct vt_dev d;
	pid_t owner;
	long refcnt0;
	long files0, slab0, free0;	/* before the rounds */
	char dir[32];
	char path[64];
	char buf[400];
};

FIXTURE_SETUP(rel)
{
	vt_ignore_sigpipe();
	self->d.fd = self->d.ctl = -1;
	self->owner = -1;
	self->refcnt0 = vt_module_refcnt();
	ASSERT_LE(0, self->refcnt0) TH_LOG("no /sys/module/vhost_trace/refcnt");
	snprintf(self->dir, sizeof(self->dir), "/tmp/vt-rel-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/sink", self->dir);
}

FIXTURE_TEARDOWN(rel)
{
	if (self->owner > 0) {
		kill(self->owner, SIGKILL);
		waitpid(self->owner, NULL, 0);
	}
	vt_dev_close(&self->d);
	unlink(self->path);
	rmdir(self->dir);
}

/* An IN_CLOSE_WRITE event: the last reference to the file was dropped. */
static bool closed_for_writing(int ino, int timeout_ms)
{
	struct pollfd pfd = { .fd = ino, .events = POLLIN };
	char ev[sizeof(struct inotify_event) + 256];

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return read(ino, ev, sizeof(ev)) > 0;
}

/* One owner killed mid-transfer, and everything checked after. */
/* Not inlined: the harness's wrapper would then warn about setjmp. */
static void __attribute__((noinline))
kill_mid_transfer(struct __test_metadata *_metadata,
		  FIXTURE_DATA(rel) *self)
{
	int pfd[2], file, ino, status;
	struct vhost_trace_stats st;
	struct vt_reader rd;
	struct vt_check c;
	struct stat sb;
	int64_t end;

	self->owner = start_owner(&self->d, true);
	ASSERT_LT(0, self->owner) TH_LOG("%s", vt_error());

	/* port 0 into a pipe we read, port 1 into a file we let go */
	ASSERT_EQ(0, vt_pipe(pfd, 256 * 1024));
	ASSERT_EQ(0, vt_reader_start(&rd, pfd[0], 0, 0, 0));
	file = open(self->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	ASSERT_LE(0, file);
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	ASSERT_LE(0, ino);
	ASSERT_LE(0, inotify_add_watch(ino, self->path,
				       IN_CLOSE_WRITE));
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, pfd[1], BLOCK))
		TH_LOG("%s", vt_error());
	ASSERT_EQ(0, vt_set_sink(self->d.ctl, 1, file, BLOCK))
		TH_LOG("%s", vt_error());
	close(file);
	EXPECT_FALSE(closed_for_writing(ino, 0));

	/* data flows into both sinks */
	end = vt_now_ms() + 10000;
	while (vt_now_ms() < end &&
	       (vt_reader_bytes(&rd) < (1 << 20) ||
		stat(self->path, &sb) || sb.st_size < (1 << 20)))
		usleep(10000);
	ASSERT_LE((uint64_t)1 << 20, vt_reader_bytes(&rd));

	ASSERT_EQ(0, kill(self->owner, SIGKILL));
	ASSERT_EQ(self->owner, waitpid(self->owner, &status, 0));
	self->owner = -1;
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* the module let go of both sinks */
	close(pfd[1]);
	EXPECT_TRUE(vt_reader_finish(&rd, 5000)) TH_LOG("%s", rd.chk.why);
	close(pfd[0]);
	EXPECT_TRUE(closed_for_writing(ino, 5000))
		TH_LOG("the file sink was not closed");
	close(ino);

	/* statistics stay, and match what the sinks got */
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 0, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_RELEASED));
	EXPECT_FALSE(!!(st.flags & (VHOST_TRACE_STATS_SINK |
				 VHOST_TRACE_STATS_RUNNING |
				 VHOST_TRACE_STATS_WAITING)));
	EXPECT_EQ(rd.chk.bytes, st.bytes);
	EXPECT_EQ(rd.chk.pages, st.buffers);
	ASSERT_EQ(0, vt_get_stats(self->d.ctl, 1, &st));
	TH_LOG("%s", vt_stats_str(&st, self->buf, sizeof(self->buf)));
	EXPECT_TRUE(!!(st.flags & VHOST_TRACE_STATS_RELEASED));
	EXPECT_FALSE(!!(st.flags & VHOST_TRACE_STATS_SINK));
	file = open(self->path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, file);
	vt_check_init(&c, 1, 0, 0);
	EXPECT_TRUE(vt_check_file(&c, file)) TH_LOG("%s", c.why);
	EXPECT_EQ(c.bytes, st.bytes);
	EXPECT_EQ(c.pages, st.buffers);
	close(file);

	EXPECT_EQ(ENODEV, -vt_set_sink(self->d.ctl, 0, -1, BLOCK));

	/* the control fd holds the module; it is its last file */
	EXPECT_LT(self->refcnt0, vt_module_refcnt());
	vt_dev_close(&self->d);
	EXPECT_TRUE(wait_refcnt(self->refcnt0, 2000))
		TH_LOG("module refcnt %ld, was %ld", vt_module_refcnt(),
		       self->refcnt0);
}

TEST_F_TIMEOUT(rel, owner_killed_mid_transfer, 40)
{
	int round;

	for (round = 0; round < 3; round++) {
		TH_LOG("round %d", round);
		kill_mid_transfer(_metadata, self);
	}
}

/*
 * Many short lives: an owner that set everything up, a pipe sink, a kill.
 * Open files and slab memory must not grow with the rounds.
 */
TEST_F_TIMEOUT(rel, no_leak_over_rounds, 40)
{
	const int rounds = 64;
	long files1, slab1, free1;
	int round;

	/* one round first, so that caches are warm */
	for (round = -1; round < rounds; round++) {
		int pfd[2];

		if (round == 0) {
			self->files0 = nr_files();
			self->slab0 = mem_kb("SUnreclaim");
			self->free0 = mem_kb("MemFree");
		}
		self->owner = start_owner(&self->d, false);
		ASSERT_LT(0, self->owner) TH_LOG("%s", vt_error());
		ASSERT_EQ(0, vt_pipe(pfd, 0));
		ASSERT_EQ(0, vt_set_sink(self->d.ctl, 0, pfd[1], BLOCK));
		kill(self->owner, SIGKILL);
		waitpid(self->owner, NULL, 0);
		self->owner = -1;
		close(pfd[1]);
		fcntl(pfd[0], F_SETFL, O_NONBLOCK);
		/* EOF, not EAGAIN: the module's pipe file is gone */
		ASSERT_EQ(0, read(pfd[0], self->buf, 1))
			TH_LOG("round %d: read: %s", round, strerror(errno));
		close(pfd[0]);
		vt_dev_close(&self->d);
		ASSERT_TRUE(wait_refcnt(self->refcnt0, 2000));
	}
	usleep(100 * 1000);
	files1 = nr_files();
	slab1 = mem_kb("SUnreclaim");
	free1 = mem_kb("MemFree");
	TH_LOG("%d rounds: open files %ld -> %ld, SUnreclaim %ld -> %ld kB, MemFree %ld -> %ld kB",
	       rounds, self->files0, files1, self->slab0, slab1, self->free0,
	       free1);
	/*
	 * A leaked device, control or pipe file per round would add at
	 * least one file per round; the counter itself is per-CPU batched
	 * (up to 32 per CPU).
	 */
	EXPECT_GT(self->files0 + rounds, files1);
	/* each round held a 4 MiB guest; pages kept would show */
	EXPECT_GT(self->slab0 + 4096, slab1);
}

TEST_HARNESS_MAIN
