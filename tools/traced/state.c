// SPDX-License-Identifier: GPL-2.0
/* A session's state on disk (see state.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlproto.h"
#include "state.h"

#define STATE_MAX	32768
#define MAGIC		"vhost-traced-session"

int state_write(const char *dir, const struct saved_session *sv)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 16], kv[PATH_MAX + 64];
	struct sbuf b;
	int fd, err = 0;

	sbuf_init(&b);
#define KV(...) do { snprintf(kv, sizeof(kv), __VA_ARGS__); \
		     err |= ctl_add_word(&b, kv); } while (0)
	KV(MAGIC);
	KV("version=%d", STATE_VERSION);
	KV("id=%lu", sv->id);
	KV("name=%s", sv->name);
	KV("state=%s", sv->state);
	KV("pid=%d", (int)sv->pid);
	KV("start_time=%llu", sv->start_time);
	KV("vhostfd=%d", sv->vhostfd);
	KV("ports=%u", sv->ports);
	KV("dir=%s", sv->dir);
	KV("sink=%s", sv->fifo ? "fifo" : "file");
	KV("policy=%d", sv->policy);
	KV("agent=%s", sv->agent ? "on" : "off");
	KV("agent_state=%s", sv->agent_state);
	KV("agent_proto=%d", sv->agent_proto);
	KV("events=%s", sv->events);
	KV("socket=%s", sv->socket);
	KV("uid=%u", (unsigned int)sv->uid);
	KV("gid=%u", (unsigned int)sv->gid);
	KV("stop_timeout=%d", sv->stop_timeout_ms);
	KV("started=%lld", sv->started);
	KV("meta=%d", sv->meta);
	KV("cpus=%u", sv->cpus);
	KV("release=%s", sv->release);
	KV("machine=%s", sv->machine);
	KV("device=%d", sv->device);
	KV("qmp=%s", sv->qmp);
	KV("clock=%s", sv->clock);
	KV("trace_id=%llu", sv->trace_id);
#undef KV
	err |= sbuf_add(&b, "\n", 1);
	if (err) {
		sbuf_free(&b);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s/" STATE_FILE ".tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (write(fd, b.p, b.len) != (ssize_t)b.len || fsync(fd))
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	sbuf_free(&b);
	return err;
}

void state_remove(const char *dir)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" STATE_FILE ".tmp", dir);
	unlink(path);
}

/* A string value that fits; -EINVAL otherwise. */
static int get_str(const struct ctl_req *r, const char *key, char *dst,
		   size_t size)
{
	const char *v = ctl_get(r, key);

	if (!v || strlen(v) >= size)
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

static int get_num(const struct ctl_req *r, const char *key, long long min,
		   long long max, long long *val)
{
	const char *v = ctl_get(r, key);
	char *end;

	if (!v || !*v)
		return -EINVAL;
	errno = 0;
	*val = strtoll(v, &end, 10);
	return errno || *end || *val < min || *val > max ? -EINVAL : 0;
}

static int get_ull(const struct ctl_req *r, const char *key,
		   unsigned long long *val)
{
	const char *v = ctl_get(r, key);
	char *end;

	if (!v || *v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*val = strtoull(v, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse(const struct ctl_req *r, struct saved_session *sv,
		 const char **bad)
{
	long long v;
	const char *s;

#define NUM(key, min, max, dst) do { *bad = key; \
		if (get_num(r, key, min, max, &v)) return -EINVAL; \
		dst = v; } while (0)
#define STR(key, dst) do { *bad = key; \
		if (get_str(r, key, dst, sizeof(dst))) return -EINVAL; \
		} while (0)
	NUM("id", 1, LLONG_MAX, sv->id);
	STR("name", sv->name);
	STR("state", sv->state);
	NUM("pid", 1, INT_MAX, sv->pid);
	*bad = "start_time";
	if (get_ull(r, "start_time", &sv->start_time))
		return -EINVAL;
	NUM("vhostfd", -1, INT_MAX, sv->vhostfd);
	NUM("ports", 1, 65536, sv->ports);
	STR("dir", sv->dir);
	*bad = "dir";
	if (sv->dir[0] != '/')
		return -EINVAL;
	*bad = "sink";
	s = ctl_get(r, "sink");
	if (!s || (strcmp(s, "file") && strcmp(s, "fifo")))
		return -EINVAL;
	sv->fifo = !strcmp(s, "fifo");
	NUM("policy", 0, 1, sv->policy);
	*bad = "agent";
	s = ctl_get(r, "agent");
	if (!s || (strcmp(s, "on") && strcmp(s, "off")))
		return -EINVAL;
	sv->agent = !strcmp(s, "on");
	STR("agent_state", sv->agent_state);
	NUM("agent_proto", -1, 1, sv->agent_proto);
	STR("events", sv->events);
	STR("socket", sv->socket);
	NUM("uid", 0, UINT_MAX - 1, sv->uid);
	NUM("gid", 0, UINT_MAX - 1, sv->gid);
	NUM("stop_timeout", 0, INT_MAX, sv->stop_timeout_ms);
	NUM("started", 0, LLONG_MAX, sv->started);
	NUM("meta", 0, 1, sv->meta);
	NUM("cpus", 0, 65536, sv->cpus);
	STR("release", sv->release);
	STR("machine", sv->machine);
	NUM("device", 0, 3, sv->device);
	STR("qmp", sv->qmp);
	STR("clock", sv->clock);
	*bad = "trace_id";
	if (get_ull(r, "trace_id", &sv->trace_id))
		return -EINVAL;
#undef NUM
#undef STR
	return 0;
}

int state_read(const char *path, struct saved_session *sv, char *err,
	       size_t errsz)
{
	char *buf = malloc(STATE_MAX + 1), *nl;
	struct ctl_req r = { 0 };
	const char *bad = NULL;
	ssize_t n = -1;
	long long ver;
	int fd, ret;

	memset(sv, 0, sizeof(*sv));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (buf && fd >= 0)
		n = read(fd, buf, STATE_MAX + 1);
	ret = n < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (!buf || ret) {
		ret = buf ? ret : -ENOMEM;
		snprintf(err, errsz, "cannot read %s: %s", path,
			 strerror(-ret));
		goto out;
	}
	nl = memchr(buf, '\n', n);
	if (n > STATE_MAX || !nl || nl != buf + n - 1) {
		snprintf(err, errsz, "not one line of at most %d bytes",
			 STATE_MAX);
		ret = -EINVAL;
		goto out;
	}
	ret = ctl_parse(buf, nl - buf, &r);
	if (ret || strcmp(r.argv[0], MAGIC)) {
		snprintf(err, errsz, "not a vhost-traced session state");
		ret = -EINVAL;
		goto out;
	}
	if (get_num(&r, "version", 1, INT_MAX, &ver) || ver != STATE_VERSION) {
		snprintf(err, errsz, "version %s (this daemon reads %d)",
			 ctl_get(&r, "version") ?: "missing", STATE_VERSION);
		ret = -EINVAL;
		goto out;
	}
	ret = parse(&r, sv, &bad);
	if (ret)
		snprintf(err, errsz, "missing or malformed %s=", bad);
out:
	if (r.argv)
		ctl_req_free(&r);
	free(buf);
	return ret;
}

int proc_stat(pid_t pid, char *state, unsigned long long *start_time)
{
	char path[64], buf[1024], *p, *save;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n ? -errno : -ESRCH;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold blanks and ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p = strtok_r(p + 1, " ", &save);	/* field 3: state */
	if (!p)
		return -EINVAL;
	*state = p[0];
	for (i = 4; i <= 22; i++) {
		p = strtok_r(NULL, " ", &save);
		if (!p)
			return -EINVAL;
	}
	*start_time = strtoull(p, NULL, 10);
	return 0;
}
