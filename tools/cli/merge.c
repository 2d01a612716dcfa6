// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-trace merge HOST.DAT DIR: pairs a host trace recorded with
 * `trace-cmd record -C x86-tsc` with the guest trace vhost-traced wrote
 * in DIR, the way `trace-cmd record -A` pairs them:
 *   HOST.DAT gets a GUEST option (the guest's name, its trace id, the
 *     host thread of each vCPU, from DIR/guest.map), in a new options
 *     section at its end, as trace-cmd itself adds options after a
 *     recording;
 *   DIR/trace.dat's TIME_SHIFT gets HOST.DAT's trace id as its peer (in
 *     place);
 *   TSC2NSEC (TSC to ns terms; vhost-traced writes the host kernel's in
 *     the guest file) goes to the file that lacks it, so both show
 *     seconds, or neither.
 * Then `trace-cmd report -i HOST.DAT -i DIR/trace.dat` and KernelShark
 * show both on one time line. Local files only; no daemon involved.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "tracedat.h"

#define MAX_VCPUS	4096

struct guest_map {
	char name[256];
	char clock[64];
	char stable[8];
	unsigned long long trace_id;
	int vcpus;
	int tid[MAX_VCPUS];
};

static int read_map(const char *dir, struct guest_map *m)
{
	char path[4200], line[512], key[64], val[256];
	FILE *f;
	int v, ok = 0;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/guest.map", dir);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "vhost-trace: %s: %s (written by vhost-traced "
			"at stop when it sampled the guest's TSC)\n", path,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^=]=%255[^\n]", key, val) != 2)
			continue;
		if (!strcmp(key, "name"))
			snprintf(m->name, sizeof(m->name), "%s", val);
		else if (!strcmp(key, "clock"))
			snprintf(m->clock, sizeof(m->clock), "%.63s", val);
		else if (!strcmp(key, "tsc_stable"))
			snprintf(m->stable, sizeof(m->stable), "%.7s", val);
		else if (!strcmp(key, "trace_id")) {
			m->trace_id = strtoull(val, NULL, 0);
			ok |= 1;
		} else if (!strcmp(key, "vcpus")) {
			m->vcpus = atoi(val);
			ok |= 2;
		} else if (sscanf(key, "vcpu%d", &v) == 1 && v >= 0 &&
			 v < MAX_VCPUS)
			m->tid[v] = atoi(val);
	}
	fclose(f);
	if (ok != 3 || !m->name[0] || m->vcpus <= 0 || m->vcpus > MAX_VCPUS) {
		fprintf(stderr, "vhost-trace: %s: needs name=, trace_id= and "
			"vcpus= (1..%d)\n", path, MAX_VCPUS);
		return -1;
	}
	for (v = 0; v < m->vcpus; v++) {
		if (m->tid[v] <= 0) {
			fprintf(stderr, "vhost-trace: %s: no thread for vCPU "
				"%d\n", path, v);
			return -1;
		}
	}
	return 0;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

/* The host's trace clock: the bracketed name of its TRACECLOCK option */
static void host_clock(struct tracedat_edit *e, char *out, size_t len)
{
	unsigned int size;
	const char *p = tracedat_edit_get(e, TRACEDAT_OPT_TRACECLOCK, -1,
					  &size);
	const char *s, *end;

	snprintf(out, len, "unknown");
	if (!p || !size || p[size - 1])
		return;
	s = strchr(p, '[');
	end = s ? strchr(s, ']') : NULL;
	if (s && end)
		snprintf(out, len, "%.*s", (int)(end - s - 1), s + 1);
}

/* A GUEST option for trace id @id is there already */
static int has_guest(struct tracedat_edit *e, unsigned long long id)
{
	int i, n = tracedat_edit_count(e, TRACEDAT_OPT_GUEST);
	const char *p;
	unsigned int size;
	size_t l;

	for (i = 0; i < n; i++) {
		p = tracedat_edit_get(e, TRACEDAT_OPT_GUEST, i, &size);
		l = strnlen(p, size);
		if (l + 9 <= size &&
		    le64((const unsigned char *)p + l + 1) == id)
			return 1;
	}
	return 0;
}

static unsigned char *guest_option(const struct guest_map *m,
				   unsigned int *size)
{
	size_t l = strlen(m->name) + 1;
	unsigned char *b, *p;
	int v;

	*size = l + 8 + 4 + 8 * m->vcpus;
	b = malloc(*size);
	if (!b)
		return NULL;
	memcpy(b, m->name, l);
	p = b + l;
	put_le(p, m->trace_id, 8);
	put_le(p + 8, m->vcpus, 4);
	for (p += 12, v = 0; v < m->vcpus; v++, p += 8) {
		put_le(p, v, 4);
		put_le(p + 4, m->tid[v], 4);
	}
	return b;
}

enum { NS_NONE, NS_SAME, NS_TO_HOST, NS_TO_GUEST };
static const char *const ns_said[] = {
	[NS_NONE] = "",
	[NS_SAME] = "",
	[NS_TO_HOST] = "host file: TSC2NSEC of the guest's (the same host), "
		       "both in nanoseconds now\n",
	[NS_TO_GUEST] = "guest file: TSC2NSEC of the host's (recorded with "
			"-C tsc2nsec), both in nanoseconds now\n",
};

/*
 * Both files convert TSC to ns, or neither: the reader applies TSC2NSEC
 * after TIME_SHIFT, so the guest's (written by vhost-traced, the host
 * kernel's terms) is the host's too. Copies the one there is to the other;
 * an NS_* or -1 (they differ: not the same host).
 */
static int share_tsc2nsec(struct tracedat_edit *host,
			  struct tracedat_edit *guest, const char *hpath)
{
	unsigned int hsize = 0, gsize = 0;
	const void *h = tracedat_edit_get(host, TRACEDAT_OPT_TSC2NSEC, -1,
					  &hsize);
	const void *g = tracedat_edit_get(guest, TRACEDAT_OPT_TSC2NSEC, -1,
					  &gsize);

	if (!h && !g)
		return NS_NONE;
	if (h && g) {
		/* mult and shift; the offset is not used by the reader */
		if (hsize >= 8 && gsize >= 8 && !memcmp(h, g, 8))
			return NS_SAME;
		fprintf(stderr, "vhost-trace: %s converts TSC to ns with other "
			"terms than the guest's file: not recorded on the host "
			"the guest ran on?\n", hpath);
		return -1;
	}
	if (h)
		return tracedat_edit_append(guest, TRACEDAT_OPT_TSC2NSEC, h,
					    hsize) ? -1 : NS_TO_GUEST;
	return tracedat_edit_append(host, TRACEDAT_OPT_TSC2NSEC, g, gsize) ?
		-1 : NS_TO_HOST;
}

int merge_files(const char *hpath, const char *dir, FILE *out)
{
	struct tracedat_edit *host = NULL, *guest = NULL;
	const unsigned char *hid;
	unsigned char *gopt = NULL, peer[8];
	unsigned int size;
	char gpath[4200], clock[64];
	struct guest_map *m;
	int rc = 1, attached, ns;

	m = malloc(sizeof(*m));
	if (!m || read_map(dir, m))
		goto out;
	if (strcmp(m->clock, "x86-tsc")) {
		fprintf(stderr, "vhost-trace: the guest traced with clock "
			"'%s', not x86-tsc: its times cannot be mapped to the "
			"host's (record with --clock x86-tsc)\n", m->clock);
		goto out;
	}
	snprintf(gpath, sizeof(gpath), "%s/trace.dat", dir);
	host = tracedat_edit_open(hpath);
	guest = host ? tracedat_edit_open(gpath) : NULL;
	if (!guest)
		goto out;
	hid = tracedat_edit_get(host, TRACEDAT_OPT_TRACEID, -1, &size);
	if (!hid || size != 8) {
		fprintf(stderr, "vhost-trace: %s has no TRACEID option "
			"(trace-cmd record writes one)\n", hpath);
		goto out;
	}
	host_clock(host, clock, sizeof(clock));
	if (strcmp(clock, "x86-tsc")) {
		fprintf(stderr, "vhost-trace: %s was recorded with the '%s' "
			"clock: its times are not the TSC the guest's are "
			"mapped to (record it with trace-cmd record -C "
			"x86-tsc)\n", hpath, clock);
		goto out;
	}
	if (!tracedat_edit_get(guest, TRACEDAT_OPT_TIME_SHIFT, -1, &size) ||
	    size < 16) {
		fprintf(stderr, "vhost-trace: %s has no TIME_SHIFT option "
			"(the daemon writes it when it sampled KVM's TSC "
			"terms)\n", gpath);
		goto out;
	}
	if (!strcmp(m->stable, "no"))
		fprintf(stderr, "vhost-trace: warning: the host's TSC was "
			"unstable while tracing (guest.map: tsc_stable=no): "
			"guest times may be off by much (tools/traced/README)"
			"\n");
	attached = has_guest(host, m->trace_id);
	if (!attached) {
		gopt = guest_option(m, &size);
		if (!gopt || tracedat_edit_append(host, TRACEDAT_OPT_GUEST,
						  gopt, size))
			goto out;
	}
	ns = share_tsc2nsec(host, guest, hpath);
	if (ns < 0)
		goto out;
	put_le(peer, le64(hid), 8);
	/* host first: a failure there leaves the guest file as it was */
	rc = tracedat_edit_close(host);
	host = NULL;
	if (!rc)
		rc = tracedat_edit_patch(guest, TRACEDAT_OPT_TIME_SHIFT, -1, 0,
					 peer, 8);
	if (!rc)
		rc = tracedat_edit_close(guest);
	guest = NULL;
	if (rc) {
		rc = 1;
		goto out;
	}
	fprintf(out, "%s: trace id %#llx, %s GUEST %s (trace id %#llx, %d "
	       "vCPU(s):", hpath, (unsigned long long)le64(peer),
	       attached ? "already had" : "added", m->name, m->trace_id,
	       m->vcpus);
	for (size = 0; size < (unsigned int)m->vcpus; size++)
		fprintf(out, " %u->%d", size, m->tid[size]);
	fprintf(out, ")\n%s: TIME_SHIFT peer %#llx\n%s", gpath,
	       (unsigned long long)le64(peer), ns_said[ns]);
	rc = 0;
out:
	tracedat_edit_free(host);
	tracedat_edit_free(guest);
	free(gopt);
	free(m);
	return rc;
}

int cmd_merge(int argc, char **argv)
{
	if (argc != 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: vhost-trace merge HOST.DAT DIR\n");
		return 2;
	}
	if (merge_files(argv[1], argv[2], stdout))
		return 1;
	printf("now: vhost-trace report -H %s %s (or trace-cmd report -i %s "
	       "-i %s/trace.dat)\n", argv[1], argv[2], argv[1], argv[2]);
	return 0;
}
