/* PV stolen time on KVM: probe support, program each vCPU's record IPA, read records back. */
#include <endian.h>
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/pvtime.h"

bool pvtime_host_cap(struct kvm *kvm)
{
	return ioctl(kvm->vm_fd >= 0 ? kvm->vm_fd : kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_STEAL_TIME) > 0;
}

static bool vcpu_has_attr(struct kvm_cpu *cpu)
{
	struct kvm_device_attr a = { .group = KVM_ARM_VCPU_PVTIME_CTRL, .attr = KVM_ARM_VCPU_PVTIME_IPA };
	return ioctl(cpu->fd, KVM_HAS_DEVICE_ATTR, &a) == 0;
}

int pvtime_setup_vcpus(struct kvm *kvm)
{
	bool cap = pvtime_host_cap(kvm);
	bool attr = cap && vcpu_has_attr(kvm->cpus[0]);

	switch (pvtime_decide(kvm->cfg.pvtime, cap, attr)) {
	case PVTIME_DISABLE:
		kvm->arch.pvtime = false;
		return 0;
	case PVTIME_DISABLE_WARN:
		pr_warn("stolen time (--pvtime=auto) is off: %s", pvtime_missing_reason(cap, attr));
		kvm->arch.pvtime = false;
		return 0;
	case PVTIME_REFUSE:
		die("--pvtime=on: %s; use --pvtime=auto or --no-pvtime", pvtime_missing_reason(cap, attr));
	case PVTIME_ENABLE:
		break;
	}

	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		u64 ipa = kvm->layout.pvtime_addr + (u64)i * PVTIME_RECORD_SIZE;
		struct kvm_device_attr a = { .group = KVM_ARM_VCPU_PVTIME_CTRL, .attr = KVM_ARM_VCPU_PVTIME_IPA,
					     .addr = (u64)(unsigned long)&ipa };
		if (!gpa_range_ok(&kvm->ram, ipa, PVTIME_RECORD_SIZE))
			die("internal error: stolen-time record of vCPU %u at 0x%llx is outside guest RAM", i,
			    (unsigned long long)ipa);
		if (ioctl(kvm->cpus[i]->fd, KVM_SET_DEVICE_ATTR, &a) < 0)
			die("cannot set the stolen-time record of vCPU %u (KVM_ARM_VCPU_PVTIME_IPA = 0x%llx): %s", i,
			    (unsigned long long)ipa, strerror(errno));
	}
	kvm->arch.pvtime = true;
	return 0;
}

int pvtime_read_stolen(struct kvm *kvm, unsigned int cpu, u64 *ns)
{
	u64 v;

	if (!kvm->arch.pvtime || cpu >= kvm->nr_cpus)
		return -1;
	if (guest_read(&kvm->ram, kvm->layout.pvtime_addr + cpu * PVTIME_RECORD_SIZE + PVTIME_REC_STOLEN_TIME, &v,
		       sizeof(v)))
		return -1;
	*ns = le64toh(v);
	return 0;
}

int pvtime_restore_vcpus(struct kvm *kvm, const u64 *ipas)
{
	if (!pvtime_host_cap(kvm) || !vcpu_has_attr(kvm->cpus[0]))
		die("the snapshot uses PV stolen time, but %s; restore on a host that supports it",
		    pvtime_missing_reason(pvtime_host_cap(kvm), false));
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		u64 want = kvm->layout.pvtime_addr + (u64)i * PVTIME_RECORD_SIZE;
		struct kvm_device_attr a = { .group = KVM_ARM_VCPU_PVTIME_CTRL, .attr = KVM_ARM_VCPU_PVTIME_IPA,
					     .addr = (u64)(unsigned long)&want };
		if (ipas[i] != want || !gpa_range_ok(&kvm->ram, want, PVTIME_RECORD_SIZE))
			die("snapshot is corrupt: vCPU %u's stolen-time record 0x%llx is not where the region says", i,
			    (unsigned long long)ipas[i]);
		/* Set-only: KVM zeroes a record only on the guest's PV_TIME_ST call, so the total carries over. */
		if (ioctl(kvm->cpus[i]->fd, KVM_SET_DEVICE_ATTR, &a) < 0)
			die("cannot set vCPU %u's stolen-time record: %s", i, strerror(errno));
	}
	kvm->arch.pvtime = true;
	return 0;
}
