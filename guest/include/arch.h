/* arm64 system-register access, barriers and the generic timer (CNTVCT/CNTFRQ) for EL1 payloads. */
#ifndef GUEST_ARCH_H
#define GUEST_ARCH_H

#include <types.h>

#define read_sysreg(reg) ({ uint64_t __v; asm volatile("mrs %0, " #reg : "=r"(__v)); __v; })
#define write_sysreg(reg, v) asm volatile("msr " #reg ", %0" : : "r"((uint64_t)(v)))

#define dsb(opt) asm volatile("dsb " #opt : : : "memory")
#define isb() asm volatile("isb" : : : "memory")
#define sev() asm volatile("sev" : : : "memory")
#define cpu_relax() asm volatile("yield" : : : "memory")

/* Affinity fields Aff3 (39:32) and Aff2..Aff0 (23:0): what a DT cpu node's reg holds. */
#define MPIDR_AFF_MASK 0xff00ffffffUL

static inline uint64_t cpu_mpidr(void)
{
	return read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
}

static inline uint64_t timer_freq(void)
{
	return read_sysreg(cntfrq_el0);
}

/* The isb keeps the counter read from being hoisted above earlier instructions. */
static inline uint64_t timer_now(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static inline void timer_wait_ticks(uint64_t ticks)
{
	uint64_t start = timer_now();

	while (timer_now() - start < ticks)
		cpu_relax();
}

/* Clean+invalidate the line holding addr to the point of coherency, so a non-cacheable read (MMU off) sees what the
 * host or another agent last wrote through a cacheable mapping. */
static inline void dcache_clean_inval(const volatile void *addr)
{
	asm volatile("dc civac, %0" : : "r"(addr) : "memory");
	dsb(sy);
}

#endif
