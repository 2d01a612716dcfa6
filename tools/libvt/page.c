// SPDX-License-Identifier: GPL-2.0
/*
 * A ring-buffer page: header (time_stamp, commit with the missed-events
 * flags in bits 31/30), then events of a 32-bit header (type_len:5,
 * time_delta:27). Walking them must end exactly at commit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vt_le.h"
#include "vt_page.h"

int vt_page_check(const unsigned char *page, struct vt_page_info *pi, char *err,
		  size_t errsz)
{
	uint64_t ts, flags;
	size_t off = VT_PAGE_HDR, end;

	memset(pi, 0, sizeof(*pi));
	pi->time_stamp = vt_le64(page);
	flags = vt_le64(page + 8);
	pi->missed = !!(flags & (VT_PAGE_MISSED_EVENTS | VT_PAGE_MISSED_STORED));
	pi->commit = flags & ~(VT_PAGE_MISSED_EVENTS | VT_PAGE_MISSED_STORED);
	if (pi->commit == 0 || pi->commit > VT_PAGE_SIZE - VT_PAGE_HDR) {
		snprintf(err, errsz, "commit size %llu out of range",
			 (unsigned long long)pi->commit);
		return -EINVAL;
	}
	if (pi->time_stamp == 0) {
		snprintf(err, errsz, "time stamp 0");
		return -EINVAL;
	}
	ts = pi->time_stamp;
	end = VT_PAGE_HDR + pi->commit;
	while (off < end) {
		uint32_t h, tl, td, len;

		if (end - off < 4)
			goto trunc;
		h = vt_le32(page + off);
		tl = h & 31;
		td = h >> 5;
		switch (tl) {
		case VT_RB_PADDING:
			if (td == 0)
				return 0;	/* null event: the rest is filler */
			if (end - off < 8)
				goto trunc;
			len = vt_le32(page + off + 4) + 4;
			break;
		case VT_RB_TIME_EXTEND:
			if (end - off < 8)
				goto trunc;
			ts += ((uint64_t)vt_le32(page + off + 4) << 27) + td;
			len = 8;
			break;
		case VT_RB_TIME_STAMP:
			if (end - off < 8)
				goto trunc;
			ts = ((uint64_t)vt_le32(page + off + 4) << 27) | td;
			len = 8;
			break;
		case 0:
			if (end - off < 8)
				goto trunc;
			len = vt_le32(page + off + 4) + 4;
			goto data;
		default:
			len = tl * 4 + 4;
data:
			ts += td;
			if (!pi->events++)
				pi->first_ts = ts;
			pi->last_ts = ts;
			break;
		}
		if (len < 4 || len > end - off) {
			snprintf(err, errsz, "event at offset %zu (type %u) of "
				 "%u bytes runs past commit %llu", off, tl, len,
				 (unsigned long long)pi->commit);
			return -EINVAL;
		}
		off += (len + 3) & ~3u;
	}
	if (off != end) {
		snprintf(err, errsz, "events end at %zu, not at commit %zu",
			 off, end);
		return -EINVAL;
	}
	return 0;
trunc:
	snprintf(err, errsz, "event header at offset %zu cut by commit", off);
	return -EINVAL;
}
