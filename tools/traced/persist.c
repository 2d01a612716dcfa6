// SPDX-License-Identifier: GPL-2.0
/* A session's persisted fields (see persist.h). */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "persist.h"
#include "session.h"
#include "state.h"
#include "vdpa.h"

static const char *const state_names[] = {
	[SESS_RUNNING] = "running",
	[SESS_STOPPING] = "stopping",
	[SESS_STOPPED] = "stopped",
	[SESS_ENDED] = "ended",
};

const char *sess_state_name(int state)
{
	return state_names[state];
}

int sess_state_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (!strcmp(state_names[i], name))
			return i;
	return -1;
}

static const char *agent_name(int state)
{
	return agent_state_name(state);
}

enum ftype {
	F_STR,		/* a char array */
	F_INT,		/* a signed integer in min..max */
	F_UINT,		/* an unsigned integer in min..max */
	F_U64,		/* any unsigned 64-bit number */
	F_BOOL,		/* an int 0/1 saved as words[0]/words[1] */
	F_ENUM,		/* an int saved by name */
};

struct field {
	const char *key;
	enum ftype type;
	size_t off, size;
	long long min, max;
	const char *const *words;		/* F_BOOL */
	const char *(*name)(int);		/* F_ENUM */
	int (*by_name)(const char *);
	int unknown;		/* F_ENUM: a name not known reads as this */
	int absolute;		/* F_STR: an absolute path */
	int optional;		/* may be missing (a state file of a daemon
				 * before the field): stays as allocated */
};

#define AT(m)	.off = offsetof(struct session, m), \
		.size = sizeof(((struct session *)0)->m)
#define STR(k, m, ...)		{ k, F_STR, AT(m), __VA_ARGS__ }
#define INT(k, m, lo, hi)	{ k, F_INT, AT(m), .min = lo, .max = hi }
#define UINT(k, m, lo, hi)	{ k, F_UINT, AT(m), .min = lo, .max = hi }
#define U64(k, m)		{ k, F_U64, AT(m) }
#define BOOL(k, m, no, yes)	{ k, F_BOOL, AT(m), \
				  .words = (const char *const[]){ no, yes } }
#define ENUM(k, m, fn, byfn, unk) { k, F_ENUM, AT(m), .name = fn, \
				  .by_name = byfn, .unknown = unk }

/* The order of the words in the file. */
static const struct field fields[] = {
	UINT("id", te.id, 1, LLONG_MAX),
	STR("name", te.name),
	ENUM("state", state, sess_state_name, sess_state_by_name, -1),
	INT("pid", pid, 1, INT_MAX),
	U64("start_time", start_time),
	INT("vhostfd", vhostfd, -1, INT_MAX),
	UINT("ports", nports, 1, 65536),
	STR("dir", dir, .absolute = 1),
	BOOL("sink", fifo, "file", "fifo"),
	{ "sink_by", F_BOOL, AT(byref), .words = (const char *const[]){
	  "copy", "ref" }, .optional = 1 },
	INT("policy", policy, 0, 1),
	BOOL("agent", agent_on, "off", "on"),
	ENUM("agent_state", agent.state, agent_name, agent_state_by_name,
	     AGENT_GONE),
	INT("agent_proto", agent.proto, -1, 1),
	STR("events", agent.events),
	STR("socket", agent.path),
	UINT("uid", uid, 0, UINT_MAX - 1),
	UINT("gid", gid, 0, UINT_MAX - 1),
	INT("stop_timeout", stop_timeout_ms, 0, INT_MAX),
	INT("started", started, 0, LLONG_MAX),
	INT("meta", meta, 0, 1),
	UINT("cpus", agent.cpus, 0, 65536),
	STR("release", agent.release),
	STR("machine", agent.machine),
	INT("device", device, 0, DEV_RELEASED),
	STR("qmp", qmp),
	STR("domain", domain, .optional = 1),
	STR("uri", uri, .optional = 1),
	STR("own_dev", own_dev, .optional = 1),
	STR("own_chardev", own_chardev, .optional = 1),
	STR("clock", agent.want_clock),
	U64("trace_id", trace_id),
	/* the vDPA front end; state files from before it have none */
	{ "front", F_ENUM, AT(front), .name = front_name,
	  .by_name = front_by_name, .unknown = -1, .optional = 1 },
	STR("vdpa", vdpa, .optional = 1),
	STR("vhostdev", vhostdev, .optional = 1),
};

static long long get_int(const void *p, size_t size)
{
	return size == sizeof(int) ? *(const int *)p : *(const long long *)p;
}

static unsigned long long get_uint(const void *p, size_t size)
{
	return size == sizeof(unsigned int) ? *(const unsigned int *)p :
	       *(const unsigned long long *)p;
}

static void set_num(void *p, size_t size, unsigned long long v)
{
	if (size == sizeof(unsigned int))
		*(unsigned int *)p = v;
	else
		*(unsigned long long *)p = v;
}

int persist_format(const struct session *s, struct vt_buf *line)
{
	char word[PATH_MAX + 64];
	const struct field *f;
	const char *p;
	int err = 0;

	for (f = fields; f < fields + sizeof(fields) / sizeof(*f); f++) {
		p = (const char *)s + f->off;
		switch (f->type) {
		case F_STR:
			snprintf(word, sizeof(word), "%s=%s", f->key, p);
			break;
		case F_INT:
			snprintf(word, sizeof(word), "%s=%lld", f->key,
				 get_int(p, f->size));
			break;
		case F_UINT:
		case F_U64:
			snprintf(word, sizeof(word), "%s=%llu", f->key,
				 get_uint(p, f->size));
			break;
		case F_BOOL:
			snprintf(word, sizeof(word), "%s=%s", f->key,
				 f->words[!!*(const int *)p]);
			break;
		case F_ENUM:
			snprintf(word, sizeof(word), "%s=%s", f->key,
				 f->name(*(const int *)p));
			break;
		}
		err |= ctl_add_word(line, word);
	}
	return err ? -ENOMEM : 0;
}

/* A number of the field's range, digits only for unsigned ones. */
static int parse_num(const struct field *f, const char *v,
		     unsigned long long *out)
{
	long long n;
	char *end;

	errno = 0;
	if (f->type == F_INT) {
		n = *v ? strtoll(v, &end, 10) : 0;
		if (!*v || errno || *end || n < f->min || n > f->max)
			return -EINVAL;
		*out = n;
		return 0;
	}
	if (*v < '0' || *v > '9')
		return -EINVAL;
	*out = strtoull(v, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (f->type == F_UINT && (*out < (unsigned long long)f->min ||
				  *out > (unsigned long long)f->max))
		return -EINVAL;
	return 0;
}

static int load_one(struct session *s, const struct field *f,
		    const char *v)
{
	char *p = (char *)s + f->off;
	unsigned long long n;
	int e;

	switch (f->type) {
	case F_STR:
		if (strlen(v) >= f->size || (f->absolute && v[0] != '/'))
			return -EINVAL;
		strcpy(p, v);
		return 0;
	case F_BOOL:
		if (strcmp(v, f->words[0]) && strcmp(v, f->words[1]))
			return -EINVAL;
		*(int *)p = !strcmp(v, f->words[1]);
		return 0;
	case F_ENUM:
		e = f->by_name(v);
		if (e < 0 && f->unknown < 0)
			return -EINVAL;
		*(int *)p = e < 0 ? f->unknown : e;
		return 0;
	default:
		if (parse_num(f, v, &n))
			return -EINVAL;
		set_num(p, f->size, n);
		return 0;
	}
}

int persist_load(struct session *s, const struct ctl_req *r,
		 const char **bad)
{
	const struct field *f;
	const char *v;

	for (f = fields; f < fields + sizeof(fields) / sizeof(*f); f++) {
		*bad = f->key;
		v = ctl_get(r, f->key);
		if (!v && f->optional)
			continue;
		if (!v || load_one(s, f, v))
			return -EINVAL;
	}
	return 0;
}

int session_save(struct session *s)
{
	struct vt_buf line;
	int err;

	vt_buf_init(&line);
	err = persist_format(s, &line);
	if (!err)
		err = state_write(s->runfd, line.p, line.len);
	if (err)
		sess_log(s, "cannot write %s/state: %s (a restarted daemon "
			 "would not find this session)", s->rundir,
			 strerror(-err));
	/* a failed write is not tried again until something changes */
	free(s->saved);
	s->saved = line.p;
	return err;
}

void session_save_if_changed(struct session *s)
{
	struct vt_buf line;

	vt_buf_init(&line);
	if (!persist_format(s, &line) &&
	    (!s->saved || strcmp(s->saved, line.p)))
		session_save(s);
	vt_buf_free(&line);
}
