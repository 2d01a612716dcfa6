/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-trace benchmarks: CPU time of threads, and the vhost workers of
 * the devices a thread owns.
 */
#ifndef _VT_CPU_H
#define _VT_CPU_H

#include <sys/types.h>

/* A thread's CPU seconds (/proc/<pid>/task/<tid>/stat); 0 if gone. */
double vt_thread_cpu(pid_t pid, pid_t tid);
/* The calling thread's CPU seconds. */
double vt_self_cpu(void);
/* CLOCK_MONOTONIC in seconds. */
double vt_now(void);

/*
 * The vhost workers of the devices whose owner is the calling thread:
 * threads of ours named vhost-<tid> (vhost_task, 6.4+), or kthreads of
 * that name (6.1). Up to max of them into pid[], tid[]; returns how many.
 */
int vt_find_workers(pid_t *pid, pid_t *tid, int max);

#endif /* _VT_CPU_H */
