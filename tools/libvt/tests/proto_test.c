// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the control protocol parser (proto.c). */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "vt_proto.h"

static int parse(const char *line, struct vt_proto_req *r)
{
	char err[256];

	return vt_proto_parse(line, r, err, sizeof(err));
}

static void test_lines(void)
{
	struct vt_proto_lines pl = { 0 };
	char line[VT_PROTO_MAX_LINE], big[VT_PROTO_MAX_LINE + 10];
	const char *in = "1\n0\r\nstats";
	size_t off = 0, used;
	int got;

	used = vt_proto_lines_feed(&pl, in, strlen(in), line, &got);
	tap_ok(used == 2 && got == 1 && !strcmp(line, "1"),
	       "lines: legacy \"1\\n\" is one line");
	off += used;
	used = vt_proto_lines_feed(&pl, in + off, strlen(in) - off, line, &got);
	tap_ok(got == 1 && !strcmp(line, "0"), "lines: \"\\r\\n\" is stripped");
	off += used;
	used = vt_proto_lines_feed(&pl, in + off, strlen(in) - off, line, &got);
	tap_ok(got == 0 && used == 5, "lines: a partial line waits");
	vt_proto_lines_feed(&pl, "\n", 1, line, &got);
	tap_ok(got == 1 && !strcmp(line, "stats"),
	       "lines: a line split across reads is joined");

	memset(big, 'a', sizeof(big));
	vt_proto_lines_feed(&pl, big, sizeof(big), line, &got);
	tap_ok(got == 0, "lines: overlong line not returned early");
	vt_proto_lines_feed(&pl, "\nhello 1\n", 9, line, &got);
	tap_ok(got == -1, "lines: overlong line reported and discarded");
	vt_proto_lines_feed(&pl, "hello 1\n", 8, line, &got);
	tap_ok(got == 1 && !strcmp(line, "hello 1"),
	       "lines: the next line after an overlong one is intact");
}

static void test_parse(void)
{
	struct vt_proto_req r;
	char err[256];

	tap_ok(!parse("1", &r) && r.cmd == VT_CMD_LEGACY_START && r.argc == 0,
	       "parse: \"1\" is the legacy start");
	tap_ok(!parse("0", &r) && r.cmd == VT_CMD_LEGACY_STOP,
	       "parse: \"0\" is the legacy stop");
	tap_ok(!parse("hello 1", &r) && r.cmd == VT_CMD_HELLO && r.argc == 1 &&
	       !strcmp(r.argv[0], "1"), "parse: hello with its version");
	tap_ok(!parse("  events\tsched:sched_switch  sched:sched_wakeup ", &r) &&
	       r.cmd == VT_CMD_EVENTS && r.argc == 2 &&
	       !strcmp(r.argv[1], "sched:sched_wakeup") && !r.argv[2],
	       "parse: blanks and tabs separate words");
	tap_ok(!parse("events", &r) && r.cmd == VT_CMD_EVENTS && r.argc == 0,
	       "parse: events without arguments lists them");
	tap_ok(!parse("set buffer_percent 25", &r) && r.cmd == VT_CMD_SET &&
	       !strcmp(r.argv[0], "buffer_percent") &&
	       !strcmp(r.argv[1], "25"), "parse: set KEY VALUE");
	tap_ok(vt_proto_parse("set buffer_percent", &r, err, sizeof(err)) ==
	       -EINVAL && strstr(err, "set takes 2"),
	       "parse: wrong argument count is refused with a message");
	tap_ok(parse("hello", &r) == -EINVAL, "parse: hello needs a version");
	tap_ok(vt_proto_parse("frobnicate", &r, err, sizeof(err)) == -EINVAL &&
	       strstr(err, "unknown command 'frobnicate'"),
	       "parse: unknown command named in the error");
	tap_ok(parse("", &r) == -EINVAL && parse("   ", &r) == -EINVAL,
	       "parse: empty request refused");
	tap_ok(vt_proto_parse("info\x01", &r, err, sizeof(err)) == -EINVAL &&
	       strstr(err, "0x01"), "parse: control bytes refused");
	tap_ok(parse("10", &r) == -EINVAL && parse("1 1", &r) == -EINVAL,
	       "parse: only exactly \"1\" or \"0\" are legacy orders");
	{
		char line[400] = "events";
		int i;

		for (i = 0; i < VT_PROTO_MAX_ARGS; i++)
			strcat(line, " a:b");
		tap_ok(!parse(line, &r) && r.argc == VT_PROTO_MAX_ARGS,
		       "parse: %d arguments accepted", VT_PROTO_MAX_ARGS);
		strcat(line, " a:b");
		tap_ok(parse(line, &r) == -EINVAL,
		       "parse: %d arguments refused", VT_PROTO_MAX_ARGS + 1);
	}
	tap_ok(!strcmp(vt_proto_cmd_name(VT_CMD_META), "meta"),
	       "parse: command names");
}

static void test_reply(void)
{
	char h[64];
	size_t len;
	int ok;

	vt_reply_header(h, sizeof(h), 1, 1234);
	tap_ok(!strcmp(h, "ok 1234\n"), "reply: ok header");
	vt_reply_header(h, sizeof(h), 0, 7);
	tap_ok(!strcmp(h, "err 7\n"), "reply: err header");
	tap_ok(!vt_proto_parse_reply("ok 1234", &ok, &len) && ok && len == 1234,
	       "reply: ok header parsed");
	tap_ok(!vt_proto_parse_reply("err 0", &ok, &len) && !ok && len == 0,
	       "reply: err header parsed");
	tap_ok(vt_proto_parse_reply("ok", &ok, &len) == -EINVAL &&
	       vt_proto_parse_reply("ok -1", &ok, &len) == -EINVAL &&
	       vt_proto_parse_reply("ok 12x", &ok, &len) == -EINVAL &&
	       vt_proto_parse_reply("OK 1", &ok, &len) == -EINVAL &&
	       vt_proto_parse_reply("1", &ok, &len) == -EINVAL,
	       "reply: malformed headers refused");
	tap_ok(vt_proto_parse_reply("ok 99999999999", &ok, &len) == -EINVAL,
	       "reply: body over the limit refused");
}

static void test_stats(void)
{
	/* per_cpu/cpu0/stats as 6.1 and 6.12 print it */
	const char *st =
		"entries: 3\noverrun: 0\ncommit overrun: 0\nbytes: 4052\n"
		"oldest event ts:    52.367341\nnow ts:    61.080917\n"
		"dropped events: 0\nread events: 1523\n";
	char kv[512] = "", v[64];
	int n = vt_proto_stats_kv(st, kv, sizeof(kv));

	tap_ok(n == 8, "stats: 8 pairs (got %d)", n);
	tap_ok(!strcmp(kv, "entries=3 overrun=0 commit_overrun=0 bytes=4052 "
		       "oldest_event_ts=52.367341 now_ts=61.080917 "
		       "dropped_events=0 read_events=1523"),
	       "stats: key=value line: %s", kv);
	tap_ok(!vt_proto_kv_get(kv, "now_ts", v, sizeof(v)) &&
	       !strcmp(v, "61.080917"), "stats: lookup now_ts");
	tap_ok(!vt_proto_kv_get(kv, "overrun", v, sizeof(v)) && !strcmp(v, "0"),
	       "stats: lookup does not match commit_overrun for overrun");
	tap_ok(vt_proto_kv_get(kv, "nosuch", v, sizeof(v)) == -ENOENT,
	       "stats: missing key");
	kv[0] = '\0';
	tap_ok(vt_proto_stats_kv(st, kv, 20) == -ENOSPC, "stats: overflow caught");
	kv[0] = '\0';
	tap_ok(vt_proto_stats_kv("junk\n: 3\nempty:\n", kv, sizeof(kv)) == 0 &&
	       kv[0] == '\0', "stats: lines without key or value skipped");
}

int main(void)
{
	tap_plan(NULL, 35);
	test_lines();
	test_parse();
	test_reply();
	test_stats();
	return tap_done();
}
