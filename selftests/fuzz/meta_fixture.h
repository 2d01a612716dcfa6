/* SPDX-License-Identifier: GPL-2.0 */
/* A guest's metadata directory for the trace.dat fuzz targets. */
#ifndef VT_FUZZ_META_H
#define VT_FUZZ_META_H

#include <sys/stat.h>

#include "fuzz.h"

#define HEADER_PAGE \
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" \
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n" \
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" \
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n"
#define HEADER_EVENT \
	"# compressed entry header\n\ttype_len    :    5 bits\n" \
	"\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n" \
	"\tpadding     : type == 29\n\ttime_extend : type == 30\n" \
	"\ttime_stamp : type == 31\n\tdata max type_len  == 28\n"
#define FORMAT \
	"name: vtest_event\nID: 1000\nformat:\n" \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n" \
	"\tfield:unsigned int seq;\toffset:8;\tsize:4;\tsigned:0;\n\n" \
	"print fmt: \"seq=%u\", REC->seq\n"

/* dir/meta with the files above; header_page and format replaceable */
static inline void meta_fixture(const char *meta, const char *hp,
				size_t hplen, const char *fmt, size_t fmtlen)
{
	char p[512];

	mkdir(meta, 0755);
	snprintf(p, sizeof(p), "%s/events", meta);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/events/vtest", meta);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/events/vtest/vtest_event", meta);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/events/vtest/vtest_event/format", meta);
	fuzz_write_file(p, fmt ? fmt : FORMAT, fmt ? fmtlen : strlen(FORMAT));
	snprintf(p, sizeof(p), "%s/header_page", meta);
	fuzz_write_file(p, hp ? hp : HEADER_PAGE, hp ? hplen :
			strlen(HEADER_PAGE));
	snprintf(p, sizeof(p), "%s/header_event", meta);
	fuzz_write_file(p, HEADER_EVENT, strlen(HEADER_EVENT));
}

#endif
