// SPDX-License-Identifier: GPL-2.0
/*
 * mkpages: write synthetic ring-buffer pages of the test events
 * (vtest/vtest_event, vtest/vtest_big: see meta.sh) for one CPU, and the
 * list of what was written ("TS CPU SEQ NAME" per event) for comparison
 * with trace-cmd report.
 *
 * mkpages -o OUT -c CPU -n N [-t START] [-d STEP] [-g GAP_EVERY]
 *         [-b BIG_EVERY] [-x DISCARD_EVERY] [-P] [-e EXPECT] [-p PSIZE]
 *
 * Event i is at START + i * STEP, plus 2^28 + i ns more for each multiple
 * of GAP_EVERY passed (forces time-extend events); every BIG_EVERY-th is
 * a vtest_big (length in array[0]); a discarded event precedes every
 * DISCARD_EVERY-th; -P pads each page's tail.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rbpage.h"

#define VTEST_ID	1000
#define VTEST_BIG_ID	1001

struct vtest {
	uint16_t type;
	uint8_t flags;
	uint8_t preempt;
	int32_t pid;
	uint32_t seq;
	uint32_t cpu;
	uint64_t value;
} __attribute__((packed));

struct vtest_big {
	struct vtest head;
	char msg[120];
} __attribute__((packed));

int main(int argc, char **argv)
{
	unsigned long long start = 1000000000ULL, step = 1000, gap = 0;
	unsigned long n = 0, big = 0, discard = 0, i;
	const char *out = NULL, *expect = NULL;
	unsigned int psize = 4096, cpu = 0;
	int opt, fd, pad = 0;
	struct vtest_big ev;
	uint64_t ts, shift = 0;
	FILE *ef = NULL;
	struct rbw w;

	while ((opt = getopt(argc, argv, "o:c:n:t:d:g:b:x:Pe:p:")) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'c':
			cpu = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 't':
			start = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			step = strtoull(optarg, NULL, 0);
			break;
		case 'g':
			gap = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			big = strtoul(optarg, NULL, 0);
			break;
		case 'x':
			discard = strtoul(optarg, NULL, 0);
			break;
		case 'P':
			pad = 1;
			break;
		case 'e':
			expect = optarg;
			break;
		case 'p':
			psize = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: see mkpages.c\n");
			return 2;
		}
	}
	if (!out) {
		fprintf(stderr, "mkpages: -o OUT required\n");
		return 2;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || rb_init(&w, fd, psize)) {
		perror(out);
		return 1;
	}
	if (expect) {
		ef = fopen(expect, "w");
		if (!ef) {
			perror(expect);
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		int is_big = big && i % big == big - 1;

		if (gap && i && i % gap == 0)
			shift += (1ULL << 28) + i;
		ts = start + i * step + shift;
		if (discard && i % discard == discard - 1 && ts > w.last_ts + 1)
			rb_discard(&w, ts - 1, 16);
		memset(&ev, 0, sizeof(ev));
		ev.head.type = is_big ? VTEST_BIG_ID : VTEST_ID;
		ev.head.pid = 100 + cpu;
		ev.head.seq = i;
		ev.head.cpu = cpu;
		ev.head.value = i * 7 + cpu;
		if (is_big)
			snprintf(ev.msg, sizeof(ev.msg), "big event %lu on cpu %u",
				 i, cpu);
		rb_event(&w, ts, &ev, is_big ? sizeof(ev) : sizeof(ev.head));
		if (ef)
			fprintf(ef, "%llu %u %lu %s\n", (unsigned long long)ts,
				cpu, i, is_big ? "vtest_big" : "vtest_event");
		if (pad && RB_HDR + w.used + 8 + sizeof(ev) + 8 > psize)
			rb_pad_flush(&w);
	}
	rb_flush(&w);
	if (w.err || close(fd)) {
		perror(out);
		return 1;
	}
	if (ef && fclose(ef)) {
		perror(expect);
		return 1;
	}
	return 0;
}
