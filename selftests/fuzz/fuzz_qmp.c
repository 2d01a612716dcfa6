// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's side of QMP (tools/traced/qmp.c, jansson underneath): the input
 * is everything QEMU says (greeting, answers, events), then it hangs up.
 * The client opens, runs a command with an answer, waits for a
 * DEVICE_DELETED; qmp_array_count reads the input as a "return" value.
 */
#include <errno.h>

#include "qmp.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_buf ret;
	struct qmp q;
	int peer, fd;

	qmp_array_count((const char *)data, size);
	fd = fuzz_peer(data, size, &peer);
	if (fd < 0)
		return 0;
	vt_buf_init(&ret);
	if (!qmp_open(&q, fd, 1000)) {
		qmp_watch_deleted(&q, "vtrace1");
		if (!qmp_exec(&q, "query-cpus-fast", NULL, -1, &ret, 1000))
			qmp_array_count(ret.p, ret.len);
		qmp_exec(&q, "device_del", "{\"id\":\"vtrace1\"}", -1, NULL,
			 1000);
		qmp_wait_deleted(&q, 100);
		qmp_close(&q);
	}
	vt_buf_free(&ret);
	close(peer);
	return 0;
}
