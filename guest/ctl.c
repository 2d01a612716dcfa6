// SPDX-License-Identifier: GPL-2.0
/*
 * The control port (agent-ctl-path): upstream virtio-trace's "1\n" and
 * "0\n", and the versioned protocol described in PROTOCOL.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "portstate.h"
#include "vt_proto.h"

#define REPLY_TIMEOUT_MS	10000
#define RESCAN_MS		2000

struct ctl {
	int fd;
	struct vt_proto_lines lines;
	bool quit;
};

static int reply(struct ctl *c, int ok, const char *body, size_t len)
{
	char hdr[64];
	int n = vt_reply_header(hdr, sizeof(hdr), ok, len);
	int ret = port_write_all(c->fd, hdr, n, REPLY_TIMEOUT_MS);

	if (!ret && len)
		ret = port_write_all(c->fd, body, len, REPLY_TIMEOUT_MS);
	if (ret)
		msg("control: reply not delivered (host gone?): %s",
		    strerror(-ret));
	return ret;
}

static int reply_err(struct ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int reply_err(struct ctl *c, const char *fmt, ...)
{
	char m[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m, sizeof(m) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(m) - 2)
		n = sizeof(m) - 2;
	m[n++] = '\n';
	dbg("control: error: %.*s", n - 1, m);
	return reply(c, 0, m, n);
}

static int reply_buf(struct ctl *c, struct vt_buf *b)
{
	int ret = reply(c, 1, b->p ? b->p : "", b->len);

	vt_buf_free(b);
	return ret;
}

static void set_tracing_on(int on)
{
	int ret;

	if (!agent.own_tracing_on)
		return;
	ret = tracefs_write("tracing_on", on ? "1" : "0");
	if (ret)
		msg("cannot write tracing_on: %s", strerror(-ret));
}

static void do_start(void)
{
	if (agent.state == AGENT_RUNNING)
		return;
	agent_set_state(AGENT_RUNNING);
	set_tracing_on(1);
	msg("started");
}

/* tracing off first, so that "every page before the stop" is well defined */
static void do_stop(void)
{
	if (agent.state != AGENT_RUNNING)
		return;
	set_tracing_on(0);
	agent_set_state(AGENT_STOPPED);
	msg("stopped; every page written to the ports");
}

static void counts(struct vt_buf *b)
{
	int cpu;

	for (cpu = 0; cpu < agent.ncpus; cpu++) {
		struct worker *w = agent.workers[cpu];

		if (!w)
			continue;
		vt_buf_printf(b, "cpu%d pages=%llu bytes=%llu session_pages=%llu "
			      "partial_pages=%llu dropped_pages=%llu\n", cpu,
			      (unsigned long long)w->pages,
			      (unsigned long long)w->pages * AGENT_PAGE,
			      (unsigned long long)w->session_pages,
			      (unsigned long long)w->partial_pages,
			      (unsigned long long)w->dropped);
	}
}

static const char *state_name(void)
{
	return agent.state == AGENT_RUNNING ? "running" : "stopped";
}

static void cmd_info(struct ctl *c)
{
	struct vt_buf b = { 0 }, clocks = { 0 };
	char clock[64], line[512];
	struct utsname u;
	int cpu, sep;

	uname(&u);
	tracefs_clock(clock, sizeof(clock), &clocks);
	vt_buf_printf(&b, "proto=%d\nagent=trace-agent\n", VT_PROTO_VERSION);
	vt_buf_printf(&b, "cpus=%d\n", agent.ncpus);
	line[0] = '\0';
	{
		FILE *f = fopen("/sys/devices/system/cpu/online", "re");

		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = '\0';
			fclose(f);
		}
	}
	vt_buf_printf(&b, "online=%.*s\n", (int)strcspn(line, "\n"), line);
	vt_buf_printf(&b, "page_size=%ld\n", sysconf(_SC_PAGESIZE));
	vt_buf_printf(&b, "release=%s\nmachine=%s\n", u.release, u.machine);
	vt_buf_printf(&b, "clock=%s\nclocks=%s\n", clock,
		      clocks.p ? clocks.p : "");
	vt_buf_printf(&b, "tracefs=%s\n", agent.tracefs);
	vt_buf_printf(&b, "ports=");
	for (cpu = 0, sep = 0; cpu < agent.ncpus; cpu++) {
		if (agent.workers[cpu]) {
			vt_buf_printf(&b, "%s%d", sep ? "," : "", cpu);
			sep = 1;
		}
	}
	vt_buf_printf(&b, "\nstate=%s\npipe_size=%zu\n", state_name(),
		      agent.pipe_size);
	if (!tracefs_read_line("buffer_size_kb", line, sizeof(line)))
		vt_buf_printf(&b, "buffer_size_kb=%s\n", line);
	if (!tracefs_read_line("buffer_percent", line, sizeof(line)))
		vt_buf_printf(&b, "buffer_percent=%s\n", line);
	if (!tracefs_read_line("tracing_on", line, sizeof(line)))
		vt_buf_printf(&b, "tracing_on=%s\n", line);
	vt_buf_free(&clocks);
	reply_buf(c, &b);
}

static int word_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-:*.", *s))
			return 0;
	return 1;
}

static void cmd_clock(struct ctl *c, struct vt_proto_req *r)
{
	struct vt_buf b = { 0 };
	char clock[64];
	int ret;

	if (r->argc == 1) {
		if (agent.state == AGENT_RUNNING) {
			reply_err(c, "tracing is running; stop before changing "
				  "the clock");
			return;
		}
		if (!word_ok(r->argv[0])) {
			reply_err(c, "bad clock name");
			return;
		}
		ret = tracefs_write("trace_clock", r->argv[0]);
		if (ret) {
			reply_err(c, "clock %s: %s", r->argv[0], strerror(-ret));
			return;
		}
	}
	tracefs_clock(clock, sizeof(clock), NULL);
	vt_buf_printf(&b, "clock=%s\n", clock);
	reply_buf(c, &b);
}

static int append_event(const char *spec)
{
	char p[512];
	int fd, ret = 0;
	size_t n = strlen(spec);

	if (tracefs_path(p, sizeof(p), "set_event"))
		return -ENAMETOOLONG;
	fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, spec, n) != (ssize_t)n)
		ret = -errno;
	close(fd);
	return ret;
}

static void cmd_events(struct ctl *c, struct vt_proto_req *r)
{
	struct vt_buf b = { 0 };
	int i, ret;

	for (i = 0; i < r->argc; i++) {
		if (!word_ok(r->argv[i]) || r->argv[i][0] == ':') {
			reply_err(c, "bad event '%s' (system:event, system:*)",
				  r->argv[i]);
			return;
		}
	}
	if (r->argc) {
		ret = tracefs_write("set_event", "");
		for (i = 0; !ret && i < r->argc; i++) {
			ret = append_event(r->argv[i]);
			if (ret) {
				reply_err(c, "event %s: %s", r->argv[i],
					  ret == -EINVAL ? "no such event" :
					  strerror(-ret));
				return;
			}
		}
		if (ret) {
			reply_err(c, "set_event: %s", strerror(-ret));
			return;
		}
	}
	ret = tracefs_read("set_event", &b);
	if (ret) {
		vt_buf_free(&b);
		reply_err(c, "set_event: %s", strerror(-ret));
		return;
	}
	reply_buf(c, &b);
}

static void cmd_set(struct ctl *c, struct vt_proto_req *r)
{
	const char *key = r->argv[0], *val = r->argv[1];
	char *end;
	unsigned long v = strtoul(val, &end, 10);
	int ret, cpu;

	if (*end || !*val) {
		reply_err(c, "%s: value must be a number", key);
		return;
	}
	if (!strcmp(key, "pipe_size")) {
		if (agent.state == AGENT_RUNNING) {
			reply_err(c, "tracing is running; stop first");
			return;
		}
		if (v < AGENT_PAGE || v % AGENT_PAGE || v > AGENT_MAX_BATCH) {
			reply_err(c, "pipe_size must be whole pages of %d, at "
				  "most %d bytes", AGENT_PAGE, AGENT_MAX_BATCH);
			return;
		}
		for (cpu = 0; cpu < agent.ncpus; cpu++) {
			struct worker *w = agent.workers[cpu];

			if (w && fcntl(w->pipe_wr, F_SETPIPE_SZ, (int)v) < 0) {
				reply_err(c, "pipe_size %lu: %s", v,
					  strerror(errno));
				return;
			}
		}
		/* stopped: the workers wait, their pipes are empty */
		for (cpu = 0; cpu < agent.ncpus; cpu++) {
			struct worker *w = agent.workers[cpu];

			if (w)
				w->batch = worker_batch(w, v);
		}
		agent.pipe_size = v;
	} else if (!strcmp(key, "buffer_size_kb") ||
		   !strcmp(key, "buffer_percent")) {
		ret = tracefs_write(key, val);
		if (ret) {
			reply_err(c, "%s: %s", key, strerror(-ret));
			return;
		}
	} else {
		reply_err(c, "unknown setting %s (pipe_size, buffer_size_kb, "
			  "buffer_percent)", key);
		return;
	}
	reply(c, 1, "", 0);
}

static void cmd_meta(struct ctl *c)
{
	struct vt_buf b = { 0 };
	char err[512];

	if (meta_pack(&b, err, sizeof(err))) {
		vt_buf_free(&b);
		reply_err(c, "%s", err);
		return;
	}
	reply_buf(c, &b);
}

static void cmd_stats(struct ctl *c)
{
	struct vt_buf b = { 0 };
	int cpu;

	for (cpu = 0; cpu < agent.ncpus; cpu++) {
		struct worker *w = agent.workers[cpu];
		struct vt_buf s = { 0 };
		char rel[64], kv[1024] = "";

		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/stats", cpu);
		if (tracefs_read(rel, &s) == 0)
			vt_proto_stats_kv(s.p, kv, sizeof(kv));
		vt_buf_free(&s);
		vt_buf_printf(&b, "cpu%d %s", cpu, kv);
		if (w)
			vt_buf_printf(&b, " pages=%llu dropped_pages=%llu port=%s",
				      (unsigned long long)w->pages,
				      (unsigned long long)w->dropped, w->port);
		else
			vt_buf_printf(&b, " port=none");
		vt_buf_printf(&b, "\n");
	}
	reply_buf(c, &b);
}

static void handle(struct ctl *c, const char *line)
{
	struct vt_proto_req r;
	struct vt_buf b = { 0 };
	char err[256];

	if (vt_proto_parse(line, &r, err, sizeof(err))) {
		reply_err(c, "%s", err);
		return;
	}
	dbg("control: %s", line);
	switch (r.cmd) {
	case VT_CMD_LEGACY_START:
	case VT_CMD_LEGACY_STOP:
		/* upstream's orders; the echo says when it is done */
		if (r.cmd == VT_CMD_LEGACY_START)
			do_start();
		else
			do_stop();
		if (port_write_all(c->fd, line, 1, REPLY_TIMEOUT_MS) ||
		    port_write_all(c->fd, "\n", 1, REPLY_TIMEOUT_MS))
			msg("control: answer not delivered");
		break;
	case VT_CMD_HELLO:
		if (strcmp(r.argv[0], "1")) {
			reply_err(c, "protocol version %s not supported; this "
				  "agent speaks %d", r.argv[0], VT_PROTO_VERSION);
			break;
		}
		vt_buf_printf(&b, "proto=%d\nagent=trace-agent\n", VT_PROTO_VERSION);
		reply_buf(c, &b);
		break;
	case VT_CMD_INFO:
		cmd_info(c);
		break;
	case VT_CMD_CLOCK:
		cmd_clock(c, &r);
		break;
	case VT_CMD_EVENTS:
		cmd_events(c, &r);
		break;
	case VT_CMD_SET:
		cmd_set(c, &r);
		break;
	case VT_CMD_META:
		cmd_meta(c);
		break;
	case VT_CMD_STATS:
		cmd_stats(c);
		break;
	case VT_CMD_START:
	case VT_CMD_STOP:
	case VT_CMD_QUIT:
		if (r.cmd == VT_CMD_START)
			do_start();
		else
			do_stop();
		vt_buf_printf(&b, "state=%s\n", state_name());
		counts(&b);
		reply_buf(c, &b);
		c->quit = r.cmd == VT_CMD_QUIT;
		break;
	case VT_CMD_RESET:
		if (agent.state == AGENT_RUNNING) {
			reply_err(c, "tracing is running; stop first");
			break;
		}
		if (tracefs_write("trace", "")) {
			reply_err(c, "cannot clear the trace buffers");
			break;
		}
		reply(c, 1, NULL, 0);
		break;
	default:
		reply_err(c, "unhandled command");
	}
}

static int ctl_open(struct ctl *c, bool *said)
{
	char path[512];

	if (port_find(agent.ctl_name, path, sizeof(path))) {
		if (!*said)
			msg("no control port %s yet: waiting for it "
			    "(start with -s to trace without one)",
			    agent.ctl_name);
		*said = true;
		return -ENOENT;
	}
	c->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0) {
		if (!*said)
			msg("open %s: %s", path, strerror(errno));
		*said = true;
		return -errno;
	}
	msg("control port %s", path);
	return 0;
}

/* Reads what the host sent and handles each whole line. */
static int ctl_read(struct ctl *c)
{
	char data[512], line[VT_PROTO_MAX_LINE];
	ssize_t n = read(c->fd, data, sizeof(data));
	size_t off = 0;

	if (n <= 0)
		return n < 0 && errno != EAGAIN && errno != EINTR ? -errno : (int)n;
	while (off < (size_t)n && !c->quit) {
		int got;

		off += vt_proto_lines_feed(&c->lines, data + off, n - off, line,
					   &got);
		if (got > 0)
			handle(c, line);
		else if (got < 0)
			reply_err(c, "request longer than %d bytes",
				  VT_PROTO_MAX_LINE - 1);
	}
	return 1;
}

/*
 * The device went away (hot-unplug, e.g. the host detached): stop, and
 * wait for a control port to come again (the host may attach again).
 */
static void ctl_unplugged(struct ctl *c, bool *said)
{
	msg("control port unplugged: stopping, waiting for a new one");
	do_stop();
	close(c->fd);
	c->fd = -1;
	memset(&c->lines, 0, sizeof(c->lines));
	*said = false;
}

/*
 * The main loop: control requests, signals, and a periodic rescan for
 * CPUs and ports. A disconnected host makes the port report POLLHUP and
 * read 0 at once, so the loop naps then instead of spinning. An unplugged
 * port is closed; the rescan finds the next one.
 */
int ctl_loop(int sig_fd, bool start_now)
{
	struct ctl c = { .fd = -1 };
	long long last_scan = 0;
	bool said = false;

	if (start_now)
		do_start();
	while (!c.quit) {
		struct pollfd pfd[2] = {
			{ .fd = sig_fd, .events = POLLIN },
			{ .fd = c.fd, .events = POLLIN },
		};
		int n;

		if (vt_now_ms() - last_scan >= RESCAN_MS) {
			workers_rescan();
			if (c.fd < 0)
				ctl_open(&c, &said);
			last_scan = vt_now_ms();
		}
		n = poll(pfd, 2, 1000);
		if (n < 0 && errno != EINTR) {
			msg("poll: %s", strerror(errno));
			return -errno;
		}
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				msg("%s: stopping", strsignal(si.ssi_signo));
			break;
		}
		if (c.fd < 0 || n <= 0)
			continue;
		if (port_state_of(pfd[1].revents) == PORT_UNPLUGGED) {
			ctl_unplugged(&c, &said);
			last_scan = 0;	/* let the workers go now */
			continue;
		}
		if (pfd[1].revents & POLLIN) {
			n = ctl_read(&c);
			if (n > 0)
				continue;
		}
		/* host side not connected (or read error): do not spin */
		nap(250);
	}
	if (agent.state == AGENT_RUNNING)
		set_tracing_on(0);
	agent_set_state(AGENT_EXITING);
	if (c.fd >= 0)
		close(c.fd);
	return 0;
}
