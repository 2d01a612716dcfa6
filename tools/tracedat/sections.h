/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces of the file shared by the version 6 and 7 writers. */
#ifndef TRACEDAT_SECTIONS_H
#define TRACEDAT_SECTIONS_H

#include "internal.h"

void td_put_file_start(struct tracedat *td);
int td_build_meta(struct tracedat *td, int id, struct vt_buf *b);
void td_put_options(struct tracedat *td, struct vt_buf *b);
int td_copy_cpu_raw(struct tracedat *td, struct td_cpu *c);

#endif
