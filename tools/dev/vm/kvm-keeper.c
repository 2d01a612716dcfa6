// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-keeper: hold one KVM VM with one vCPU open in the host VM, so that
 * KVM's static keys stay on while the tests' nested guests come and go.
 *
 * KVM switches static keys as VMs and vCPUs come and go: preempt_notifier_key
 * (in __schedule) with the first VM and after the last, apic_sw_disabled and
 * apic_hw_disabled with each vCPU's local APIC. Each switch is a live code
 * patch (text_poke_bp), and TCG now and then runs the patch's int3 on the
 * other vCPU after the patch is done: "Oops: int3" in __schedule,
 * apic_has_pending_timer, kvm_arch_vcpu_ioctl_run. With this VM open, and its
 * one local APIC in the kernel, software-disabled (as created) and
 * hardware-disabled (its APIC base MSR without the enable bit), none of the
 * three counts falls to zero, so the nested guests only move the counts.
 *
 * It holds perf_sched_events on too (perf_event_task_sched_in/out, in
 * __schedule): a perf event bound to a task switches that key on with the
 * first such event and off (from the "events" workqueue, a second later)
 * after the last. trace-cmd record -C x86-tsc and vhost-traced (its
 * TSC2NSEC terms, at every session's stop) each open and close one: CI's
 * 6.12 host VM died of it at cd07c34 (Oops: int3 in __schedule from a
 * kworker of "events" right after a stop; a triple fault as trace-cmd
 * record started). A disabled dummy event on this process keeps the count
 * above zero.
 * tools/dev/vm/init-host starts it while the host VM runs on one CPU.
 *
 * Usage: kvm-keeper PIDFILE
 * Sets the VM up, then goes to the background and writes its pid to
 * PIDFILE; exits 1 with a message when KVM says no. SIGTERM ends it (and
 * lets go of kvm_amd, so that it can be reloaded).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MSR_IA32_APICBASE	0x1b
#define APIC_DEFAULT_BASE	0xfee00000ULL	/* no enable bit: disabled */

static int fail(const char *what)
{
	fprintf(stderr, "kvm-keeper: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} msrs = {
		.hdr.nmsrs = 1,
		.entry = { .index = MSR_IA32_APICBASE, .data = APIC_DEFAULT_BASE },
	};
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_DUMMY,
		.disabled = 1,
	};
	int kvm, vm, vcpu, perf;
	FILE *f;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: kvm-keeper PIDFILE\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("KVM_CREATE_IRQCHIP");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	if (ioctl(vcpu, KVM_SET_MSRS, &msrs) != 1)
		return fail("KVM_SET_MSRS (APIC base, disabled)");
	/*
	 * Bound to this process, which exits below; the event lives (and
	 * counts) until its last fd is closed: the child's, inherited.
	 */
	perf = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (perf < 0)
		return fail("perf_event_open (a dummy event of this task)");

	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid > 0) {
		f = fopen(argv[1], "w");
		if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f)) {
			kill(pid, SIGTERM);
			return fail(argv[1]);
		}
		return 0;
	}
	setsid();
	if (chdir("/"))
		return 1;
	if (!freopen("/dev/null", "r", stdin) ||
	    !freopen("/dev/null", "w", stdout) ||
	    !freopen("/dev/null", "w", stderr))
		return 1;
	for (;;)
		pause();
}
