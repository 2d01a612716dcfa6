#!/bin/sh
# In the host VM: KVM loads (kvm_amd under TCG -cpu max, kvm_intel on an
# Intel host with nested VMX) and /dev/kvm appears, so a nested guest can
# run on this kernel (the debug kernel builds KVM as modules).
. "$(dirname "$0")/lib.sh"

kvm_loads() {
	if grep -qw svm /proc/cpuinfo; then
		m=kvm_amd
	elif grep -qw vmx /proc/cpuinfo; then
		m=kvm_intel
	else
		echo "no svm or vmx in /proc/cpuinfo"
		return 1
	fi
	# the boot's KVM keeper (lib.sh) holds the module: this unloads it
	on_one_cpu kvm_keeper stop
	modprobe "$m" && [ -c /dev/kvm ] && echo "$m loaded, /dev/kvm there" &&
		on_one_cpu rmmod "$m" kvm
}
check "$REL: KVM loads, /dev/kvm exists" kvm_loads
exit $FAILED
