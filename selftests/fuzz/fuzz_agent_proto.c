// SPDX-License-Identifier: GPL-2.0
/*
 * The agent protocol's framing and parsing (tools/libvt/proto.c), as the host
 * uses it on the guest's bytes: lines assembled from a stream, reply
 * headers, key=value lines, per-CPU statistics; and requests as the
 * agent parses them.
 */
#include "vt_proto.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vt_proto_lines pl;
	static char line[VT_PROTO_MAX_LINE], out[4096];
	const char *p = (const char *)data;
	struct vt_proto_req req;
	char err[128], val[64];
	size_t left = size, used, len;
	int got, ok;

	memset(&pl, 0, sizeof(pl));
	while (left) {
		used = vt_proto_lines_feed(&pl, p, left, line, &got);
		if (!used || used > left)
			abort();
		p += used;
		left -= used;
		if (got != 1)
			continue;
		if (strlen(line) >= VT_PROTO_MAX_LINE)
			abort();
		vt_proto_parse(line, &req, err, sizeof(err));
		if (!vt_proto_parse_reply(line, &ok, &len) && len > VT_PROTO_MAX_BODY)
			abort();
		vt_proto_kv_get(line, "bytes", val, sizeof(val));
		out[0] = '\0';
		vt_proto_stats_kv(line, out, sizeof(out));
	}
	{
		char *s = malloc(size + 1);

		if (!s)
			return 0;
		memcpy(s, data, size);
		s[size] = '\0';
		out[0] = '\0';
		vt_proto_stats_kv(s, out, sizeof(out));
		vt_proto_kv_get(s, "overrun", val, sizeof(val));
		free(s);
	}
	return 0;
}
