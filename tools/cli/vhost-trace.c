// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace: the command line of vhost-traced. Records, lists, shows
 * and stops the daemon's tracing sessions.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "merge.h"
#include "client.h"
#include "domain.h"
#include "vt_qemu.h"

#define DEFAULT_SOCKET	"/run/vhost-trace/traced.sock"

static const char *sock_path = DEFAULT_SOCKET;
static volatile sig_atomic_t interrupted;

static void usage(FILE *f)
{
	fprintf(f,
"usage: vhost-trace [-s SOCKET] COMMAND [ARG]...\n"
"Talks to vhost-traced (the vhost-trace host daemon).\n"
"\n"
"  record --launch -o DIR [OPTION]... -- QEMU [QEMU-ARG]...\n"
"        start QEMU traced: per-CPU guest trace pages go to DIR/cpuN.raw\n"
"        (or FIFOs DIR/cpuN.fifo), QEMU's output to DIR/qemu.log, the\n"
"        final statistics to DIR/stats. The daemon adds the\n"
"        vhost-trace-pci device and the agent chardev to QEMU's\n"
"        arguments. Shows a progress line until QEMU exits; Ctrl-C stops\n"
"        tracing (the VM keeps running).\n"
"  record --attach QMP_SOCKET -o DIR [OPTION]...\n"
"        trace a VM that runs already, without a reboot: the daemon\n"
"        hot-plugs the agent chardev and vhost-trace-pci over QEMU's QMP\n"
"        socket (QEMU ... -qmp unix:QMP_SOCKET,server=on,wait=off); the\n"
"        guest agent finds the new ports by itself. Stop (Ctrl-C, or\n"
"        `stop`) completes the files as for --launch, then unplugs the\n"
"        device again (the guest must let the PCI device go) and the VM\n"
"        runs on untraced. Files as for --launch, without qemu.log.\n"
"          -b, --bus BUS       device_add bus= (default: QEMU's choice)\n"
"  record --domain NAME [--connect URI] -o DIR [OPTION]...\n"
"        the same for a running libvirt domain, through your own libvirt\n"
"        connection (URI, or libvirt's default): this command relays the\n"
"        daemon's QMP commands to the domain's QEMU with\n"
"        virDomainQemuMonitorCommandWithFiles, so libvirt decides whether\n"
"        you may change the domain. Its XML is left as it was. A later\n"
"        `stop` relays the unplug through the stopping user's libvirt.\n"
"        See vhost-trace(1), \"Tracing a libvirt domain\"\n"
"  Options of both:\n"
"          -n, --ports N       trace ports (default: QEMU's -smp CPUs with\n"
"                              --launch, its vCPUs with --attach; or 1)\n"
"          -N, --name NAME     session name (default vmID)\n"
"          -p, --policy P      block (default: the guest waits, nothing is\n"
"                              lost) or drop (the guest never waits)\n"
"          -F, --fifo          FIFOs for a live reader instead of files\n"
"          -R, --by-ref        with -F: the guest's pages lent to the FIFOs,\n"
"                              not copied (both front ends)\n"
"          -A, --no-agent      do not start/stop the guest agent\n"
"          -e, --event SYS:EV  trace this event (repeat; SYS:* for a\n"
"                              system); default: the agent's choice.\n"
"                              Needs an agent speaking version 1, which\n"
"                              also gets DIR/trace.dat written at stop\n"
"          -c, --clock C       x86-tsc (default): the guest traces with\n"
"                              the TSC and the daemon samples KVM's TSC\n"
"                              offsets, for a time shift in DIR/trace.dat\n"
"                              and DIR/guest.map (see merge); keep: the\n"
"                              guest's own trace clock\n"
"          -f, --front-end F   who presents the device to the guest: vhost\n"
"                              (vhost-trace-pci of the patched QEMU), vdpa\n"
"                              (a stock QEMU >= 8.0's vhost-vdpa-device-pci\n"
"                              on the module's vDPA device; kernels with\n"
"                              CONFIG_VDPA), or auto (default): by what\n"
"                              QEMU offers, vhost-trace-pci first\n"
"          -d, --detach        return once QEMU is started (or attached)\n"
"          -q, --quiet         no progress line\n"
"  list                 the sessions: state, bytes, MB/s, drops\n"
"  status [SESSION]     one session (id or name) per CPU, or all\n"
"  stop SESSION         stop tracing: the agent flushes, files complete;\n"
"                       an attached device is unplugged; a session\n"
"                       ended, or detached before, leaves the list\n"
"  report [-H HOST.DAT] DIR [-- ARG...]\n"
"                       DIR/trace.dat through stock trace-cmd report\n"
"                       (ARGs go to it); with -H, a host trace recorded\n"
"                       at the same time with\n"
"                         trace-cmd record -C x86-tsc -e kvm:kvm_entry ...\n"
"                       is paired with it first (merge) and both are\n"
"                       shown on one time line\n"
"  merge HOST.DAT DIR   only the pairing (local files, no daemon):\n"
"                       HOST.DAT gets a GUEST option naming the guest and\n"
"                       the host thread of each vCPU; DIR/trace.dat's\n"
"                       time shift gets HOST.DAT's trace id. Then\n"
"                         trace-cmd report -i HOST.DAT -i DIR/trace.dat\n"
"                       (or KernelShark) shows both on one time line\n"
"\n"
"  -s, --socket PATH    daemon socket (default $VHOST_TRACED_SOCKET or\n"
"                       " DEFAULT_SOCKET ")\n"
"  -h, --help           this help\n"
"\n"
"Exit status: 0 ok; 1 the daemon refused (its message is printed), or\n"
"an attached device could not be unplugged (the files are complete);\n"
"2 usage; 3 the daemon cannot be reached or refused the connection;\n"
"4 the traced QEMU exited with an error.\n");
}

static void on_int(int sig)
{
	interrupted = 1;
}

static double mb(const char *v)
{
	return v ? strtod(v, NULL) / 1e6 : 0;
}

/* Calls, printing a refusal; returns the exit code. */
static int call(int fd, char **argv, int argc, char **extra, int nextra,
		struct vt_buf *body)
{
	int rc = client_call(fd, argv, argc, extra, nextra, body);

	if (rc && body->p && body->len)
		fprintf(stderr, "vhost-trace: %s\n", body->p);
	return rc;
}

/* Runs fn on every line of a reply body, parsed into words. */
static void each_line(const char *body, void (*fn)(struct ctl_req *, void *),
		      void *arg)
{
	const char *l = body;

	while (l && *l) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		struct ctl_req r;

		if (!ctl_parse(l, n, &r)) {
			fn(&r, arg);
			ctl_req_free(&r);
		}
		l = nl ? nl + 1 : NULL;
	}
}

static const char *get(struct ctl_req *r, const char *k)
{
	const char *v = ctl_get(r, k);

	return v ? v : "-";
}

static void list_line(struct ctl_req *r, void *arg)
{
	int *header = arg;

	if (strcmp(r->argv[0], "session"))
		return;
	if (!*header) {
		printf("%-4s %-16s %-8s %-8s %5s %10s %8s %8s %-9s %s\n", "ID",
		       "NAME", "STATE", "PID", "PORTS", "MB", "MB/s", "DROPPED",
		       "AGENT", "DIR");
		*header = 1;
	}
	printf("%-4s %-16s %-8s %-8s %5s %10.1f %8.2f %8s %-9s %s\n",
	       get(r, "id"), get(r, "name"), get(r, "state"), get(r, "pid"),
	       get(r, "ports"), mb(ctl_get(r, "bytes")), mb(ctl_get(r, "rate")),
	       get(r, "dropped_buffers"), get(r, "agent"), get(r, "dir"));
}

static void status_line(struct ctl_req *r, void *arg)
{
	int *detach_failed = arg;

	if (!strcmp(r->argv[0], "session")) {
		const char *mode = ctl_get(r, "mode");
		int header = 0;

		list_line(r, &header);
		if (mode && !strcmp(mode, "attach") && ctl_get(r, "domain"))
			printf("attached to libvirt domain %s (%s): device %s "
			       "%s\n", get(r, "domain"), ctl_get(r, "uri")[0] ?
			       ctl_get(r, "uri") : "default URI",
			       get(r, "device"), get(r, "device_state"));
		else if (mode && !strcmp(mode, "attach"))
			printf("attached over %s: device %s %s\n", get(r, "qmp"),
			       get(r, "device"), get(r, "device_state"));
		if (ctl_get(r, "front"))
			printf("front end %s%s%s%s%s\n", get(r, "front"),
			       ctl_get(r, "vdpa") ? ": vDPA device " : "",
			       ctl_get(r, "vdpa") ? get(r, "vdpa") : "",
			       ctl_get(r, "vhostdev") ? " on " : "",
			       ctl_get(r, "vhostdev") ? get(r, "vhostdev") :
			       "");
		if (ctl_get(r, "error"))
			fprintf(stderr, "vhost-trace: %s\n",
				ctl_get(r, "error"));
		/* what the guest did wrong; why there is no trace.dat */
		if (ctl_get(r, "agent_error"))
			printf("agent error: %s\n", ctl_get(r, "agent_error"));
		if (ctl_get(r, "tracedat_error"))
			printf("no trace.dat: %s\n",
			       ctl_get(r, "tracedat_error"));
		if (detach_failed)
			*detach_failed = !strcmp(get(r, "device_state"),
						 "detach-failed");
		if (ctl_get(r, "exit"))
			printf("qemu exited with status %s\n", ctl_get(r, "exit"));
		if (ctl_get(r, "signal"))
			printf("qemu killed by signal %s\n", ctl_get(r, "signal"));
		if (ctl_get(r, "tsc"))
			printf("guest trace clock %s, KVM TSC terms: %s (%s "
			       "changes)\n", get(r, "clock"), get(r, "tsc"),
			       get(r, "tsc_changes"));
		if (ctl_get(r, "recovered"))
			printf("taken over after a daemon restart\n");
		printf("  %-6s %12s %10s %8s %10s %8s %8s %6s %6s %10s\n",
		       "CPU", "BYTES", "PAGES", "MB/s", "DROPPED", "STALLS",
		       "ERRORS", "SINK", "FLAGS", "LOST");
		return;
	}
	/* DROPPED: pages the module dropped; LOST: events the guest lost */
	printf("  %-6s %12s %10s %8.2f %10s %8s %8s %6s %6s %10s\n",
	       r->argv[0], get(r, "bytes"), get(r, "buffers"),
	       mb(ctl_get(r, "rate")), get(r, "dropped_buffers"),
	       get(r, "stalls"), get(r, "sink_errors"),
	       strtoul(get(r, "flags"), NULL, 0) & 1 ? "yes" : "no",
	       get(r, "flags"), get(r, "lost_events"));
}

static int cmd_list(int fd)
{
	char *argv[] = { "list" };
	struct vt_buf body;
	int rc, header = 0;

	vt_buf_init(&body);
	rc = call(fd, argv, 1, NULL, -1, &body);
	if (!rc) {
		each_line(body.p, list_line, &header);
		if (!header)
			printf("no sessions\n");
	}
	vt_buf_free(&body);
	return rc;
}

static int cmd_status(int fd, int argc, char **argv)
{
	char *req[] = { "status", argc > 1 ? argv[1] : NULL };
	struct vt_buf body;
	int rc;

	if (argc > 2) {
		fprintf(stderr, "vhost-trace: status takes one session\n");
		return EXIT_USAGE;
	}
	if (argc < 2)
		return cmd_list(fd);
	vt_buf_init(&body);
	rc = call(fd, req, 2, NULL, -1, &body);
	if (!rc)
		each_line(body.p, status_line, NULL);
	vt_buf_free(&body);
	return rc;
}

/* A session attached through libvirt: its domain and URI. */
struct libvirt_of {
	char domain[256];
	char uri[256];
	int state_running;
};

static void libvirt_line(struct ctl_req *r, void *arg)
{
	struct libvirt_of *l = arg;

	if (strcmp(r->argv[0], "session") || !ctl_get(r, "domain"))
		return;
	snprintf(l->domain, sizeof(l->domain), "%s", ctl_get(r, "domain"));
	snprintf(l->uri, sizeof(l->uri), "%s",
		 ctl_get(r, "uri") ? ctl_get(r, "uri") : "");
	/* the device is in the domain (an ended session's left with QEMU) */
	l->state_running = (!strcmp(get(r, "device_state"), "attached") ||
			    !strcmp(get(r, "device_state"), "taken")) &&
			   strcmp(get(r, "state"), "ended");
}

/*
 * A session on a libvirt domain whose device is still in: a bridge of
 * this user's libvirt connection for the unplug (domain.h). NULL when
 * not such a session, or when libvirt cannot be reached (the daemon
 * then says the unplug failed; the files are complete all the same).
 */
static struct domain_bridge *stop_bridge(int fd, char *id)
{
	char *req[] = { "status", id };
	struct domain_bridge *b = NULL;
	struct libvirt_of l;
	struct vt_buf body;

	memset(&l, 0, sizeof(l));
	vt_buf_init(&body);
	if (!client_call(fd, req, 2, NULL, -1, &body))
		each_line(body.p, libvirt_line, &l);
	vt_buf_free(&body);
	if (l.domain[0] && l.state_running &&
	    domain_bridge_open(l.domain, l.uri[0] ? l.uri : NULL, 0, &b))
		b = NULL;
	return b;
}

static int cmd_stop(int fd, int argc, char **argv)
{
	char *req[] = { "stop", argc > 1 ? argv[1] : NULL };
	struct domain_bridge *b;
	struct vt_buf body;
	int rc, failed = 0;

	if (argc != 2) {
		fprintf(stderr, "vhost-trace: stop takes one session (an id "
			"or a name)\n");
		return EXIT_USAGE;
	}
	b = stop_bridge(fd, argv[1]);
	vt_buf_init(&body);
	rc = client_call_fd(fd, req, 2, NULL, -1, b ? domain_bridge_fd(b) : -1,
			    &body);
	if (rc && body.p && body.len)
		fprintf(stderr, "vhost-trace: %s\n", body.p);
	if (!rc)
		each_line(body.p, status_line, &failed);
	vt_buf_free(&body);
	domain_bridge_close(b, 0);
	return rc ? rc : failed ? EXIT_REFUSED : 0;
}

struct progress {
	struct vt_buf line;
	char state[16];
	char exit_code[16];
	char signal[16];
};

static void progress_line(struct ctl_req *r, void *arg)
{
	struct progress *p = arg;

	if (!strcmp(r->argv[0], "session")) {
		snprintf(p->state, sizeof(p->state), "%s", get(r, "state"));
		snprintf(p->exit_code, sizeof(p->exit_code), "%s",
			 ctl_get(r, "exit") ? ctl_get(r, "exit") : "");
		snprintf(p->signal, sizeof(p->signal), "%s",
			 ctl_get(r, "signal") ? ctl_get(r, "signal") : "");
		vt_buf_printf(&p->line, "%s %s: %.1f MB %.2f MB/s, lost %s "
			    "events %s pages |", get(r, "name"), p->state,
			    mb(ctl_get(r, "bytes")), mb(ctl_get(r, "rate")),
			    get(r, "lost_events"), get(r, "dropped_buffers"));
		return;
	}
	vt_buf_printf(&p->line, " %s %.1f MB %.2f MB/s lost %s", r->argv[0],
		    mb(ctl_get(r, "bytes")), mb(ctl_get(r, "rate")),
		    get(r, "lost_events"));
}

/* Follows a session until QEMU exits (or Ctrl-C: stop). */
static int follow(int fd, const char *id, int quiet)
{
	char *req[] = { "status", (char *)id };
	char *stop[] = { "stop", (char *)id };
	int tty = isatty(2) && !quiet, rc;
	struct progress p;
	struct vt_buf body;

	vt_buf_init(&body);
	for (;;) {
		memset(&p, 0, sizeof(p));
		rc = call(fd, req, 2, NULL, -1, &body);
		if (rc)
			break;
		each_line(body.p, progress_line, &p);
		if (tty)
			fprintf(stderr, "\r%s\033[K", p.line.p ? p.line.p : "");
		vt_buf_free(&p.line);
		if (!strcmp(p.state, "ended") || !strcmp(p.state, "stopped") ||
		    interrupted)
			break;
		sleep(1);
	}
	if (tty)
		fputc('\n', stderr);
	if (!rc) {
		int failed = 0;

		/* stops tracing (Ctrl-C), or forgets the ended session */
		rc = call(fd, stop, 2, NULL, -1, &body);
		if (!rc)
			each_line(body.p, status_line, &failed);
		if (!rc && failed)
			rc = EXIT_REFUSED;
		/* an attached QEMU's exit status is not known */
		if (!rc && !strcmp(p.state, "ended") &&
		    (p.signal[0] || (p.exit_code[0] &&
				     strcmp(p.exit_code, "0")))) {
			fprintf(stderr, "vhost-trace: qemu %s %s (its output: "
				"DIR/qemu.log)\n",
				p.signal[0] ? "killed by signal" : "exited with "
				"status", p.signal[0] ? p.signal : p.exit_code);
			rc = EXIT_GUEST;
		}
	}
	vt_buf_free(&body);
	return rc;
}

/* A request: the command, then KEY=VALUE words added by name. */
struct request {
	char *word[16];
	int n;
	int err;
};

__attribute__((format(printf, 3, 4)))
static void req_add(struct request *r, const char *key, const char *fmt, ...)
{
	char *v = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (len < 0 || r->n == (int)(sizeof(r->word) / sizeof(r->word[0])) ||
	    asprintf(&r->word[r->n], "%s=%s", key, v) < 0)
		r->err = 1;
	else
		r->n++;
	if (len >= 0)
		free(v);
}

static void req_start(struct request *r, const char *cmd)
{
	r->word[0] = strdup(cmd);
	r->n = !!r->word[0];
	r->err = !r->word[0];
}

static void req_free(struct request *r)
{
	while (r->n)
		free(r->word[--r->n]);
}

static int cmd_record(int fd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "launch", no_argument, NULL, 'L' },
		{ "attach", required_argument, NULL, 'a' },
		{ "domain", required_argument, NULL, 'D' },
		{ "connect", required_argument, NULL, 'C' },
		{ "bus", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "ports", required_argument, NULL, 'n' },
		{ "name", required_argument, NULL, 'N' },
		{ "policy", required_argument, NULL, 'p' },
		{ "fifo", no_argument, NULL, 'F' },
		{ "by-ref", no_argument, NULL, 'R' },
		{ "no-agent", no_argument, NULL, 'A' },
		{ "event", required_argument, NULL, 'e' },
		{ "clock", required_argument, NULL, 'c' },
		{ "detach", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "front-end", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *front = "auto";
	char dir[PATH_MAX], cwd[PATH_MAX], qmp[PATH_MAX];
	const char *out = NULL, *name = NULL, *policy = "block";
	const char *attach = NULL, *bus = NULL;
	const char *domain = NULL, *uri = NULL;
	struct domain_bridge *bridge = NULL;
	const char *clock = "x86-tsc";
	int launch = 0, fifo = 0, byref = 0, agent = 1, detach = 0, quiet = 0;
	int opt, ports = 0, ports_given = 0, rc;
	struct request req;
	struct vt_buf body, events;
	char id[32];

	vt_buf_init(&events);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+La:D:C:b:o:n:N:p:FRAe:c:dqf:h", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'L': launch = 1; break;
		case 'a': attach = optarg; break;
		case 'D': domain = optarg; break;
		case 'C': uri = optarg; break;
		case 'b': bus = optarg; break;
		case 'o': out = optarg; break;
		case 'n': ports = atoi(optarg); ports_given = 1; break;
		case 'N': name = optarg; break;
		case 'p': policy = optarg; break;
		case 'F': fifo = 1; break;
		case 'R': byref = 1; break;
		case 'A': agent = 0; break;
		case 'e':
			vt_buf_printf(&events, "%s%s", events.len ? "," : "",
				    optarg);
			break;
		case 'c': clock = optarg; break;
		case 'd': detach = 1; break;
		case 'q': quiet = 1; break;
		case 'f': front = optarg; break;
		case 'h': usage(stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	rc = EXIT_USAGE;
	if (byref && !fifo) {
		fprintf(stderr, "vhost-trace: --by-ref lends pages to FIFOs: "
			"it needs --fifo\n");
		goto out_events;
	}
	if (strcmp(front, "vhost") && strcmp(front, "vdpa") &&
	    strcmp(front, "auto")) {
		fprintf(stderr, "vhost-trace: --front-end is vhost, vdpa or "
			"auto\n");
		goto out_events;
	}
	if (launch + !!attach + !!domain != 1) {
		fprintf(stderr, "vhost-trace: record needs one of --launch, "
			"--attach QMP_SOCKET, --domain NAME\n");
		goto out_events;
	}
	if (uri && !domain) {
		fprintf(stderr, "vhost-trace: --connect goes with --domain\n");
		goto out_events;
	}
	if (domain && (!out || optind < argc)) {
		fprintf(stderr, "vhost-trace: record --domain NAME [--connect "
			"URI] -o DIR [OPTION]... (no QEMU command)\n");
		goto out_events;
	}
	if (launch && (!out || optind >= argc)) {
		fprintf(stderr, "vhost-trace: record --launch -o DIR -- QEMU "
			"[ARG]...\n");
		goto out_events;
	}
	if (attach && (!out || optind < argc)) {
		fprintf(stderr, "vhost-trace: record --attach QMP_SOCKET -o DIR "
			"[OPTION]... (no QEMU command)\n");
		goto out_events;
	}
	if (bus && !attach && !domain) {
		fprintf(stderr, "vhost-trace: --bus goes with --attach or "
			"--domain\n");
		goto out_events;
	}
	if (strcmp(clock, "x86-tsc") && strcmp(clock, "keep")) {
		fprintf(stderr, "vhost-trace: --clock is x86-tsc or keep\n");
		goto out_events;
	}
	if (strcmp(policy, "block") && strcmp(policy, "drop")) {
		fprintf(stderr, "vhost-trace: --policy is block or drop\n");
		goto out_events;
	}
	if (launch && !ports) {
		ports = vt_qemu_smp_cpus(argc - optind, argv + optind);
		if (ports < 0) {
			fprintf(stderr, "vhost-trace: cannot read QEMU's -smp; "
				"give --ports\n");
			goto out_events;
		}
		if (!ports)
			ports = 1;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		perror("vhost-trace: getcwd");
		goto out_events;
	}
	if (attach && !realpath(attach, qmp)) {
		fprintf(stderr, "vhost-trace: %s: %s\n", attach,
			strerror(errno));
		goto out_events;
	}
	if (mkdir(out, 0755) && errno != EEXIST) {
		fprintf(stderr, "vhost-trace: cannot create %s: %s\n", out,
			strerror(errno));
		goto out_events;
	}
	if (!realpath(out, dir)) {
		fprintf(stderr, "vhost-trace: %s: %s\n", out, strerror(errno));
		goto out_events;
	}

	if (domain) {
		rc = domain_bridge_open(domain, uri, 1, &bridge);
		if (rc)
			goto out_events;
		rc = EXIT_USAGE;
	}
	req_start(&req, launch ? "launch" : "attach");
	req_add(&req, "dir", "%s", dir);
	if (launch)
		req_add(&req, "cwd", "%s", cwd);
	else if (domain)
		req_add(&req, "domain", "%s", domain);
	else
		req_add(&req, "qmp", "%s", qmp);
	if (uri)
		req_add(&req, "uri", "%s", uri);
	if (launch || ports_given)	/* attach without: QEMU's vCPUs */
		req_add(&req, "ports", "%d", ports);
	req_add(&req, "policy", "%s", policy);
	req_add(&req, "sink", "%s", byref ? "fifo-ref" : fifo ? "fifo" : "file");
	req_add(&req, "agent", "%s", agent ? "on" : "off");
	if (name)
		req_add(&req, "name", "%s", name);
	if (events.len)
		req_add(&req, "events", "%s", events.p);
	if (bus)
		req_add(&req, "bus", "%s", bus);
	req_add(&req, "clock", "%s", clock);
	if (strcmp(front, "auto"))	/* a daemon before it knows no front= */
		req_add(&req, "front", "%s", front);

	vt_buf_init(&body);
	if (req.err) {
		fprintf(stderr, "vhost-trace: out of memory\n");
		rc = EXIT_DAEMON;
	} else {
		rc = client_call_fd(fd, req.word, req.n,
				    launch ? argv + optind : NULL,
				    launch ? argc - optind : -1,
				    bridge ? domain_bridge_fd(bridge) : -1,
				    &body);
		if (rc && body.p && body.len)
			fprintf(stderr, "vhost-trace: %s\n", body.p);
	}
	if (bridge)
		domain_bridge_sent(bridge);
	req_free(&req);
	if (rc)
		goto out;
	{
		struct ctl_req r;
		char *nl = strchr(body.p, '\n');

		if (ctl_parse(body.p, nl ? (size_t)(nl - body.p) : body.len, &r)) {
			rc = EXIT_DAEMON;
			goto out;
		}
		snprintf(id, sizeof(id), "%s", get(&r, "id"));
		printf("vhost-trace: session %s (%s) %s, QEMU pid %s, %s "
		       "port(s), output in %s\n", id, get(&r, "name"),
		       launch ? "started" : !domain ? "attached" :
		       !strcmp(get(&r, "device_state"), "taken") ?
		       "took over the domain's own device" :
		       "attached to domain", get(&r, "pid"),
		       get(&r, "ports"), dir);
		if (ctl_get(&r, "front")) {
			printf("vhost-trace: front end %s", get(&r, "front"));
			if (ctl_get(&r, "vdpa"))
				printf(" (vDPA device %s%s%s)", get(&r, "vdpa"),
				       ctl_get(&r, "vhostdev") ? " on " : "",
				       ctl_get(&r, "vhostdev") ?
				       get(&r, "vhostdev") : "");
			printf("\n");
		}
		ctl_req_free(&r);
	}
	fflush(stdout);
	if (!detach)
		rc = follow(fd, id, quiet);
out:
	vt_buf_free(&body);
	domain_bridge_close(bridge, 0);
out_events:
	vt_buf_free(&events);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cmd;
	int opt, fd, rc;

	if (getenv("VHOST_TRACED_SOCKET"))
		sock_path = getenv("VHOST_TRACED_SOCKET");
	while ((opt = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "merge"))
		return cmd_merge(argc, argv);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc, argv);
	if (strcmp(cmd, "record") && strcmp(cmd, "list") &&
	    strcmp(cmd, "status") && strcmp(cmd, "stop")) {
		fprintf(stderr, "vhost-trace: unknown command '%s' (record, "
			"list, status, stop, merge, report; --help)\n", cmd);
		return EXIT_USAGE;
	}
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	signal(SIGPIPE, SIG_IGN);
	fd = client_open(sock_path);
	if (fd < 0)
		return EXIT_DAEMON;
	if (!strcmp(cmd, "record"))
		rc = cmd_record(fd, argc, argv);
	else if (!strcmp(cmd, "list"))
		rc = cmd_list(fd);
	else if (!strcmp(cmd, "status"))
		rc = cmd_status(fd, argc, argv);
	else
		rc = cmd_stop(fd, argc, argv);
	close(fd);
	return rc;
}
