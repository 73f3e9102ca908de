/* 'lkvm debug': a register dump of a running VM's vCPUs (debug/dump.c), and the guest-virtual translation. */
#ifndef KVM_DEBUG_DUMP_H
#define KVM_DEBUG_DUMP_H

#include <stdio.h>

#include "kvm/util.h"

struct kvm;
struct kvm_cpu;

/* Every vCPU (or the one named by vcpu, a decimal string; NULL or "" for all): one line each, or with full the
 * general registers, EL1 system registers and 16 bytes at PC. 0, or -1 after an "error: ..." line in out. */
int debug_dump(struct kvm *kvm, const char *vcpu, bool full, FILE *out);
/* va through cpu's stage-1 tables: 0 with the physical address and the bytes left in its page, or -errno. */
int debug_translate(struct kvm_cpu *cpu, u64 va, u64 *pa, u64 *room);

#endif
