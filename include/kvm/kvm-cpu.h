/* vCPUs: creation, one thread each running KVM_RUN, exit dispatch, and the kick used to stop them. */
#ifndef KVM_KVM_CPU_H
#define KVM_KVM_CPU_H

#include <pthread.h>
#include <sys/types.h>

#include "kvm/log.h"
#include "kvm/util.h"

struct kvm;
struct kvm_run;

struct kvm_cpu {
	struct kvm *kvm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int tid; /* host thread id, for schedstat */
	bool started;
	u64 mpidr;
	struct ratelimit nisv_rl;
};

void kvm_cpu_create_all(struct kvm *kvm);
void kvm_cpu_start_all(struct kvm *kvm);
/* Let the started vCPUs (each already in its seccomp sandbox) enter the guest. */
void kvm_cpu_open_gate(struct kvm *kvm);
/* Kick every vCPU out of KVM_RUN and join the threads. */
void kvm_cpu_stop_all(struct kvm *kvm);

/* arch hooks (arm/kvm-cpu-arch.c) */
void kvm_cpu_arch_init(struct kvm_cpu *cpu);
void kvm_cpu_arch_set_boot_regs(struct kvm_cpu *cpu, u64 pc, u64 x0);
/* Returns false if the exit was not an arch exit this code knows. */
bool kvm_cpu_arch_handle_exit(struct kvm_cpu *cpu);
int kvm_cpu_get_reg(struct kvm_cpu *cpu, u64 id, u64 *val);
int kvm_cpu_set_reg(struct kvm_cpu *cpu, u64 id, u64 val);

#endif
