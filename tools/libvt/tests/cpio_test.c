// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the metadata packing (cpio.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vt_cpio.h"
#include "tap.h"

static void test_paths(void)
{
	tap_ok(vt_cpio_path_ok("events/sched/sched_switch/format"),
	       "path: tracefs path accepted");
	tap_ok(vt_cpio_path_ok("kallsyms"), "path: plain name accepted");
	tap_ok(!vt_cpio_path_ok("/etc/passwd"), "path: absolute refused");
	tap_ok(!vt_cpio_path_ok("events/../../x") && !vt_cpio_path_ok(".."),
	       "path: .. refused");
	tap_ok(!vt_cpio_path_ok("events//x") && !vt_cpio_path_ok("events/") &&
	       !vt_cpio_path_ok("./x") && !vt_cpio_path_ok(""),
	       "path: empty and . components refused");
	tap_ok(vt_cpio_path_ok("..x/y.."), "path: dots inside names are fine");
}

static void test_roundtrip(void)
{
	static const char fmt[] = "name: sched_switch\nID: 316\n";
	struct vt_buf b = { 0 };
	struct vt_cpio_entry e;
	size_t off = 0;
	char big[10000];
	int ret;

	memset(big, 'k', sizeof(big));
	tap_ok(!vt_cpio_add(&b, "events/header_page", "a", 1) &&
	       !vt_cpio_add(&b, "events/sched/sched_switch/format", fmt,
			 sizeof(fmt) - 1) &&
	       !vt_cpio_add(&b, "saved_cmdlines", "", 0) &&
	       !vt_cpio_add(&b, "kallsyms", big, sizeof(big)) &&
	       !vt_cpio_finish(&b), "pack: four files and the trailer");
	tap_ok(b.len % 4 == 0, "pack: archive is 4-byte aligned (%zu)", b.len);
	tap_ok(vt_cpio_add(&b, "../evil", "x", 1) == -EINVAL,
	       "pack: unsafe path refused");

	ret = vt_cpio_next(b.p, b.len, &off, &e);
	tap_ok(ret == 1 && !strcmp(e.name, "events/header_page") &&
	       e.size == 1 && e.data[0] == 'a', "unpack: 1-byte file");
	ret = vt_cpio_next(b.p, b.len, &off, &e);
	tap_ok(ret == 1 && e.size == sizeof(fmt) - 1 &&
	       !memcmp(e.data, fmt, e.size) && e.mode == 0100644,
	       "unpack: format file intact");
	ret = vt_cpio_next(b.p, b.len, &off, &e);
	tap_ok(ret == 1 && !strcmp(e.name, "saved_cmdlines") && !e.size,
	       "unpack: empty file");
	ret = vt_cpio_next(b.p, b.len, &off, &e);
	tap_ok(ret == 1 && e.size == sizeof(big) &&
	       !memcmp(e.data, big, e.size), "unpack: 10000-byte file");
	ret = vt_cpio_next(b.p, b.len, &off, &e);
	tap_ok(ret == 0 && off == b.len, "unpack: trailer ends the archive");
	vt_buf_free(&b);
}

static void test_malformed(void)
{
	struct vt_buf b = { 0 }, t = { 0 };
	struct vt_cpio_entry e;
	size_t off, cut;
	int bad = 0;

	vt_cpio_add(&b, "events/header_event", "0123456789", 10);
	vt_cpio_finish(&b);

	/*
	 * Every cut before the end of the entry's data fails cleanly (the
	 * trailer is 124 bytes; the entry's last 2 are padding, not needed).
	 */
	for (cut = 0; cut < b.len - 124 - 2; cut++) {
		off = 0;
		if (vt_cpio_next(b.p, cut, &off, &e) == 1)
			bad++;
	}
	tap_ok(!bad, "malformed: every truncated first entry refused");

	vt_buf_append(&t, b.p, b.len);
	t.p[0] = '1';
	off = 0;
	tap_ok(vt_cpio_next(t.p, t.len, &off, &e) == -EINVAL, "malformed: bad magic");
	memcpy(t.p, b.p, b.len);
	t.p[6 + 8 * 6] = 'z';		/* filesize field */
	off = 0;
	tap_ok(vt_cpio_next(t.p, t.len, &off, &e) == -EINVAL,
	       "malformed: non-hex field");
	memcpy(t.p, b.p, b.len);
	memcpy(t.p + 6 + 8 * 6, "7FFFFFFF", 8);
	off = 0;
	tap_ok(vt_cpio_next(t.p, t.len, &off, &e) == -EINVAL,
	       "malformed: size past the end");
	memcpy(t.p, b.p, b.len);
	memcpy(t.p + 6 + 8, "000041ED", 8);	/* a directory */
	off = 0;
	tap_ok(vt_cpio_next(t.p, t.len, &off, &e) == -EINVAL,
	       "malformed: non-regular entry refused");
	memcpy(t.p, b.p, b.len);
	memcpy(t.p + 110, "/vents", 6);		/* absolute name */
	off = 0;
	tap_ok(vt_cpio_next(t.p, t.len, &off, &e) == -EINVAL,
	       "malformed: unsafe name in archive refused");
	vt_buf_free(&b);
	vt_buf_free(&t);
}

/* GNU cpio (when installed) reads what we write. */
static void test_gnu_cpio(void)
{
	char dir[] = "/tmp/cpio_test.XXXXXX", cmd[512], got[64] = "";
	struct vt_buf b = { 0 };
	FILE *f;

	if (system("cpio --version > /dev/null 2>&1")) {
		printf("ok %d - # SKIP no cpio(1)\n", ++tap_n);
		return;
	}
	vt_cpio_add(&b, "events/sched/sched_switch/format", "ID: 316\n", 8);
	vt_cpio_finish(&b);
	if (!mkdtemp(dir))
		return;
	snprintf(cmd, sizeof(cmd), "%s/a.cpio", dir);
	f = fopen(cmd, "w");
	fwrite(b.p, 1, b.len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && cpio -id --quiet < a.cpio && cat events/sched/sched_switch/format",
		 dir);
	f = popen(cmd, "r");
	if (f) {
		if (!fgets(got, sizeof(got), f))
			got[0] = '\0';
		pclose(f);
	}
	tap_ok(!strcmp(got, "ID: 316\n"), "cpio(1) unpacks our archive");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return;
	vt_buf_free(&b);
}

int main(void)
{
	tap_plan(NULL, 21);
	test_paths();
	test_roundtrip();
	test_malformed();
	test_gnu_cpio();
	return tap_done();
}
