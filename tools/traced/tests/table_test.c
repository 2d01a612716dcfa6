// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the RCU session table. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "tap.h"

#define LIVE	0x11feUL
#define DEAD	0xdeadUL
#define ROUNDS	3000

struct item {
	struct table_entry te;
	unsigned long magic;
};

static unsigned long released;
static struct item *graveyard[ROUNDS + 16];	/* released, kept to check */

static void release(struct table_entry *e)
{
	struct item *it = caa_container_of(e, struct item, te);

	/* call_rcu callbacks run on one thread */
	it->magic = DEAD;
	graveyard[uatomic_add_return(&released, 1) - 1] = it;
}

static struct item *item(const char *name)
{
	struct item *it = calloc(1, sizeof(*it));

	snprintf(it->te.name, sizeof(it->te.name), "%s", name);
	it->te.release = release;
	it->magic = LIVE;
	return it;
}

/* ids 1 and 2 in use; 3 was released */
static void t_recovered_ids(void)
{
	struct item *r = item("rec"), *dup = item("dup"), *n = item("next");
	struct item *low = item("low");

	r->te.id = 7;
	dup->te.id = 7;
	low->te.id = 3;
	tap_ok(!table_add(&r->te) && r->te.id == 7 &&
	       table_add(&dup->te) == -EEXIST, "a recovered id is kept; "
	       "an id in use is refused");
	tap_ok(!table_add(&low->te) && low->te.id == 3 && !table_add(&n->te) &&
	       n->te.id == 8, "a lower free id is taken; new ids continue "
	       "after the highest (8)");
	table_reserve_ids(20);
	table_del(&n->te);
	n = item("next2");
	tap_ok(!table_add(&n->te) && n->te.id == 21,
	       "ids continue after a reserved id (21)");
	table_del(&n->te);
	table_del(&r->te);
	table_del(&low->te);
	free(dup);
	rcu_barrier();
	tap_ok(released == 5, "recovered entries released (%lu)", released);
}

static void t_basic(void)
{
	struct item *a = item("alpha"), *b = item("beta"), *c = item("gamma");
	struct item *dup = item("beta");
	struct table_entry *e, **v;
	size_t n;

	tap_ok(!table_add(&a->te) && !table_add(&b->te) && !table_add(&c->te) &&
	       a->te.id == 1 && b->te.id == 2 && c->te.id == 3,
	       "entries added with ids 1, 2, 3");
	tap_ok(table_add(&dup->te) == -EEXIST, "a name in use is refused");
	free(dup);
	e = table_get("2");
	tap_ok(e == &b->te, "lookup by id");
	table_entry_put(e);
	e = table_get("gamma");
	tap_ok(e == &c->te, "lookup by name");
	tap_ok(!table_get("delta") && !table_get("9") && !table_get_id(0),
	       "unknown names and ids are not found");
	v = table_snapshot(&n);
	tap_ok(n == 3 && v[0] == &a->te && v[1] == &b->te && v[2] == &c->te &&
	       table_count() == 3, "snapshot of every entry, sorted by id");
	while (n--)
		table_entry_put(v[n]);
	free(v);

	/* c: still referenced by e when it leaves the table */
	table_del(&c->te);
	table_del(&c->te);
	rcu_barrier();
	tap_ok(!table_get("gamma") && !table_get("3") && c->magic == LIVE &&
	       !released && table_count() == 2,
	       "a removed entry is not found, yet lives while referenced");
	table_entry_put(e);
	rcu_barrier();
	tap_ok(released == 1 && graveyard[0] == c,
	       "released after its last reference and a grace period");
	t_recovered_ids();
	table_del(&a->te);
	table_del(&b->te);
	rcu_barrier();
	tap_ok(released == 7 && table_count() == 0, "table empty, all released");
}

static int stop_readers;
static unsigned long reader_bad, reader_hits;

static void *reader(void *arg)
{
	char key[32];
	unsigned int seed = (unsigned long)arg;

	rcu_register_thread();
	while (!uatomic_read(&stop_readers)) {
		unsigned long id = 4 + rand_r(&seed) % ROUNDS;
		struct table_entry *e;

		if (rand_r(&seed) & 1)
			snprintf(key, sizeof(key), "%lu", id);
		else
			snprintf(key, sizeof(key), "n%lu", id);
		e = table_get(key);
		if (!e)
			continue;
		uatomic_inc(&reader_hits);
		if (caa_container_of(e, struct item, te)->magic != LIVE)
			uatomic_inc(&reader_bad);
		table_entry_put(e);
	}
	rcu_unregister_thread();
	return NULL;
}

static void t_concurrent(void)
{
	static struct item *live[ROUNDS];
	pthread_t th[2];
	unsigned long before = released;
	int i, j;

	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, reader, (void *)(unsigned long)i + 1);
	for (i = 0; i < ROUNDS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%d", i + 4);
		live[i] = item(name);
		table_add(&live[i]->te);
		if (i >= 8) {		/* keep a few alive, remove the oldest */
			j = i - 8;
			table_del(&live[j]->te);
		}
	}
	for (j = ROUNDS - 8; j < ROUNDS; j++)
		table_del(&live[j]->te);
	uatomic_set(&stop_readers, 1);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	rcu_barrier();
	printf("# readers found %lu live entries\n", reader_hits);
	tap_ok(!reader_bad, "readers never saw a released entry (%lu lookups hit)",
	       reader_hits);
	tap_ok(released - before == ROUNDS && table_count() == 0,
	       "every removed entry released exactly once (%lu)",
	       released - before);
}

int main(void)
{
	unsigned long i;

	tap_plan("vhost-traced session table (liburcu)", 15);
	rcu_register_thread();
	if (table_init()) {
		printf("Bail out! table_init\n");
		return 1;
	}
	t_basic();
	t_concurrent();
	rcu_unregister_thread();
	table_exit();
	for (i = 0; i < released; i++)
		free(graveyard[i]);
	return tap_done();
}
