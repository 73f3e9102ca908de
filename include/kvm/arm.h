/* arm64-only entry points used by the generic VM code. */
#ifndef KVM_ARM_H
#define KVM_ARM_H

#include "kvm/util.h"

struct kvm;

/* Host capability checks and the IPA size; before KVM_CREATE_VM. Returns the VM type. */
unsigned long arm_vm_type(struct kvm *kvm, u64 ram_end);
void arm_check_caps(struct kvm *kvm);
/* Resolve --irqchip against what KVM can create; before vCPUs exist. */
void gic_probe(struct kvm *kvm);
/* Create and initialise the vGIC (and ITS) once all vCPUs exist; registers its DT node. */
void gic_setup(struct kvm *kvm);
/* Does the VM have an ITS (an MSI controller for PCI)? After gic_setup(). */
bool gic_has_its(struct kvm *kvm);
/* Per-vCPU PMU interrupt and init, after the vGIC is initialised. */
void arm_pmu_setup(struct kvm *kvm);

#endif
