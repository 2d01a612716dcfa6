// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's control protocol (tools/traced/ctlproto.c): request lines
 * from any group member, reply headers and bodies read by the CLI, and a
 * QEMU command line's -smp (words after "--").
 */
#include "ctlproto.h"
#include "vt_qemu.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "start", "name", "dir", "ports",
					    "events", NULL };
	char *s = malloc(size + 1), val[64];
	const char *bad;
	struct ctl_req req;
	struct vt_buf b;
	size_t len;
	int ok;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!ctl_parse(s, size, &req)) {
		ctl_get(&req, "name");
		ctl_check_keys(&req, keys, &bad);
		if (req.nextra)
			vt_qemu_smp_cpus(req.nextra, req.extra);
		vt_buf_init(&b);
		for (ok = 0; ok < req.argc; ok++)
			ctl_add_word(&b, req.argv[ok]);
		if (b.p) {
			struct ctl_req again;

			/* what was written reads back */
			if (!ctl_parse(b.p, b.len, &again)) {
				if (again.argc != req.argc)
					abort();
				ctl_req_free(&again);
			}
		}
		vt_buf_free(&b);
		ctl_req_free(&req);
	}
	ctl_parse_reply_header(s, &ok, &len);
	ctl_body_get(s, "state", val, sizeof(val));
	free(s);
	return 0;
}
