// SPDX-License-Identifier: GPL-2.0
/* The session table (see table.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static struct cds_lfht *ht;
static pthread_mutex_t writer = PTHREAD_MUTEX_INITIALIZER;
static unsigned long next_id = 1;

static unsigned long hash_id(unsigned long id)
{
	return id * 0x9e3779b97f4a7c15UL;
}

static int match_id(struct cds_lfht_node *node, const void *key)
{
	struct table_entry *e = caa_container_of(node, struct table_entry, node);

	return e->id == *(const unsigned long *)key;
}

int table_init(void)
{
	ht = cds_lfht_new(16, 16, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
			  NULL);
	return ht ? 0 : -ENOMEM;
}

void table_exit(void)
{
	if (ht) {
		rcu_barrier();
		cds_lfht_destroy(ht, NULL);
		ht = NULL;
	}
}

static void free_entry(struct rcu_head *head)
{
	struct table_entry *e = caa_container_of(head, struct table_entry, rcu);

	e->release(e);
}

static void last_ref(struct urcu_ref *ref)
{
	struct table_entry *e = caa_container_of(ref, struct table_entry, ref);

	call_rcu(&e->rcu, free_entry);
}

void table_entry_get(struct table_entry *e)
{
	urcu_ref_get(&e->ref);
}

void table_entry_put(struct table_entry *e)
{
	urcu_ref_put(&e->ref, last_ref);
}

/* Writer mutex held, or RCU read side: the entry named name, or NULL. */
static struct table_entry *find_name(const char *name)
{
	struct cds_lfht_iter iter;
	struct table_entry *e;

	cds_lfht_for_each_entry(ht, &iter, e, node)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

/* RCU read side: an entry with this id is in the table. */
static int table_has_id(unsigned long id)
{
	struct cds_lfht_iter iter;

	cds_lfht_lookup(ht, hash_id(id), match_id, &id, &iter);
	return cds_lfht_iter_get_node(&iter) != NULL;
}

/* Writer mutex held. */
static void reserve_ids(unsigned long id)
{
	if (id >= next_id)
		next_id = id + 1;
}

void table_reserve_ids(unsigned long id)
{
	pthread_mutex_lock(&writer);
	reserve_ids(id);
	pthread_mutex_unlock(&writer);
}

int table_add(struct table_entry *e)
{
	int err = 0;

	urcu_ref_init(&e->ref);
	pthread_mutex_lock(&writer);
	rcu_read_lock();
	if (e->name[0] && find_name(e->name)) {
		err = -EEXIST;
	} else if (e->id && table_has_id(e->id)) {
		err = -EEXIST;
	} else {
		if (!e->id)
			e->id = next_id++;
		reserve_ids(e->id);
		cds_lfht_node_init(&e->node);
		cds_lfht_add(ht, hash_id(e->id), &e->node);
	}
	rcu_read_unlock();
	pthread_mutex_unlock(&writer);
	return err;
}

void table_del(struct table_entry *e)
{
	int gone;

	pthread_mutex_lock(&writer);
	rcu_read_lock();
	gone = !cds_lfht_del(ht, &e->node);
	rcu_read_unlock();
	pthread_mutex_unlock(&writer);
	if (gone)
		table_entry_put(e);
}

static struct table_entry *get_unless_zero(struct table_entry *e)
{
	return e && urcu_ref_get_unless_zero(&e->ref) ? e : NULL;
}

struct table_entry *table_get_id(unsigned long id)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	struct table_entry *e = NULL;

	rcu_read_lock();
	cds_lfht_lookup(ht, hash_id(id), match_id, &id, &iter);
	node = cds_lfht_iter_get_node(&iter);
	if (node)
		e = get_unless_zero(caa_container_of(node, struct table_entry,
						     node));
	rcu_read_unlock();
	return e;
}

struct table_entry *table_get(const char *key)
{
	struct table_entry *e;
	char *end;
	unsigned long id;

	if (*key >= '0' && *key <= '9') {
		id = strtoul(key, &end, 10);
		if (!*end)
			return table_get_id(id);
	}
	rcu_read_lock();
	e = get_unless_zero(find_name(key));
	rcu_read_unlock();
	return e;
}

static int by_id(const void *a, const void *b)
{
	const struct table_entry *x = *(struct table_entry *const *)a;
	const struct table_entry *y = *(struct table_entry *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

struct table_entry **table_snapshot(size_t *n)
{
	struct table_entry **v = NULL, **nv, *e;
	struct cds_lfht_iter iter;
	size_t cap = 0;

	*n = 0;
	rcu_read_lock();
	cds_lfht_for_each_entry(ht, &iter, e, node) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		if (get_unless_zero(e))
			v[(*n)++] = e;
	}
	rcu_read_unlock();
	if (*n)
		qsort(v, *n, sizeof(*v), by_id);
	return v;
}

unsigned long table_count(void)
{
	long before, after;
	unsigned long count;

	rcu_read_lock();
	cds_lfht_count_nodes(ht, &before, &count, &after);
	rcu_read_unlock();
	return count;
}
