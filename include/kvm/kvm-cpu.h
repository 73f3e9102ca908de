/* vCPUs: creation, one thread each running KVM_RUN, exit dispatch, and the kick used to stop them. */
#ifndef KVM_KVM_CPU_H
#define KVM_KVM_CPU_H

#include <pthread.h>
#include <sys/types.h>

#include "kvm/log.h"
#include "kvm/util.h"

struct kvm;
struct kvm_run;

/*
 * Exits to lkvm, counted in ONE place (kvm_cpu_account_exit() in kvm-cpu.c) by the vCPU thread itself; other threads
 * (metrics, the control socket, the gdb stub) read them with relaxed atomic loads. Exits KVM handles in the kernel
 * (WFI, HVC, in-kernel MMIO) are not seen here: read them from KVM's binary stats (KVM_GET_STATS_FD).
 */
enum vcpu_exit_kind {
	VCPU_EXIT_MMIO,         /* KVM_EXIT_MMIO: a device access emulated by lkvm */
	VCPU_EXIT_SYSTEM_EVENT, /* PSCI SYSTEM_OFF/RESET, crashes */
	VCPU_EXIT_INTR,         /* KVM_RUN interrupted (kick, signal, immediate_exit) */
	VCPU_EXIT_DEBUG,        /* KVM_EXIT_DEBUG: breakpoints, watchpoints, single-step */
	VCPU_EXIT_ARCH,         /* handled by kvm_cpu_arch_handle_exit() (e.g. NISV) */
	VCPU_EXIT_OTHER,        /* anything else (errors) */
	VCPU_EXIT_NR
};

struct kvm_cpu_stats {
	u64 exits[VCPU_EXIT_NR];
	u64 runs; /* KVM_RUN calls */
};

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
	struct kvm_cpu_stats stats; /* written by this vCPU's thread only */
};

/* Read one exit counter of another thread's vCPU. */
static inline u64 kvm_cpu_exits(const struct kvm_cpu *cpu, enum vcpu_exit_kind k)
{
	return __atomic_load_n(&cpu->stats.exits[k], __ATOMIC_RELAXED);
}

/*
 * Optional per-VM hooks into the vCPU loop (kvm->vcpu_hooks; NULL when nothing is attached, e.g. no --gdb).
 * before_run: called by the vCPU thread before each KVM_RUN (apply guest-debug settings, wait while held).
 * handle_debug: a KVM_EXIT_DEBUG; returns false when nobody expected it (the VM then stops with an error).
 */
struct kvm_cpu_hooks {
	void (*before_run)(struct kvm_cpu *cpu);
	bool (*handle_debug)(struct kvm_cpu *cpu);
};

void kvm_cpu_create_all(struct kvm *kvm);
void kvm_cpu_start_all(struct kvm *kvm);
/* Let the started vCPUs (each already in its seccomp sandbox) enter the guest. */
void kvm_cpu_open_gate(struct kvm *kvm);
/* Kick every started vCPU out of KVM_RUN (it then runs its hooks and parks if asked); safe from any thread. */
void kvm_cpu_kick_all(struct kvm *kvm);
void kvm_cpu_kick(struct kvm_cpu *cpu);
/* With kvm->pause_lock held: kick every vCPU and wait until *count (vCPUs that stopped outside KVM_RUN, counted under
 * the lock and signalled on pause_cond) reaches nr_cpus or the VM stops. Returns with the lock still held. */
void kvm_cpu_kick_wait(struct kvm *kvm, const unsigned int *count);
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
