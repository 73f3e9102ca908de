/* Unit tests: the seccomp policy tables are well formed, and the BPF built from them, run in a small interpreter,
 * allows exactly each class's list (ioctls by request, no executable mappings) and kills other architectures. */
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "kvm/arm64-syscalls.h"
#include "kvm/sandbox.h"

#define DENY SECCOMP_RET_TRAP

/* Run prog on one seccomp_data (arm64 layout, little-endian halves); returns the action. */
static u32 run(const struct sock_filter *p, size_t len, u32 arch, u32 nr, const u64 *args)
{
	u8 data[64];
	u32 a = 0;

	memset(data, 0, sizeof(data));
	memcpy(data, &nr, 4);
	memcpy(data + 4, &arch, 4);
	for (int i = 0; i < 6; i++)
		memcpy(data + 16 + 8 * i, &args[i], 8);
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &p[pc];
		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			memcpy(&a, data + f->k, 4);
			break;
		case BPF_JMP:
			if (BPF_OP(f->code) == BPF_JEQ)
				pc += a == f->k ? f->jt : f->jf;
			else if (BPF_OP(f->code) == BPF_JSET)
				pc += (a & f->k) ? f->jt : f->jf;
			else
				return 0xdead;
			break;
		case BPF_RET:
			return f->k;
		}
	}
	return 0xdead; /* fell off the end */
}

static u32 call(const struct sock_filter *p, size_t len, u32 nr, u64 a0, u64 a1, u64 a2)
{
	u64 args[6] = { a0, a1, a2, 0, 0, 0 };
	return run(p, len, AUDIT_ARCH_AARCH64_VALUE, nr, args);
}

static bool listed(const struct sandbox_policy *pol, u32 nr)
{
	for (size_t i = 0; i < pol->nr_syscalls; i++)
		if (pol->syscalls[i] == nr)
			return true;
	return false;
}

/* A child that crashes (a fault, or a signal sent to it): its status and the first line of its stderr. */
static int crash_child(bool fault, char *line, size_t len)
{
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		sandbox_crash_report();
		sandbox_enter(SANDBOX_VCPU, SANDBOX_OFF); /* names the thread, gives it a crash stack; no filter */
		if (fault)
			*(volatile int *)(uintptr_t)16 = 1;
		else
			kill(getpid(), SIGBUS);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], line, len - 1);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return st;
}

static void test_crash_report(struct unit_counts *uc)
{
	char line[400];
	int st = crash_child(true, line, sizeof(line));

	CHECK(uc, WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a fault still ends the process by SIGSEGV (status %#x)", st);
	CHECK(uc, strstr(line, "Fatal: lkvm crashed: SIGSEGV in the vCPU thread (tid ") && strstr(line, "at address 0x10, pc 0x"),
	      "the crash report names the signal, the thread, the address and the PC: '%s'", line);
	st = crash_child(false, line, sizeof(line));
	CHECK(uc, WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS && strstr(line, "SIGBUS in the vCPU thread") &&
		  strstr(line, "sent by process"),
	      "a SIGBUS sent to lkvm is reported as sent, and still ends it (status %#x): '%s'", st, line);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	static const u32 must[] = { SC_write, SC_futex, SC_exit, SC_exit_group, SC_rt_sigreturn, SC_madvise, SC_munmap };

	for (int c = 0; c < SANDBOX_NR_CLASSES; c++) {
		const struct sandbox_policy *pol = sandbox_policy((enum sandbox_class)c);
		struct sock_filter prog[SANDBOX_MAX_INSNS];
		char err[200] = "";
		bool sorted = true, uniq = true, sane = true, all_allowed = true, essentials = true;
		int n;

		CHECK(&uc, pol && pol->nr_syscalls > 0 && pol->name, "class %d (%s): a non-empty syscall list (%zu)", c,
		      pol ? pol->name : "?", pol ? pol->nr_syscalls : 0);
		if (!pol)
			continue;
		for (size_t i = 0; i < pol->nr_syscalls; i++) {
			if (i && pol->syscalls[i] <= pol->syscalls[i - 1])
				sorted = false;
			if (pol->syscalls[i] >= 1024 || !strcmp(sandbox_syscall_name(pol->syscalls[i]), "?"))
				sane = false;
		}
		for (size_t i = 0; i < pol->nr_ioctls; i++)
			for (size_t j = 0; j < i; j++)
				if (pol->ioctls[i] == pol->ioctls[j])
					uniq = false;
		for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
			essentials &= listed(pol, must[i]);
		CHECK(&uc, sorted, "%s: syscall numbers sorted and unique", pol->name);
		CHECK(&uc, sane, "%s: every number is a known arm64 syscall", pol->name);
		CHECK(&uc, uniq && (pol->nr_ioctls == 0 || listed(pol, SC_ioctl)), "%s: %zu unique ioctls, ioctl listed",
		      pol->name, pol->nr_ioctls);
		CHECK(&uc, essentials, "%s: write, futex, exit(_group), rt_sigreturn, madvise, munmap allowed", pol->name);
		n = sandbox_build((enum sandbox_class)c, DENY, prog, SANDBOX_MAX_INSNS);
		CHECK(&uc, n > 0 && n <= SANDBOX_MAX_INSNS && n <= BPF_MAXINSNS, "%s: %d BPF instructions", pol->name, n);
		if (n <= 0)
			continue;
		CHECK(&uc, !sandbox_check(prog, (size_t)n, err, sizeof(err)), "%s: jumps in range, loads in seccomp_data, "
		      "ends with a return %s", pol->name, err);
		CHECK(&uc, sandbox_build((enum sandbox_class)c, DENY, prog, 10) == -1, "%s: too small a buffer is refused",
		      pol->name);
		n = sandbox_build((enum sandbox_class)c, DENY, prog, SANDBOX_MAX_INSNS);
		for (size_t i = 0; i < pol->nr_syscalls; i++) {
			u32 nr = pol->syscalls[i];
			u64 a1 = nr == SC_ioctl && pol->nr_ioctls ? pol->ioctls[0] : 0;
			if (call(prog, (size_t)n, nr, 3, a1, PROT_READ | PROT_WRITE) != SECCOMP_RET_ALLOW)
				all_allowed = false;
		}
		CHECK(&uc, all_allowed, "%s: every listed syscall is allowed", pol->name);
		{
			u64 args[6] = { 0 };
			CHECK(&uc, run(prog, (size_t)n, 0x40000003 /* i386 */, SC_write, args) == SECCOMP_RET_KILL_PROCESS,
			      "%s: another architecture is killed", pol->name);
		}
		CHECK(&uc, call(prog, (size_t)n, SC_mmap, 0, 4096, PROT_READ | PROT_EXEC) == DENY &&
				   call(prog, (size_t)n, SC_mprotect, 0, 4096, PROT_EXEC) == DENY,
		      "%s: no executable mappings", pol->name);
		CHECK(&uc, call(prog, (size_t)n, 221 /* execve */, 0, 0, 0) == DENY &&
				   call(prog, (size_t)n, 220 /* clone */, 0, 0, 0) == DENY &&
				   call(prog, (size_t)n, 198 /* socket */, 0, 0, 0) == DENY,
		      "%s: execve, clone and socket refused", pol->name);
		if (pol->nr_ioctls) {
			CHECK(&uc, call(prog, (size_t)n, SC_ioctl, 3, pol->ioctls[0] | (1ULL << 32), 0) == DENY,
			      "%s: an ioctl request with high bits set is refused", pol->name);
			CHECK(&uc, call(prog, (size_t)n, SC_ioctl, 3, KVM_CREATE_VM, 0) == DENY,
			      "%s: KVM_CREATE_VM refused", pol->name);
		}
	}
	{
		struct sock_filter v[SANDBOX_MAX_INSNS], w[SANDBOX_MAX_INSNS], m[SANDBOX_MAX_INSNS];
		int nv = sandbox_build(SANDBOX_VCPU, DENY, v, SANDBOX_MAX_INSNS);
		int nw = sandbox_build(SANDBOX_WORKER, DENY, w, SANDBOX_MAX_INSNS);
		int nm = sandbox_build(SANDBOX_MAIN, DENY, m, SANDBOX_MAX_INSNS);
		CHECK(&uc, call(v, (size_t)nv, SC_ioctl, 9, KVM_RUN, 0) == SECCOMP_RET_ALLOW &&
				   call(w, (size_t)nw, SC_ioctl, 9, KVM_RUN, 0) == DENY &&
				   call(m, (size_t)nm, SC_ioctl, 9, KVM_RUN, 0) == DENY,
		      "KVM_RUN: vCPU threads only");
		CHECK(&uc, call(m, (size_t)nm, SC_openat, 0, 0, 0) == SECCOMP_RET_ALLOW &&
				   call(v, (size_t)nv, SC_openat, 0, 0, 0) == DENY &&
				   call(w, (size_t)nw, SC_openat, 0, 0, 0) == DENY,
		      "openat: the main thread only (save, stat)");
		CHECK(&uc, call(w, (size_t)nw, SC_pwritev, 0, 0, 0) == SECCOMP_RET_ALLOW &&
				   call(v, (size_t)nv, SC_pwritev, 0, 0, 0) == DENY,
		      "pwritev: device workers (disk I/O), not vCPUs");
		CHECK(&uc, call(m, (size_t)nm, SC_ioctl, 0, KVM_GET_DIRTY_LOG, 0) == SECCOMP_RET_ALLOW &&
				   call(v, (size_t)nv, SC_ioctl, 0, KVM_GET_DIRTY_LOG, 0) == DENY,
		      "KVM_GET_DIRTY_LOG: main (migration) only");
	}
	{
		struct sock_filter w[SANDBOX_MAX_INSNS], nt[SANDBOX_MAX_INSNS];
		int nw = sandbox_build(SANDBOX_WORKER, DENY, w, SANDBOX_MAX_INSNS);
		int nn = sandbox_build(SANDBOX_NET, DENY, nt, SANDBOX_MAX_INSNS);
		CHECK(&uc, call(nt, (size_t)nn, SC_sendto, 3, 0, 0) == SECCOMP_RET_ALLOW &&
				   call(nt, (size_t)nn, SC_recvfrom, 3, 0, 0) == SECCOMP_RET_ALLOW &&
				   call(w, (size_t)nw, SC_sendto, 3, 0, 0) == DENY && call(w, (size_t)nw, SC_recvfrom, 3, 0, 0) == DENY,
		      "sendto/recvfrom (the passt socket): net workers only");
		CHECK(&uc, call(nt, (size_t)nn, 203 /* connect */, 3, 0, 0) == DENY &&
				   call(nt, (size_t)nn, SC_openat, 0, 0, 0) == DENY &&
				   call(nt, (size_t)nn, SC_ioctl, 3, KVM_RUN, 0) == DENY,
		      "net workers: no connect (passt is connected before the sandbox), no openat, no KVM_RUN");
	}
	test_crash_report(&uc);
	UNIT_DONE(&uc);
}
