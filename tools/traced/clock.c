// SPDX-License-Identifier: GPL-2.0
/* KVM's view of a guest's TSC, sampled from debugfs (see clock.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "clock.h"
#include "log.h"
#include "tracedat.h"

#define DEBUGFS_DEFAULT	"/sys/kernel/debug"
/* scaled TSCs: a TIME_SHIFT sample every 2^30 guest cycles (see below) */
#define KVM_TS_STEP	(1ULL << 30)

uint64_t host_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return 0;
#endif
}

const char *kvm_debugfs(char *err, size_t errsz)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char dir[PATH_MAX];
	char line[PATH_MAX + 256], mnt[PATH_MAX], type[64];
	const char *ret = NULL;
	FILE *f;

	pthread_mutex_lock(&lock);
	f = fopen("/proc/self/mounts", "re");
	while (f && !dir[0] && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %4095s %63s", mnt, type) == 2 &&
		    !strcmp(type, "debugfs"))
			snprintf(dir, sizeof(dir), "%s", mnt);
	if (f)
		fclose(f);
	if (!dir[0]) {
		if (mount("debugfs", DEBUGFS_DEFAULT, "debugfs", 0, NULL))
			snprintf(err, errsz, "debugfs is not mounted and "
				 "mounting it on " DEBUGFS_DEFAULT " failed: %s",
				 strerror(errno));
		else
			snprintf(dir, sizeof(dir), DEBUGFS_DEFAULT);
	}
	if (dir[0])
		ret = dir;
	pthread_mutex_unlock(&lock);
	return ret;
}

/* A number in a small file (debugfs, /proc); -errno. */
static int read_num(const char *path, int is_signed, uint64_t *v)
{
	char b[64], *end;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (r <= 0)
		return r < 0 ? -errno : -EINVAL;
	b[r] = '\0';
	errno = 0;
	*v = is_signed ? (uint64_t)strtoll(b, &end, 10) : strtoull(b, &end, 10);
	return errno || end == b ? -EINVAL : 0;
}

static int read_tsc(const struct kvm_vcpu_clock *v, struct kvm_tsc *t)
{
	char path[PATH_MAX + 64];
	uint64_t x;
	int ret;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "%s/tsc-offset", v->dir);
	ret = read_num(path, 1, &x);
	if (ret)
		return ret;
	t->offset = (int64_t)x;
	snprintf(path, sizeof(path), "%s/tsc-scaling-ratio", v->dir);
	if (read_num(path, 0, &t->ratio))
		return 0;	/* no scaling on this host */
	snprintf(path, sizeof(path), "%s/tsc-scaling-ratio-frac-bits", v->dir);
	if (read_num(path, 0, &x) || x > 63)
		t->ratio = 0;
	else
		t->frac = x;
	return 0;
}

static int same_tsc(const struct kvm_tsc *a, const struct kvm_tsc *b)
{
	return a->offset == b->offset && a->ratio == b->ratio &&
	       a->frac == b->frac;
}

static int add_change(struct kvm_vcpu_clock *v, uint64_t since, uint64_t seen,
		      const struct kvm_tsc *t)
{
	if (v->nr == v->cap) {
		unsigned int cap = v->cap ? v->cap * 2 : 8;
		void *p = realloc(v->ch, cap * sizeof(*v->ch));

		if (!p)
			return -ENOMEM;
		v->ch = p;
		v->cap = cap;
	}
	v->ch[v->nr].since = since;
	v->ch[v->nr].seen = seen;
	v->ch[v->nr].tsc = *t;
	v->nr++;
	return 0;
}

/* ppid of PROC/pid/stat ("pid (comm) state ppid ..."), or -1 */
static pid_t parent_of(const char *proc, pid_t pid)
{
	char path[PATH_MAX + 32], b[512], *p;
	ssize_t r;
	int fd, ppid;

	snprintf(path, sizeof(path), "%s/%d/stat", proc, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	b[r] = '\0';
	p = strrchr(b, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* @pid and its descendants, parents first; returns how many (or -errno). */
static int family(const char *proc, pid_t pid, pid_t **out)
{
	pid_t *all = NULL, *par = NULL, *fam;
	int nall = 0, cap = 0, n = 1, i, j;
	struct dirent *d;
	DIR *dir;

	fam = malloc(sizeof(*fam));
	if (!fam)
		return -ENOMEM;
	fam[0] = pid;
	dir = opendir(proc);
	while (dir && (d = readdir(dir))) {
		pid_t p = atoi(d->d_name);

		if (p <= 0 || p == pid)
			continue;
		if (nall == cap) {
			pid_t *a, *b;

			cap = cap ? cap * 2 : 256;
			a = realloc(all, cap * sizeof(*all));
			if (a)
				all = a;
			b = realloc(par, cap * sizeof(*par));
			if (b)
				par = b;
			if (!a || !b)
				break;
		}
		all[nall] = p;
		par[nall++] = parent_of(proc, p);
	}
	if (dir)
		closedir(dir);
	/* breadth first: a pass over all for each member of the family */
	for (i = 0; i < n; i++) {
		for (j = 0; j < nall; j++) {
			pid_t *f;

			if (par[j] != fam[i])
				continue;
			f = realloc(fam, (n + 1) * sizeof(*fam));
			if (!f)
				break;
			fam = f;
			fam[n++] = all[j];
		}
	}
	free(all);
	free(par);
	*out = fam;
	return n;
}

/* vcpuN directories of a VM directory: the highest N + 1, all present */
static unsigned int count_vcpus(const char *vmdir)
{
	unsigned int max = 0, n = 0, v;
	struct dirent *d;
	DIR *dir = opendir(vmdir);

	while (dir && (d = readdir(dir))) {
		if (sscanf(d->d_name, "vcpu%u", &v) != 1)
			continue;
		n++;
		if (v + 1 > max)
			max = v + 1;
	}
	if (dir)
		closedir(dir);
	return n == max ? n : 0;
}

/*
 * DEBUGFS/kvm/PID-FD of @pid with vCPUs (the highest FD: the newest VM);
 * 0 found, -ENOENT.
 */
static int find_vm(const char *kvmdir, pid_t pid, char *out, size_t outsz)
{
	char pre[32], path[PATH_MAX];
	int best = -1, fd;
	struct dirent *d;
	DIR *dir;

	snprintf(pre, sizeof(pre), "%d-", pid);
	dir = opendir(kvmdir);
	if (!dir)
		return -ENOENT;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, pre, strlen(pre)))
			continue;
		fd = atoi(d->d_name + strlen(pre));
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", kvmdir,
				     d->d_name) >= sizeof(path))
			continue;
		if (fd > best && count_vcpus(path)) {
			best = fd;
			snprintf(out, outsz, "%s", path);
		}
	}
	closedir(dir);
	return best >= 0 ? 0 : -ENOENT;
}

/*
 * The host thread of each vCPU: KVM's vcpuN/pid (the thread that last ran
 * KVM_RUN on it; 0 before the first run), else QEMU's thread name "CPU
 * N/KVM" (QEMU names threads only with -name debug-threads=on). 0 when
 * every vCPU has its thread.
 */
static int map_threads(struct kvm_clock *c)
{
	char path[PATH_MAX + 64], comm[64];
	struct dirent *d;
	unsigned int v, found = 0;
	uint64_t pid;
	DIR *dir;

	for (v = 0; v < c->nr_vcpus; v++) {
		snprintf(path, sizeof(path), "%s/pid", c->vcpu[v].dir);
		if (!read_num(path, 0, &pid) && pid > 0 && pid < INT_MAX) {
			c->vcpu[v].tid = pid;
			found++;
		}
	}
	snprintf(path, sizeof(path), "%s/%d/task", c->proc, c->pid);
	dir = found < c->nr_vcpus ? opendir(path) : NULL;
	while (dir && (d = readdir(dir))) {
		int tid = atoi(d->d_name), fd;
		ssize_t r;

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%d/task/%d/comm", c->proc,
			 c->pid, tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		r = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (r <= 0)
			continue;
		comm[r] = '\0';
		if (sscanf(comm, "CPU %u/KVM", &v) == 1 && v < c->nr_vcpus &&
		    !c->vcpu[v].tid) {
			c->vcpu[v].tid = tid;
			found++;
		}
	}
	if (dir)
		closedir(dir);
	return found == c->nr_vcpus ? 0 : -ENOENT;
}

int kvm_clock_open(struct kvm_clock *c, const char *debugfs,
		   const char *proc, pid_t pid, uint64_t now, char *err,
		   size_t errsz)
{
	char kvmdir[PATH_MAX];
	pid_t *fam = NULL;
	struct kvm_tsc t;
	unsigned int v;
	int n, i, ret = -ENOENT;

	memset(c, 0, sizeof(*c));
	c->proc = proc;
	snprintf(kvmdir, sizeof(kvmdir), "%s/kvm", debugfs);
	if (access(kvmdir, F_OK)) {
		snprintf(err, errsz, "%s: %s (is kvm loaded?)", kvmdir,
			 strerror(errno));
		return -ENOENT;
	}
	n = family(proc, pid, &fam);
	if (n < 0)
		return n;
	for (i = 0; i < n && ret; i++) {
		if (!find_vm(kvmdir, fam[i], c->dir, sizeof(c->dir))) {
			c->pid = fam[i];
			ret = 0;
		}
	}
	free(fam);
	if (ret) {
		snprintf(err, errsz, "no KVM VM of process %d or its children "
			 "in %s", pid, kvmdir);
		return ret;
	}
	c->nr_vcpus = count_vcpus(c->dir);
	c->vcpu = calloc(c->nr_vcpus, sizeof(*c->vcpu));
	if (!c->vcpu)
		return -ENOMEM;
	for (v = 0; v < c->nr_vcpus; v++)
		snprintf(c->vcpu[v].dir, sizeof(c->vcpu[v].dir), "%s/vcpu%u",
			 c->dir, v);
	ret = map_threads(c);
	if (ret) {
		snprintf(err, errsz, "process %d: not every vCPU has run yet "
			 "(vcpuN/pid) or has its \"CPU N/KVM\" thread",
			 c->pid);
		goto fail;
	}
	for (v = 0; v < c->nr_vcpus; v++) {
		ret = read_tsc(&c->vcpu[v], &t);
		if (!ret)
			ret = add_change(&c->vcpu[v], now, now, &t);
		if (ret) {
			snprintf(err, errsz, "%s/tsc-offset: %s", c->vcpu[v].dir,
				 strerror(-ret));
			goto fail;
		}
	}
	c->last_poll = now;
	return 0;
fail:
	kvm_clock_free(c);
	return ret;
}

int kvm_clock_poll(struct kvm_clock *c, uint64_t now)
{
	struct kvm_tsc t;
	unsigned int v;
	int n = 0, ret;

	for (v = 0; v < c->nr_vcpus; v++) {
		struct kvm_vcpu_clock *vc = &c->vcpu[v];

		ret = read_tsc(vc, &t);
		if (ret)
			return ret;
		if (same_tsc(&t, &vc->ch[vc->nr - 1].tsc))
			continue;
		ret = add_change(vc, c->last_poll, now, &t);
		if (ret)
			return ret;
		n++;
	}
	c->polls++;
	c->changes += n;
	c->last_poll = now;
	return n;
}

int kvm_clock_finish(struct kvm_clock *c, uint64_t now)
{
	int ret = kvm_clock_poll(c, now);

	c->end = now;
	return ret < 0 ? ret : 0;
}

/*
 * A stable host TSC changes a guest's offsets when the guest writes its
 * TSC (boot, TSC_ADJUST), on migration: a few times. KVM on an unstable
 * host TSC changes them on every vCPU load: nearly every poll.
 */
int kvm_clock_unstable(const struct kvm_clock *c)
{
	return c->changes >= 8 && c->changes * 4 > c->polls * c->nr_vcpus;
}

static int is_scaled(const struct kvm_tsc *t)
{
	return t->ratio && t->ratio != 1ULL << t->frac;
}

uint64_t kvm_tsc_guest(const struct kvm_tsc *t, uint64_t host)
{
	if (is_scaled(t))
		host = ((unsigned __int128)host * t->ratio) >> t->frac;
	return host + (uint64_t)t->offset;
}

int64_t kvm_tsc_host_offset(const struct kvm_tsc *t, uint64_t guest)
{
	__int128 h;

	if (!is_scaled(t))
		return -t->offset;
	/* host = (guest - offset) * 2^frac / ratio, rounded */
	h = ((__int128)guest - t->offset) * ((__int128)1 << t->frac);
	h = h >= 0 ? (h + t->ratio / 2) / t->ratio :
		     (h - (__int128)(t->ratio / 2)) / (__int128)t->ratio;
	return (int64_t)(h - (__int128)guest);
}

static int add_sample(struct tracedat *td, unsigned int cpu,
		      const struct kvm_tsc *t, uint64_t guest)
{
	return tracedat_add_ts_sample(td, cpu, guest,
				      kvm_tsc_host_offset(t, guest), 1, 0);
}

/*
 * One segment of a vCPU: guest times first..last under the terms t.
 * The reader interpolates between samples, so the samples at both ends
 * carry the terms exactly; scaled, the offset drifts with the guest time
 * and samples every KVM_TS_STEP keep the reader's product in 64 bits.
 */
static int add_segment(struct tracedat *td, unsigned int cpu,
		       const struct kvm_tsc *t, uint64_t first, uint64_t last)
{
	uint64_t g;
	int ret = add_sample(td, cpu, t, first);

	for (g = first + KVM_TS_STEP; !ret && is_scaled(t) && g < last &&
	     g > first; g += KVM_TS_STEP)
		ret = add_sample(td, cpu, t, g);
	if (!ret && last > first)
		ret = add_sample(td, cpu, t, last);
	return ret;
}

int kvm_clock_time_shift(const struct kvm_clock *c, struct tracedat *td,
			 uint64_t peer_id)
{
	uint64_t end = c->end ? c->end : c->last_poll, first, next;
	unsigned int v, i;
	int ret;

	ret = tracedat_set_time_shift(td, peer_id, TRACEDAT_TSYNC_INTERPOLATE);
	for (v = 0; !ret && v < c->nr_vcpus; v++) {
		const struct kvm_vcpu_clock *vc = &c->vcpu[v];

		first = 0;
		for (i = 0; !ret && i < vc->nr; i++) {
			const struct kvm_tsc *t = &vc->ch[i].tsc;

			/* a change applies from the earliest it can have */
			if (i + 1 < vc->nr)
				next = kvm_tsc_guest(&vc->ch[i + 1].tsc,
						     vc->ch[i + 1].since);
			else
				next = kvm_tsc_guest(t, end) + 1;
			if (next <= first) {
				vt_log("vCPU %u: the guest TSC went back at "
				       "host TSC %llu: its trace times overlap "
				       "there", v,
				       (unsigned long long)vc->ch[i + 1].seen);
				next = first + 1;
			}
			ret = add_segment(td, v, t, first, next - 1);
			first = next;
		}
	}
	return ret;
}

/*
 * name in the directory dirfd, truncated, for writing: no link followed,
 * a regular file (a FIFO does not block the open). A stream, or NULL
 * with errno set.
 */
static FILE *create_at(int dirfd, const char *name)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_SETFL, 0)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

int kvm_clock_write_files(const struct kvm_clock *c, int dirfd,
			  const char *name, uint64_t trace_id,
			  const char *guest_clock)
{
	unsigned int v, i;
	FILE *f;
	int err;

	f = create_at(dirfd, "guest.map");
	if (!f)
		return -errno;
	fprintf(f, "# vhost-traced: the guest of trace.dat, for "
		"`vhost-trace merge HOST.DAT DIR` or `report -H`\n"
		"name=%s\ntrace_id=0x%016llx\nclock=%s\npid=%d\nkvm=%s\n"
		"vcpus=%u\n", name, (unsigned long long)trace_id,
		guest_clock, c->pid, c->dir, c->nr_vcpus);
	for (v = 0; v < c->nr_vcpus; v++)
		fprintf(f, "vcpu%u=%d\n", v, c->vcpu[v].tid);
	fprintf(f, "tsc_polls=%lu\ntsc_changes=%lu\ntsc_stable=%s\n",
		c->polls, c->changes, kvm_clock_unstable(c) ? "no" : "yes");
	if (c->ns_mult)
		fprintf(f, "tsc2nsec=%u %u\n", c->ns_mult, c->ns_shift);
	err = ferror(f);
	if (fclose(f) || err)
		return -EIO;

	f = create_at(dirfd, "tsc");
	if (!f)
		return -errno;
	fprintf(f, "# KVM's TSC terms per vCPU, as sampled (host TSC):\n"
		"# guest = ((host * ratio) >> frac) + offset (ratio 0: not "
		"scaled); a change happened between since and seen\n"
		"# vcpu since seen offset ratio frac\n");
	for (v = 0; v < c->nr_vcpus; v++)
		for (i = 0; i < c->vcpu[v].nr; i++) {
			const struct kvm_tsc_change *ch = &c->vcpu[v].ch[i];

			fprintf(f, "%u %llu %llu %lld %llu %u\n", v,
				(unsigned long long)ch->since,
				(unsigned long long)ch->seen,
				(long long)ch->tsc.offset,
				(unsigned long long)ch->tsc.ratio,
				ch->tsc.frac);
		}
	fprintf(f, "# end %llu\n",
		(unsigned long long)(c->end ? c->end : c->last_poll));
	err = ferror(f);
	if (fclose(f) || err)
		return -EIO;
	return 0;
}

void kvm_clock_free(struct kvm_clock *c)
{
	unsigned int v;

	for (v = 0; c->vcpu && v < c->nr_vcpus; v++)
		free(c->vcpu[v].ch);
	free(c->vcpu);
	c->vcpu = NULL;
	c->nr_vcpus = 0;
}
