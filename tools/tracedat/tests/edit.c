// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper for the edit API (tracedat_edit_*), driven by run.sh:
 *   edit FILE get ID [N]            prints the option's bytes in hex
 *   edit FILE count ID              prints how many there are
 *   edit FILE append ID HEX [ID HEX]...   adds options (one new section)
 *   edit FILE patch ID AT HEX       overwrites bytes of the last one
 * Exit status 0, 1 (the library refused: its message on stderr), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracedat.h"

static int unhex(const char *s, unsigned char *out, unsigned int max)
{
	unsigned int n = 0;

	if (strlen(s) % 2)
		return -1;
	for (; *s && n < max; s += 2) {
		unsigned int v;

		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = v;
	}
	return *s ? -1 : (int)n;
}

int main(int argc, char **argv)
{
	static unsigned char data[65536];
	struct tracedat_edit *e;
	const unsigned char *p;
	unsigned int size, i;
	int len, ret = 0;

	if (argc < 4)
		return 2;
	e = tracedat_edit_open(argv[1]);
	if (!e)
		return 1;
	if (!strcmp(argv[2], "get")) {
		p = tracedat_edit_get(e, atoi(argv[3]),
				      argc > 4 ? atoi(argv[4]) : -1, &size);
		if (!p) {
			tracedat_edit_free(e);
			return 1;
		}
		for (i = 0; i < size; i++)
			printf("%02x", p[i]);
		printf("\n");
	} else if (!strcmp(argv[2], "count")) {
		printf("%d\n", tracedat_edit_count(e, atoi(argv[3])));
	} else if (!strcmp(argv[2], "append")) {
		for (i = 3; !ret && i + 1 < (unsigned int)argc; i += 2) {
			len = unhex(argv[i + 1], data, sizeof(data));
			if (len < 0) {
				tracedat_edit_free(e);
				return 2;
			}
			ret = tracedat_edit_append(e, atoi(argv[i]), data, len);
		}
	} else if (!strcmp(argv[2], "patch") && argc == 6) {
		len = unhex(argv[5], data, sizeof(data));
		if (len < 0) {
			tracedat_edit_free(e);
			return 2;
		}
		ret = tracedat_edit_patch(e, atoi(argv[3]), -1, atoi(argv[4]),
					  data, len);
	} else {
		tracedat_edit_free(e);
		return 2;
	}
	if (ret) {
		tracedat_edit_free(e);
		return 1;
	}
	return tracedat_edit_close(e) ? 1 : 0;
}
