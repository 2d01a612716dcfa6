/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What of a session is kept in RUNDIR/sID/state (state.h) for a new
 * daemon to take it over: one table of fields in persist.c, from which
 * the state file is written and read back. Adding a field is one line
 * there.
 */
#ifndef VT_PERSIST_H
#define VT_PERSIST_H

#include "ctlproto.h"

struct session;

const char *sess_state_name(int state);
/* The state of that name, or -1. */
int sess_state_by_name(const char *name);

/* Appends every persisted field of s as KEY=VALUE words. */
int persist_format(const struct session *s, struct vt_buf *line);
/*
 * Sets s's persisted fields from a state file's words. 0, or -EINVAL
 * with the key that is missing or malformed in *bad.
 */
int persist_load(struct session *s, const struct ctl_req *r,
		 const char **bad);
/* Writes RUNDIR/sID/state (state.h). Session thread, or before it runs. */
int session_save(struct session *s);
/* session_save when a persisted field changed since the last one. */
void session_save_if_changed(struct session *s);

#endif
