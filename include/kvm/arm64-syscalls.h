/* arm64 (asm-generic) system call numbers named by lkvm's seccomp policy: generated from linux-libc-dev-arm64-cross
 * 6.1 asm-generic/unistd.h; an aarch64 build of sandbox.c checks each against <asm/unistd.h>. */
#ifndef KVM_ARM64_SYSCALLS_H
#define KVM_ARM64_SYSCALLS_H

#define AUDIT_ARCH_AARCH64_VALUE 0xc00000b7u /* EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE */

#define SC_getcwd 17
#define SC_fcntl 25
#define SC_ioctl 29
#define SC_mknodat 33
#define SC_mkdirat 34
#define SC_unlinkat 35
#define SC_symlinkat 36
#define SC_linkat 37
#define SC_renameat 38
#define SC_statfs 43
#define SC_fstatfs 44
#define SC_truncate 45
#define SC_ftruncate 46
#define SC_fallocate 47
#define SC_fchmod 52
#define SC_fchmodat 53
#define SC_fchownat 54
#define SC_openat 56
#define SC_close 57
#define SC_getdents64 61
#define SC_lseek 62
#define SC_read 63
#define SC_write 64
#define SC_readv 65
#define SC_writev 66
#define SC_pread64 67
#define SC_pwrite64 68
#define SC_preadv 69
#define SC_pwritev 70
#define SC_ppoll 73
#define SC_readlinkat 78
#define SC_newfstatat 79
#define SC_fstat 80
#define SC_fsync 82
#define SC_fdatasync 83
#define SC_utimensat 88
#define SC_exit 93
#define SC_exit_group 94
#define SC_futex 98
#define SC_set_robust_list 99
#define SC_nanosleep 101
#define SC_clock_gettime 113
#define SC_clock_getres 114
#define SC_clock_nanosleep 115
#define SC_sched_yield 124
#define SC_restart_syscall 128
#define SC_tgkill 131
#define SC_rt_sigprocmask 135
#define SC_rt_sigreturn 139
#define SC_gettimeofday 169
#define SC_getpid 172
#define SC_getuid 174
#define SC_geteuid 175
#define SC_gettid 178
#define SC_sendto 206
#define SC_recvfrom 207
#define SC_setsockopt 208
#define SC_getsockopt 209
#define SC_shutdown 210
#define SC_sendmsg 211
#define SC_recvmsg 212
#define SC_brk 214
#define SC_munmap 215
#define SC_mremap 216
#define SC_mmap 222
#define SC_mprotect 226
#define SC_madvise 233
#define SC_accept4 242
#define SC_wait4 260
#define SC_renameat2 276
#define SC_getrandom 278
#define SC_rseq 293
#define SC_openat2 437

/* X(name) for each of them: the build checks and the names in messages */
#define ARM64_SYSCALLS(X) \
	X(getcwd) \
	X(fcntl) \
	X(ioctl) \
	X(mknodat) \
	X(mkdirat) \
	X(unlinkat) \
	X(symlinkat) \
	X(linkat) \
	X(renameat) \
	X(statfs) \
	X(fstatfs) \
	X(truncate) \
	X(ftruncate) \
	X(fallocate) \
	X(fchmod) \
	X(fchmodat) \
	X(fchownat) \
	X(openat) \
	X(close) \
	X(getdents64) \
	X(lseek) \
	X(read) \
	X(write) \
	X(readv) \
	X(writev) \
	X(pread64) \
	X(pwrite64) \
	X(preadv) \
	X(pwritev) \
	X(ppoll) \
	X(readlinkat) \
	X(newfstatat) \
	X(fstat) \
	X(fsync) \
	X(fdatasync) \
	X(utimensat) \
	X(exit) \
	X(exit_group) \
	X(futex) \
	X(set_robust_list) \
	X(nanosleep) \
	X(clock_gettime) \
	X(clock_getres) \
	X(clock_nanosleep) \
	X(sched_yield) \
	X(restart_syscall) \
	X(tgkill) \
	X(rt_sigprocmask) \
	X(rt_sigreturn) \
	X(gettimeofday) \
	X(getpid) \
	X(getuid) \
	X(geteuid) \
	X(gettid) \
	X(sendto) \
	X(recvfrom) \
	X(setsockopt) \
	X(getsockopt) \
	X(shutdown) \
	X(sendmsg) \
	X(recvmsg) \
	X(brk) \
	X(munmap) \
	X(mremap) \
	X(mmap) \
	X(mprotect) \
	X(madvise) \
	X(accept4) \
	X(wait4) \
	X(renameat2) \
	X(getrandom) \
	X(rseq) \
	X(openat2)

#endif
