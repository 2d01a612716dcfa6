// SPDX-License-Identifier: GPL-2.0
/* The control socket (see PROTOCOL). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vhost_trace.h>

#include "persist.h"
#include "server.h"
#include "session.h"
#include "libvirt.h"
#include "vdpa.h"

#define VERSION "0.1"

int server_listen(const char *path, gid_t gid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a socket file nobody answers on is stale; one that answers is not */
	if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		return -EADDRINUSE;
	}
	if (errno == ECONNREFUSED)
		unlink(path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (err ||
	    (gid != (gid_t)-1 && (chown(path, 0, gid) || chmod(path, 0660))) ||
	    listen(fd, 64)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * The requester's supplementary groups as they connected: QEMU runs with
 * them (as the requester's own QEMU would: /dev/kvm is the kvm group's).
 */
static int peer_groups(int fd, struct peer *peer)
{
	socklen_t len = 0;

	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len))
		return 0;		/* none */
	if (errno != ERANGE || !len || len % sizeof(gid_t))
		return -1;
	peer->groups = malloc(len);
	if (!peer->groups ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer->groups, &len))
		return -1;
	peer->ngroups = len / sizeof(gid_t);
	return 0;
}

int server_peer_allowed(int fd, gid_t gid, struct peer *peer)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return 0;
	peer->pid = cr.pid;
	peer->uid = cr.uid;
	peer->gid = cr.gid;
	if (cr.uid == 0)
		return 1;
	if (gid == (gid_t)-1 || peer_groups(fd, peer))
		return 0;
	if (cr.gid == gid)
		return 1;
	for (i = 0; i < peer->ngroups; i++)
		if (peer->groups[i] == gid)
			return 1;
	return 0;
}

#define REPLY_ERR(...) do { vt_buf_printf(&body, __VA_ARGS__); \
			    ok = 0; goto out; } while (0)

static int valid_name(const char *n)
{
	size_t i, len = strlen(n);
	int digits = 1;

	if (!len || len >= TABLE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
		if (c < '0' || c > '9')
			digits = 0;
	}
	return !digits;
}

static int get_uint(const struct ctl_req *req, const char *key,
		    unsigned long def, unsigned long max, unsigned long *v)
{
	const char *s = ctl_get(req, key);
	char *end;

	*v = def;
	if (!s)
		return 0;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || !*s || *end || *v > max ? -EINVAL : 0;
}

/* "sys:event,sys:*,..." for the agent's events request */
static int valid_events(const char *v)
{
	size_t n = strlen(v);

	return n && n <= 1000 &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_-.:*,") == n;
}

#define SESSION_KEYS "dir", "name", "ports", "policy", "sink", "agent", \
	"stop_timeout", "events", "clock", "front"

/*
 * The arguments launch and attach share. keys: every key the request
 * takes. 0, or -1 with the reason in body.
 */
static int parse_session_args(const struct ctl_req *req,
			      const char *const *keys, struct sess_args *a,
			      struct vt_buf *body)
{
	const char *cmd = req->argv[0], *v;
	unsigned long n;

	if (ctl_check_keys(req, keys, &v))
		return vt_buf_printf(body, "%s: unknown argument '%s'", cmd, v),
		       -1;
	a->dir = ctl_get(req, "dir");
	if (!a->dir || a->dir[0] != '/')
		return vt_buf_printf(body, "%s: dir= must be an absolute path",
				   cmd), -1;
	a->name = ctl_get(req, "name");
	if (a->name && !valid_name(a->name))
		return vt_buf_printf(body, "%s: bad name '%s' (letters, "
				     "digits, '.-_', not only digits, at most "
				     "%d)", cmd, a->name, TABLE_NAME_MAX - 1),
		       -1;
	if (!a->name)
		a->name = "";
	/* attach may leave ports= out: QEMU's vCPUs (a->ports 0) */
	if (get_uint(req, "ports", 0, VHOST_TRACE_MAX_PORTS, &n) ||
	    (!n && (ctl_get(req, "ports") || strcmp(cmd, "attach"))))
		return vt_buf_printf(body, "%s: ports= must be 1..%d", cmd,
				   VHOST_TRACE_MAX_PORTS), -1;
	a->ports = n;
	v = ctl_get(req, "policy");
	if (!v || !strcmp(v, "block"))
		a->policy = VHOST_TRACE_POLICY_BLOCK;
	else if (!strcmp(v, "drop"))
		a->policy = VHOST_TRACE_POLICY_DROP;
	else
		return vt_buf_printf(body, "%s: policy= must be block or drop",
				   cmd), -1;
	v = ctl_get(req, "sink");
	if (v && strcmp(v, "file") && strcmp(v, "fifo") &&
	    strcmp(v, "fifo-ref"))
		return vt_buf_printf(body, "%s: sink= must be file, fifo or "
				     "fifo-ref", cmd), -1;
	a->fifo = v && strcmp(v, "file");
	a->byref = v && !strcmp(v, "fifo-ref");
	v = ctl_get(req, "agent");
	if (v && strcmp(v, "on") && strcmp(v, "off"))
		return vt_buf_printf(body, "%s: agent= must be on or off", cmd),
		       -1;
	a->agent = !v || !strcmp(v, "on");
	a->events = ctl_get(req, "events");
	if (a->events && !valid_events(a->events))
		return vt_buf_printf(body, "%s: events= must be "
				     "SYSTEM:EVENT[,...] (at most 1000 bytes)",
				     cmd), -1;
	if (get_uint(req, "stop_timeout", 10000, 600000, &n))
		return vt_buf_printf(body, "%s: stop_timeout= must be "
				     "0..600000 (ms)", cmd), -1;
	a->stop_timeout_ms = n;
	v = ctl_get(req, "clock");
	if (v && strcmp(v, "x86-tsc") && strcmp(v, "keep"))
		return vt_buf_printf(body, "%s: clock= must be x86-tsc or keep",
				   cmd), -1;
	a->clock = v && !strcmp(v, "keep") ? NULL : "x86-tsc";
	v = ctl_get(req, "front");
	a->front = v ? front_by_name(v) : FRONT_AUTO;
	if (a->front < 0)
		return vt_buf_printf(body, "%s: front= must be vhost, vdpa or "
				     "auto", cmd), -1;
	return 0;
}

/* launch (attach 0) or attach: a new session, described in the reply */
static void do_start(const struct ctl_req *req, struct peer *peer,
		     int attach, struct vt_buf *out)
{
	static const char *const launch_keys[] = { SESSION_KEYS, "cwd", NULL };
	static const char *const attach_keys[] = { SESSION_KEYS, "qmp", "bus",
		"domain", "uri", NULL };
	struct sess_args a = { .uid = peer->uid, .gid = peer->gid,
			       .groups = peer->groups,
			       .ngroups = peer->ngroups, .bridge = -1 };
	struct session *s;
	struct vt_buf body;
	int ok = 1;

	vt_buf_init(&body);
	if (parse_session_args(req, attach ? attach_keys : launch_keys, &a,
			       &body)) {
		ok = 0;
		goto out;
	}
	if (attach && ctl_get(req, "domain")) {
		/* record --domain: QMP through the requester's libvirt */
		if (libvirt_parse_args(req, peer, &a, &body)) {
			ok = 0;
			goto out;
		}
	} else if (attach) {
		a.qmp = ctl_get(req, "qmp");
		if (!a.qmp || a.qmp[0] != '/')
			REPLY_ERR("attach: qmp= must be the absolute path of "
				  "QEMU's QMP socket");
		a.bus = ctl_get(req, "bus");
		if (a.bus && !a.bus[0])
			REPLY_ERR("attach: bus= is empty");
		if (req->nextra)
			REPLY_ERR("attach: takes no command (no --)");
	} else {
		a.cwd = ctl_get(req, "cwd");
		if (!a.cwd)
			a.cwd = "/";
		if (a.cwd[0] != '/')
			REPLY_ERR("launch: cwd= must be an absolute path");
		if (!req->nextra)
			REPLY_ERR("launch: no command after --");
		a.argc = req->nextra;
		a.argv = req->extra;
	}
	if ((a.domain ? session_attach_libvirt : attach ? session_attach :
	     session_launch)(&a, &s, &body)) {
		ok = 0;
		goto out;
	}
	session_describe(s, 0, &body);
	table_entry_put(&s->te);
out:
	ctl_reply(out, ok, body.p, body.len);
	vt_buf_free(&body);
}

/* A user sees and stops their own sessions only; root all of them. */
static int is_mine(const struct session *s, const struct peer *peer)
{
	return !peer->uid || s->uid == peer->uid;
}

static void do_list(const struct peer *peer, struct vt_buf *out)
{
	struct table_entry **v;
	struct vt_buf body;
	size_t n, i;

	vt_buf_init(&body);
	v = table_snapshot(&n);
	for (i = 0; i < n; i++) {
		if (is_mine(to_session(v[i]), peer))
			session_describe(to_session(v[i]), 0, &body);
		table_entry_put(v[i]);
	}
	free(v);
	ctl_reply(out, 1, body.p, body.len);
	vt_buf_free(&body);
}

static void do_session(const struct ctl_req *req, struct peer *peer,
		       struct vt_buf *out)
{
	static const char *const keys[] = { "timeout", NULL };
	const char *cmd = req->argv[0], *bad;
	struct table_entry *e = NULL;
	struct session *s;
	struct vt_buf body;
	unsigned long timeout;
	int ok = 1, was;

	vt_buf_init(&body);
	if (req->argc < 2 || strchr(req->argv[1], '='))
		REPLY_ERR("%s: which session? (an id or a name)", cmd);
	e = table_get(req->argv[1]);
	if (!e)
		REPLY_ERR("%s: no session '%s'", cmd, req->argv[1]);
	s = to_session(e);
	if (!is_mine(s, peer))
		REPLY_ERR("%s: session '%s' is another user's", cmd,
			  req->argv[1]);
	if (!strcmp(cmd, "stop")) {
		struct ctl_req rest = *req;

		rest.argc--;
		rest.argv++;
		if (ctl_check_keys(&rest, keys, &bad))
			REPLY_ERR("stop: unknown argument '%s'", bad);
		if (get_uint(req, "timeout", 60000, 3600000, &timeout))
			REPLY_ERR("stop: timeout= must be 0..3600000 (ms)");
		was = uatomic_read(&s->state);
		/* a libvirt session unplugs through this requester's bridge */
		libvirt_new_bridge(s, peer);
		if (was < SESS_STOPPED) {
			session_request(s, SESS_CMD_STOP);
			if (session_wait(s, SESS_STOPPED, timeout))
				REPLY_ERR("stop: session %lu did not stop in "
					  "%lu ms", e->id, timeout);
		}
		session_describe(s, 1, &body);
		/* ended, or detached by an earlier stop: the list forgets it */
		if (uatomic_read(&s->state) == SESS_ENDED ||
		    (s->device != DEV_NONE && was == SESS_STOPPED))
			session_request(s, SESS_CMD_REMOVE);
	} else if (req->argc > 2) {
		REPLY_ERR("status: unknown argument '%s'", req->argv[2]);
	} else {
		session_describe(s, 1, &body);
	}
out:
	if (e)
		table_entry_put(e);
	ctl_reply(out, ok, body.p, body.len);
	vt_buf_free(&body);
}

void server_handle(const struct ctl_req *req, struct peer *peer,
		   struct vt_buf *out)
{
	const char *cmd = req->argv[0];
	char msg[256];

	if (!strcmp(cmd, "hello")) {
		snprintf(msg, sizeof(msg), "daemon proto=%d version=%s "
			 "sessions=%lu\n", CTL_PROTO_VERSION, VERSION,
			 table_count());
		if (req->argc > 1 && strcmp(req->argv[1], "1")) {
			snprintf(msg, sizeof(msg), "protocol version %s not "
				 "supported (this daemon speaks 1)",
				 req->argv[1]);
			ctl_reply(out, 0, msg, strlen(msg));
			return;
		}
		ctl_reply(out, 1, msg, strlen(msg));
	} else if (!strcmp(cmd, "launch")) {
		do_start(req, peer, 0, out);
	} else if (!strcmp(cmd, "attach")) {
		do_start(req, peer, 1, out);
	} else if (!strcmp(cmd, "list") && req->argc == 1) {
		do_list(peer, out);
	} else if (!strcmp(cmd, "status") || !strcmp(cmd, "stop")) {
		do_session(req, peer, out);
	} else {
		snprintf(msg, sizeof(msg), "unknown request '%s'", cmd);
		ctl_reply(out, 0, msg, strlen(msg));
	}
}

struct conn {
	int fd;
	gid_t gid;
};

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t r = send(fd, p, len, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= r;
	}
	return 0;
}

/*
 * recv() that also takes one fd passed with the bytes (SCM_RIGHTS): it
 * goes to *passed (one per request: a second replaces the first, which
 * is closed). Anything else in the control data is closed.
 */
static ssize_t recv_fd(int fd, char *p, size_t len, int *passed)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} c;
	struct iovec iov = { p, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *h;
	ssize_t r;

	r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (r < 0)
		return r;
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		size_t i, n;
		int v;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&v, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (*passed >= 0)
				close(*passed);
			*passed = v;
		}
	}
	return r;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	char *buf = malloc(CTL_MAX_LINE);
	size_t have = 0;
	struct peer peer = { .fd = -1 };
	int fd = c->fd;

	rcu_register_thread();
	if (!buf)
		goto out;
	if (!server_peer_allowed(fd, c->gid, &peer)) {
		static const char msg[] = "permission denied: the control "
			"socket is for root and the daemon's group";
		struct vt_buf o;

		vt_buf_init(&o);
		ctl_reply(&o, 0, msg, strlen(msg));
		send_all(fd, o.p, o.len);
		vt_buf_free(&o);
		goto out;
	}
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		struct ctl_req req;
		struct vt_buf o;
		ssize_t r;
		int err;

		if (!nl) {
			if (have == CTL_MAX_LINE)
				break;		/* too long: drop the client */
			r = recv_fd(fd, buf + have, CTL_MAX_LINE - have,
				    &peer.fd);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			have += r;
			continue;
		}
		vt_buf_init(&o);
		err = ctl_parse(buf, nl - buf, &req);
		if (err) {
			const char *m = err == -EINVAL ? "malformed request" :
				"request too long or out of memory";

			ctl_reply(&o, 0, m, strlen(m));
		} else {
			server_handle(&req, &peer, &o);
			ctl_req_free(&req);
		}
		if (peer.fd >= 0)	/* not taken by this request */
			close(peer.fd);
		peer.fd = -1;
		have -= nl + 1 - buf;
		memmove(buf, nl + 1, have);
		err = send_all(fd, o.p, o.len);
		vt_buf_free(&o);
		if (err)
			break;
	}
out:
	if (peer.fd >= 0)
		close(peer.fd);
	close(fd);
	free(peer.groups);
	free(buf);
	free(c);
	rcu_unregister_thread();
	return NULL;
}

int server_spawn(int fd, gid_t gid)
{
	struct conn *c = malloc(sizeof(*c));
	pthread_attr_t attr;
	pthread_t th;
	int err;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->gid = gid;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (err) {
		close(fd);
		free(c);
		return -err;
	}
	return 0;
}
