/*
 * The seccomp sandbox: per-thread-class allowlists of arm64 syscalls and KVM/terminal ioctls as hand-written BPF.
 * A refused call traps (SIGSYS): one line names the thread class and the call, then lkvm ends as the kernel's
 * SECCOMP_RET_KILL_PROCESS would (status 128 + SIGSYS). Policies are in arm64 numbers on every build host.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "kvm/arm64-syscalls.h"
#include "kvm/sandbox.h"

#ifdef __aarch64__
#define CHECK_NR(n) _Static_assert(SC_##n == __NR_##n, "arm64 syscall number of " #n);
ARM64_SYSCALLS(CHECK_NR)
_Static_assert(AUDIT_ARCH_AARCH64_VALUE == AUDIT_ARCH_AARCH64, "AUDIT_ARCH_AARCH64");
#endif

/* Sorted by number (the unit test checks it); arm64-syscalls.h has the numbers and names. */
static const u32 main_calls[] = {
	SC_getcwd, SC_fcntl, SC_ioctl, SC_unlinkat, SC_statfs, SC_fstatfs, SC_ftruncate, SC_fallocate, SC_openat,
	SC_close, SC_lseek, SC_read, SC_write, SC_readv, SC_writev, SC_pread64, SC_pwrite64, SC_preadv, SC_pwritev,
	SC_ppoll, SC_readlinkat, SC_newfstatat, SC_fstat, SC_fsync, SC_fdatasync, SC_exit, SC_exit_group, SC_futex,
	SC_set_robust_list, SC_nanosleep, SC_clock_gettime, SC_clock_getres, SC_clock_nanosleep, SC_sched_yield,
	SC_restart_syscall, SC_tgkill, SC_rt_sigprocmask, SC_rt_sigreturn, SC_gettimeofday, SC_getpid, SC_getuid,
	SC_geteuid, SC_gettid, SC_sendto, SC_recvfrom, SC_setsockopt, SC_getsockopt, SC_shutdown, SC_sendmsg,
	SC_recvmsg, SC_brk, SC_munmap, SC_mremap, SC_mmap, SC_mprotect, SC_madvise, SC_accept4, SC_wait4, SC_getrandom,
	SC_rseq,
};
static const u32 vcpu_calls[] = {
	SC_ioctl, SC_close, SC_lseek, SC_read, SC_write, SC_readv, SC_writev, SC_ppoll, SC_newfstatat, SC_fstat,
	SC_exit, SC_exit_group, SC_futex, SC_set_robust_list, SC_nanosleep, SC_clock_gettime, SC_clock_getres,
	SC_clock_nanosleep, SC_sched_yield, SC_restart_syscall, SC_tgkill, SC_rt_sigprocmask, SC_rt_sigreturn,
	SC_gettimeofday, SC_getpid, SC_gettid, SC_brk, SC_munmap, SC_mmap, SC_mprotect, SC_madvise, SC_getrandom,
	SC_rseq,
};
static const u32 worker_calls[] = {
	SC_ioctl, SC_close, SC_lseek, SC_read, SC_write, SC_readv, SC_writev, SC_pread64, SC_pwrite64, SC_preadv,
	SC_pwritev, SC_ppoll, SC_newfstatat, SC_fstat, SC_fsync, SC_fdatasync, SC_exit, SC_exit_group, SC_futex,
	SC_set_robust_list, SC_nanosleep, SC_clock_gettime, SC_clock_getres, SC_clock_nanosleep, SC_sched_yield,
	SC_restart_syscall, SC_tgkill, SC_rt_sigprocmask, SC_rt_sigreturn, SC_gettimeofday, SC_getpid, SC_gettid,
	SC_brk, SC_munmap, SC_mmap, SC_mprotect, SC_madvise, SC_getrandom, SC_rseq,
};
/* A device worker's calls plus what the 9p server does beneath its shares (openat2-confined, see virtio/9p-path.c). */
static const u32 share_calls[] = {
	SC_fcntl, SC_ioctl, SC_mknodat, SC_mkdirat, SC_unlinkat, SC_symlinkat, SC_linkat, SC_renameat, SC_statfs,
	SC_fstatfs, SC_truncate, SC_ftruncate, SC_fchmod, SC_fchmodat, SC_fchownat, SC_openat, SC_close,
	SC_getdents64, SC_lseek, SC_read, SC_write, SC_readv, SC_writev, SC_pread64, SC_pwrite64, SC_preadv,
	SC_pwritev, SC_ppoll, SC_readlinkat, SC_newfstatat, SC_fstat, SC_fsync, SC_fdatasync, SC_utimensat, SC_exit,
	SC_exit_group, SC_futex, SC_set_robust_list, SC_nanosleep, SC_clock_gettime, SC_clock_getres,
	SC_clock_nanosleep, SC_sched_yield, SC_restart_syscall, SC_tgkill, SC_rt_sigprocmask, SC_rt_sigreturn,
	SC_gettimeofday, SC_getpid, SC_gettid, SC_brk, SC_munmap, SC_mremap, SC_mmap, SC_mprotect, SC_madvise,
	SC_renameat2, SC_getrandom, SC_rseq, SC_openat2,
};

/* A virtio-net worker: a device worker's calls plus send/recv on the passt socket (sendto, recvfrom). */
static const u32 net_calls[] = {
	SC_ioctl, SC_close, SC_lseek, SC_read, SC_write, SC_readv, SC_writev, SC_pread64, SC_pwrite64, SC_preadv,
	SC_pwritev, SC_ppoll, SC_newfstatat, SC_fstat, SC_fsync, SC_fdatasync, SC_exit, SC_exit_group, SC_futex,
	SC_set_robust_list, SC_nanosleep, SC_clock_gettime, SC_clock_getres, SC_clock_nanosleep, SC_sched_yield,
	SC_restart_syscall, SC_tgkill, SC_rt_sigprocmask, SC_rt_sigreturn, SC_gettimeofday, SC_getpid, SC_gettid,
	SC_sendto, SC_recvfrom, SC_brk, SC_munmap, SC_mmap, SC_mprotect, SC_madvise, SC_getrandom, SC_rseq,
};

/* The metrics endpoint: its connections (accept4, recvfrom, sendto, shutdown) and /proc, KVM stats fds; no ioctl. */
static const u32 metrics_calls[] = {
	SC_openat, SC_close, SC_lseek, SC_read, SC_write, SC_readv, SC_writev, SC_pread64, SC_ppoll, SC_newfstatat,
	SC_fstat, SC_exit, SC_exit_group, SC_futex, SC_set_robust_list, SC_nanosleep, SC_clock_gettime,
	SC_clock_getres, SC_clock_nanosleep, SC_sched_yield, SC_restart_syscall, SC_tgkill, SC_rt_sigprocmask,
	SC_rt_sigreturn, SC_gettimeofday, SC_getpid, SC_gettid, SC_sendto, SC_recvfrom, SC_shutdown, SC_brk,
	SC_munmap, SC_mremap, SC_mmap, SC_mprotect, SC_madvise, SC_accept4, SC_getrandom, SC_rseq,
};

/* The gdb stub: its listening socket and one connection, an eventfd, ONE_REG ioctls, kicking vCPUs (tgkill). */
static const u32 gdb_calls[] = {
	SC_fcntl, SC_ioctl, SC_close, SC_lseek, SC_read, SC_write, SC_readv, SC_writev, SC_ppoll, SC_newfstatat,
	SC_fstat, SC_exit, SC_exit_group, SC_futex, SC_set_robust_list, SC_nanosleep, SC_clock_gettime,
	SC_clock_getres, SC_clock_nanosleep, SC_sched_yield, SC_restart_syscall, SC_tgkill, SC_rt_sigprocmask,
	SC_rt_sigreturn, SC_gettimeofday, SC_getpid, SC_gettid, SC_sendto, SC_recvfrom, SC_setsockopt, SC_shutdown,
	SC_brk, SC_munmap, SC_mremap, SC_mmap, SC_mprotect, SC_madvise, SC_accept4, SC_getrandom, SC_rseq,
};

/*
 * ioctl requests (unique; order free). The _IO* encoding is generic, so these are the arm64 values on any host; only
 * kvm_vcpu_events is laid out per architecture, which matters only in host-side unit tests, where nothing is
 * installed. Setup-time ioctls (creating the VM, vCPUs, the vGIC, the tap) happen before any filter.
 */
static const u32 main_ioctls[] = {
	TCGETS, TCSETS, TCSETSW, TCSETSF, /* the terminal: restored on exit */
	TIOCGWINSZ,                       /* its size, for the pty of 'lkvm run -- CMD' (runcmd/channel.c) */
	KVM_CHECK_EXTENSION, KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG, KVM_IRQ_LINE, KVM_SIGNAL_MSI,
	KVM_IOEVENTFD, KVM_GET_ONE_REG, KVM_SET_ONE_REG, KVM_GET_REG_LIST, KVM_GET_MP_STATE, KVM_SET_MP_STATE,
	KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_SET_DEVICE_ATTR, KVM_GET_DEVICE_ATTR, KVM_HAS_DEVICE_ATTR,
	VHOST_NET_SET_BACKEND, VHOST_GET_VRING_BASE, /* a snapshot takes vhost-net's rings back (virtio/net.c) */
	KVM_IRQFD, KVM_SET_GSI_ROUTING, /* a restore wires vhost-net's interrupts to MSI-X again (irq-routes.c) */
};
static const u32 vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_IOEVENTFD, KVM_GET_ONE_REG, KVM_SET_ONE_REG, KVM_GET_VCPU_EVENTS,
	KVM_SET_VCPU_EVENTS, KVM_SET_GUEST_DEBUG, /* the gdb stub's settings, applied by each vCPU itself */
	VHOST_NET_SET_BACKEND, /* the guest resets a vhost-net NIC: the kernel lets go of its rings */
	KVM_IRQFD, KVM_SET_GSI_ROUTING, /* the guest programs MSI-X: vhost-net's interrupts follow (irq-routes.c) */
};
static const u32 gdb_ioctls[] = { KVM_GET_ONE_REG, KVM_SET_ONE_REG };
static const u32 worker_ioctls[] = { KVM_IRQ_LINE, KVM_SIGNAL_MSI };
/* A net worker also starts vhost-net (net/vhost.c) when the driver runs the device or after a snapshot, and tells
 * the tap which offloads the driver took (net/tap.c). */
static const u32 net_ioctls[] = {
	KVM_IRQ_LINE, KVM_SIGNAL_MSI, VHOST_SET_MEM_TABLE, VHOST_SET_FEATURES, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE,
	VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_NET_SET_BACKEND, VHOST_GET_VRING_BASE,
	TUNSETOFFLOAD,
};

#define POLICY(n, c, i) { n, c, ARRAY_SIZE(c), i, ARRAY_SIZE(i) }
static const struct sandbox_policy policies[SANDBOX_NR_CLASSES] = {
	[SANDBOX_MAIN] = POLICY("main", main_calls, main_ioctls),
	[SANDBOX_VCPU] = POLICY("vCPU", vcpu_calls, vcpu_ioctls),
	[SANDBOX_WORKER] = POLICY("device worker", worker_calls, worker_ioctls),
	[SANDBOX_SHARE] = POLICY("9p worker", share_calls, worker_ioctls),
	[SANDBOX_NET] = POLICY("net worker", net_calls, net_ioctls),
	[SANDBOX_METRICS] = { "metrics", metrics_calls, ARRAY_SIZE(metrics_calls), NULL, 0 },
	[SANDBOX_GDB] = POLICY("gdb", gdb_calls, gdb_ioctls),
};

const struct sandbox_policy *sandbox_policy(enum sandbox_class c)
{
	return c < SANDBOX_NR_CLASSES ? &policies[c] : NULL;
}

const char *sandbox_syscall_name(u32 nr)
{
#define NAME_OF(n) if (nr == SC_##n) return #n;
	ARM64_SYSCALLS(NAME_OF)
#undef NAME_OF
	return "?";
}

/* seccomp_data offsets: nr, arch, instruction pointer, then six 64-bit arguments (little-endian halves on arm64) */
#define OFF_NR 0
#define OFF_ARCH 4
#define OFF_ARG_LO(i) (16 + 8 * (i))
#define OFF_ARG_HI(i) (16 + 8 * (i) + 4)

struct emitter {
	struct sock_filter *p;
	size_t n, cap;
	bool full;
};

static void emit(struct emitter *e, u16 code, u8 jt, u8 jf, u32 k)
{
	if (e->n >= e->cap) {
		e->full = true;
		return;
	}
	e->p[e->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

int sandbox_build(enum sandbox_class c, u32 deny, struct sock_filter *prog, size_t cap)
{
	const struct sandbox_policy *pol = sandbox_policy(c);
	struct emitter e = { prog, 0, cap, false };
	const u32 allow = SECCOMP_RET_ALLOW;

	if (!pol || pol->nr_ioctls > 120)
		return -1;
	/* another architecture's calling convention (a 32-bit compat call) is not ours to judge: kill */
	emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARCH);
	emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_AARCH64_VALUE);
	emit(&e, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
	emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_NR);
	/* ioctl: only the listed requests (the whole 64-bit argument) */
	if (pol->nr_ioctls) {
		emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 0, (u8)(4 + 2 * pol->nr_ioctls + 1), SC_ioctl);
		emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG_HI(1));
		emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
		emit(&e, BPF_RET | BPF_K, 0, 0, deny);
		emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG_LO(1));
		for (size_t i = 0; i < pol->nr_ioctls; i++) {
			emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, pol->ioctls[i]);
			emit(&e, BPF_RET | BPF_K, 0, 0, allow);
		}
		emit(&e, BPF_RET | BPF_K, 0, 0, deny);
	}
	/* mmap and mprotect: never executable memory */
	emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SC_mmap);
	emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, SC_mprotect);
	emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG_LO(2));
	emit(&e, BPF_JMP | BPF_JSET | BPF_K, 0, 1, PROT_EXEC);
	emit(&e, BPF_RET | BPF_K, 0, 0, deny);
	emit(&e, BPF_RET | BPF_K, 0, 0, allow);
	/* the rest: a plain allowlist */
	for (size_t i = 0; i < pol->nr_syscalls; i++) {
		if (pol->syscalls[i] == SC_ioctl && pol->nr_ioctls)
			continue;
		emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, pol->syscalls[i]);
		emit(&e, BPF_RET | BPF_K, 0, 0, allow);
	}
	emit(&e, BPF_RET | BPF_K, 0, 0, deny);
	return e.full ? -1 : (int)e.n;
}

int sandbox_check(const struct sock_filter *prog, size_t len, char *err, size_t errlen)
{
	if (!len || len > SANDBOX_MAX_INSNS || len > BPF_MAXINSNS)
		return snprintf(err, errlen, "%zu instructions (1..%d allowed)", len, SANDBOX_MAX_INSNS), -1;
	for (size_t i = 0; i < len; i++) {
		u16 code = prog[i].code;
		switch (BPF_CLASS(code)) {
		case BPF_LD:
			if (code != (BPF_LD | BPF_W | BPF_ABS) || prog[i].k > 64 - 4 || prog[i].k % 4)
				return snprintf(err, errlen, "insn %zu: a load outside seccomp_data", i), -1;
			break;
		case BPF_JMP:
			if (BPF_OP(code) == BPF_JA || BPF_SRC(code) != BPF_K)
				return snprintf(err, errlen, "insn %zu: only conditional jumps on constants", i), -1;
			if (i + 1 + prog[i].jt >= len || i + 1 + prog[i].jf >= len)
				return snprintf(err, errlen, "insn %zu: a jump past the end", i), -1;
			break;
		case BPF_RET:
			break;
		default:
			return snprintf(err, errlen, "insn %zu: unexpected instruction class", i), -1;
		}
	}
	if (BPF_CLASS(prog[len - 1].code) != BPF_RET)
		return snprintf(err, errlen, "the program does not end with a return"), -1;
	return 0;
}

/* The class of the calling thread, for the SIGSYS report (a handler gets no context; set once per thread). */
static __thread const char *thread_class;

static size_t put_str(char *b, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		b[at++] = *s++;
	return at;
}

static size_t put_hex(char *b, size_t at, size_t cap, unsigned long v)
{
	char t[20];
	int n = 0;
	do
		t[n++] = "0123456789abcdef"[v % 16];
	while ((v /= 16));
	at = at + 2 <= cap ? (b[at] = '0', b[at + 1] = 'x', at + 2) : at;
	while (n && at < cap)
		b[at++] = t[--n];
	return at;
}

static size_t put_uint(char *b, size_t at, size_t cap, unsigned long v)
{
	char t[24];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n && at < cap)
		b[at++] = t[--n];
	return at;
}

/* Async-signal-safe: one line, then the end of the process (what SECCOMP_RET_KILL_PROCESS does, with a reason). */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char b[300];
	size_t n = 0, cap = sizeof(b) - 1;

	(void)sig;
	(void)uc;
	n = put_str(b, n, cap, "  Fatal: seccomp sandbox: the ");
	n = put_str(b, n, cap, thread_class ? thread_class : "?");
	n = put_str(b, n, cap, " thread made system call ");
	n = put_uint(b, n, cap, (unsigned long)si->si_syscall);
	if (strcmp(sandbox_syscall_name((u32)si->si_syscall), "?")) {
		n = put_str(b, n, cap, " (");
		n = put_str(b, n, cap, sandbox_syscall_name((u32)si->si_syscall));
#ifdef __aarch64__
		if ((u32)si->si_syscall == SC_ioctl) { /* which request: the second argument, x1 */
			n = put_str(b, n, cap, " ");
			n = put_hex(b, n, cap, (unsigned long)((ucontext_t *)uc)->uc_mcontext.regs[1]);
		}
#endif
		n = put_str(b, n, cap, ")");
	}
	n = put_str(b, n, cap, " that its filter refuses (arm64 numbering, asm-generic/unistd.h); lkvm stops. Rerun with "
			       "--no-seccomp to confirm, and report it\n");
	b[n] = '\0';
	if (write(STDERR_FILENO, b, n) < 0)
		(void)0;
	syscall(SYS_exit_group, 128 + SIGSYS);
}

/* Where lkvm's image starts (its program headers sit in its first page): a PC minus it is what addr2line takes. */
static unsigned long image_base;

static const char *fault_name(int sig)
{
	return sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGILL ? "SIGILL" : "SIGFPE";
}

/*
 * Async-signal-safe: one line naming the signal, the thread's class, the address and the PC, so a crash in CI says
 * where it happened; then the kernel's default action (the handler was reset: a fault recurs, a sent signal is
 * sent again), so the exit status stays 128 + the signal.
 */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	char b[300];
	size_t n = 0, cap = sizeof(b) - 1;

	n = put_str(b, n, cap, "  Fatal: lkvm crashed: ");
	n = put_str(b, n, cap, fault_name(sig));
	n = put_str(b, n, cap, " in the ");
	n = put_str(b, n, cap, thread_class ? thread_class : "main");
	n = put_str(b, n, cap, " thread (tid ");
	n = put_uint(b, n, cap, (unsigned long)syscall(SYS_gettid));
	n = put_str(b, n, cap, ")");
	if (si->si_code > 0) {
		n = put_str(b, n, cap, " at address ");
		n = put_hex(b, n, cap, (unsigned long)si->si_addr);
#if defined(__aarch64__)
		n = put_str(b, n, cap, ", pc ");
		n = put_hex(b, n, cap, (unsigned long)((ucontext_t *)uc)->uc_mcontext.pc);
		n = put_str(b, n, cap, " (lkvm at ");
		n = put_hex(b, n, cap, image_base);
		n = put_str(b, n, cap, ")");
#elif defined(__x86_64__)
		n = put_str(b, n, cap, ", pc ");
		n = put_hex(b, n, cap, (unsigned long)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
		n = put_str(b, n, cap, " (lkvm at ");
		n = put_hex(b, n, cap, image_base);
		n = put_str(b, n, cap, ")");
#endif
	} else {
		n = put_str(b, n, cap, ", sent by process ");
		n = put_uint(b, n, cap, (unsigned long)si->si_pid);
	}
	n = put_str(b, n, cap, "; please report it\n");
	b[n] = '\0';
	if (write(STDERR_FILENO, b, n) < 0)
		(void)0;
	if (si->si_code <= 0)
		syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), sig);
	/* a fault: returning runs the instruction again, now with the default action */
}

void sandbox_crash_report(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	struct sigaction sa;

	image_base = getauxval(AT_PHDR) & ~0xfffUL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* A stack for the crash report, so that an overflowed thread stack can still say where it was. */
static void thread_altstack(void)
{
	stack_t ss = { .ss_size = 64 * 1024 };

	ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ss.ss_sp != MAP_FAILED)
		sigaltstack(&ss, NULL);
}

void sandbox_init(enum sandbox_mode mode)
{
	struct sigaction sa;

	sandbox_crash_report();
	if (mode != SANDBOX_ON)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

int sandbox_enter(enum sandbox_class c, enum sandbox_mode mode)
{
	struct sock_filter prog[SANDBOX_MAX_INSNS];
	struct sock_fprog fp;
	char err[128];
	int n;

	thread_class = policies[c].name;
	thread_altstack();
	if (mode == SANDBOX_OFF)
		return 0;
	n = sandbox_build(c, mode == SANDBOX_LOG ? SECCOMP_RET_LOG : SECCOMP_RET_TRAP, prog, ARRAY_SIZE(prog));
	if (n < 0 || sandbox_check(prog, (size_t)n, err, sizeof(err)))
		return -EINVAL;
	fp = (struct sock_fprog){ .len = (unsigned short)n, .filter = prog };
	/* no new privileges: required for an unprivileged filter, and right for a VMM anyway */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) < 0)
		return -errno;
	return 0;
}
