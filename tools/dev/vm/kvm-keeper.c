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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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
	int kvm, vm, vcpu;
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
