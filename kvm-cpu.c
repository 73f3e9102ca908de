/* vCPU threads: run KVM_RUN in a loop and dispatch exits (MMIO to the bus, system events to the VM). */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "kvm/sandbox.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"

#define SIG_KICK SIGUSR1

static void kick_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return -EINTR */
}

void kvm_cpu_create_all(struct kvm *kvm)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(SIG_KICK, &sa, NULL);

	kvm->cpus = calloc(kvm->nr_cpus, sizeof(*kvm->cpus));
	if (!kvm->cpus)
		die("out of memory");
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = calloc(1, sizeof(*cpu));
		if (!cpu)
			die("out of memory");
		cpu->kvm = kvm;
		cpu->id = i;
		cpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, i);
		if (cpu->fd < 0)
			die("KVM_CREATE_VCPU %u failed: %s", i, strerror(errno));
		cpu->run = mmap(NULL, kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu->fd, 0);
		if (cpu->run == MAP_FAILED)
			die("mmap of vCPU %u's kvm_run failed: %s", i, strerror(errno));
		kvm->cpus[i] = cpu;
		kvm_cpu_arch_init(cpu);
	}
}

static void handle_system_event(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;

	switch (cpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		pr_info("guest powered off");
		kvm_request_stop(kvm, 0);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		pr_info("guest requested a reset; lkvm does not restart guests, exiting");
		kvm_request_stop(kvm, 0);
		break;
	default:
		pr_err("vCPU %u: guest reported a crash (system event %u); stopping", cpu->id,
		       cpu->run->system_event.type);
		kvm_request_stop(kvm, 1);
		break;
	}
}

/* The one place exits to lkvm are counted (see enum vcpu_exit_kind). */
static void kvm_cpu_account_exit(struct kvm_cpu *cpu, enum vcpu_exit_kind k)
{
	__atomic_store_n(&cpu->stats.exits[k], cpu->stats.exits[k] + 1, __ATOMIC_RELAXED);
}

static enum vcpu_exit_kind exit_kind(u32 reason)
{
	switch (reason) {
	case KVM_EXIT_MMIO:
		return VCPU_EXIT_MMIO;
	case KVM_EXIT_SYSTEM_EVENT:
		return VCPU_EXIT_SYSTEM_EVENT;
	case KVM_EXIT_INTR:
		return VCPU_EXIT_INTR;
	case KVM_EXIT_DEBUG:
		return VCPU_EXIT_DEBUG;
	case KVM_EXIT_ARM_NISV:
		return VCPU_EXIT_ARCH;
	default:
		return VCPU_EXIT_OTHER;
	}
}

/* Wait here while a pause is requested; the last vCPU to park wakes kvm_pause(). */
static void park(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;

	pthread_mutex_lock(&kvm->pause_lock);
	if (kvm->pause_requested && !kvm_is_stopping(kvm)) {
		kvm->parked++;
		pthread_cond_broadcast(&kvm->pause_cond);
		while (kvm->pause_requested && !kvm_is_stopping(kvm))
			pthread_cond_wait(&kvm->pause_cond, &kvm->pause_lock);
		kvm->parked--;
	}
	pthread_mutex_unlock(&kvm->pause_lock);
}

void kvm_cpu_kick(struct kvm_cpu *cpu)
{
	if (!cpu->started)
		return;
	__atomic_store_n(&cpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(cpu->thread, SIG_KICK);
}

void kvm_cpu_kick_all(struct kvm *kvm)
{
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		kvm_cpu_kick(kvm->cpus[i]);
}

void kvm_cpu_kick_wait(struct kvm *kvm, const unsigned int *count)
{
	kvm_cpu_kick_all(kvm);
	while (*count < kvm->nr_cpus && !kvm_is_stopping(kvm)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		/* A vCPU that missed the kick (between its check and KVM_RUN) sees immediate_exit; re-kick anyway. */
		if (pthread_cond_timedwait(&kvm->pause_cond, &kvm->pause_lock, &ts))
			kvm_cpu_kick_all(kvm);
	}
}

void kvm_pause(struct kvm *kvm)
{
	pthread_mutex_lock(&kvm->pause_lock);
	if (!kvm->pause_requested) {
		kvm->pause_requested = true;
		kvm_cpu_kick_wait(kvm, &kvm->parked);
	}
	pthread_mutex_unlock(&kvm->pause_lock);
}

void kvm_resume(struct kvm *kvm)
{
	pthread_mutex_lock(&kvm->pause_lock);
	kvm->pause_requested = false;
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
}

bool kvm_is_paused(struct kvm *kvm)
{
	bool p;
	pthread_mutex_lock(&kvm->pause_lock);
	p = kvm->pause_requested;
	pthread_mutex_unlock(&kvm->pause_lock);
	return p;
}

static void *vcpu_thread(void *arg)
{
	struct kvm_cpu *cpu = arg;
	struct kvm *kvm = cpu->kvm;
	struct kvm_run *run = cpu->run;
	sigset_t set;
	int r;
	char tname[16];

	__atomic_store_n(&cpu->tid, (int)gettid(), __ATOMIC_RELEASE);
	snprintf(tname, sizeof(tname), "lkvm-vcpu-%u", cpu->id);
	pthread_setname_np(pthread_self(), tname);
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* Sandboxed before the first KVM_RUN; the guest runs once every thread of lkvm is (kvm_run_vm opens the gate). */
	r = sandbox_enter(SANDBOX_VCPU, kvm_sandbox_mode(kvm));
	if (r)
		die("vCPU %u: cannot install its seccomp filter: %s (--no-seccomp runs without)", cpu->id, strerror(-r));
	pthread_barrier_wait(&kvm->start_gate);

	while (!kvm_is_stopping(kvm)) {
		const struct kvm_cpu_hooks *hooks = __atomic_load_n(&kvm->vcpu_hooks, __ATOMIC_ACQUIRE);

		if (hooks && hooks->before_run)
			hooks->before_run(cpu);
		__atomic_store_n(&cpu->stats.runs, cpu->stats.runs + 1, __ATOMIC_RELAXED);
		if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* KVM_RUN has completed any pending MMIO before returning: safe to park here. */
				kvm_cpu_account_exit(cpu, VCPU_EXIT_INTR);
				run->immediate_exit = 0;
				park(cpu);
				continue;
			}
			pr_err("vCPU %u: KVM_RUN failed: %s", cpu->id, strerror(errno));
			kvm_request_stop(kvm, 1);
			break;
		}
		kvm_cpu_account_exit(cpu, exit_kind(run->exit_reason));
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			mmio_dispatch(&kvm->devices, run->mmio.phys_addr, run->mmio.data,
				      run->mmio.len > 8 ? 8 : run->mmio.len, run->mmio.is_write);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			handle_system_event(cpu);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_DEBUG:
			if (!hooks || !hooks->handle_debug || !hooks->handle_debug(cpu)) {
				pr_err("vCPU %u: unexpected debug exit (no debugger attached); stopping", cpu->id);
				kvm_request_stop(kvm, 1);
			}
			break;
		case KVM_EXIT_FAIL_ENTRY:
			pr_err("vCPU %u: KVM could not enter the guest (hardware entry failure reason 0x%llx)", cpu->id,
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			kvm_request_stop(kvm, 1);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			pr_err("vCPU %u: KVM internal error (suberror %u)", cpu->id, run->internal.suberror);
			kvm_request_stop(kvm, 1);
			break;
		default:
			if (!kvm_cpu_arch_handle_exit(cpu)) {
				pr_err("vCPU %u: unexpected KVM exit reason %u; stopping", cpu->id, run->exit_reason);
				kvm_request_stop(kvm, 1);
			}
			break;
		}
	}
	return NULL;
}

void kvm_cpu_start_all(struct kvm *kvm)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, LKVM_THREAD_STACK);
	pthread_barrier_init(&kvm->start_gate, NULL, kvm->nr_cpus + 1); /* kvm_cpu_open_gate() is the last one */
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = kvm->cpus[i];
		if (pthread_create(&cpu->thread, &attr, vcpu_thread, cpu))
			die("cannot start the thread of vCPU %u", i);
		cpu->started = true;
	}
	pthread_attr_destroy(&attr);
}

void kvm_cpu_open_gate(struct kvm *kvm)
{
	pthread_barrier_wait(&kvm->start_gate);
}

void kvm_cpu_stop_all(struct kvm *kvm)
{
	/* Parked vCPUs wake up on the broadcast and see the stop flag. */
	pthread_mutex_lock(&kvm->pause_lock);
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
	kvm_cpu_kick_all(kvm);
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu *cpu = kvm->cpus[i];
		if (!cpu->started)
			continue;
		pthread_join(cpu->thread, NULL);
		cpu->started = false;
	}
}
