/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces of the file shared by the version 6 and 7 writers. */
#ifndef TRACEDAT_SECTIONS_H
#define TRACEDAT_SECTIONS_H

#include "internal.h"

void put_file_start(struct tracedat *td);
int build_meta(struct tracedat *td, int id, struct buf *b);
void put_options(struct tracedat *td, struct buf *b);
int copy_cpu_raw(struct tracedat *td, struct td_cpu *c);

#endif
