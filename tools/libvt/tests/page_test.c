// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the ring-buffer page checker (page.c). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "vt_page.h"

static unsigned char page[VT_PAGE_SIZE];
static size_t woff;

static void put32(uint32_t v)
{
	memcpy(page + woff, &v, 4);
	woff += 4;
}

static void start_page(uint64_t ts)
{
	memset(page, 0, sizeof(page));
	memcpy(page, &ts, 8);
	woff = VT_PAGE_HDR;
}

static void end_page(uint64_t flags)
{
	uint64_t commit = (woff - VT_PAGE_HDR) | flags;

	memcpy(page + 8, &commit, 8);
}

/* A small event: type_len words of data. */
static void event(uint32_t delta, unsigned int words)
{
	unsigned int i;

	put32(words | delta << 5);
	for (i = 0; i < words; i++)
		put32(0xdead0000 + i);
}

int main(void)
{
	struct vt_page_info pi;
	char err[256];

	tap_plan(NULL, 10);

	start_page(1000);
	event(0, 4);
	event(10, 6);
	put32(30 | 5 << 5);		/* time extend: 1 << 27 + 5 */
	put32(1);
	event(3, 2);
	put32(0 | 7 << 5);		/* type_len 0: length in array[0] */
	put32(4 + 120);			/* array[0] + 120 bytes of data */
	woff += 120;
	end_page(0);
	tap_ok(!vt_page_check(page, &pi, err, sizeof(err)) && pi.events == 4,
	       "valid page with small, extended-time and long events");
	tap_ok(pi.first_ts == 1000 &&
	       pi.last_ts == 1000 + 10 + (1ull << 27) + 5 + 3 + 7,
	       "event time stamps accumulate deltas and extends");

	end_page(VT_PAGE_MISSED_EVENTS);
	tap_ok(!vt_page_check(page, &pi, err, sizeof(err)) && pi.missed &&
	       pi.commit == woff - VT_PAGE_HDR,
	       "missed-events flag is not part of the commit size");

	start_page(5);
	event(1, 1);
	put32(29 | 1 << 5);		/* discarded event: padding, delta 1 */
	put32(16);			/* whole event is 4 + 16 bytes */
	woff += 12;
	event(1, 1);
	end_page(0);
	tap_ok(!vt_page_check(page, &pi, err, sizeof(err)) && pi.events == 2,
	       "discarded events are skipped");

	start_page(5);
	event(1, 1);
	put32(29);			/* null event: rest of the page */
	woff += 4;
	end_page(0);
	tap_ok(!vt_page_check(page, &pi, err, sizeof(err)) && pi.events == 1,
	       "a null padding event ends the page");

	start_page(5);
	event(1, 3);
	end_page(0);
	memcpy(page + 8, &(uint64_t){ 0 }, 8);
	tap_ok(vt_page_check(page, &pi, err, sizeof(err)) == -EINVAL &&
	       strstr(err, "commit size 0"), "empty commit refused");
	memcpy(page + 8, &(uint64_t){ VT_PAGE_SIZE }, 8);
	tap_ok(vt_page_check(page, &pi, err, sizeof(err)) == -EINVAL,
	       "commit beyond the page refused");
	memcpy(page + 8, &(uint64_t){ 10 }, 8);
	tap_ok(vt_page_check(page, &pi, err, sizeof(err)) == -EINVAL &&
	       strstr(err, "runs past commit"),
	       "event running past commit refused: %s", err);

	start_page(0);
	event(1, 1);
	end_page(0);
	tap_ok(vt_page_check(page, &pi, err, sizeof(err)) == -EINVAL &&
	       strstr(err, "time stamp 0"), "zero page time stamp refused");

	memset(page, 0xff, sizeof(page));
	tap_ok(vt_page_check(page, &pi, err, sizeof(err)) == -EINVAL,
	       "garbage page refused");
	return tap_done();
}
