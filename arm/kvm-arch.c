/* arm64 VM specifics: required capabilities, IPA size (VM type), PMU wiring. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/arm.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"

static int check_ext(struct kvm *kvm, int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
	(void)kvm;
	return r < 0 ? 0 : r;
}

void arm_check_caps(struct kvm *kvm)
{
	static const struct {
		long cap;
		const char *name;
	} required[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
		{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
		{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!check_ext(kvm, kvm->sys_fd, required[i].cap))
			die("this host's KVM lacks %s, which lkvm needs; use a newer host kernel", required[i].name);
	if (kvm->cfg.pmu && !check_ext(kvm, kvm->sys_fd, KVM_CAP_ARM_PMU_V3))
		die("--pmu: this host's KVM has no PMUv3 support (KVM_CAP_ARM_PMU_V3); drop --pmu");
}

unsigned long arm_vm_type(struct kvm *kvm, u64 ram_end)
{
	unsigned int need = 64 - (unsigned int)__builtin_clzll(ram_end - 1);
	int max = check_ext(kvm, kvm->sys_fd, KVM_CAP_ARM_VM_IPA_SIZE);

	if (need < 32)
		need = 32;
	if (max <= 0) {
		if (need > 40)
			die("guest memory ends at 0x%llx, beyond the 40-bit IPA space this host's KVM supports; "
			    "lower -m/--mem", (unsigned long long)ram_end);
		kvm->ipa_bits = 40;
		return 0;
	}
	if ((int)need > max)
		die("guest memory ends at 0x%llx, needing a %u-bit IPA space; this host's KVM supports %d bits; "
		    "lower -m/--mem", (unsigned long long)ram_end, need, max);
	kvm->ipa_bits = need;
	return KVM_VM_TYPE_ARM_IPA_SIZE(need);
}

void arm_pmu_setup(struct kvm *kvm)
{
	int irq = 16 + ARM_PPI_PMU;

	if (!kvm->cfg.pmu)
		return;
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = kvm->cpus[i];
		struct kvm_device_attr a = { .group = KVM_ARM_VCPU_PMU_V3_CTRL, .attr = KVM_ARM_VCPU_PMU_V3_IRQ,
					     .addr = (u64)(unsigned long)&irq };
		if (ioctl(cpu->fd, KVM_SET_DEVICE_ATTR, &a) < 0)
			die("--pmu: cannot set the PMU interrupt of vCPU %u: %s", i, strerror(errno));
		a.attr = KVM_ARM_VCPU_PMU_V3_INIT;
		a.addr = 0;
		if (ioctl(cpu->fd, KVM_SET_DEVICE_ATTR, &a) < 0)
			die("--pmu: cannot initialise the PMU of vCPU %u: %s", i, strerror(errno));
	}
}
