// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the front-end choice (vdpa.c: what a QEMU's -device help
 * or qom-list-types offers, and the choice for vhost, vdpa and auto) and
 * of the agent on a vDPA device's port 0 (agent.c with port0): not a
 * socket but an fd read and written as a byte stream, as the module's
 * control fd. A pty's master stands for the control fd (read/write/poll,
 * recv/send fail on it); a thread on the raw slave plays the guest: a
 * version 1 agent, then an upstream one that ignores the hello.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"
#include "tap.h"
#include "vdpa.h"
#include "vt_time.h"

/* -device help of Debian's QEMU 10.0 (excerpt) and of the patched 7.2 */
static const char stock_help[] =
	"name \"vhost-user-vsock-pci\", bus PCI\n"
	"name \"vhost-vdpa-device-pci\", bus PCI\n"
	"name \"vhost-vdpa-device-pci-non-transitional\", bus PCI\n";
static const char glue_help[] =
	"name \"vhost-trace-pci\", bus PCI, desc \"vhost-trace\"\n"
	"name \"virtio-serial-pci\", bus PCI\n";
static const char qom[] =
	"[{\"name\":\"virtio-rng-pci\",\"parent\":\"virtio-rng-pci-base\"},"
	"{\"name\":\"vhost-vdpa-device-pci\",\"parent\":\"virtio-pci\"}]";

static void test_choice(void)
{
	char why[160];
	struct vt_buf err;
	int f;

	tap_ok(front_scan(stock_help) == QEMU_HAS_VDPA,
	   "scan: stock QEMU 10.0's -device help: vhost-vdpa-device-pci only");
	tap_ok(front_scan(glue_help) == QEMU_HAS_VHOST_TRACE,
	   "scan: the patched QEMU's: vhost-trace-pci");
	tap_ok(front_scan("name \"vhost-vdpa-device-pci-transitional\"") == 0,
	   "scan: a longer name is not the device");
	tap_ok(front_scan(qom) == QEMU_HAS_VDPA, "scan: qom-list-types JSON");

	vt_buf_init(&err);
	f = front_choose(FRONT_AUTO, QEMU_HAS_VHOST_TRACE | QEMU_HAS_VDPA,
			 "q", &err, why, sizeof(why));
	tap_ok(f == FRONT_VHOST, "auto, QEMU has both: vhost (%s)", why);
	f = front_choose(FRONT_AUTO, QEMU_HAS_VDPA, "q", &err, why,
			 sizeof(why));
	tap_ok(f == FRONT_VDPA, "auto, stock QEMU: vdpa (%s)", why);
	f = front_choose(FRONT_AUTO, -ENOENT, "q", &err, why, sizeof(why));
	tap_ok(f == FRONT_VHOST && !err.len,
	   "auto, QEMU not asked (a wrapper): vhost, as before (%s)", why);
	f = front_choose(FRONT_AUTO, 0, "qemu-x", &err, why, sizeof(why));
	tap_ok(f < 0 && strstr(err.p, "qemu-x has neither"),
	   "auto, QEMU has neither: refused (%s)", err.p);
	err.len = 0;
	f = front_choose(FRONT_VHOST, QEMU_HAS_VDPA, "qemu-y", &err, why,
			 sizeof(why));
	tap_ok(f < 0 && strstr(err.p, "qemu-y has no vhost-trace-pci"),
	   "vhost asked, stock QEMU: refused, says why (%s)", err.p);
	err.len = 0;
	f = front_choose(FRONT_VDPA, QEMU_HAS_VHOST_TRACE, "q", &err, why,
			 sizeof(why));
	tap_ok(f < 0 && strstr(err.p, "QEMU >= 8.0"),
	   "vdpa asked, QEMU 7.2: refused, says why (%s)", err.p);
	err.len = 0;
	f = front_choose(FRONT_VDPA, -ENOENT, "q", &err, why, sizeof(why));
	tap_ok(f == FRONT_VDPA, "vdpa asked, QEMU not asked: vdpa");
	{
		char *shared[] = { "qemu", "-object",
			"memory-backend-memfd,id=m,size=1G,share=on",
			"-machine", "memory-backend=m" };
		char *private[] = { "qemu", "-m", "1G", "-object",
			"memory-backend-ram,id=m,size=1G", "-name", "share=on" };

		tap_ok(front_shared_ram_args(5, shared) &&
		       !front_shared_ram_args(7, private),
		       "shared RAM: a memory backend with share=on, nothing "
		       "else");
	}
	tap_ok(front_by_name("vdpa") == FRONT_VDPA &&
	   front_by_name("vhost") == FRONT_VHOST &&
	   front_by_name("auto") == FRONT_AUTO && front_by_name("x") < 0 &&
	   !strcmp(front_name(FRONT_VDPA), "vdpa"), "front end names");
	vt_buf_free(&err);
}

struct guest {
	int fd;			/* the pty's slave, raw */
	int upstream;		/* ignore hello, echo the orders */
	char got[512];		/* what the host sent, '\n' as ';' */
};

static int line(struct guest *g)
{
	size_t n = strlen(g->got);
	char c;

	while (read(g->fd, &c, 1) == 1) {
		if (n + 1 < sizeof(g->got))
			g->got[n++] = c == '\n' ? ';' : c;
		g->got[n] = '\0';
		if (c == '\n')
			return 0;
	}
	return -1;
}

static int put(struct guest *g, const char *body)
{
	char hdr[32];
	size_t n = strlen(body);

	snprintf(hdr, sizeof(hdr), "ok %zu\n", n);
	return write(g->fd, hdr, strlen(hdr)) != (ssize_t)strlen(hdr) ||
	       write(g->fd, body, n) != (ssize_t)n;
}

static void *guest_side(void *arg)
{
	struct guest *g = arg;

	/* the port is opened late: nothing is read for a while */
	usleep(300000);
	if (g->upstream) {
		/* "hello 1" is no order; then "1\n", "0\n", echoed */
		if (line(g) || line(g) || write(g->fd, "1\n", 2) != 2 ||
		    line(g) || write(g->fd, "0\n", 2) != 2)
			fprintf(stderr, "# upstream guest: %s\n",
				strerror(errno));
		return NULL;
	}
	if (line(g) || put(g, "proto=1\nagent=fake\n") || line(g) ||
	    put(g, "proto=1\ncpus=2\nstate=stopped\nclock=local\n"
		"clocks=local\nrelease=6.12.0-test\nmachine=x86_64\n") ||
	    line(g) || put(g, "started\n") || line(g) ||
	    put(g, "cpu0 bytes=8192\ncpu1 bytes=4096\n"))
		fprintf(stderr, "# guest: %s\n", strerror(errno));
	return NULL;
}

/* The session thread's part: poll, input, tick, until state or ms. */
static void drive(struct agent *a, enum agent_state want, int ms)
{
	long end = vt_now_ms() + ms;

	while (a->state != want && a->fd >= 0 && vt_now_ms() < end) {
		struct pollfd p = { .fd = a->fd, .events = POLLIN };

		if (poll(&p, 1, 100) > 0)
			agent_input(a);
		agent_tick(a);
	}
}

static int pty(int *slave)
{
	struct termios t;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) || unlockpt(m))
		return -1;
	*slave = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0 || tcgetattr(*slave, &t))
		return -1;
	cfmakeraw(&t);
	if (tcsetattr(*slave, TCSANOW, &t))
		return -1;
	return fcntl(m, F_SETFL, O_NONBLOCK) ? -1 : m;
}

static void test_port0(int upstream)
{
	struct guest g = { .upstream = upstream };
	struct agent a = { 0 };
	pthread_t th;
	uint64_t b0 = 0, b1 = 0;
	char c;
	int m, rc;

	m = pty(&g.fd);
	if (m < 0) {
		tap_ok(0, "a pty for the fake control fd: %s", strerror(errno));
		return;
	}
	tap_ok(recv(m, &c, 1, MSG_DONTWAIT) < 0 && errno == ENOTSOCK,
	   "the stand-in is no socket (recv: ENOTSOCK)");
	agent_init(&a, "vdpa:vt-test", 1, NULL, NULL);
	a.fd = m;
	a.port0 = 1;
	pthread_create(&th, NULL, guest_side, &g);
	tap_ok(agent_start(&a) == 0 && a.state == AGENT_HELLO,
	   "%s: hello written to port 0", upstream ? "upstream" : "v1");
	drive(&a, AGENT_RUNNING, 8000);
	tap_ok(a.state == AGENT_RUNNING && a.proto == (upstream ? -1 : 1),
	   "%s: running over port 0 (proto %d)", upstream ? "upstream agent, "
	   "after the unanswered hello" : "version 1 agent", a.proto);
	rc = agent_stop(&a, 5000);
	if (!upstream) {
		agent_sent_bytes(&a, 0, &b0);
		agent_sent_bytes(&a, 1, &b1);
	}
	tap_ok(!rc && a.state == AGENT_STOPPED &&
	   (upstream || (b0 == 8192 && b1 == 4096)),
	   "%s: stop confirmed%s", upstream ? "upstream" : "v1",
	   upstream ? " (echo of 0)" : ", per-CPU bytes from its answer");
	pthread_join(th, NULL);
	tap_ok(!strcmp(g.got, upstream ? "hello 1;1;0;" :
		   "hello 1;info;start;stop;"),
	   "the guest got: %s", g.got);
	close(g.fd);
	drive(&a, AGENT_GONE, 2000);
	tap_ok(a.state == AGENT_GONE && a.fd < 0,
	   "the device went (hang-up): agent gone, not polled again");
	agent_free(&a);
}

int main(void)
{
	tap_plan("vdpa: front-end choice, the agent on port 0", 25);
	test_choice();
	test_port0(0);
	test_port0(1);
	return tap_done();
}
