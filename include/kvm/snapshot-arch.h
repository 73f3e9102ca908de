/* arm64 state capture for snapshots: vCPU registers (KVM_GET_REG_LIST), MP state, events, vGIC registers. */
#ifndef KVM_SNAPSHOT_ARCH_H
#define KVM_SNAPSHOT_ARCH_H

#include <stddef.h>

#include "kvm/snapshot.h"

struct kvm;
struct kvm_cpu;

/* Host counter frequency (CNTFRQ_EL0), for the clock policy. */
u64 arch_counter_freq(void);

int arch_save_vcpu(struct kvm_cpu *cpu, struct snap_writer *w, char *err, size_t errlen);
/* Apply a VCPU section; cnt_delta is added to the virtual counter (clock=advance), 0 to continue. */
int arch_restore_vcpu(struct kvm_cpu *cpu, const u8 *payload, size_t len, u64 cnt_delta, char *err, size_t errlen);
/* vCPU index and PV-time record address in a VCPU section, for validation before the vCPUs exist. */
int arch_vcpu_section_peek(const u8 *payload, size_t len, u32 *id, u64 *pvtime_ipa);

int arch_save_irqchip(struct kvm *kvm, struct snap_writer *w, char *err, size_t errlen);
int arch_restore_irqchip(struct kvm *kvm, const u8 *payload, size_t len, char *err, size_t errlen);

#endif
