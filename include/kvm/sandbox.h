/* The seccomp sandbox: a syscall allowlist (and ioctl allowlist) per thread class, installed before the guest runs. */
#ifndef KVM_SANDBOX_H
#define KVM_SANDBOX_H

#include <linux/filter.h>
#include <stddef.h>

#include "kvm/util.h"

enum sandbox_mode {
	SANDBOX_OFF = 0, /* --no-seccomp */
	SANDBOX_ON,      /* default: a refused call is reported in one line and ends lkvm */
	SANDBOX_LOG,     /* --seccomp-log: refused calls are allowed and logged by the kernel (audit), for debugging */
};

enum sandbox_class {
	SANDBOX_MAIN,   /* main thread: console, signals, control socket, and save/migrate (they run on it) */
	SANDBOX_VCPU,   /* vCPU threads: KVM_RUN and MMIO emulation */
	SANDBOX_WORKER, /* virtio device workers: queue processing, disk/tap/rng I/O, interrupts */
	SANDBOX_SHARE,  /* the virtio-9p worker: a device worker plus the file calls its server makes beneath shares */
	SANDBOX_NET,    /* the virtio-net workers: a device worker plus send/recv on a passt socket (MSG_NOSIGNAL) */
	SANDBOX_METRICS, /* the --metrics endpoint: its HTTP connections, /proc and KVM stats reads; no ioctl */
	SANDBOX_GDB,     /* the --gdb stub: one debugger connection, vCPU registers (ONE_REG), kicks */
	SANDBOX_NR_CLASSES,
};

struct sandbox_policy {
	const char *name;
	const u32 *syscalls; /* sorted, unique arm64 syscall numbers */
	size_t nr_syscalls;
	const u32 *ioctls; /* ioctl requests allowed when ioctl is (sorted, unique), checked on the whole 64-bit argument */
	size_t nr_ioctls;
};

#define SANDBOX_MAX_INSNS 1024

const struct sandbox_policy *sandbox_policy(enum sandbox_class c);
/* The BPF program for class c (refusals return deny): its length, or -1 if it would not fit cap. */
int sandbox_build(enum sandbox_class c, u32 deny, struct sock_filter *prog, size_t cap);
/* Structural checks the kernel also makes, plus ours: 0, or -1 with the reason. */
int sandbox_check(const struct sock_filter *prog, size_t len, char *err, size_t errlen);
/* Name of an arm64 syscall number ("?" if not one the policy knows). */
const char *sandbox_syscall_name(u32 nr);

/* Install the SIGSYS reporter (once, before any thread is sandboxed). */
void sandbox_init(enum sandbox_mode mode);
/* A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE) prints one line: the thread's class, the address, the PC (sandbox_init does this). */
void sandbox_crash_report(void);
/* Filter the calling thread (and the threads it creates later) with class c: 0 or -errno. */
int sandbox_enter(enum sandbox_class c, enum sandbox_mode mode);

#endif
