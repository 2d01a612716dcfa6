// SPDX-License-Identifier: GPL-2.0
/* Unit tests of unpacking the agent's metadata archive (metadir.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vt_cpio.h"
#include "tap.h"
#include "vt_metadir.h"

static int file_is(const char *dir, const char *rel, const char *want)
{
	char p[512];
	struct vt_buf b = { 0 };
	int ok;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	ok = !vt_buf_read_file(&b, p) && b.len == strlen(want) &&
		!memcmp(b.p ? b.p : "", want, b.len);
	vt_buf_free(&b);
	return ok;
}

int main(void)
{
	char dir[] = "/tmp/metadir_test.XXXXXX", err[256], cmd[300];
	struct vt_buf b = { 0 };
	int n;

	tap_plan(NULL, 9);
	if (!mkdtemp(dir))
		return 1;

	vt_cpio_add(&b, "events/header_page", "hp\n", 3);
	vt_cpio_add(&b, "events/header_event", "he\n", 3);
	vt_cpio_add(&b, "events/sched/sched_switch/format", "ID: 316\n", 8);
	vt_cpio_add(&b, "printk_formats", "", 0);
	vt_cpio_add(&b, "kallsyms", "ffffffff81000000 T _text\n", 25);
	vt_cpio_finish(&b);

	n = vt_metadir_unpack(b.p, b.len, dir, err, sizeof(err));
	tap_ok(n == 5, "5 files unpacked (got %d)", n);
	tap_ok(file_is(dir, "events/header_page", "hp\n") &&
	       file_is(dir, "events/header_event", "he\n"),
	       "header files at events/header_*, as in tracefs");
	tap_ok(file_is(dir, "events/sched/sched_switch/format", "ID: 316\n"),
	       "event format at events/<system>/<event>/format");
	tap_ok(file_is(dir, "printk_formats", "") &&
	       file_is(dir, "kallsyms", "ffffffff81000000 T _text\n"),
	       "top-level files, empty ones too");

	n = vt_metadir_unpack(b.p, b.len, dir, err, sizeof(err));
	tap_ok(n == 5 && file_is(dir, "events/header_page", "hp\n"),
	       "unpacking again over an existing directory replaces files");

	/* what a user planted in DIR/meta: never followed, never waited on */
	snprintf(cmd, sizeof(cmd), "%s/printk_formats", dir);
	unlink(cmd);
	n = symlink("/etc/passwd", cmd);
	n = vt_metadir_unpack(b.p, b.len, dir, err, sizeof(err));
	tap_ok(n < 0 && strstr(err, "printk_formats"),
	       "a link in the archive's place is not followed: %s", err);
	tap_ok(!file_is(dir, "printk_formats", ""),
	       "nor read through (vt_buf_read_file)");
	unlink(cmd);
	if (mkfifo(cmd, 0600))
		return 1;
	n = vt_metadir_unpack(b.p, b.len, dir, err, sizeof(err));
	tap_ok(n < 0 && !file_is(dir, "printk_formats", ""),
	       "a FIFO in its place: refused at once, not waited on: %s",
	       err);
	unlink(cmd);

	b.p[b.len - 1] = 'x';
	memcpy(b.p + 110, "/ven", 4);	/* first name made absolute */
	n = vt_metadir_unpack(b.p, b.len, dir, err, sizeof(err));
	tap_ok(n < 0 && strstr(err, "unsafe"),
	       "an unsafe archive is refused: %s", err);

	vt_buf_free(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return tap_done();
}
