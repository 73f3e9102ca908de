/* arm64 vCPU specifics: KVM_ARM_VCPU_INIT with PSCI 0.2 (and PMU), boot registers, arm-only exits. */
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"

#define CORE_REG(name) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(name))
#define MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)
#define PSTATE_EL1H_DAIF (PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT)

int kvm_cpu_get_reg(struct kvm_cpu *cpu, u64 id, u64 *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (u64)(unsigned long)val };
	return ioctl(cpu->fd, KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

int kvm_cpu_set_reg(struct kvm_cpu *cpu, u64 id, u64 val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (u64)(unsigned long)&val };
	return ioctl(cpu->fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

void kvm_cpu_arch_init(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;
	struct kvm_vcpu_init init;

	memset(&init, 0, sizeof(init));
	if (ioctl(kvm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		die("KVM_ARM_PREFERRED_TARGET failed: %s", strerror(errno));
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (cpu->id > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF; /* waits for the guest's PSCI CPU_ON */
	if (kvm->cfg.pmu)
		init.features[0] |= 1u << KVM_ARM_VCPU_PMU_V3;
	if (ioctl(cpu->fd, KVM_ARM_VCPU_INIT, &init) < 0)
		die("KVM_ARM_VCPU_INIT of vCPU %u failed: %s", cpu->id, strerror(errno));
	if (kvm_cpu_get_reg(cpu, MPIDR_EL1, &cpu->mpidr))
		die("cannot read MPIDR_EL1 of vCPU %u", cpu->id);
	kvm->arch.mpidr[cpu->id] = cpu->mpidr;
}

void kvm_cpu_arch_set_boot_regs(struct kvm_cpu *cpu, u64 pc, u64 x0)
{
	/* Linux arm64 boot protocol: x0 = DTB, x1..x3 = 0, EL1h with DAIF masked. */
	if (kvm_cpu_set_reg(cpu, CORE_REG(regs.pstate), PSTATE_EL1H_DAIF) ||
	    kvm_cpu_set_reg(cpu, CORE_REG(regs.regs[0]), x0) || kvm_cpu_set_reg(cpu, CORE_REG(regs.regs[1]), 0) ||
	    kvm_cpu_set_reg(cpu, CORE_REG(regs.regs[2]), 0) || kvm_cpu_set_reg(cpu, CORE_REG(regs.regs[3]), 0) ||
	    kvm_cpu_set_reg(cpu, CORE_REG(regs.pc), pc))
		die("cannot set boot registers of vCPU %u: %s", cpu->id, strerror(errno));
}

/* The guest touched MMIO with an instruction KVM cannot decode (no syndrome, e.g. LDP/STP). */
static void handle_nisv(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;
	struct kvm_vcpu_events ev;

	pr_warn_ratelimited(&cpu->nisv_rl,
			    "vCPU %u: guest MMIO access at 0x%llx that KVM cannot decode (ESR ISS 0x%llx, e.g. LDP/STP "
			    "to a device); %s",
			    cpu->id, (unsigned long long)cpu->run->arm_nisv.fault_ipa,
			    (unsigned long long)cpu->run->arm_nisv.esr_iss,
			    kvm->arch.ext_dabt ? "injecting a data abort" : "stopping the guest");
	if (!kvm->arch.ext_dabt) {
		pr_err("vCPU %u: undecodable MMIO access at 0x%llx and no way to inject an abort; guest stopped",
		       cpu->id, (unsigned long long)cpu->run->arm_nisv.fault_ipa);
		kvm_request_stop(kvm, 1);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.exception.ext_dabt_pending = 1;
	if (ioctl(cpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
		pr_err("vCPU %u: cannot inject a data abort: %s; guest stopped", cpu->id, strerror(errno));
		kvm_request_stop(kvm, 1);
	}
}

bool kvm_cpu_arch_handle_exit(struct kvm_cpu *cpu)
{
	if (cpu->run->exit_reason == KVM_EXIT_ARM_NISV) {
		handle_nisv(cpu);
		return true;
	}
	return false;
}
