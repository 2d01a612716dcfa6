/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The session table: an RCU hash table (liburcu's rculfhash) keyed by
 * session id. Lookups by id or name take no lock (RCU read side plus a
 * reference taken with urcu_ref_get_unless_zero); adding and removing
 * take a small writer mutex, only to keep names unique. An entry is
 * freed by call_rcu once it is out of the table and its last reference
 * is dropped, so a reader that found it may still use it safely.
 *
 * Every thread that calls these functions must be registered with
 * rcu_register_thread().
 */
#ifndef VT_TABLE_H
#define VT_TABLE_H

#include <urcu.h>
#include <urcu/rculfhash.h>
#include <urcu/ref.h>

#define TABLE_NAME_MAX	64

struct table_entry {
	struct cds_lfht_node node;
	struct urcu_ref ref;
	struct rcu_head rcu;
	unsigned long id;
	char name[TABLE_NAME_MAX];
	/* Called after a grace period once the last reference is gone. */
	void (*release)(struct table_entry *e);
};

int table_init(void);
void table_exit(void);

/*
 * Takes the table's reference. With e->id 0, assigns the next id; with
 * e->id set (a session recovered after a restart), takes that id. -EEXIST
 * on a name or id in use.
 */
int table_add(struct table_entry *e);
/* Later ids are above id (ids seen on disk at start-up). */
void table_reserve_ids(unsigned long id);
/* Removes e from the table and drops the table's reference; idempotent. */
void table_del(struct table_entry *e);
/* By id (decimal) or name; a new reference, or NULL. */
struct table_entry *table_get(const char *key);
struct table_entry *table_get_id(unsigned long id);
void table_entry_get(struct table_entry *e);
void table_entry_put(struct table_entry *e);
/* A reference to every entry, sorted by id; *n entries. free() the array. */
struct table_entry **table_snapshot(size_t *n);
unsigned long table_count(void);

#endif
