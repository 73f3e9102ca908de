/*
 * dirtylog: does this host's KVM dirty log miss guest writes? Stand-alone (no lkvm code): a VM with one memory slot,
 * 1-2 vCPUs running a loop that stores a counter into page after page, and the host collecting KVM_GET_DIRTY_LOG
 * every few ms (as a live migration does, and as the kernel's dirty_log_test) and comparing memory with it: every page
 * whose contents changed between two snapshots must be in the log collected before or after the second one.
 *
 * dirtylog [-m MIB] [-c VCPUS] [-r ROUNDS] [-i MS] [-w MS] [-s STRIDE] [-d N] [-n] [-H] [-z] [-p] [-a] [-b] [-M] [-R] [-x]
 *   -m data MiB (64)  -c vCPUs 1|2 (2)  -r rounds (100)  -i ms between collections (20)  -w ms of running before the
 *   log is switched on (300)  -s page stride of the loop (97)  -n MMU off in the guest (default on, identity map)
 *   -H no transparent huge pages for guest RAM  -z each store preceded by a DC ZVA of its 64-byte block (MMU on)
 *   -p the guest rewrites its own L3 page-table descriptor of each page before the store (-m even, <= 64)
 *   -a as -p, the descriptor written with AF clear and the walker setting it (TCR_EL1.HA; needs FEAT_HAFDBS)
 *   -b the walker's access-flag update is the first write to a huge stage-2 block after the log is switched on:
 *      the host clears AF in every L3 descriptor right then (the tables share a 2 MiB block with data pages),
 *      the guest only stores, with a TLBI before each store (as a Linux guest's page tables, written before a
 *      migration and aged by the walker during it)
 *   -R each page first read (with -w 0: never touched before the log is on), then written half a sweep later
 *   -M move each vCPU thread to another CPU every round
 *   -d N single-step vCPU 0's first N instructions, printing each (a diagnosis)
 *   -x self-test: the host itself writes one page a round behind KVM's back, which must be reported (the checker can
 *   fail)
 * Prints a line per round with losses and a summary; exit 0: no entry lost, 1: entries lost, 2: could not run.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if !defined(__aarch64__)
int main(void)
{
	fprintf(stderr, "dirtylog: arm64 only\n");
	return 2;
}
#else

#define BASE 0x80000000ULL
#define DATA_OFF (2ULL << 20) /* code at page 0, the page table at page 1, exception page 2, data from 2 MiB */
#define VBAR_OFF 0x800ULL    /* vectors: the loop's code is short */
#define EXC_OFF (2 * 4096ULL)
#define PG 4096ULL
#define HOST_PAGES 16ULL /* the last data pages: the guest never writes them (-x writes them) */
#define CORE(r) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offsetof(struct kvm_regs, r) / 4))
#define SYS(op0, op1, crn, crm, op2) ARM64_SYS_REG(op0, op1, crn, crm, op2)

/* x0 data base, x1 pages, x2 stride, x3 byte offset in the page, x4 counter, x5 first page: store, step, wrap */
extern const unsigned char guest_loop[], guest_loop_end[], guest_zva[], guest_zva_end[], guest_vec[], guest_vec_end[];
extern const unsigned char guest_pt[], guest_pt_end[], guest_rw[], guest_rw_end[];
__asm__(".pushsection .rodata\n"
	".balign 4\n"
	/* global: a local label referenced from C resolves to 0 through the GOT in a static PIE-less build */
	".global guest_loop, guest_loop_end, guest_zva, guest_zva_end, guest_vec, guest_vec_end, guest_pt, guest_pt_end, guest_rw, guest_rw_end\n"
	"guest_loop:\n"
	"1:	add x6, x0, x5, lsl #12\n"
	"	str x4, [x6, x3]\n"
	"	add x4, x4, #1\n"
	"	add x5, x5, x2\n"
	"	cmp x5, x1\n"
	"	b.lo 1b\n"
	"	sub x5, x5, x1\n"
	"	b 1b\n"
	"guest_loop_end:\n"
	/* the same, each page first cleared with DC ZVA (as the guest kernel's clear_page()) */
	"guest_zva:\n"
	"1:	add x6, x0, x5, lsl #12\n"
	"	dc zva, x6\n"
	"	str x4, [x6, x3]\n"
	"	add x4, x4, #1\n"
	"	add x5, x5, x2\n"
	"	cmp x5, x1\n"
	"	b.lo 1b\n"
	"	sub x5, x5, x1\n"
	"	b 1b\n"
	"guest_zva_end:\n"
	/* -R: read page p (its first touch: the host may back it with the zero page), write page p + x14 (mod x1),
	 * which was read half a sweep earlier */
	"guest_rw:\n"
	"1:	add x6, x0, x5, lsl #12\n"
	"	ldr x9, [x6, x3]\n"
	"	add x8, x5, x14\n"
	"	cmp x8, x1\n"
	"	b.lo 3f\n"
	"	sub x8, x8, x1\n"
	"3:	add x8, x0, x8, lsl #12\n"
	"	str x4, [x8, x3]\n"
	"	add x4, x4, #1\n"
	"	add x5, x5, x2\n"
	"	cmp x5, x1\n"
	"	b.lo 1b\n"
	"	sub x5, x5, x1\n"
	"	b 1b\n"
	"guest_rw_end:\n"
	/*
	 * -p: the guest writes its own page tables. Data page p is mapped by L3 descriptor p, the L3 tables are the
	 * first data pages (x12 of them). Each step rewrites the descriptor of page p with new software bits (55-58)
	 * (x11: the descriptor's attributes; with -a AF clear, then TLBI so that the walker sets AF itself), then
	 * stores the counter into page p. x5 runs over [x12, x1).
	 */
	"guest_pt:\n"
	"1:	add x6, x0, x5, lsl #12\n"
	"	lsr x7, x5, #9\n"
	"	add x7, x0, x7, lsl #12\n"
	"	and x8, x5, #511\n"
	"	add x7, x7, x8, lsl #3\n"
	"	and x9, x4, #0xf\n"
	"	orr x10, x11, x6\n"
	"	orr x10, x10, x9, lsl #55\n"
	"	cbnz x16, 4f\n" /* -b: the descriptor is left as the host wrote it */
	"	str x10, [x7]\n"
	"4:	cbz x13, 2f\n"
	"	dsb ishst\n"
	"	lsr x9, x6, #12\n"
	"	tlbi vaae1is, x9\n"
	"	dsb ish\n"
	"	isb\n"
	"2:	str x4, [x6, x3]\n"
	"	add x4, x4, #1\n"
	"	add x5, x5, x2\n"
	"	cmp x5, x1\n"
	"	b.lo 1b\n"
	"	sub x5, x5, x1\n"
	"	add x5, x5, x12\n"
	"	b 1b\n"
	"guest_pt_end:\n"
	/* any exception (VBAR_EL1 + 0x200): keep ESR, ELR, FAR of the first one at x15 (the exception page), stop */
	"guest_vec:\n"
	"	ldr x7, [x15]\n"
	"	cbnz x7, 2f\n"
	"	mrs x7, esr_el1\n"
	"	mrs x8, elr_el1\n"
	"	mrs x9, far_el1\n"
	"	orr x7, x7, #(1 << 63)\n"
	"	stp x7, x8, [x15]\n"
	"	str x9, [x15, #16]\n"
	"2:	wfi\n"
	"	b 2b\n"
	"guest_vec_end:\n"
	".popsection\n");

struct vcpu {
	int fd;
	struct kvm_run *run;
	pthread_t th;
	int id;
	int steps; /* -d: single-step this many instructions first (vCPU 0) */
	u_int8_t *exc; /* where the guest's exception vector records the first exception */
};

static int vm_fd, kvm_fd; /* one VM per process: a test tool */
static volatile sig_atomic_t stopping;

static void fail(const char *what)
{
	fprintf(stderr, "dirtylog: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void set_reg(int fd, u_int64_t id, u_int64_t v)
{
	struct kvm_one_reg r = { .id = id, .addr = (u_int64_t)(uintptr_t)&v };
	if (ioctl(fd, KVM_SET_ONE_REG, &r) < 0)
		fail("KVM_SET_ONE_REG");
}

static u_int64_t get_reg(int fd, u_int64_t id)
{
	u_int64_t v = 0;
	struct kvm_one_reg r = { .id = id, .addr = (u_int64_t)(uintptr_t)&v };
	if (ioctl(fd, KVM_GET_ONE_REG, &r) < 0)
		fail("KVM_GET_ONE_REG");
	return v;
}

static void on_kick(int sig)
{
	(void)sig; /* KVM_RUN returns EINTR */
}

/* Run until kicked at the end; then say where the vCPU is and how many stores it made (its counter). */
static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	if (v->steps) { /* -d N: the first N instructions one by one (KVM_GUESTDBG_SINGLESTEP), for a broken bed */
		struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP };
		if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
			fail("KVM_SET_GUEST_DEBUG");
		for (int n = 0; n < v->steps; n++) {
			if (ioctl(v->fd, KVM_RUN, 0) < 0)
				fail("KVM_RUN (single step)");
			printf("step %d: exit %u hsr 0x%x pc 0x%llx x4 0x%llx x6 0x%llx ESR_EL1 0x%llx\n", n,
			       v->run->exit_reason, v->run->debug.arch.hsr,
			       (unsigned long long)get_reg(v->fd, CORE(regs.pc)),
			       (unsigned long long)get_reg(v->fd, CORE(regs.regs[4])),
			       (unsigned long long)get_reg(v->fd, CORE(regs.regs[6])),
			       (unsigned long long)get_reg(v->fd, SYS(3, 0, 5, 2, 0)));
		}
		fflush(stdout);
		dbg.control = 0;
		ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg);
	}
	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if ((errno == EINTR || errno == EAGAIN) && !stopping)
				continue;
			if (errno != EINTR && errno != EAGAIN)
				fail("KVM_RUN");
			{
				const volatile u_int64_t *e = (const volatile u_int64_t *)(v->exc);
				printf("vCPU %d: pc 0x%llx, %llu stores", v->id,
				       (unsigned long long)get_reg(v->fd, CORE(regs.pc)),
				       (unsigned long long)((get_reg(v->fd, CORE(regs.regs[4])) & ((1ULL << 56) - 1)) - 1));
				if (e[0])
					printf("; stopped by an exception: ESR_EL1 0x%llx at 0x%llx, FAR_EL1 0x%llx",
					       (unsigned long long)(e[0] & ~(1ULL << 63)), (unsigned long long)e[1],
					       (unsigned long long)e[2]);
				printf("\n");
			}
			return NULL;
		}
		fprintf(stderr, "dirtylog: vCPU %d exited to userspace (reason %u): the guest loop never should\n", v->id,
			v->run->exit_reason);
		exit(2);
	}
	return NULL;
}

static u_int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u_int64_t)ts.tv_sec * 1000000 + (u_int64_t)ts.tv_nsec / 1000;
}

static void set_log(u_int8_t *host, u_int64_t size, int on)
{
	struct kvm_userspace_memory_region r = { .slot = 0, .flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
						 .guest_phys_addr = BASE, .memory_size = size,
						 .userspace_addr = (u_int64_t)(uintptr_t)host };
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		fail("KVM_SET_USER_MEMORY_REGION");
}

static void get_log(u_int64_t *bits, size_t words)
{
	struct kvm_dirty_log dl = { .slot = 0, .dirty_bitmap = bits };
	memset(bits, 0, words * 8);
	if (ioctl(vm_fd, KVM_GET_DIRTY_LOG, &dl) < 0)
		fail("KVM_GET_DIRTY_LOG");
}

static int bit(const u_int64_t *b, u_int64_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

int main(int argc, char **argv)
{
	u_int64_t mib = 64, rounds = 100, interval = 20, warm = 300, stride = 97, npages, size, hp = (u_int64_t)sysconf(_SC_PAGESIZE);
	int ncpu = 2, mmu = 1, thp = 1, inject = 0, zva = 0, steps = 0, pt = 0, haf = 0, blk = 0, hop = 0, rw = 0, opt;
	u_int64_t ntab = 0; /* -p: L3 tables, the first data pages */
	struct kvm_vcpu_init init;
	struct vcpu vc[2];
	u_int8_t *raw, *host, *snap[2];
	u_int64_t *log[3], changed_total = 0, lost_total = 0, logged_total = 0, inj = 0, inj_found = 0, lost_rounds = 0;
	u_int64_t unreported_total = 0; /* lost pages in a 2 MiB block none of the round's logs reported */
	size_t words;

	while ((opt = getopt(argc, argv, "m:c:r:i:w:s:d:nHzxpabMR")) != -1) {
		switch (opt) {
		case 'm': mib = strtoull(optarg, NULL, 0); break;
		case 'c': ncpu = atoi(optarg); break;
		case 'r': rounds = strtoull(optarg, NULL, 0); break;
		case 'i': interval = strtoull(optarg, NULL, 0); break;
		case 'w': warm = strtoull(optarg, NULL, 0); break;
		case 's': stride = strtoull(optarg, NULL, 0); break;
		case 'n': mmu = 0; break;
		case 'H': thp = 0; break;
		case 'x': inject = 1; break;
		case 'z': zva = 1; break;
		case 'd': steps = atoi(optarg); break;
		case 'p': pt = 1; break;
		case 'M': hop = 1; break;
		case 'R': rw = 1; break;
		case 'a': pt = haf = 1; break;
		case 'b': pt = haf = blk = 1; break;
		default:
			fprintf(stderr, "usage: dirtylog [-m MIB] [-c 1|2] [-r ROUNDS] [-i MS] [-w MS] [-s STRIDE] [-d N] [-n] [-H] [-z] [-p] [-a] [-b] [-M] [-R] [-x]\n");
			return 2;
		}
	}
	if (mib < 1 || mib > 900 || ncpu < 1 || ncpu > 2 || rounds < 3 || hp != PG || ((zva || pt) && !mmu) || (zva && pt) ||
	    (pt && (mib % 2 || mib > 64))) {
		fprintf(stderr, "dirtylog: -m 1..900, -c 1|2, -r >= 3, -z/-p need the MMU on (not both), -p an even -m up to 64, "
				"and a 4 KiB host page size\n");
		return 2;
	}
	npages = mib << 8;
	if (stride == 0 || stride >= npages - HOST_PAGES - mib / 2)
		stride = 1;
	size = DATA_OFF + (mib << 20);
	words = (size / PG + 63) / 64;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		fail("/dev/kvm");
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		fail("KVM_CREATE_VM");
	raw = mmap(NULL, size + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		fail("mmap");
	host = (u_int8_t *)(((uintptr_t)raw + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
	madvise(host, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (rw)
		memcpy(host, guest_rw, (size_t)(guest_rw_end - guest_rw));
	else if (pt)
		memcpy(host, guest_pt, (size_t)(guest_pt_end - guest_pt));
	else if (zva)
		memcpy(host, guest_zva, (size_t)(guest_zva_end - guest_zva));
	else
		memcpy(host, guest_loop, (size_t)(guest_loop_end - guest_loop));
	memcpy(host + VBAR_OFF + 0x200, guest_vec, (size_t)(guest_vec_end - guest_vec));
	/* identity map of 1 GiB at BASE: one level-1 block, normal write-back memory (MAIR index 0) */
	((u_int64_t *)(host + PG))[BASE >> 30] = BASE | (1ULL << 10) /* AF */ | (3ULL << 8) /* inner shareable */ | 1;
	if (pt) { /* L1[2] -> L2 (page 3): [0] a 2 MiB block (code, tables), [1..] -> L3 tables in the data pages */
		u_int64_t *l2 = (u_int64_t *)(host + 3 * PG), pages = mib << 8;
		ntab = mib / 2;
		((u_int64_t *)(host + PG))[BASE >> 30] = (BASE + 3 * PG) | 3;
		l2[0] = BASE | (1ULL << 10) | (3ULL << 8) | 1;
		for (u_int64_t j = 0; j < ntab; j++) {
			l2[1 + j] = (BASE + DATA_OFF + j * PG) | 3;
			for (u_int64_t k = 0; k < 512 && j * 512 + k < pages; k++)
				((u_int64_t *)(host + DATA_OFF + j * PG))[k] =
					(BASE + DATA_OFF + (j * 512 + k) * PG) | (1ULL << 10) | (3ULL << 8) | 3;
		}
	}
	set_log(host, size, 0);

	for (int i = 0; i < ncpu; i++) {
		vc[i].id = i;
		vc[i].steps = i == 0 ? steps : 0;
		vc[i].exc = host + EXC_OFF + (u_int64_t)i * 64;
		vc[i].fd = ioctl(vm_fd, KVM_CREATE_VCPU, i);
		if (vc[i].fd < 0)
			fail("KVM_CREATE_VCPU");
		vc[i].run = mmap(NULL, (size_t)ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED,
				 vc[i].fd, 0);
		if (vc[i].run == MAP_FAILED)
			fail("mmap kvm_run");
		if (ioctl(vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
			fail("KVM_ARM_PREFERRED_TARGET");
		if (ioctl(vc[i].fd, KVM_ARM_VCPU_INIT, &init) < 0)
			fail("KVM_ARM_VCPU_INIT");
		set_reg(vc[i].fd, CORE(regs.pc), BASE);
		set_reg(vc[i].fd, CORE(regs.pstate), 0x3c5); /* EL1h, DAIF masked */
		set_reg(vc[i].fd, CORE(regs.regs[0]), BASE + DATA_OFF);
		set_reg(vc[i].fd, CORE(regs.regs[1]), npages - HOST_PAGES);
		set_reg(vc[i].fd, CORE(regs.regs[2]), stride);
		set_reg(vc[i].fd, CORE(regs.regs[3]), (u_int64_t)i * 8);
		set_reg(vc[i].fd, CORE(regs.regs[4]), ((u_int64_t)(i + 1) << 56) | 1);
		set_reg(vc[i].fd, CORE(regs.regs[5]), ntab + ((npages - HOST_PAGES - ntab) / 2) * (u_int64_t)i);
		set_reg(vc[i].fd, CORE(regs.regs[11]), (haf ? 0 : 1ULL << 10) | (3ULL << 8) | 3); /* L3 page attrs */
		set_reg(vc[i].fd, CORE(regs.regs[12]), ntab);
		set_reg(vc[i].fd, CORE(regs.regs[13]), haf);
		set_reg(vc[i].fd, CORE(regs.regs[14]), (npages - HOST_PAGES) / 2);
		set_reg(vc[i].fd, CORE(regs.regs[15]), BASE + EXC_OFF + (u_int64_t)i * 64);
		set_reg(vc[i].fd, CORE(regs.regs[16]), blk);
		set_reg(vc[i].fd, SYS(3, 0, 12, 0, 0), BASE + VBAR_OFF); /* VBAR_EL1 */
		if (mmu) {
			set_reg(vc[i].fd, SYS(3, 0, 10, 2, 0), 0xff);                 /* MAIR_EL1: attr 0 normal WB */
			set_reg(vc[i].fd, SYS(3, 0, 2, 0, 0), BASE + PG);             /* TTBR0_EL1 */
			set_reg(vc[i].fd, SYS(3, 0, 2, 0, 2), 32 | (1 << 8) | (1 << 10) | (3 << 12) | (1ULL << 23) |
								     (2ULL << 32) | ((u_int64_t)haf << 39));
			/* TCR: T0SZ 32, WB, ISH, 4K, EPD1, IPS 40; -a: HA, the walker sets AF */
			set_reg(vc[i].fd, SYS(3, 0, 1, 0, 0), get_reg(vc[i].fd, SYS(3, 0, 1, 0, 0)) | 1 | 4 | (1 << 12));
		}
	}
	snap[0] = malloc(mib << 20);
	snap[1] = malloc(mib << 20);
	log[0] = calloc(words, 8);
	log[1] = calloc(words, 8);
	log[2] = calloc(words, 8);
	if (!snap[0] || !snap[1] || !log[0] || !log[1] || !log[2])
		fail("malloc");
	{
		struct sigaction sa = { .sa_handler = on_kick }; /* no SA_RESTART */
		sigaction(SIGUSR1, &sa, NULL);
	}
	for (int i = 0; i < ncpu; i++)
		if (pthread_create(&vc[i].th, NULL, vcpu_thread, &vc[i]))
			fail("pthread_create");
	usleep((useconds_t)warm * 1000); /* stage 2 filled (huge blocks where THP backs RAM) before logging, as in lkvm */
	set_log(host, size, 1);
	if (blk) /* -b: the log is on, the tables' block is read-only at stage 2: the walker's next AF update writes it */
		for (u_int64_t j = 0; j < ntab; j++)
			for (u_int64_t k = 0; k < 512; k++)
				__atomic_and_fetch(&((u_int64_t *)(host + DATA_OFF + j * PG))[k], ~(1ULL << 10), __ATOMIC_SEQ_CST);
	if (steps) { /* what the host wrote where the guest starts, as the host sees it */
		u_int32_t w0, wv;
		memcpy(&w0, host, 4);
		memcpy(&wv, host + VBAR_OFF + 0x200, 4);
		printf("host view: 0x%08x at IPA 0x%llx, 0x%08x at the vector; target %u\n", w0, (unsigned long long)BASE,
		       wv, init.target);
	}
	printf("dirtylog: %llu MiB, %d vCPU(s), MMU %s, THP %s, %s, stride %llu, %llu rounds every %llu ms%s\n",
	       (unsigned long long)mib, ncpu, mmu ? "on" : "off", thp ? "on" : "off",
	       pt ? (blk ? "AF cleared by the host as the log goes on; TLBI + store, walker sets AF"
		     : haf ? "descriptor (AF clear, TLBI) + store, walker sets AF" : "descriptor + store")
	       : zva ? "DC ZVA + store" : hop ? "stores, vCPUs moved between CPUs"
	       : rw ? "first read, store half a sweep later" : "stores",
	       (unsigned long long)stride, (unsigned long long)rounds, (unsigned long long)interval,
	       inject ? ", self-test writes" : "");
	fflush(stdout);
	/*
	 * Round k: collect L_k, snapshot S_k, collect L'_k. A page whose contents differ between S_(k-1) and S_k was
	 * written after L_(k-1) was collected and before L'_k was: its entry is in L'_(k-1), L_k or L'_k.
	 */
	get_log(log[0], words);
	memcpy(snap[0], host + DATA_OFF, mib << 20);
	get_log(log[2], words); /* L'_0 */
	for (u_int64_t k = 1; k <= rounds; k++) {
		u_int64_t *lp = log[2], *lk = log[0], *lk1 = log[1], t0 = now_us(), lost = 0, changed = 0, unreported = 0;
		u_int64_t injected = ~0ULL, first = ~0ULL;
		u_int8_t *sa = snap[(k - 1) % 2], *sb = snap[k % 2];

		if (hop) { /* -M: each vCPU thread onto the other L1 CPU every round (KVM's vCPU-moved path) */
			long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
			for (int i = 0; i < ncpu && ncpus > 1; i++) {
				cpu_set_t set;
				CPU_ZERO(&set);
				CPU_SET((int)((k + (u_int64_t)i) % (u_int64_t)ncpus), &set);
				pthread_setaffinity_np(vc[i].th, sizeof(set), &set);
			}
		}
		usleep((useconds_t)interval * 1000);
		get_log(lk, words); /* L_k */
		if (inject) { /* a page the guest never writes, changed between S_(k-1) and S_k with no log entry */
			injected = npages - HOST_PAGES + k % HOST_PAGES;
			((volatile u_int64_t *)(host + DATA_OFF + injected * PG))[300] ^= 0x5a5a5a5a5a5a5a5aULL;
			inj++;
		}
		memcpy(sb, host + DATA_OFF, mib << 20); /* S_k */
		get_log(lk1, words);                     /* L'_k */
		for (size_t w = 0; w < words; w++) {
			logged_total += (u_int64_t)__builtin_popcountll(lk[w]) + (u_int64_t)__builtin_popcountll(lk1[w]);
			lk[w] |= lp[w] | lk1[w];
		}
		for (u_int64_t p = 0; p < npages; p++) {
			if (!memcmp(sa + p * PG, sb + p * PG, PG))
				continue;
			changed++;
			if (bit(lk, DATA_OFF / PG + p))
				continue;
			if (p == injected) {
				inj_found++;
				continue;
			}
			if (first == ~0ULL)
				first = p;
			lost++;
			/* lkvm's re-check model (docs/migration.md): a loss lies in a 2 MiB block that a log around it
			 * reported (L'_(k-1), L_k or L'_k: the collection that closed the block again) */
			{
				u_int64_t w0 = (DATA_OFF / PG + p) / 512 * 8, hit = 0;
				for (u_int64_t w = w0; w < w0 + 8 && w < words; w++)
					hit |= lk[w];
				unreported += !hit;
			}
		}
		memcpy(lp, lk1, words * 8); /* L'_k is the next pair's first log */
		changed_total += changed;
		lost_total += lost;
		unreported_total += unreported;
		if (lost) {
			u_int64_t *a = (u_int64_t *)(sa + first * PG), *b = (u_int64_t *)(sb + first * PG);
			lost_rounds++;
			printf("round %llu: %llu of %llu changed pages without a log entry (%llu outside every 2 MiB block the "
			       "log reported); first at GPA 0x%llx: word 0 %016llx -> %016llx, word 1 %016llx -> %016llx "
			       "(%llu us)\n",
			       (unsigned long long)k, (unsigned long long)lost, (unsigned long long)changed,
			       (unsigned long long)unreported,
			       (unsigned long long)(BASE + DATA_OFF + first * PG), (unsigned long long)a[0],
			       (unsigned long long)b[0], (unsigned long long)a[1], (unsigned long long)b[1],
			       (unsigned long long)(now_us() - t0));
			fflush(stdout);
		}
	}
	stopping = 1;
	for (int i = 0; i < ncpu; i++) {
		for (int k = 0; k < 100 && pthread_kill(vc[i].th, SIGUSR1) == 0; k++) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 50000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(vc[i].th, NULL, &ts) == 0)
				break;
		}
	}
	printf("dirtylog: %llu rounds, %llu page changes checked, %llu log entries, %llu changes without an entry in "
	       "%llu rounds, %llu outside every 2 MiB block the log reported%s",
	       (unsigned long long)rounds, (unsigned long long)changed_total, (unsigned long long)logged_total,
	       (unsigned long long)lost_total, (unsigned long long)lost_rounds, (unsigned long long)unreported_total,
	       inject ? "" : "\n");
	if (inject)
		printf("; self-test: %llu of %llu host writes caught\n", (unsigned long long)inj_found,
		       (unsigned long long)inj);
	fflush(stdout);
	if (inject && inj_found != inj)
		return 2; /* the checker itself is broken */
	return lost_total ? 1 : 0;
}
#endif
