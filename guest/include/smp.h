/* CPU enumeration from the DT's /cpus and running a function on one secondary CPU at a time via PSCI CPU_ON. */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <fdt.h>

#define SMP_TIMEOUT (-1000)	/* smp_run_on: the CPU did not report back in time */

struct cpu_desc {
	uint64_t mpidr;		/* the cpu node's reg: MPIDR affinity bits */
	int node;
};

typedef void (*smp_fn)(void *arg);

/* Fills up to max entries with /cpus cpu nodes in DT order; returns how many exist (may exceed max), -1 on error. */
int smp_list_cpus(const struct fdt *fdt, struct cpu_desc *cpus, int max);
/* DT-order index of the cpu node whose reg equals mpidr, or -1. */
int smp_cpu_index(const struct fdt *fdt, uint64_t mpidr);
/* CPU_ON mpidr on stack slot `slot`, run fn(arg) there, wait until it returns. 0, a PSCI error (< 0) or SMP_TIMEOUT.
 * After a timeout the CPU may still be running: do not start another. */
int64_t smp_run_on(uint64_t mpidr, unsigned int slot, smp_fn fn, void *arg, uint64_t timeout_ticks);
/* Called by boot_secondary on the started CPU. */
void smp_secondary_run(uint64_t slot);

#endif
