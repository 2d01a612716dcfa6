/* SPDX-License-Identifier: GPL-2.0 */
/* QEMU command lines. */
#ifndef VT_QEMU_H
#define VT_QEMU_H

/*
 * Guest vCPU count from a QEMU command line ("-smp N", "-smp cpus=N,...",
 * "-smp sockets=S,cores=C,threads=T"). Returns 0 when there is no -smp,
 * -EINVAL when it cannot be read.
 */
int vt_qemu_smp_cpus(int argc, char *const *argv);

#endif
