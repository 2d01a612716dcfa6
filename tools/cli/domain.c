// SPDX-License-Identifier: GPL-2.0
/*
 * record --domain (see domain.h): the user's libvirt connection and the
 * bridge that relays vhost-traced's QMP through it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "client.h"
#include "domain.h"

#define MAX_LINE	(4 << 20)	/* one command from the daemon */
#define MAX_FDS		8		/* passed with one command */
#define GONE_MS		30000		/* device_del until the device left */

/*
 * The device front ends the daemon may add, in its order of preference:
 * the patched QEMU's, then a stock QEMU's (>= 8.0) generic vDPA device.
 */
static const char *const frontends[] = { "vhost-trace-pci",
					 "vhost-vdpa-device-pci", NULL };

struct domain_bridge {
	virConnectPtr conn;
	virDomainPtr dom;
	char name[256];
	int fd;			/* ours */
	int peer;		/* the daemon's, until sent */
	pthread_t th;
	int running;
};

static void quiet(void *opaque, virErrorPtr e)
{
}

static const char *last_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m ? m : "unknown libvirt error";
}

/* libvirt cannot pass fds: a daemon before 8.2, or no such procedure. */
static int no_fd_passing(void)
{
	virErrorPtr e = virGetLastError();

	return e && (e->code == VIR_ERR_NO_SUPPORT ||
		     (e->code == VIR_ERR_RPC && e->message &&
		      strstr(e->message, "unknown procedure")));
}

/* A command through libvirt; its reply (JSON) or NULL (libvirt failed). */
static json_t *monitor(struct domain_bridge *b, const char *cmd,
		       unsigned int nfds, int *fds)
{
	char *res = NULL;
	json_t *j;

	if (virDomainQemuMonitorCommandWithFiles(b->dom, cmd, nfds, fds, NULL,
						 NULL, &res, 0) < 0)
		return NULL;
	j = json_loads(res, 0, NULL);
	free(res);
	return j;
}

static int send_text(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

static int send_json(int fd, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	int rc = -1;

	if (text) {
		rc = send_text(fd, text, strlen(text)) || send_text(fd, "\n", 1);
		free(text);
	}
	return rc;
}

static int send_error(int fd, const char *fmt, const char *what)
{
	char desc[1024];
	json_t *j;
	int rc;

	snprintf(desc, sizeof(desc), fmt, what);
	j = json_pack("{s:{s:s,s:s}}", "error", "class", "GenericError",
		      "desc", desc);
	rc = j ? send_json(fd, j) : -1;
	json_decref(j);
	return rc;
}

/* The device id is among the domain's devices (1), not (0), unknown (-1). */
static int has_device(struct domain_bridge *b, const char *id)
{
	json_t *r, *v, *e;
	size_t i;
	int found = -1;

	r = monitor(b, "{\"execute\":\"qom-list\",\"arguments\":"
		    "{\"path\":\"/machine/peripheral\"}}", 0, NULL);
	v = json_object_get(r, "return");
	if (json_is_array(v)) {
		found = 0;
		json_array_foreach(v, i, e) {
			const char *n = json_string_value(json_object_get(e,
								"name"));

			if (n && !strcmp(n, id))
				found = 1;
		}
	}
	json_decref(r);
	return found;
}

/*
 * After device_del: libvirt keeps QEMU's events to itself, so the
 * bridge watches the device leave (or the domain end) and says
 * DEVICE_DELETED as QEMU would have.
 */
static int wait_gone(struct domain_bridge *b, const char *id)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	int waited, rc;
	json_t *ev;

	for (waited = 0; waited < GONE_MS; waited += 200) {
		rc = virDomainIsActive(b->dom) == 1 ? has_device(b, id) : 0;
		if (!rc)
			break;
		nanosleep(&ts, NULL);
	}
	if (waited >= GONE_MS)
		return 0;	/* the daemon's own timeout says so */
	ev = json_pack("{s:s,s:{s:s,s:s+}}", "event", "DEVICE_DELETED",
		       "data", "device", id, "path", "/machine/peripheral/",
		       id);
	rc = ev ? send_json(b->fd, ev) : -1;
	json_decref(ev);
	return rc;
}

/* One command line from the daemon with the fds that came with it. */
static int relay(struct domain_bridge *b, const char *line, int *fds,
		 unsigned int nfds)
{
	json_t *cmd = json_loads(line, 0, NULL), *r;
	const char *ex = json_string_value(json_object_get(cmd, "execute"));
	const char *id;
	int rc;

	if (!ex) {
		rc = send_error(b->fd, "libvirt bridge: not a QMP command%s",
				"");
	} else if (!strcmp(ex, "qmp_capabilities")) {
		rc = send_text(b->fd, "{\"return\":{}}\n", 14);
	} else {
		r = monitor(b, line, nfds, fds);
		if (!r) {
			rc = send_error(b->fd, "libvirt: %s", last_error());
		} else {
			json_object_del(r, "id");	/* libvirt's */
			rc = send_json(b->fd, r);
			id = json_string_value(json_object_get(
				json_object_get(cmd, "arguments"), "id"));
			if (!rc && !strcmp(ex, "device_del") && id &&
			    json_object_get(r, "return"))
				rc = wait_gone(b, id);
			json_decref(r);
		}
	}
	json_decref(cmd);
	return rc;
}

static void *bridge_main(void *arg)
{
	struct domain_bridge *b = arg;
	char *buf = malloc(MAX_LINE);
	int fds[MAX_FDS];
	unsigned int nfds = 0, i;
	size_t have = 0;

	while (buf) {
		union {
			struct cmsghdr h;
			char c[CMSG_SPACE(MAX_FDS * sizeof(int))];
		} c;
		struct iovec iov = { buf + have, MAX_LINE - have };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = c.c,
				     .msg_controllen = sizeof(c.c) };
		struct cmsghdr *h;
		char *nl;
		ssize_t r;

		nl = memchr(buf, '\n', have);
		if (nl) {
			*nl = 0;
			if (relay(b, buf, fds, nfds))
				break;
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			nfds = 0;
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have);
			continue;
		}
		if (have == MAX_LINE)
			break;
		r = recvmsg(b->fd, &mh, MSG_CMSG_CLOEXEC);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;		/* the daemon let go */
		for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
			size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (h->cmsg_level != SOL_SOCKET ||
			    h->cmsg_type != SCM_RIGHTS)
				continue;
			for (i = 0; i < n; i++) {
				int v;

				memcpy(&v, CMSG_DATA(h) + i * sizeof(int),
				       sizeof(int));
				if (nfds < MAX_FDS)
					fds[nfds++] = v;
				else
					close(v);
			}
		}
		have += r;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	free(buf);
	return NULL;
}

static void bridge_free(struct domain_bridge *b)
{
	if (b->fd >= 0)
		close(b->fd);
	if (b->peer >= 0)
		close(b->peer);
	if (b->dom)
		virDomainFree(b->dom);
	if (b->conn)
		virConnectClose(b->conn);
	free(b);
}

/* The checks a libvirt user understands, before the daemon is asked. */
static int check(struct domain_bridge *b, const char *uri, int check_device)
{
	const char *type = virConnectGetType(b->conn);
	unsigned long ver = 0;
	const char *const *f;
	json_t *r;
	char cmd[256];

	if (!type || strcmp(type, "QEMU")) {
		fprintf(stderr, "vhost-trace: domain %s is not a QEMU domain "
			"(libvirt driver %s at %s): vhost-trace traces QEMU/KVM "
			"guests only\n", b->name, type ? type : "?",
			uri ? uri : "the default URI");
		return EXIT_REFUSED;
	}
	if (virDomainIsActive(b->dom) != 1) {
		fprintf(stderr, "vhost-trace: domain %s is not running: start "
			"it (virsh start %s); to trace from boot: virsh start "
			"--paused %s, vhost-trace record --domain %s -d ..., "
			"virsh resume %s\n", b->name, b->name, b->name, b->name,
			b->name);
		return EXIT_REFUSED;
	}
	r = monitor(b, "{\"execute\":\"query-version\"}", 0, NULL);
	if (!r) {
		if (no_fd_passing()) {
			virConnectGetLibVersion(b->conn, &ver);
			fprintf(stderr, "vhost-trace: libvirt at %s (version "
				"%lu.%lu.%lu) is too old to pass file "
				"descriptors to QEMU "
				"(virDomainQemuMonitorCommandWithFiles, "
				"libvirt 8.2.0 or later): the trace device "
				"needs one\n", uri ? uri : "the default URI",
				ver / 1000000, ver / 1000 % 1000, ver % 1000);
		} else {
			fprintf(stderr, "vhost-trace: domain %s: QEMU's monitor "
				"through libvirt: %s\n", b->name, last_error());
		}
		return EXIT_REFUSED;
	}
	json_decref(r);
	if (!check_device)
		return 0;
	for (f = frontends; *f; f++) {
		snprintf(cmd, sizeof(cmd), "{\"execute\":\"device-list-"
			 "properties\",\"arguments\":{\"typename\":\"%s\"}}",
			 *f);
		r = monitor(b, cmd, 0, NULL);
		if (r && json_object_get(r, "return")) {
			json_decref(r);
			return 0;
		}
		json_decref(r);
	}
	fprintf(stderr, "vhost-trace: the QEMU of domain %s has no %s device "
		"and no %s: its <emulator> must be vhost-trace's QEMU "
		"(qemu-glue), or a stock QEMU 8.0 or later for the vDPA front "
		"end; see vhost-trace(1), \"Tracing a libvirt domain\"\n",
		b->name, frontends[0], frontends[1]);
	return EXIT_REFUSED;
}

int domain_bridge_open(const char *name, const char *uri, int check_device,
		       struct domain_bridge **out)
{
	struct domain_bridge *b = calloc(1, sizeof(*b));
	int sp[2], rc;

	if (!b)
		return EXIT_DAEMON;
	b->fd = b->peer = -1;
	snprintf(b->name, sizeof(b->name), "%s", name);
	virSetErrorFunc(NULL, quiet);
	b->conn = virConnectOpen(uri);
	if (!b->conn) {
		fprintf(stderr, "vhost-trace: cannot connect to libvirt at %s: "
			"%s\n", uri ? uri : "the default URI", last_error());
		rc = EXIT_REFUSED;
		goto fail;
	}
	b->dom = virDomainLookupByName(b->conn, name);
	if (!b->dom) {
		fprintf(stderr, "vhost-trace: no domain %s at %s: %s\n", name,
			uri ? uri : virConnectGetURI(b->conn), last_error());
		rc = EXIT_REFUSED;
		goto fail;
	}
	rc = check(b, uri, check_device);
	if (rc)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		perror("vhost-trace: socketpair");
		rc = EXIT_DAEMON;
		goto fail;
	}
	b->fd = sp[0];
	b->peer = sp[1];
	if (pthread_create(&b->th, NULL, bridge_main, b)) {
		fprintf(stderr, "vhost-trace: cannot start the libvirt "
			"bridge\n");
		rc = EXIT_DAEMON;
		goto fail;
	}
	b->running = 1;
	*out = b;
	return 0;
fail:
	bridge_free(b);
	return rc;
}

int domain_bridge_fd(struct domain_bridge *b)
{
	return b->peer;
}

void domain_bridge_sent(struct domain_bridge *b)
{
	if (b->peer >= 0)
		close(b->peer);
	b->peer = -1;
}

void domain_bridge_close(struct domain_bridge *b, int timeout_ms)
{
	struct timespec ts;

	if (!b)
		return;
	if (b->running) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += timeout_ms / 1000;
		/* the daemon closes its end when it is done with it */
		if (b->peer >= 0 || pthread_timedjoin_np(b->th, NULL, &ts)) {
			shutdown(b->fd, SHUT_RDWR);
			pthread_join(b->th, NULL);
		}
	}
	bridge_free(b);
}
