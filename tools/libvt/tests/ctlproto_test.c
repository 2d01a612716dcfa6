// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the control protocol's request words and reply framing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "vt_qemu.h"
#include "tap.h"

static int parse(const char *line, struct ctl_req *r)
{
	return ctl_parse(line, strlen(line), r);
}

static void t_simple(void)
{
	struct ctl_req r;
	int err = parse("status vm1", &r);

	tap_ok(!err && r.argc == 2 && !strcmp(r.argv[0], "status") &&
	       !strcmp(r.argv[1], "vm1") && r.nextra == 0,
	       "two words parse");
	ctl_req_free(&r);
	err = parse("  list\t\r", &r);
	tap_ok(!err && r.argc == 1 && !strcmp(r.argv[0], "list"),
	       "blanks, tabs and a trailing CR are separators");
	ctl_req_free(&r);
}

static void t_keys(void)
{
	static const char *const keys[] = { "dir", "ports", NULL };
	struct ctl_req r;
	const char *bad = NULL;
	int err = parse("launch dir=/a%20b ports=2 -- qemu -smp 2", &r);

	tap_ok(!err && r.argc == 3 && r.nextra == 3 &&
	       !strcmp(ctl_get(&r, "dir"), "/a b") &&
	       !strcmp(ctl_get(&r, "ports"), "2") && !ctl_get(&r, "port") &&
	       !strcmp(r.extra[0], "qemu") && !strcmp(r.extra[2], "2"),
	       "KEY=VALUE words before --, a command line after");
	tap_ok(!ctl_check_keys(&r, keys, &bad), "known keys accepted");
	ctl_req_free(&r);
	parse("launch dir=/x policy=drop", &r);
	tap_ok(ctl_check_keys(&r, keys, &bad) == -EINVAL &&
	       !strcmp(bad, "policy=drop"), "an unknown key is named");
	ctl_req_free(&r);
	parse("launch dir=/x -- a -- b", &r);
	tap_ok(r.argc == 2 && r.nextra == 3 && !strcmp(r.extra[1], "--"),
	       "only the first -- separates");
	ctl_req_free(&r);
}

static void t_roundtrip(void)
{
	const char *words[] = { "launch", "", "a b\tc", "100%", "é\x01~",
				"-device", "x=y,z", "--" };
	struct vt_buf b;
	struct ctl_req r;
	int i, same = 1, err;

	vt_buf_init(&b);
	for (i = 0; i < 8; i++)
		ctl_add_word(&b, words[i]);
	err = ctl_parse(b.p, b.len, &r);
	same = !err && r.argc == 8;
	for (i = 0; same && i < 8; i++)
		same = !strcmp(r.argv[i], words[i]);
	tap_ok(same && !strchr(b.p, '\n'),
	       "escaped words (empty, blanks, %%, UTF-8, control, --) round-trip: %s",
	       b.p);
	ctl_req_free(&r);
	vt_buf_free(&b);
}

static void t_errors(void)
{
	const char *bad[] = { "", "   ", "a %", "a %4", "a %zz", "a %00",
			      "a\x01", "a \x7f", "-- x" };
	struct ctl_req r;
	char *big;
	int i, ok = 1;

	for (i = 0; i < 9; i++) {
		int err = parse(bad[i], &r);

		if (err != -EINVAL) {
			printf("# '%s' gave %d\n", bad[i], err);
			ok = 0;
			if (!err)
				ctl_req_free(&r);
		}
	}
	tap_ok(ok, "empty, bad escapes, NUL, control bytes, leading -- refused");
	big = malloc(CTL_MAX_LINE + 1);
	memset(big, 'a', CTL_MAX_LINE);
	tap_ok(ctl_parse(big, CTL_MAX_LINE, &r) == -E2BIG,
	       "a line of CTL_MAX_LINE bytes is too long");
	for (i = 0; i < CTL_MAX_LINE; i += 2)
		big[i] = 'w', big[i + 1] = ' ';
	tap_ok(ctl_parse(big, CTL_MAX_LINE - 2, &r) == -EINVAL,
	       "more than CTL_MAX_WORDS words refused");
	free(big);
}

static void t_reply(void)
{
	struct vt_buf b;
	size_t len;
	int ok;
	char v[16];

	vt_buf_init(&b);
	ctl_reply(&b, 1, "x=1\ny=22\n", 9);
	tap_ok(b.len == 14 && !memcmp(b.p, "ok 9\nx=1\ny=22\n", 14),
	       "ok reply framing");
	tap_ok(!ctl_parse_reply_header("ok 9", &ok, &len) && ok && len == 9 &&
	       !ctl_parse_reply_header("err 0", &ok, &len) && !ok && !len,
	       "reply headers parse");
	tap_ok(ctl_parse_reply_header("ok", &ok, &len) &&
	       ctl_parse_reply_header("ok -1", &ok, &len) &&
	       ctl_parse_reply_header("ok 9x", &ok, &len) &&
	       ctl_parse_reply_header("fine 9", &ok, &len) &&
	       ctl_parse_reply_header("ok 99999999999", &ok, &len),
	       "bad reply headers refused (no length, sign, junk, too big)");
	tap_ok(ctl_body_get(b.p + 5, "y", v, sizeof(v)) && !strcmp(v, "22") &&
	       !ctl_body_get(b.p + 5, "z", v, sizeof(v)),
	       "KEY=VALUE lines of a body");
	vt_buf_free(&b);
}

static int smp(const char *a, const char *b, const char *c)
{
	char *v[] = { (char *)a, (char *)b, (char *)c };

	return vt_qemu_smp_cpus(c ? 3 : b ? 2 : 1, v);
}

static void t_smp(void)
{
	tap_ok(smp("qemu", NULL, NULL) == 0, "no -smp: 0");
	tap_ok(smp("qemu", "-smp", "4") == 4 &&
	       smp("qemu", "-smp", "cpus=3,maxcpus=8") == 3 &&
	       smp("qemu", "--smp", "6,sockets=1") == 6,
	       "-smp N, cpus=N, N,sockets=");
	tap_ok(smp("qemu", "-smp", "sockets=2,cores=2,threads=2") == 8,
	       "-smp topology without cpus=: the product");
	tap_ok(smp("qemu", "-smp", "x") < 0 && smp("qemu", "-smp", NULL) < 0 &&
	       smp("qemu", "-smp", "cpus=0") < 0 &&
	       smp("qemu", "-smp", "foo=2") < 0,
	       "unreadable -smp refused");
}

int main(void)
{
	tap_plan("vhost-traced control protocol", 18);
	t_simple();
	t_keys();
	t_roundtrip();
	t_errors();
	t_reply();
	t_smp();
	return tap_done();
}
